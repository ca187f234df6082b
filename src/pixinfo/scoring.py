"""One call that scores a transform with the three measures of science.md §2."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from tqdm.auto import tqdm

from pixinfo._checks import (
    check_bool,
    check_image_batch,
    check_int,
    check_nonnegative_int,
    check_positive_int,
    check_seed,
)
from pixinfo.errors import ParameterError, ShapeError
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
Interval = tuple[float, float]


@dataclass(frozen=True)
class Score:
    """The three measures for one transform on one set of images, with 95% intervals.

    * ``structural_retention`` (§2a): R of the transform's shared map, or the mean
      R over ``structural_maps`` sampled per-image maps (interval: bootstrap over
      those maps; a single fixed map has no sampling error, its interval is the point).
    * ``content_*`` (§2b): mean I(X) before and after over the images where both are
      defined (not constant), and their ratio ``content_retention`` (interval:
      percentile bootstrap over those images).
    * ``value_nmi`` / ``value_spearman`` (§2c): position-averaged value retention,
      aligned by the shared map when there is one, on ``value_images`` images
      (interval: mean ± 1.96 sd over ``n_boot_value`` bootstrap resamples of images).
    """

    transform: str
    dataset: str
    n_images: int
    shared_key: bool
    map_source: str
    structural_retention: float
    structural_retention_ci: Interval
    structural_maps: int
    content_original: float
    content_transformed: float
    content_retention: float
    content_retention_ci: Interval
    value_nmi: float
    value_nmi_ci: Interval
    value_spearman: float
    value_spearman_ci: Interval
    value_images: int

    @property
    def content_loss(self) -> float:
        return 1.0 - self.content_retention

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_frame(scores: Sequence[Score]):
    """A pandas DataFrame with one row per score; each interval as ``*_low``/``*_high`` columns."""
    import pandas as pd

    rows = []
    for s in scores:
        row = {}
        for key, value in s.to_dict().items():
            if key.endswith("_ci"):
                row[key[:-3] + "_low"], row[key[:-3] + "_high"] = value
            else:
                row[key] = value
        rows.append(row)
    return pd.DataFrame(rows)


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


def _percentile_ci(replicates: torch.Tensor) -> Interval:
    finite = replicates[torch.isfinite(replicates)].double()
    if finite.numel() == 0:
        return (math.nan, math.nan)
    lo, hi = torch.quantile(finite, torch.tensor([0.025, 0.975], dtype=torch.float64))
    return (float(lo), float(hi))


def _bootstrap_ci(statistic: Callable[[torch.Tensor], torch.Tensor], n: int, n_boot: int,
                  generator: torch.Generator, chunk: int = 64) -> Interval:
    """Percentile interval of ``statistic(idx)`` over ``n_boot`` resamples of ``n`` items.

    ``statistic`` maps a ``(k, n)`` block of resampled indices to ``k`` replicates.
    """
    if n_boot == 0 or n < 2:
        return (math.nan, math.nan)
    reps = [
        statistic(torch.randint(0, n, (min(chunk, n_boot - start), n), generator=generator))
        for start in range(0, n_boot, chunk)
    ]
    return _percentile_ci(torch.cat(reps))


def _structure(
    transform: TransformLike,
    shape: tuple[int, int, int],
    kernel: Kernel,
    device: torch.device,
    max_maps: int,
    n_boot: int,
    generator: torch.Generator,
) -> tuple[float, Interval, int, str, torch.Tensor | None, bool]:
    """R, its interval, number of maps, where the map came from, the shared gather map, shared key."""
    gather_map = getattr(transform, "gather_map", None)
    index = gather_map(shape) if callable(gather_map) else None
    if index is not None:
        r = float(structural_retention(index.to(device), shape=shape, kernel=kernel))
        shared = bool(getattr(transform, "shared_key", True))
        return r, (r, r), 1, "exposed", index.to(device) if shared else None, shared
    sampler = getattr(transform, "sample_gather_maps", None)
    if callable(sampler):
        maps = sampler(max_maps, shape, generator=generator).to(device)
        per_map = structural_retention(maps, shape=shape, kernel=kernel).double().cpu()
        ci = _bootstrap_ci(lambda i: per_map[i].mean(1), len(per_map), n_boot, generator)
        return float(per_map.mean()), ci, len(maps), "sampled per-image maps", None, False
    probed = probe_map(transform, shape=shape, device=device)
    if not probed.shared_key:
        return math.nan, (math.nan, math.nan), 0, "none: no shared key", None, False
    if probed.index is not None:
        r = float(structural_retention(probed.index, shape=shape, kernel=kernel))
        return r, (r, r), 1, "probed", probed.index, True
    r = float(structural_retention(probed.influence, shape=shape, kernel=kernel))
    return r, (r, r), 1, "probed influence", None, True


def _value_scores(
    original: torch.Tensor,
    transformed: torch.Tensor,
    index: torch.Tensor | None,
    n_boot: int,
    seed: int,
    generator: torch.Generator,
) -> tuple[float, Interval, float, Interval]:
    def both(o: torch.Tensor, t: torch.Tensor) -> tuple[float, float]:
        nmi = value_retention(o, t, index=index, method="nmi", seed=seed)
        rho = value_retention(o, t, index=index, method="spearman")
        return float(nmi.nanmean()), float(rho.nanmean())

    nmi, rho = both(original, transformed)
    if n_boot < 2:
        return nmi, (math.nan, math.nan), rho, (math.nan, math.nan)
    reps = torch.tensor(
        [both(original[i], transformed[i]) for i in torch.randint(0, len(original), (n_boot, len(original)), generator=generator).to(original.device)],
        dtype=torch.float64,
    )
    sd = reps.std(0)
    return (
        nmi, (nmi - 1.96 * float(sd[0]), nmi + 1.96 * float(sd[0])),
        rho, (rho - 1.96 * float(sd[1]), rho + 1.96 * float(sd[1])),
    )  # fmt: skip


def _transformed(transform: TransformLike, images: torch.Tensor, *, label: str, kernel: Kernel, batch_size: int,
                 progress: bool) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The transformed images (uint8) and their per-image I, batch by batch (checked outputs)."""
    content, outputs = [], []
    for i in tqdm(range(0, len(images), batch_size), desc=label, unit="batch", disable=not progress, leave=False):
        y = transform(to_float(images[i : i + batch_size]))
        y = check_image_batch(y, f"output of {label}")
        if y.shape != images[i : i + batch_size].shape:
            raise ShapeError(f"{label} changed the image shape to {tuple(y.shape)}")
        content.append(_mean_content(y, kernel))
        outputs.append(to_uint8(y))
    return torch.cat(outputs), torch.cat(content)


