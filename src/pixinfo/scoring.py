"""One call that scores a transform with the three neighbour-information measures."""

from __future__ import annotations

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
from pixinfo.estimate import Estimate, bootstrap, centred_interval, stream
from pixinfo.transforms.base import as_transform
from pixinfo.info import (
    DEFAULT_KERNEL,
    MEASURES,
    Kernel,
    neighbour_information,
    probe_map,
    structural_retention,
    value_retention,
)

TransformLike = Callable[[torch.Tensor], torch.Tensor]
ESTIMATES = tuple(m.name for m in MEASURES)  # the fields of a Score that are estimates


@dataclass(frozen=True)
class Score:
    """The three measures for one transform on one set of images, each an [`Estimate`][pixinfo.estimate.Estimate]
    (value, 95% percentile-bootstrap interval, and how it was obtained).

    * ``structural_retention``: R of the transform's shared map (exact: the interval is the
      point), or the mean R over ``structural_maps`` sampled per-image maps (bootstrap over them).
    * ``content_*``: mean I(X) before and after over the images where both are defined (not
      constant), and their ratio ``content_retention`` (bootstrap over those images).
    * ``value_nmi`` / ``value_spearman``: position-averaged value retention, aligned by the
      shared map when there is one, on ``value_images`` images (bootstrap over images, each
      resample recomputing the per-position statistics; the interval is centred at the estimate,
      [`pixinfo.estimate.centred_interval`][pixinfo.estimate.centred_interval], because duplicated images bias the replicates).
    """

    transform: str
    dataset: str
    n_images: int
    shared_key: bool
    map_source: str
    structural_retention: Estimate
    structural_maps: int
    content_original: float
    content_transformed: float
    content_retention: Estimate
    value_nmi: Estimate
    value_spearman: Estimate
    value_images: int

    @property
    def content_loss(self) -> float:
        return self.losses()["content_loss"]

    def losses(self) -> dict[str, float]:
        """The loss every registered measure gives ([`Measure.loss_of`][pixinfo.info.registry.Measure.loss_of]), by loss name."""
        return {m.loss: m.loss_of(getattr(self, m.name).value) for m in MEASURES}

    def __str__(self) -> str:
        """The measures as a readable table, with the images they were estimated on."""
        source = "" if self.dataset in ("tensor", "split") else f" of {self.dataset}"
        return f"{format_table(to_frame([self]))}\n({self.n_images} images{source}; [low, high]: 95% bootstrap intervals)"

    def to_dict(self) -> dict[str, Any]:
        """Flat and JSON-ready: each estimate as ``name``, ``name_low``, ``name_high``."""
        row: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key in ESTIMATES:
                row[key], row[f"{key}_low"], row[f"{key}_high"] = value["value"], value["low"], value["high"]
            else:
                row[key] = value
        return row


def to_frame(scores: Sequence[Score]):
    """A pandas DataFrame with one row per score ([`Score.to_dict`][pixinfo.scoring.Score.to_dict])."""
    import pandas as pd

    return pd.DataFrame([s.to_dict() for s in scores])


def format_table(frame) -> str:
    """The scores of ``frame`` (from [`to_frame`][pixinfo.scoring.to_frame]) as a text table: each
    registered measure with its interval, three decimals."""

    def with_ci(row, name: str) -> str:
        lo, hi = row[f"{name}_low"], row[f"{name}_high"]
        if lo == lo and hi == hi and lo != hi:  # not NaN, not a point
            return f"{row[name]:.3f} [{lo:.3f}, {hi:.3f}]"
        return f"{row[name]:.3f}"

    table = frame[["transform", "shared_key"]].copy()
    for m in MEASURES:
        table[m.label] = [with_ci(row, m.name) for _, row in frame.iterrows()]
    return table.to_string(index=False)


def _images_of(data: Dataset | Split | torch.Tensor, split: str) -> tuple[torch.Tensor, str]:
    if isinstance(data, Dataset):
        return data.split(split).images, data.name
    if isinstance(data, Split):
        return data.images, "split"
    return check_image_batch(data, "data"), "tensor"


