"""One call that scores a transform with the three measures of science.md §2."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from tqdm.auto import tqdm

from pixinfo._checks import check_image_batch
from pixinfo.data import Dataset, Split, to_float, to_uint8
from pixinfo.info import (
    DEFAULT_KERNEL,
    Kernel,
    neighbour_information,
    probe_map,
    structural_retention,
    value_retention,
)

TransformLike = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Score:
    """The three measures for one transform on one set of images.

    ``structural_retention`` is R (§2a) of the transform's shared map, or the
    mean R over sampled per-image maps (``structural_maps`` of them);
    ``content_*`` are mean I(X) (§2b) before and after and their ratio;
    ``value_nmi`` and ``value_spearman`` are the position-averaged value
    retention (§2c), aligned by the shared map when there is one.
    """

    transform: str
    dataset: str
    n_images: int
    shared_key: bool
    map_source: str
    structural_retention: float
    structural_maps: int
    content_original: float
    content_transformed: float
    content_retention: float
    value_nmi: float
    value_spearman: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_frame(scores: Sequence[Score]):
    """A pandas DataFrame with one row per score."""
    import pandas as pd

    return pd.DataFrame([s.to_dict() for s in scores])


def _images_of(data: Dataset | Split | torch.Tensor, split: str) -> tuple[torch.Tensor, str]:
    if isinstance(data, Dataset):
        return data.split(split).images, data.name
    if isinstance(data, Split):
        return data.images, "split"
    return check_image_batch(data, "data"), "tensor"


def _describe(transform: TransformLike) -> str:
    spec = getattr(transform, "spec", None)
    if isinstance(spec, str):
        return spec
    return getattr(transform, "__name__", type(transform).__name__)


def _mean_content(images: torch.Tensor, kernel: Kernel) -> torch.Tensor:
    """Per-image I averaged over channels."""
    return neighbour_information(to_float(images), kernel=kernel).mean(-1)


def _structure(
    transform: TransformLike,
    shape: tuple[int, int, int],
    kernel: Kernel,
    device: torch.device,
    max_maps: int,
    seed: int,
) -> tuple[float, int, str, torch.Tensor | None, bool]:
    """R, number of maps, where the map came from, the shared gather map, shared key."""
    gather_map = getattr(transform, "gather_map", None)
    index = gather_map(shape) if callable(gather_map) else None
    if index is not None:
        r = structural_retention(index.to(device), shape=shape, kernel=kernel)
        return float(r), 1, "exposed", index.to(device), bool(getattr(transform, "shared_key", True))
    sampler = getattr(transform, "sample_gather_maps", None)
    if callable(sampler):
        maps = sampler(max_maps, shape, generator=torch.Generator().manual_seed(seed)).to(device)
        r = structural_retention(maps, shape=shape, kernel=kernel)
        return float(r.mean()), len(maps), "sampled per-image maps", None, False
    probed = probe_map(transform, shape=shape, device=device)
    if not probed.shared_key:
        return math.nan, 0, "none: no shared key", None, False
    if probed.index is not None:
        return float(structural_retention(probed.index, shape=shape, kernel=kernel)), 1, "probed", probed.index, True
    r = structural_retention(probed.influence, shape=shape, kernel=kernel)
    return float(r), 1, "probed influence", None, True


def score_table(
    transforms: Sequence[TransformLike],
    data: Dataset | Split | torch.Tensor,
    *,
    kernel: Kernel = DEFAULT_KERNEL,
    split: str = "all",
    seed: int = 0,
    max_maps: int = 64,
    batch_size: int = 4096,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> list[Score]:
    """Score several transforms on the same images (the original content is computed once).

    Parameters
    ----------
    transforms : sequence of callables
        pixinfo transforms or any callable mapping float ``(B, C, H, W)``
        images in [0, 1] to images of the same shape. A callable without a
        declared map is probed (:func:`pixinfo.info.probe_map`).
    data : Dataset, Split or tensor
        Images to score on (uint8, or float in [0, 1]).
    kernel : Kernel
        Distance weight of all measures.
    split : {"all", "train", "test"}
        Split used when ``data`` is a Dataset.
    seed : int
        Seed of sampled per-image maps and of the chance correction.
    max_maps : int
        Per-image maps sampled for R of a transform with no shared key.
    batch_size : int
        Images per transform call.
    device : optional
        Where to compute; default: where the images are.
    progress : bool
        Show a progress bar per transform.
    """
    images, name = _images_of(data, split)
    device = torch.device(device) if device is not None else images.device
    images = to_uint8(images).to(device)
    shape = tuple(int(s) for s in images.shape[1:])
    n = images.shape[0]
    batches = range(0, n, batch_size)
    original = torch.cat([_mean_content(images[i : i + batch_size], kernel) for i in batches])
    scores = []
    for transform in transforms:
        label = _describe(transform)
        r, n_maps, source, index, shared = _structure(transform, shape, kernel, device, max_maps, seed)
        content, outputs = [], []
        for i in tqdm(batches, desc=label, unit="batch", disable=not progress, leave=False):
            y = transform(to_float(images[i : i + batch_size]))
            y = check_image_batch(y, f"output of {label}")
            if y.shape != images[i : i + batch_size].shape:
                raise ValueError(f"{label} changed the image shape to {tuple(y.shape)}")
            content.append(_mean_content(y, kernel))
            outputs.append(to_uint8(y))
        transformed = torch.cat(outputs)
        after = torch.cat(content)
        before_mean, after_mean = float(original.nanmean()), float(after.nanmean())
        nmi = value_retention(images, transformed, index=index, method="nmi", seed=seed)
        rho = value_retention(images, transformed, index=index, method="spearman")
        scores.append(
            Score(
                transform=label,
                dataset=name,
                n_images=n,
                shared_key=shared,
                map_source=source,
                structural_retention=r,
                structural_maps=n_maps,
                content_original=before_mean,
                content_transformed=after_mean,
                content_retention=after_mean / before_mean,
                value_nmi=float(nmi.nanmean()),
                value_spearman=float(rho.nanmean()),
            )
        )
    return scores


def score(transform: TransformLike, data: Dataset | Split | torch.Tensor, **options) -> Score:
    """Score one transform; keyword options as in :func:`score_table`.

    Examples
    --------
    >>> import torch
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import Negative
    >>> s = score(Negative(), load_dataset("digits"))
    >>> s.structural_retention, round(s.value_spearman, 6), round(s.content_retention, 6)
    (1.0, -1.0, 1.0)
    """
    return score_table([transform], data, **options)[0]