def _check_options(*, kernel, seed, max_maps, n_boot, n_boot_value, max_value_images, batch_size, progress) -> None:
    """The scalar options of :func:`score_table`, checked before any image is touched."""
    if not isinstance(kernel, Kernel):
        raise ParameterError(f"kernel must be a pixinfo.info.Kernel, got {type(kernel).__name__}")
    check_seed(seed)
    check_positive_int(max_maps, "max_maps")
    check_positive_int(batch_size, "batch_size")
    check_int(max_value_images, "max_value_images", low=2)  # value retention compares images
    check_nonnegative_int(n_boot, "n_boot")
    check_nonnegative_int(n_boot_value, "n_boot_value")
    check_bool(progress, "progress")


def score_table(
    transforms: Sequence[TransformLike],
    data: Dataset | Split | torch.Tensor,
    *,
    kernel: Kernel = DEFAULT_KERNEL,
    split: str = "all",
    seed: int = 0,
    max_maps: int = 64,
    n_boot: int = 1000,
    n_boot_value: int = 10,
    max_value_images: int = 10000,
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
        Seed of sampled per-image maps, bootstrap resamples, subsamples and
        the chance correction.
    max_maps : int
        Per-image maps sampled for R of a transform with no shared key.
    n_boot : int
        Bootstrap resamples for the content and per-image-map intervals.
    n_boot_value : int
        Bootstrap resamples for the value-retention intervals (each recomputes
        the per-position statistics; 0 or 1 gives no interval).
    max_value_images : int
        Value retention uses a seeded random subset of at most this many images.
    batch_size : int
        Images per transform call.
    device : optional
        Where to compute; default: where the images are.
    progress : bool
        Show a progress bar per transform.
    """
    _check_options(kernel=kernel, seed=seed, max_maps=max_maps, n_boot=n_boot, n_boot_value=n_boot_value,
                   max_value_images=max_value_images, batch_size=batch_size, progress=progress)  # fmt: skip
    images, name = _images_of(data, split)
    device = torch.device(device) if device is not None else images.device
    images = to_uint8(images).to(device)
    shape = tuple(int(s) for s in images.shape[1:])
    n = images.shape[0]
    batches = range(0, n, batch_size)
    original = torch.cat([_mean_content(images[i : i + batch_size], kernel) for i in batches])
    value_subset = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:max_value_images].sort().values
    scores = []
    for transform in transforms:
        label = _describe(transform)
        generator = torch.Generator().manual_seed(seed)
        r, r_ci, n_maps, source, index, shared = _structure(transform, shape, kernel, device, max_maps, n_boot, generator)
        transformed, after = _transformed(transform, images, label=label, kernel=kernel, batch_size=batch_size,
                                          progress=progress)  # fmt: skip
        paired = torch.isfinite(original) & torch.isfinite(after)  # images with I defined on both sides
        before, after = original[paired].double().cpu(), after[paired].double().cpu()
        before_mean, after_mean = float(before.mean()), float(after.mean())
        sub = value_subset.to(device)
        nmi, nmi_ci, rho, rho_ci = _value_scores(images[sub], transformed[sub], index, n_boot_value, seed, generator)
        content_ci = _bootstrap_ci(lambda i: after[i].mean(1) / before[i].mean(1), len(before), n_boot, generator)
        scores.append(Score(
            transform=label, dataset=name, n_images=n, shared_key=shared, map_source=source,
            structural_retention=r, structural_retention_ci=r_ci, structural_maps=n_maps,
            content_original=before_mean, content_transformed=after_mean, content_retention=after_mean / before_mean,
            content_retention_ci=content_ci, value_nmi=nmi, value_nmi_ci=nmi_ci, value_spearman=rho,
            value_spearman_ci=rho_ci, value_images=len(sub),
        ))  # fmt: skip
    return scores


def score(transform: TransformLike, data: Dataset | Split | torch.Tensor, **options) -> Score:
    """Score one transform; keyword options as in :func:`score_table`.

    Examples
    --------
    >>> import torch
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import Negative
    >>> s = score(Negative(), load_dataset("digits"), n_boot_value=0)
    >>> s.structural_retention, round(s.value_spearman, 6), round(s.content_retention, 6)
    (1.0, -1.0, 1.0)
    """
    return score_table([transform], data, **options)[0]