def _mean_content(images: torch.Tensor, kernel: Kernel) -> torch.Tensor:
    """Per-image I averaged over channels."""
    return neighbour_information(to_float(images), kernel=kernel).mean(-1)


def _structure(
    transform: TransformLike,
    shape: tuple[int, int, int],
    kernel: Kernel,
    device: torch.device,
    max_maps: int,
    n_boot: int,
    seed: int,
) -> tuple[Estimate, int, str, torch.Tensor | None, bool]:
    """R, number of maps, where the map came from, the shared gather map, shared key: from the
    transform's declared map, else its sampled per-image maps, else by probing it."""
    protocol = as_transform(transform)
    index = protocol.gather_map(shape)
    if index is not None:
        r = float(structural_retention(index.to(device), shape=shape, kernel=kernel))
        shared = protocol.shared_key
        return Estimate.exact(r), 1, "exposed", index.to(device) if shared else None, shared
    maps = protocol.sample_gather_maps(max_maps, shape, generator=stream(seed, "maps"))
    if maps is not None:
        per_map = structural_retention(maps.to(device), shape=shape, kernel=kernel).double().cpu()
        r = bootstrap(lambda i: per_map[i].mean(1), float(per_map.mean()), len(per_map), n_boot,
                      stream(seed, "structure bootstrap"))  # fmt: skip
        return r, len(maps), "sampled per-image maps", None, False
    probed = probe_map(transform, shape=shape, device=device)
    if not probed.shared_key:
        return Estimate.missing(method="no shared key"), 0, "none: no shared key", None, False
    if probed.index is not None:
        r = float(structural_retention(probed.index, shape=shape, kernel=kernel))
        return Estimate.exact(r), 1, "probed", probed.index, True
    r = float(structural_retention(probed.influence, shape=shape, kernel=kernel))
    return Estimate.exact(r), 1, "probed influence", None, True


def _value_scores(
    original: torch.Tensor, transformed: torch.Tensor, index: torch.Tensor | None, n_boot: int, seed: int
) -> tuple[Estimate, Estimate]:
    def both(o: torch.Tensor, t: torch.Tensor) -> tuple[float, float]:
        nmi = value_retention(o, t, index=index, method="nmi", seed=seed)
        rho = value_retention(o, t, index=index, method="spearman")
        return float(nmi.nanmean()), float(rho.nanmean())

    nmi, rho = both(original, transformed)

    def statistic(idx: torch.Tensor) -> torch.Tensor:  # (k, n) resamples -> (k, 2) replicates
        idx = idx.to(original.device)
        return torch.tensor([both(original[i], transformed[i]) for i in idx], dtype=torch.float64)

    if n_boot < 2 or len(original) < 2:
        return Estimate.missing(nmi), Estimate.missing(rho)
    draws = torch.randint(0, len(original), (n_boot, len(original)), generator=stream(seed, "value bootstrap"))
    replicates = statistic(draws)
    method = f"percentile bootstrap centred at the estimate, {n_boot} resamples"
    return (Estimate(nmi, *centred_interval(replicates[:, 0], nmi), method),
            Estimate(rho, *centred_interval(replicates[:, 1], rho), method))  # fmt: skip


def _transformed(transform: TransformLike, images: torch.Tensor, *, label: str, kernel: Kernel, batch_size: int,
                 progress: bool) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The transformed images (uint8) and their per-image I, batch by batch (checked outputs)."""
    content, outputs = [], []
    batches = tqdm(range(0, len(images), batch_size), desc=label, unit="batch", leave=False,
                   disable=None if progress else True)  # None: off where the output is not a terminal
    for i in batches:
        y = transform(to_float(images[i : i + batch_size]))
        y = check_image_batch(y, f"output of {label}")
        if y.shape != images[i : i + batch_size].shape:
            raise ShapeError(f"{label} changed the image shape to {tuple(y.shape)}")
        content.append(_mean_content(y, kernel))
        outputs.append(to_uint8(y))
    return torch.cat(outputs), torch.cat(content)


def _check_options(*, kernel, seed, max_maps, n_boot, n_boot_value, max_value_images, batch_size, progress) -> None:
    """The scalar options of [`score_table`][pixinfo.scoring.score_table], checked before any image is touched."""
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
    transforms : sequence of callables or spec strings
        pixinfo transforms, spec strings as on the command line (``"vortex:authors"``, built for
        the images' shape and, where it has one, the dataset's name), or any callable mapping
        float ``(B, C, H, W)`` images in [0, 1] to images of the same shape. A callable without
        a declared map is probed ([`pixinfo.info.probe_map`][pixinfo.info.probe.probe_map]).
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
    batches = range(0, len(images), batch_size)
    reference = _Reference(
        images=images,
        dataset=name,
        original=torch.cat([_mean_content(images[i : i + batch_size], kernel) for i in batches]),
        value_subset=torch.randperm(len(images), generator=stream(seed, "value subset"))[:max_value_images].sort().values,
    )
    options = {"kernel": kernel, "seed": seed, "max_maps": max_maps, "n_boot": n_boot, "n_boot_value": n_boot_value,
               "batch_size": batch_size, "progress": progress}  # fmt: skip
    shape = tuple(int(s) for s in images.shape[1:])
    built = [_built(t, shape=shape, dataset=name if isinstance(data, Dataset) else None) for t in transforms]
    return [_score_one(t, reference, **options) for t in built]


@dataclass(frozen=True)
class _Reference:
    """What every transform is scored against: the uint8 images, the dataset's name, their
    per-image content I and the subset value retention uses."""

    images: torch.Tensor
    dataset: str
    original: torch.Tensor
    value_subset: torch.Tensor


def _built(transform: TransformLike | str, *, shape: tuple[int, ...], dataset: str | None) -> TransformLike:
    """``transform``, or the transform a spec string names (as on the command line)."""
    if not isinstance(transform, str):
        return transform
    from pixinfo.transforms import build_transform

    return build_transform(transform, shape=shape, dataset=dataset)


def _score_one(transform: TransformLike, reference: _Reference, *, kernel: Kernel, seed: int, max_maps: int,
               n_boot: int, n_boot_value: int, batch_size: int, progress: bool) -> Score:  # fmt: skip
    """The [`Score`][pixinfo.scoring.Score] of one transform against ``reference``."""
    images, original = reference.images, reference.original
    shape = tuple(int(s) for s in images.shape[1:])
    label = as_transform(transform).spec
    r, n_maps, source, index, shared = _structure(transform, shape, kernel, images.device, max_maps, n_boot, seed)
    transformed, after = _transformed(transform, images, label=label, kernel=kernel, batch_size=batch_size,
                                      progress=progress)  # fmt: skip
    paired = torch.isfinite(original) & torch.isfinite(after)  # images with I defined on both sides
    before, after = original[paired].double().cpu(), after[paired].double().cpu()
    before_mean, after_mean = float(before.mean()), float(after.mean())
    sub = reference.value_subset.to(images.device)
    nmi, rho = _value_scores(images[sub], transformed[sub], index, n_boot_value, seed)
    content = bootstrap(lambda i: after[i].mean(1) / before[i].mean(1), after_mean / before_mean, len(before),
                        n_boot, stream(seed, "content bootstrap"))  # fmt: skip
    return Score(transform=label, dataset=reference.dataset, n_images=len(images), shared_key=shared,
                 map_source=source, structural_retention=r, structural_maps=n_maps, content_original=before_mean,
                 content_transformed=after_mean, content_retention=content, value_nmi=nmi, value_spearman=rho,
                 value_images=len(sub))  # fmt: skip


def score(transform: TransformLike, data: Dataset | Split | torch.Tensor, **options) -> Score:
    """Score one transform; keyword options as in [`score_table`][pixinfo.scoring.score_table].

    Examples
    --------
    >>> import torch
    >>> from pixinfo.data import load_dataset
    >>> from pixinfo.transforms import Negative
    >>> s = score(Negative(), load_dataset("digits"), n_boot_value=0)
    >>> s.structural_retention.value, round(s.value_spearman.value, 6), round(s.content_retention.value, 6)
    (1.0, -1.0, 1.0)
    """
    return score_table([transform], data, **options)[0]
