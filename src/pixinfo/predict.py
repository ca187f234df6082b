"""Predict the accuracy a transform will cost a model family, before anyone trains on it.

A [`LossPredictor`][pixinfo.predict.LossPredictor] holds one small regression per (dataset, model
family), fitted on the study's committed per-run records (``analyses/predictor.py
--from-records``): accuracy loss in points against the transform's three measures of
[`pixinfo.score`][pixinfo.scoring.score] (structural loss 1 − R, content loss, value loss 1 − NMI),
whether it has a shared key, and the extra features chosen by held-out error. Its intervals are
split-conformal (the wider of the 90% quantiles of the family's absolute leave-one-setting-out and
leave-one-transform-family-out residuals), and
[`predict`][pixinfo.predict.predict] says when a new transform lies outside the region the
family was fitted on.

Examples
--------
>>> from pixinfo.predict import LossPredictor
>>> predictor = LossPredictor.load()
>>> ("fashion-mnist", "cnn") in predictor.families()
True
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pixinfo._callable import make_module_callable
from pixinfo.errors import ParameterError, PixinfoError, ShapeError
from pixinfo.info.registry import MEASURES

STUDY_IMAGES = 5000  # the study measured every setting on the first 5,000 images of the "all" split
PROBE_C = 0.01  # inverse L2 strength of the label probe (fixed before any fit)
PROBE_MAX_ITER = 1000
PROBE_TRAIN_FRACTION = 0.6
PROBE_NAME = f"logistic regression on standardised pixels, C={PROBE_C}, {PROBE_TRAIN_FRACTION:.0%} train"
LEVEL_BINS = 4  # the grey-level codes of the level probe: 64 levels to a bin
# the conv probe: a small CNN trained briefly on the probe's training images (fixed before any fit)
CONV_PROBE = {"widths": (16, 32), "kernel": 5, "epochs": 4, "batch_size": 50, "lr": 1e-3, "crop_pad": 2}
_CONV_NAME = ("CNN conv{widths[0]}-pool-conv{widths[1]}-pool-linear ({kernel}x{kernel}, padding {padding}) on "
              "standardised images, Adam {lr:g}, batch {batch_size}, {epochs} epochs, {train:.0%} train").format(
    **CONV_PROBE, padding=CONV_PROBE["kernel"] // 2, train=PROBE_TRAIN_FRACTION)  # fmt: skip
# what each probe reads from an image, and the name its cached results are kept under
PROBE_READS = {
    "pixels": PROBE_NAME,
    "levels": f"logistic regression on one-hot codes of each pixel's grey level in {LEVEL_BINS} bins, C={PROBE_C}, "
              f"{PROBE_TRAIN_FRACTION:.0%} train",
    "conv": _CONV_NAME,
    "conv-augmented": f"{_CONV_NAME}, on random crops ({CONV_PROBE['crop_pad']}-pixel zero padding) and left-right "
                      "flips of the transformed images",
}  # fmt: skip
PREDICTOR_PATH = Path(__file__).resolve().parent / "predictors" / "loss_predictor.json"


class PredictorError(PixinfoError, ValueError):
    """A prediction cannot be made as asked: an unknown dataset or model family, a Score from other
    images, or a predictor file of the wrong kind."""


# -- the label probe: how much of the label a linear read-out of the pixels keeps ----------------
@dataclass(frozen=True)
class LabelProbe:
    """Test accuracy of a probe on the original and on the transformed images.

    ``loss`` is the fraction of the above-chance accuracy lost, ``(original − transformed) /
    (original − chance)`` with chance ``1 / classes``: 0 when the transform keeps everything a
    linear read-out of the pixels finds, 1 when it leaves chance. A fixed pixel permutation
    keeps it at 0 (the probe does not see positions); a value map that scrambles grey levels, or a
    fresh key per image, raises it. Read from one-hot codes of each pixel's grey level
    (``read="levels"``), the probe learns any value map a key applies pixel by pixel (a shared
    XOR key, a level permutation), and it still finds what a fresh negation per pixel keeps
    (the distance from mid-grey), which the pixel probe cannot. The conv probe (``read="conv"``,
    ``CONV_PROBE``) is a small CNN trained for a few epochs: it sees positions, so it pays for
    what breaks local structure (a pixel permutation, scrambled blocks) and for value maps that
    convolutions find hard to undo, as a convolutional network trained on the images would.
    """

    accuracy_original: float
    accuracy_transformed: float
    loss: float
    n_train: int
    n_test: int
    seconds: float


def _logistic_accuracy(pixels: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """Test accuracy of an L2 logistic regression on standardised pixels (deterministic lbfgs)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(pixels[train])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter bounds the time; the fit is still seeded
        fit = LogisticRegression(C=PROBE_C, max_iter=PROBE_MAX_ITER).fit(scaler.transform(pixels[train]), labels[train])
    return float(fit.score(scaler.transform(pixels[test]), labels[test]))


def _pixels(images) -> np.ndarray:
    from pixinfo.data import to_uint8

    flat = to_uint8(images).reshape(len(images), -1).cpu().numpy()
    return flat.astype(np.float64) / 255.0


def _level_codes(images) -> np.ndarray:
    """One-hot codes of every pixel's grey level in ``LEVEL_BINS`` equal bins, ``(N, pixels * LEVEL_BINS)``."""
    from pixinfo.data import to_uint8

    bins = to_uint8(images).reshape(len(images), -1).cpu().numpy().astype(np.int64) * LEVEL_BINS // 256
    codes = np.zeros((bins.shape[0], bins.shape[1] * LEVEL_BINS), dtype=np.float32)
    codes[np.arange(len(bins))[:, None], np.arange(bins.shape[1]) * LEVEL_BINS + bins] = 1.0
    return codes


def _conv_net(c: int, h: int, w: int, k: int):
    import torch.nn as nn

    (a, b), size = CONV_PROBE["widths"], CONV_PROBE["kernel"]
    return nn.Sequential(
        nn.Conv2d(c, a, size, padding=size // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(a, b, size, padding=size // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(b * (h // 4) * (w // 4), k),
    )  # fmt: skip


def _conv_accuracy(images, labels: np.ndarray, train: np.ndarray, test: np.ndarray, *, seed: int,
                   augment: bool = False) -> float:  # fmt: skip
    """Test accuracy of ``CONV_PROBE`` trained on ``images[train]`` (on the images' device, float32;
    the weights, the batch order and the augmentation drawn from ``seed``). ``augment``: each
    training batch is randomly cropped (zero padding of ``CONV_PROBE["crop_pad"]`` pixels) and
    flipped left-right, after the transform, as the study's recipes augment."""
    import torch

    from pixinfo.data import to_uint8
    from pixinfo.train.augment import random_crop, random_flip

    x = to_uint8(images).float() / 255.0  # the 8-bit images the study trains on, in [0, 1]
    mean, std = x[train].mean(), x[train].std().clamp_min(1e-6)
    y = torch.as_tensor(labels, device=x.device)
    train_t, test_t = (torch.as_tensor(i, device=x.device) for i in (train, test))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _conv_net(*x.shape[1:], int(labels.max()) + 1).to(x.device)
    optimiser = torch.optim.Adam(net.parameters(), lr=CONV_PROBE["lr"])
    draws = torch.Generator(device=x.device).manual_seed(seed)
    for _ in range(CONV_PROBE["epochs"]):
        shuffled = train_t[torch.randperm(len(train_t), generator=draws, device=x.device)]
        for batch in shuffled.split(CONV_PROBE["batch_size"]):
            xb = x[batch]
            if augment:
                xb = random_flip(random_crop(xb, pad=CONV_PROBE["crop_pad"], generator=draws), generator=draws)
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(net((xb - mean) / std), y[batch]).backward()
            optimiser.step()
    with torch.no_grad():
        return float((net((x[test_t] - mean) / std).argmax(1) == y[test_t]).float().mean())


_ACCURACY = {  # read: test accuracy of the probe on (images, labels, train, test, seed)
    "pixels": lambda images, y, train, test, seed: _logistic_accuracy(_pixels(images), y, train, test),
    "levels": lambda images, y, train, test, seed: _logistic_accuracy(_level_codes(images), y, train, test),
    "conv": lambda images, y, train, test, seed: _conv_accuracy(images, y, train, test, seed=seed),
    "conv-augmented": lambda images, y, train, test, seed: _conv_accuracy(images, y, train, test, seed=seed,
                                                                          augment=True),
}  # fmt: skip


def label_probe(transform: Callable, images, labels, *, seed: int = 0, original_accuracy: float | None = None,
                read: str = "pixels") -> LabelProbe:  # fmt: skip
    """Train the label probe on the transformed images and compare it with the original ones.

    Parameters
    ----------
    transform : callable
        Maps float ``(B, C, H, W)`` images in [0, 1] to images of the same shape.
    images : Tensor
        ``(N, C, H, W)`` uint8 or float images, N ≥ 10.
    labels : Tensor
        ``(N,)`` integer labels.
    seed : int
        Seed of the train/test split (60% / 40%) and of the conv probe's training.
    original_accuracy : float, optional
        The probe's accuracy on the untransformed ``images`` with the same split and ``read``, when known.
    read : {"pixels", "levels", "conv", "conv-augmented"}
        What the probe is: a logistic regression on the standardised grey levels, one on one-hot
        codes of each pixel's level in ``LEVEL_BINS`` bins, or the small CNN of ``CONV_PROBE``
        (trained on the images' device in float32, its weights and batch order drawn from
        ``seed``; its accuracy shifts by a test image or two with the number of torch threads),
        which ``"conv-augmented"`` trains on random crops and left-right flips of the images.
        ``PROBE_READS`` describes each.

    Returns
    -------
    LabelProbe
    """
    from pixinfo._checks import check_choice, check_image_batch, check_seed
    from pixinfo.data import to_float

    accuracy = _ACCURACY[check_choice(read, "read", tuple(_ACCURACY))]
    images = check_image_batch(images, "images")
    y = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels).astype(np.int64)
    if len(y) != len(images) or len(images) < 10:
        raise ParameterError(f"the probe needs at least 10 images with one label each, got {len(images)} images "
                             f"and {len(y)} labels")  # fmt: skip
    order = np.random.default_rng(check_seed(seed)).permutation(len(images))
    n_train = int(round(PROBE_TRAIN_FRACTION * len(images)))
    train, test = order[:n_train], order[n_train:]
    start = time.perf_counter()
    before = accuracy(images, y, train, test, seed) if original_accuracy is None else original_accuracy
    transformed = check_image_batch(transform(to_float(images)), "the transform's output")
    if transformed.shape != images.shape:
        raise ShapeError(f"the transform changed the image shape to {tuple(transformed.shape)}")
    after = accuracy(transformed, y, train, test, seed)
    chance = 1.0 / len(np.unique(y))
    loss = (before - after) / (before - chance) if before > chance else float("nan")
    return LabelProbe(before, after, float(loss), len(train), len(test), time.perf_counter() - start)


def probe_fingerprint(images, labels, *, seed: int) -> str:
    """A digest of the 8-bit ``images``, their ``labels`` and the probes' ``seed``: which
    untransformed images a [`ProbeBaseline`][pixinfo.predict.ProbeBaseline] was taken on."""
    import hashlib

    from pixinfo.data import to_uint8

    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(to_uint8(images).cpu().numpy()).tobytes())
    digest.update(np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels, dtype=np.int64).tobytes())
    digest.update(str(int(seed)).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ProbeBaseline:
    """The label probes' test accuracy on untransformed images, which every probe of a transform
    is compared with (``label_probe(original_accuracy=...)``).

    ``fingerprint`` names the images, labels and seed it was taken on
    ([`probe_fingerprint`][pixinfo.predict.probe_fingerprint]); ``accuracy`` maps a probe's
    definition (a value of ``PROBE_READS``) to its accuracy, so a changed probe is measured
    afresh. [`features`][pixinfo.predict.features] returns the baseline it used and reuses one
    given to it when the fingerprint matches; the shipped predictor keeps one per dataset, taken on
    the study's images.
    """

    fingerprint: str
    accuracy: Mapping[str, float]

    def to_dict(self) -> dict:
        return {"fingerprint": self.fingerprint, "accuracy": {k: float(v) for k, v in sorted(self.accuracy.items())}}


# -- the features of one transform ----------------------------------------------------------------
FEATURES = {
    **{m.loss: m.loss_description for m in MEASURES},  # the losses the registered measures give
    "shared_key": "1 when one key serves every image, 0 for a fresh key per image",
    "probe_loss": "the label probe's loss (LabelProbe.loss)",
    "level_probe_loss": "the label probe's loss read from one-hot grey-level codes (label_probe(read='levels'))",
    "conv_probe_loss": "the conv probe's loss: a small CNN trained briefly (label_probe(read='conv'))",
    "augmented_probe_loss": "the conv probe's loss when it trains on crops and flips of the transformed images "
                            "(label_probe(read='conv-augmented'))",
    "untransformed_acc": "the family's untransformed test accuracy (%; per run: its seed's)",
}
PROBE_FEATURES = {"probe_loss": "pixels", "level_probe_loss": "levels", "conv_probe_loss": "conv",
                  "augmented_probe_loss": "conv-augmented"}  # feature: its probe
TRANSFORM_FEATURES = (*(m.loss for m in MEASURES), *PROBE_FEATURES)


@dataclass(frozen=True)
class Features:
    """What a prediction is made from: the measures of one transform on one dataset's images.

    A probe's loss (``probe_loss``, ``level_probe_loss``, ``conv_probe_loss``,
    ``augmented_probe_loss``) is None when it was
    not asked for, or when no transform was at hand (a [`Score`][pixinfo.scoring.Score] of a
    transform that cannot be rebuilt from its spec).
    """

    transform: str
    dataset: str
    n_images: int
    shared_key: bool
    structural_loss: float
    content_loss: float
    value_loss: float
    value_order_loss: float
    probe_loss: float | None
    level_probe_loss: float | None = None
    conv_probe_loss: float | None = None
    augmented_probe_loss: float | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    baseline: ProbeBaseline | None = None  # the probes' accuracy on the untransformed images, reusable

    def values(self) -> dict[str, float]:
        """Every feature of ``FEATURES`` known for the transform, ``shared_key`` as 0 or 1 (the
        family's untransformed accuracy is added by the family model)."""
        out = {name: getattr(self, name) for name in TRANSFORM_FEATURES}
        out = {k: (float("nan") if v is None else float(v)) for k, v in out.items()}
        return {**out, "shared_key": float(self.shared_key)}


def _study_images(dataset: str, images, max_images: int):
    """(images, labels) the features are measured on: the first ``max_images`` of ``images`` or the dataset."""
    from pixinfo._checks import check_positive_int
    from pixinfo.data import Dataset, Split, load_dataset

    check_positive_int(max_images, "max_images")
    if images is None:
        images = load_dataset(dataset)
    if isinstance(images, Dataset):
        images = images.split("all")
    if not isinstance(images, Split):
        raise ParameterError("images must be a pixinfo Dataset or Split (images with their labels, for the "
                             f"label probe) or None for the dataset's own, got {type(images).__name__}")  # fmt: skip
    return images.images[:max_images], images.labels[:max_images]


def _as_transform(thing, dataset: str, shape) -> Callable:
    """A spec built for ``shape``; a callable returned as it is."""
    from pixinfo.transforms import build_transform

    if isinstance(thing, str):
        return build_transform(thing, shape=shape, dataset=dataset)
    if callable(thing):
        return thing
    raise ParameterError("expected a transform spec string, a Transform, a callable, a pixinfo Score or "
                         f"Features, got {type(thing).__name__}")  # fmt: skip


def _score_notes(score, dataset: str, n_images: int) -> tuple[str, ...]:
    from pixinfo.data import DATASETS

    if score.dataset in DATASETS and score.dataset != dataset:
        raise PredictorError(f"the Score was measured on {score.dataset!r}, not on {dataset!r}")
    if score.n_images != STUDY_IMAGES or n_images != STUDY_IMAGES:
        return (f"measured on {score.n_images:,} images and probed on {n_images:,}, the study's settings on "
                f"{STUDY_IMAGES:,}: the measures and the probe shift a little with the images",)  # fmt: skip
    return ()


def _check_probes(probes) -> tuple[str, ...]:
    if probes is None:
        return tuple(PROBE_FEATURES)
    if isinstance(probes, str) or not all(isinstance(p, str) and p in PROBE_FEATURES for p in probes):
        raise ParameterError(f"probes must be a sequence of names among {list(PROBE_FEATURES)}, got {probes!r}")
    return tuple(p for p in PROBE_FEATURES if p in probes)


def features(transform_or_score, dataset: str = "fashion-mnist", *, images=None, max_images: int = STUDY_IMAGES,
             seed: int = 0, probes: Sequence[str] | None = None,
             baseline: ProbeBaseline | None = None) -> Features:  # fmt: skip
    """Measure a transform as the study measured its settings.

    Parameters
    ----------
    transform_or_score : str, Transform, callable or Score
        A spec (``"vortex:seed=0,n=10"``), a transform or any callable mapping float
        ``(B, C, H, W)`` images in [0, 1] to images of the same shape, or a
        [`Score`][pixinfo.scoring.Score] already computed with the default kernel (its probe is
        computed when its spec rebuilds the transform).
    dataset : str
        Dataset whose images are measured (and whose predictor will be used).
    images : Dataset or Split, optional
        Labelled images to measure on instead of the dataset's own.
    max_images : int
        The first this many images (the study: 5,000 of the ``"all"`` split).
    seed : int
        Seed of sampled per-image maps, the chance correction and the probes.
    probes : sequence of str, optional
        The probe features to compute (names of ``PROBE_FEATURES``); default all of them.
        [`LossPredictor.probes`][pixinfo.predict.LossPredictor.probes] names those a prediction uses.
    baseline : ProbeBaseline, optional
        The probes' accuracy on the untransformed images, from an earlier call on the same images
        and seed (``Features.baseline``) or the predictor's
        ([`LossPredictor.baseline`][pixinfo.predict.LossPredictor.baseline]): those probes are not
        trained on the untransformed images again. Taken on other images or with another seed,
        it is not used.

    Returns
    -------
    Features
        With ``baseline``: the probes' accuracy on the untransformed images, given or measured.
    """
    import pixinfo

    start = time.perf_counter()
    wanted = _check_probes(probes)
    if baseline is not None and not isinstance(baseline, ProbeBaseline):
        raise ParameterError(f"baseline must be a ProbeBaseline (Features.baseline or LossPredictor.baseline) or "
                             f"None, got {type(baseline).__name__}")  # fmt: skip
    x, y = _study_images(dataset, images, max_images)
    shape = tuple(int(s) for s in x.shape[1:])
    if isinstance(transform_or_score, pixinfo.Score):
        sc, notes = transform_or_score, _score_notes(transform_or_score, dataset, len(x))
        spec = sc.transform
        try:
            transform = _as_transform(spec, dataset, shape)
        except PixinfoError:
            spec = transform = None
            notes = (*notes, f"no label probe: {sc.transform!r} is not a spec pixinfo can rebuild")
    else:
        spec = transform_or_score if isinstance(transform_or_score, str) else None
        transform, notes = _as_transform(transform_or_score, dataset, shape), ()
        if len(x) != STUDY_IMAGES:
            notes = (f"measured on {len(x):,} images, the study's settings on {STUDY_IMAGES:,}: the measures and "
                     "the probe shift a little with the images",)  # fmt: skip
        sc = pixinfo.score(transform, x, seed=seed, n_boot=0, n_boot_value=0)
    fingerprint = probe_fingerprint(x, y, seed=seed)
    accuracy = dict(baseline.accuracy) if baseline is not None and baseline.fingerprint == fingerprint else {}
    measured = dict.fromkeys(PROBE_FEATURES)  # None: not asked for, or a Score of a transform that cannot be rebuilt
    for name in wanted:
        if spec is not None:  # a fresh key stream for each probe: it sees what the study's probes saw
            transform = _as_transform(spec, dataset, shape)
        if transform is not None:
            read = PROBE_FEATURES[name]
            probe = label_probe(transform, x, y, seed=seed, read=read, original_accuracy=accuracy.get(PROBE_READS[read]))
            accuracy[PROBE_READS[read]], measured[name] = probe.accuracy_original, probe.loss
    return Features(transform=sc.transform, dataset=dataset, n_images=sc.n_images, shared_key=bool(sc.shared_key),
                    **sc.losses(), **measured, seconds=time.perf_counter() - start, notes=notes,
                    baseline=ProbeBaseline(fingerprint, accuracy))  # fmt: skip


# -- the regressions: linear, ridge with pairwise interactions, shallow boosted trees -------------
KINDS = {
    "linear": "ordinary least squares on the features",
    "interactions": "ridge (alpha 1) on the standardised features and their pairwise products",
    "interactions (alpha 10)": "ridge (alpha 10) on the standardised features and their pairwise products",
    "trees": "gradient-boosted trees (depth 2, 100 trees, learning rate 0.1)",
}
_RIDGE_ALPHA = {"interactions": 1.0, "interactions (alpha 10)": 10.0}
TARGETS = {
    "points": "the accuracy loss in points",
    "relative": "the share of the above-chance accuracy lost (loss / (untransformed accuracy - chance)) less the "
                "mean loss of the label probes among the features, which is that share for each probe: the "
                "regression corrects the probes, and a prediction scales back to points",
}


def fits_target(target: str, features: Sequence[str]) -> bool:
    """Whether ``target`` (a key of ``TARGETS``) can be fitted on ``features``: ``"relative"``
    needs ``untransformed_acc`` and a probe among them."""
    return target == "points" or ("untransformed_acc" in features and any(f in PROBE_FEATURES for f in features))


def _relative(x: np.ndarray, features: Sequence[str], chance: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``x``: the points above chance (untransformed accuracy - ``chance``) and the mean
    loss of the probes among ``features``, which the ``"relative"`` target is measured against."""
    names = list(features)
    probes = [i for i, f in enumerate(names) if f in PROBE_FEATURES]
    if not fits_target("relative", names):
        raise ParameterError(f"target='relative' needs untransformed_acc and a probe among the features, got {names}")
    if chance is None or not 0 <= chance < 100:
        raise ParameterError(f"target='relative' needs the chance accuracy in points, in [0, 100), got {chance!r}")
    return x[:, names.index("untransformed_acc")] - chance, x[:, probes].mean(1)


def _sig(x: float) -> float:
    """``x`` to 12 significant digits: the fitted file reads the same after a refit on another BLAS."""
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class Regression:
    """One fitted regression of accuracy loss (points) on ``features``, stored as plain numbers.

    ``params`` holds, for ``"linear"`` and ``"interactions"``, the features' training ``mean`` and
    ``scale``, the ``terms`` (tuples of feature positions multiplied together), their ``coef`` and
    the ``intercept``; for ``"trees"``, ``init``, ``learning_rate`` and each tree's ``left``,
    ``right``, ``feature``, ``threshold`` and ``value`` arrays (a leaf has ``left == -1``). Every
    kind also holds the training range of each feature (``lower``, ``upper``): a prediction
    clamps the features into it, so a transform beyond the training data is predicted as at the
    nearest edge of the data, never by extrapolating a product of features (the domain flag says
    it lies beyond), and the range of the values it was fitted to (``target_lower``,
    ``target_upper``), into which it clamps what it predicts. A fit of the ``"relative"`` target
    (``TARGETS``) also holds ``target`` and ``chance``: it predicts the probes' share plus its
    correction, times the points above chance, both read from the features unclamped.
    """

    kind: str
    features: tuple[str, ...]
    params: dict

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted loss of each row of ``x`` (columns in the order of ``features``)."""
        p = self.params
        given = x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if "lower" in p:  # a file fitted before the ranges were kept predicts unclamped, as it was fitted
            x = np.clip(x, p["lower"], p["upper"])
        if self.kind == "trees":
            total = np.full(len(x), p["init"])
            for tree in p["trees"]:
                total += p["learning_rate"] * _tree_values(tree, x)
        else:
            z = (x - np.asarray(p["mean"])) / np.asarray(p["scale"])
            total = p["intercept"] + _terms(z, p["terms"]) @ np.asarray(p["coef"])
        if "target_lower" in p:  # never beyond the fitted values (a file without their range: as fitted)
            total = np.clip(total, p["target_lower"], p["target_upper"])
        if p.get("target", "points") == "relative":
            span, offset = _relative(given, self.features, p["chance"])
            return span * (offset + total)
        return total

    def to_dict(self) -> dict:
        return {"kind": self.kind, "features": list(self.features), "params": self.params}


def _tree_values(tree: dict, x: np.ndarray) -> np.ndarray:
    node = np.zeros(len(x), dtype=np.int64)
    left, right = np.asarray(tree["left"]), np.asarray(tree["right"])
    feature, threshold = np.asarray(tree["feature"]), np.asarray(tree["threshold"])
    while True:
        inner = left[node] != -1
        if not inner.any():
            return np.asarray(tree["value"])[node]
        go_left = x[np.arange(len(x)), np.maximum(feature[node], 0)] <= threshold[node]
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)


def _terms(z: np.ndarray, terms) -> np.ndarray:
    if not terms:  # no features: the regression is the mean loss
        return np.empty((len(z), 0))
    return np.stack([np.prod(z[:, list(t)], axis=1) for t in terms], axis=1)


def fit_regression(x: np.ndarray, y: np.ndarray, *, features: Sequence[str], kind: str, target: str = "points",
                   chance: float | None = None) -> Regression:  # fmt: skip
    """Fit one [`Regression`][pixinfo.predict.Regression] of ``kind`` (a key of ``KINDS``) to ``y``,
    the accuracy loss in points, as ``target`` (a key of ``TARGETS``; ``"relative"`` needs
    ``untransformed_acc`` and a probe among ``features`` and ``chance``, the accuracy of guessing
    in points); deterministic."""
    from pixinfo._checks import check_choice

    check_choice(kind, "kind", tuple(KINDS))
    check_choice(target, "target", tuple(TARGETS))
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    bounds = {"lower": [_sig(v) for v in x.min(0)], "upper": [_sig(v) for v in x.max(0)]}
    if target == "relative":
        span, offset = _relative(x, features, chance)
        y = y / span - offset
        bounds |= {"target": target, "chance": _sig(chance)}
    bounds |= {"target_lower": _sig(y.min()), "target_upper": _sig(y.max())}
    if kind == "trees":
        return Regression(kind, tuple(features), _fit_trees(x, y) | bounds)
    mean, scale, terms, coef, intercept = _fit_terms(x, y, kind)
    params = {"mean": [_sig(v) for v in mean], "scale": [_sig(v) for v in scale], "terms": [list(t) for t in terms],
              "coef": [_sig(v) for v in coef], "intercept": _sig(intercept)}  # fmt: skip
    return Regression(kind, tuple(features), params | bounds)


def _usable_scale(scale: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``scale`` with 1 where a feature is constant: it adds nothing (e.g. every setting keyed, or one
    seed's untransformed accuracy), and its float standard deviation can be rounding noise, not 0."""
    return np.where(scale > 1e-9 * np.maximum(1.0, np.abs(mean)), scale, 1.0)


def _fit_terms(x: np.ndarray, y: np.ndarray, kind: str):
    """(mean, scale, terms, coef, intercept) of a ``"linear"`` or ridge fit: least squares (or ridge
    with ``_RIDGE_ALPHA[kind]``) on the standardised features and, for a ridge, their pairwise products."""
    mean = x.mean(0)
    scale = _usable_scale(x.std(0), mean)
    n = x.shape[1]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)] if kind != "linear" else []
    terms = [(i,) for i in range(n)] + pairs
    z = _terms((x - mean) / scale, terms)
    zc, yc = z - z.mean(0), y - y.mean()
    if kind == "linear":
        coef = np.linalg.lstsq(zc, yc, rcond=None)[0]
    else:
        coef = np.linalg.solve(zc.T @ zc + _RIDGE_ALPHA[kind] * np.eye(len(terms)), zc.T @ yc)
    return mean, scale, terms, coef, y.mean() - z.mean(0) @ coef


def held_out_predictions(x: np.ndarray, y: np.ndarray, groups: np.ndarray, *, kind: str, target: str = "points",
                         features: Sequence[str] = (), chance: float | None = None) -> np.ndarray:  # fmt: skip
    """Each row's prediction by a regression of ``kind`` fitted on the rows of the other ``groups``
    (NaN for a group that holds every row); plain arrays, no rounding of the fitted numbers.
    ``target``, ``features`` and ``chance`` as :func:`fit_regression` takes them."""
    if target == "relative":
        span, offset = _relative(x, features, chance)
        return span * (offset + held_out_predictions(x, y / span - offset, groups, kind=kind))
    if kind != "trees":
        return _batched_held_out(x, y, groups, alpha=_RIDGE_ALPHA.get(kind, 0.0), pairs=kind != "linear")
    out = np.full(len(y), np.nan)
    for g in np.unique(groups):
        held = groups == g
        if not held.all():
            out[held] = fit_regression(x[~held], y[~held], features=[""] * x.shape[1], kind=kind).predict(x[held])
    return out


def _batched_held_out(x: np.ndarray, y: np.ndarray, groups: np.ndarray, *, alpha: float, pairs: bool) -> np.ndarray:
    """:func:`held_out_predictions` of least squares (``alpha`` 0: the minimum-norm solution, as
    ``lstsq`` gives it) or a ridge, on the features and, with ``pairs``, their pairwise products,
    every fold solved at once: the same clamping (of the features and of what is predicted),
    standardisation and solve as :func:`fit_regression`, from each fold's moments (the moments of
    all rows less those of the held-out group), so a fold costs the size of its terms, not of its
    rows."""
    out = np.full(len(y), np.nan)
    names, group = np.unique(groups, return_inverse=True)
    if len(names) < 2:
        return out
    p = x.shape[1]
    i, j = np.triu_indices(p, 1) if pairs else (np.arange(0), np.arange(0))
    centre, spread = x.mean(0), x.std(0)
    spread = np.where(spread > 0, spread, 1.0)  # per-fold standardisation undoes this; it keeps moments in scale
    u = (x - centre) / spread
    order = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[order], np.arange(len(names)))
    moments = _fold_moments(np.concatenate([np.ones((len(u), 1)), u, u[:, i] * u[:, j], u**2, y[:, None]], axis=1),
                            order, starts)  # fmt: skip
    t = p + len(i)
    count = moments[:, 0, 0]
    mean = moments[:, 0, 1 : 1 + t] / count[:, None]  # of the monomials u_k and u_i u_j on each fold's training rows
    y_mean = moments[:, 0, -1] / count
    mu = mean[:, :p]
    sd = np.sqrt(np.maximum(moments[:, 0, 1 + t : 1 + t + p] / count[:, None] - mu**2, 0))
    sd = _usable_scale(spread * sd, centre + spread * mu) / spread  # the rule in x's own units
    a = _standardising(mu, sd, i, j)  # the centred terms are a @ (m - mean), m = (u_k, u_i u_j)
    mm = moments[:, 1 : 1 + t, 1 : 1 + t] - count[:, None, None] * mean[:, :, None] * mean[:, None, :]
    my = moments[:, 1 : 1 + t, -1] - count[:, None] * mean * y_mean[:, None]
    gram = a @ mm @ a.transpose(0, 2, 1) + alpha * np.eye(t)
    rhs = a @ my[..., None]
    coef = np.linalg.solve(gram, rhs) if alpha else np.linalg.pinv(gram, hermitian=True) @ rhs
    beta = (a.transpose(0, 2, 1) @ coef)[..., 0]  # the same fit as coefficients of m - mean
    xy = np.c_[x, y][order]  # each fold's training range: of the features, then of the fitted values
    lower, upper = _but_one(np.minimum, xy, starts)[group], _but_one(np.maximum, xy, starts)[group]
    uc = (np.clip(x, lower[:, :p], upper[:, :p]) - centre) / spread  # held-out rows into their fold's range
    m = np.concatenate([uc, uc[:, i] * uc[:, j]], axis=1)
    return np.clip(y_mean[group] + np.einsum("nt,nt->n", m - mean[group], beta[group]), lower[:, p], upper[:, p])


def _fold_moments(v: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``v.T @ v`` over the rows outside each group (rows sorted by ``order``, groups from ``starts``)."""
    sizes = np.diff(np.append(starts, len(v)))
    padded = np.zeros((len(starts), sizes.max(), v.shape[1]))  # each group's rows, zeros after them
    padded[np.repeat(np.arange(len(starts)), sizes), np.arange(len(v)) - np.repeat(starts, sizes)] = v[order]
    per_group = padded.transpose(0, 2, 1) @ padded
    return per_group.sum(0)[None] - per_group


def _standardising(mu: np.ndarray, sd: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Per fold, the matrix taking the monomials (u_k, u_i u_j), less their means, to the centred
    terms (z_k, z_i z_j) of z = (u - mu) / sd."""
    folds, p = mu.shape
    t = p + len(i)
    a = np.zeros((folds, t, t))
    k, r = np.arange(p), p + np.arange(len(i))
    a[:, k, k] = 1 / sd
    both = sd[:, i] * sd[:, j]
    a[:, r, r] = 1 / both
    a[:, r, i] = -mu[:, j] / both
    a[:, r, j] = -mu[:, i] / both
    return a


def _but_one(op, xs: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``op`` (``np.minimum`` or ``np.maximum``) over the rows of every group but one, per group."""
    per_group = op.reduceat(xs, starts, axis=0)
    fill = np.full((1, xs.shape[1]), np.inf if op is np.minimum else -np.inf)
    before = op.accumulate(np.concatenate([fill, per_group[:-1]]), axis=0)
    after = op.accumulate(np.concatenate([fill, per_group[:0:-1]]), axis=0)[::-1]
    return op(before, after)


def _fit_trees(x: np.ndarray, y: np.ndarray) -> dict:
    from sklearn.ensemble import GradientBoostingRegressor

    fit = GradientBoostingRegressor(max_depth=2, n_estimators=100, learning_rate=0.1, random_state=0).fit(x, y)
    trees = [{"left": t.tree_.children_left.tolist(), "right": t.tree_.children_right.tolist(),
              "feature": t.tree_.feature.tolist(), "threshold": [_sig(v) for v in t.tree_.threshold],
              "value": [_sig(v) for v in t.tree_.value[:, 0, 0]]} for t in fit.estimators_[:, 0]]  # fmt: skip
    return {"init": _sig(float(fit.init_.constant_[0, 0])), "learning_rate": 0.1, "trees": trees}


def held_out_residuals(rows, *, features: Sequence[str], kind: str, by: str = "setting",
                       target: str = "points") -> np.ndarray:  # fmt: skip
    """Measured minus predicted accuracy loss of every row of ``rows``, each predicted by a
    regression fitted without the rows sharing its ``by`` value (leave one setting, or one
    transform family, out). Rows of a group that is all of ``rows`` get NaN. The ``"relative"``
    target reads the chance accuracy from the column ``chance``."""
    from pixinfo._checks import check_choice

    check_choice(kind, "kind", tuple(KINDS))
    check_choice(target, "target", tuple(TARGETS))
    x, y = rows[list(features)].to_numpy(np.float64), rows["accuracy_loss"].to_numpy(np.float64)
    return y - held_out_predictions(x, y, rows[by].to_numpy(), kind=kind, target=target, features=features,
                                    chance=_chance(rows) if target == "relative" else None)  # fmt: skip


def _chance(rows) -> float:
    """The one chance accuracy (points) of ``rows``' column ``chance``."""
    if "chance" not in rows or rows["chance"].nunique() != 1:
        raise ParameterError("target='relative' needs a column 'chance' holding one accuracy of guessing (points)")
    return float(rows["chance"].iloc[0])


def conformal_width(residuals: np.ndarray, *, level: float = 0.9) -> float:
    """Split-conformal half-width: the ⌈(n + 1) level⌉-th smallest absolute residual of n (inf
    when n is too small for ``level``)."""
    r = np.sort(np.abs(np.asarray(residuals, dtype=np.float64)[np.isfinite(residuals)]))
    k = math.ceil((len(r) + 1) * level)
    return float(r[k - 1]) if 0 < k <= len(r) else math.inf


# -- the training region --------------------------------------------------------------------------
# the share of training settings whose nearest neighbour sets the radius: the settings that stand
# alone (one setting of a kind) would otherwise set it to the gaps between kinds
DOMAIN_QUANTILE = 0.75


@dataclass(frozen=True)
class Domain:
    """Where a family was fitted: its settings' transform features (one row per setting).

    A new transform is outside when one of its features is undefined (NaN), when it lies beyond a
    feature's training range by more than ``radius``, or when no training setting with the same
    kind of key (shared or per image) lies within ``radius`` of it (Euclidean distance over
    ``features``, all fractions). ``radius`` is twice the distance within which 75% of the
    training settings have a neighbour (``DOMAIN_QUANTILE``): graded settings of one kind are
    that far apart, while a kind with one setting lies farther from the rest.
    """

    features: tuple[str, ...]
    settings: tuple[str, ...]
    shared_key: tuple[bool, ...]
    rows: tuple[tuple[float, ...], ...]
    radius: float

    def reason(self, values: Mapping[str, float], shared_key: bool) -> str:
        """Why ``values`` lie outside the region, or "" when they lie inside."""
        x = np.array([values[f] for f in self.features], dtype=np.float64)
        undefined = [f for f, v in zip(self.features, x, strict=True) if not math.isfinite(v)]
        if undefined:
            return f"{', '.join(undefined)} undefined for this transform (no training setting lacks it)"
        rows = np.asarray(self.rows, dtype=np.float64)
        low, high = rows.min(0), rows.max(0)
        for f, v, lo, hi in zip(self.features, x, low, high, strict=True):
            if v < lo - self.radius or v > hi + self.radius:
                return (f"{f} {v:.3f} lies outside the training range [{lo:.3f}, {hi:.3f}] by more than "
                        f"{self.radius:.3f}")
        same = np.asarray(self.shared_key) == bool(shared_key)
        kind = "shared-key" if shared_key else "per-image-key"
        if not same.any():
            return f"no {kind} transform among the training settings"
        distance = np.sqrt(((rows[same] - x) ** 2).sum(1))
        nearest = int(distance.argmin())
        if distance[nearest] > self.radius:
            name = str(np.asarray(self.settings)[same][nearest])
            return (f"no {kind} training setting within {self.radius:.3f} of its features (nearest: {name!r} at "
                    f"{distance[nearest]:.3f})")  # fmt: skip
        return ""

    def outside(self, rows) -> np.ndarray:
        """Per row of ``rows`` (a DataFrame with the ``features`` and ``shared_key``): whether
        :meth:`reason` leaves it outside the region."""
        x, keys = rows[list(self.features)].to_numpy(np.float64), rows["shared_key"].to_numpy()
        return np.array([bool(self.reason(dict(zip(self.features, r, strict=True)), k))
                         for r, k in zip(x, keys, strict=True)], dtype=bool)  # fmt: skip

    def to_dict(self) -> dict:
        return {"features": list(self.features), "settings": list(self.settings), "shared_key": list(self.shared_key),
                "rows": [[_sig(v) for v in r] for r in self.rows], "radius": _sig(self.radius)}  # fmt: skip


def fit_domain(rows, *, features: Sequence[str]) -> Domain:
    """The [`Domain`][pixinfo.predict.Domain] of the settings in ``rows`` (per-run rows: one per setting is kept)."""
    settings = rows.drop_duplicates("setting").sort_values("setting")
    x = settings[list(features)].to_numpy(np.float64)
    gaps = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    np.fill_diagonal(gaps, np.inf)
    nearest = gaps.min(1)
    finite = nearest[np.isfinite(nearest)]
    radius = 2 * float(np.quantile(finite, DOMAIN_QUANTILE)) if len(finite) else 0.0
    return Domain(tuple(features), tuple(settings["setting"]), tuple(bool(k) for k in settings["shared_key"]),
                  tuple(tuple(float(v) for v in r) for r in x), radius)  # fmt: skip


# -- one model family ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """The predicted cost of one transform for one model family.

    ``loss`` is in points of test accuracy, ``accuracy`` the accuracy kept (the family's
    untransformed accuracy minus ``loss``, clipped to [0, 100]), each with its ``level`` interval
    (split-conformal: calibrated on held-out settings and on held-out transform families, the wider
    of the two, so it aims to cover ``level`` of the runs of a transform like the training ones
    whether or not its kind was trained; the accuracy interval is clipped to [0, 100] too).
    ``out_of_domain`` is True, with its ``reason``, when the transform's features lie outside the family's training region;
    the numbers are then an extrapolation, and the interval is the wider one calibrated on
    held-out transform families (``FamilyModel.interval_out_of_domain``).
    """

    transform: str
    dataset: str
    model: str
    loss: float
    interval: tuple[float, float]
    level: float
    untransformed_accuracy: float
    accuracy: float
    accuracy_interval: tuple[float, float]
    out_of_domain: bool
    reason: str
    features: dict[str, float]
    features_used: tuple[str, ...]
    fit_on: dict
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Flat and JSON-ready (intervals as ``*_low`` / ``*_high``)."""
        row = asdict(self)
        for name in ("interval", "accuracy_interval"):
            row[f"{name}_low"], row[f"{name}_high"] = row.pop(name)
        return row


def _plain(value):
    """A pandas/NumPy scalar as a JSON-ready Python value (NaN as None)."""
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def _recipe(rows) -> dict[str, list]:
    """How the family's runs were trained: each recipe column's distinct values."""
    out = {}
    for column in ("architecture", "augment", "epochs", "max_train", "batch_size", "seed", "source"):
        if column in rows:
            out[column] = sorted({_plain(v) for v in rows[column]}, key=lambda v: (v is None, str(v)))
    return out


@dataclass(frozen=True)
class FamilyModel:
    """The predictor of one (dataset, model family): its regression, its interval half-widths
    ([`interval_widths`][pixinfo.predict.interval_widths]: the wider of the ``level`` quantiles of
    the absolute leave-one-setting-out and leave-one-transform-family-out residuals; for a
    transform outside the training region, that of the leave-one-transform-family-out residuals of
    the runs left outside, never narrower) and its training region."""

    dataset: str
    family: str
    recipe: dict
    n_runs: int
    n_settings: int
    untransformed_accuracy: float
    regression: Regression
    interval: float
    level: float
    domain: Domain
    interval_out_of_domain: float | None = None  # None: not calibrated (``interval`` serves)

    def fit_on(self) -> dict:
        return {"records": self.n_runs, "settings": self.n_settings, "recipe": self.recipe}

    def predict(self, feats: Features) -> Prediction:
        """The [`Prediction`][pixinfo.predict.Prediction] for ``feats``."""
        values = {**feats.values(), "untransformed_acc": self.untransformed_accuracy}
        x = np.array([[values[f] for f in self.regression.features]])
        reason = self.domain.reason(values, feats.shared_key)
        loss = float(self.regression.predict(np.nan_to_num(x))[0])
        half = self.interval_out_of_domain if reason and self.interval_out_of_domain is not None else self.interval
        low, high = loss - half, loss + half
        base = self.untransformed_accuracy
        clip = lambda a: float(min(100.0, max(0.0, a)))  # noqa: E731
        return Prediction(transform=feats.transform, dataset=self.dataset, model=self.family, loss=loss,
                          interval=(low, high), level=self.level, untransformed_accuracy=base,
                          accuracy=clip(base - loss),
                          accuracy_interval=(clip(base - high), clip(base - low)),
                          out_of_domain=bool(reason), reason=reason, features=values,
                          features_used=self.regression.features, fit_on=self.fit_on(), notes=feats.notes)  # fmt: skip

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "family": self.family, "recipe": self.recipe, "n_runs": self.n_runs,
                "n_settings": self.n_settings, "untransformed_accuracy": _sig(self.untransformed_accuracy),
                "regression": self.regression.to_dict(), "interval": _sig(self.interval), "level": self.level,
                "domain": self.domain.to_dict(),
                "interval_out_of_domain": None if self.interval_out_of_domain is None
                else _sig(self.interval_out_of_domain)}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> FamilyModel:
        reg, dom = d["regression"], d["domain"]
        return cls(dataset=d["dataset"], family=d["family"], recipe=d["recipe"], n_runs=d["n_runs"],
                   n_settings=d["n_settings"], untransformed_accuracy=d["untransformed_accuracy"],
                   regression=Regression(reg["kind"], tuple(reg["features"]), reg["params"]),
                   interval=d["interval"], level=d["level"],
                   domain=Domain(tuple(dom["features"]), tuple(dom["settings"]), tuple(dom["shared_key"]),
                                 tuple(tuple(r) for r in dom["rows"]), dom["radius"]),
                   interval_out_of_domain=d.get("interval_out_of_domain"))  # fmt: skip


def fit_family(rows, *, features: Sequence[str], kind: str, level: float = 0.9, target: str = "points") -> FamilyModel:
    """Fit the [`FamilyModel`][pixinfo.predict.FamilyModel] of the per-run ``rows`` of one (dataset, model family).

    Parameters
    ----------
    rows : DataFrame
        One row per trained run: ``dataset``, ``model``, ``setting``, ``family`` (its kind of
        transform), ``accuracy_loss`` (points), ``untransformed_acc`` (%), ``seed``, ``shared_key``
        and every name in ``features``
        (and optionally the recipe columns ``architecture``, ``augment``, ``epochs``,
        ``max_train``, ``batch_size``, ``source``).
    features : sequence of str
        Names of ``FEATURES``.
    kind : str
        A key of ``KINDS``.
    level : float
        Coverage of the interval.
    target : str
        A key of ``TARGETS``; ``"relative"`` needs a column ``chance`` (the accuracy of guessing,
        points), ``untransformed_acc`` and a probe among ``features``.
    """
    unknown = [f for f in features if f not in FEATURES]
    missing = [c for c in ("dataset", "model", "setting", "family", "accuracy_loss", "untransformed_acc", "seed",
                           "shared_key", *features) if c not in rows]  # fmt: skip
    if unknown or missing:
        raise ParameterError(f"features {unknown} are not among {list(FEATURES)}" if unknown
                             else f"the records lack the columns {missing}")  # fmt: skip
    if rows["dataset"].nunique() != 1 or rows["model"].nunique() != 1:
        raise ParameterError("fit_family takes the rows of one dataset and one model family")
    rows = rows.dropna(subset=list(features)).sort_values(["setting", "seed"], kind="stable")
    x, y = rows[list(features)].to_numpy(np.float64), rows["accuracy_loss"].to_numpy(np.float64)
    residuals = held_out_residuals(rows, features=features, kind=kind, target=target)
    new_kinds = held_out_residuals(rows, features=features, kind=kind, by="family", target=target)
    chance = _chance(rows) if target == "relative" else None
    domain_features = [f for f in features if f in TRANSFORM_FEATURES]
    outside = outside_other_families(rows, features=domain_features)
    width, width_outside = interval_widths(residuals, new_kinds, level=level, outside=outside)
    baselines = rows.drop_duplicates("seed")["untransformed_acc"]
    return FamilyModel(dataset=str(rows["dataset"].iloc[0]), family=str(rows["model"].iloc[0]), recipe=_recipe(rows),
                       n_runs=len(rows), n_settings=rows["setting"].nunique(),
                       untransformed_accuracy=float(baselines.mean()),
                       regression=fit_regression(x, y, features=features, kind=kind, target=target, chance=chance),
                       interval=width, level=level, domain=fit_domain(rows, features=domain_features),
                       interval_out_of_domain=width_outside)  # fmt: skip


def out_of_domain_width(width: float, residuals: np.ndarray, *, level: float = 0.9,
                        outside: np.ndarray | None = None) -> float | None:  # fmt: skip
    """The interval half-width for a transform outside the training region: the
    [`conformal_width`][pixinfo.predict.conformal_width] of the leave-one-transform-family-out
    ``residuals`` of the runs that were outside the region of the other families when left out
    (``outside``, as [`outside_other_families`][pixinfo.predict.outside_other_families] gives it;
    of every run when not given or when those are too few to calibrate it), never narrower than
    the in-domain ``width``; None when even all are too few (one transform family), and then
    ``width`` serves."""
    residuals = np.asarray(residuals, dtype=np.float64)
    other = conformal_width(residuals[outside], level=level) if outside is not None else math.inf
    if not math.isfinite(other):
        other = conformal_width(residuals, level=level)
    return max(width, other) if math.isfinite(other) else None


def interval_widths(setting_residuals: np.ndarray, family_residuals: np.ndarray, *, level: float = 0.9,
                    outside: np.ndarray | None = None) -> tuple[float, float | None]:  # fmt: skip
    """The two interval half-widths of a family: in its training region and outside it.

    A transform the predictor has not seen may be a new setting of a kind it was trained on, or a
    new kind that happens to lie near one; its features cannot tell the two apart. The in-domain
    width is therefore the wider of two split-conformal calibrations: on the leave-one-setting-out
    ``setting_residuals`` and on the leave-one-transform-family-out ``family_residuals`` (each run
    predicted by a fit that saw no setting of its kind). The out-of-domain width is
    [`out_of_domain_width`][pixinfo.predict.out_of_domain_width] of the family residuals (``outside``
    marks the runs the other families' region left outside), never narrower; None where it cannot be
    calibrated (one transform family).
    """
    width = conformal_width(setting_residuals, level=level)
    by_family = conformal_width(family_residuals, level=level)
    width = max(width, by_family) if math.isfinite(by_family) else width
    return width, out_of_domain_width(width, family_residuals, level=level, outside=outside)


def outside_other_families(rows, *, features: Sequence[str]) -> np.ndarray:
    """Per run of ``rows``: whether the [`Domain`][pixinfo.predict.Domain] of the runs of the other
    transform families (column ``family``) leaves it outside, as a transform of a kind never
    trained would be judged. All False without ``features`` or with one family."""
    out = np.zeros(len(rows), dtype=bool)
    family = rows["family"].to_numpy()
    if not features:
        return out
    for g in np.unique(family):
        held = family == g
        if not held.all():
            out[held] = fit_domain(rows[~held], features=features).outside(rows[held])
    return out


# -- every family, saved and loaded ---------------------------------------------------------------
class LossPredictor:
    """One [`FamilyModel`][pixinfo.predict.FamilyModel] per (dataset, model family), and for each a
    second one without the label probe, used when a transform's probe cannot be computed.

    Parameters
    ----------
    models : mapping
        ``(dataset, family)`` → its models, the first one preferred.
    selection : dict, optional
        How the features and the kind of regression were chosen (kept in the saved file).
    baselines : mapping, optional
        Dataset → the [`ProbeBaseline`][pixinfo.predict.ProbeBaseline] of the images its
        features were measured on (the study's), which a prediction on those images reuses.
    """

    def __init__(self, models: Mapping[tuple[str, str], Sequence[FamilyModel]], *, selection: dict | None = None,
                 baselines: Mapping[str, ProbeBaseline] | None = None):  # fmt: skip
        self.models = {key: tuple(variants) for key, variants in sorted(models.items())}
        self.selection = dict(selection or {})
        self.baselines = dict(sorted((baselines or {}).items()))

    def baseline(self, dataset: str) -> ProbeBaseline | None:
        """The probes' accuracy on ``dataset``'s study images, None when not kept."""
        return self.baselines.get(dataset)

    @classmethod
    def fit(cls, records, *, features: Sequence[str], kind: str, level: float = 0.9, target: str = "points",
            selection: dict | None = None,
            baselines: Mapping[str, ProbeBaseline] | None = None) -> LossPredictor:  # fmt: skip
        """Fit every (dataset, model family) of ``records`` (per-run rows as
        [`fit_family`][pixinfo.predict.fit_family] takes them); the variant without the probes
        predicts points (the ``"relative"`` target needs a probe)."""
        without_probe = [f for f in features if f not in PROBE_FEATURES]
        models = {}
        for (dataset, family), rows in records.groupby(["dataset", "model"], sort=True):
            variants = [fit_family(rows, features=features, kind=kind, level=level, target=target)]
            if len(without_probe) < len(features):
                variants.append(fit_family(rows, features=without_probe, kind=kind, level=level))
            models[(str(dataset), str(family))] = variants
        return cls(models, selection=selection, baselines=baselines)

    def families(self, dataset: str | None = None) -> list[tuple[str, str]]:
        """The (dataset, family) pairs, of ``dataset`` only when given."""
        return [key for key in self.models if dataset is None or key[0] == dataset]

    def family(self, dataset: str, model: str) -> FamilyModel:
        """The preferred model of ``(dataset, model)``.

        Raises
        ------
        PredictorError
            No family of that name was fitted on ``dataset`` (the message lists those that were).
        """
        return self._variants(dataset, model)[0]

    def _variants(self, dataset: str, model: str) -> tuple[FamilyModel, ...]:
        datasets = sorted({d for d, _ in self.models})
        if dataset not in datasets:
            raise PredictorError(f"no predictor for dataset {dataset!r}; fitted on: {', '.join(datasets)}")
        if (dataset, model) not in self.models:
            choices = ", ".join(repr(f) for d, f in self.models if d == dataset)
            raise PredictorError(f"unknown model family {model!r} for {dataset}; choose one of: {choices}")
        return self.models[(dataset, model)]

    def probes(self, dataset: str, models: Sequence[str] | None = None) -> tuple[str, ...]:
        """The probe features (of ``PROBE_FEATURES``) the preferred models of ``models`` (default:
        every family of ``dataset``) predict from: what [`features`][pixinfo.predict.features] needs to compute."""
        names = [f for _, f in self.families(dataset)] if models is None else models
        used = {f for m in names for f in self.family(dataset, m).regression.features}
        return tuple(p for p in PROBE_FEATURES if p in used)

    def predict(self, feats: Features, *, dataset: str, model: str) -> Prediction:
        """The [`Prediction`][pixinfo.predict.Prediction] for measured ``feats`` (without a label probe: from
        the variant fitted without it)."""
        variants = self._variants(dataset, model)
        chosen = variants[0]
        probed = all(getattr(feats, f) is not None for f in PROBE_FEATURES if f in chosen.regression.features)
        if not probed and len(variants) > 1:
            chosen = variants[1]
        prediction = chosen.predict(feats)
        if chosen is not variants[0]:
            note = "no label probe: predicted from the measures alone (a wider interval)"
            prediction = Prediction(**{**asdict(prediction), "notes": (*prediction.notes, note)})
        return prediction

    def fit_on(self) -> dict:
        """What the predictor was fitted on: runs in all, and per family its runs, settings and recipe."""
        return {"records": sum(v[0].n_runs for v in self.models.values()),
                "families": {f"{d} / {f}": v[0].fit_on() for (d, f), v in self.models.items()}}  # fmt: skip

    def to_dict(self) -> dict:
        return {"kind": "pixinfo.predict.LossPredictor", "version": 1, "selection": self.selection,
                "models": [[m.to_dict() for m in variants] for variants in self.models.values()],
                "baselines": {d: b.to_dict() for d, b in self.baselines.items()}}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> LossPredictor:
        from pixinfo.errors import CorruptFileError

        if not isinstance(d, dict) or d.get("kind") != "pixinfo.predict.LossPredictor" or d.get("version") != 1:
            raise CorruptFileError("not a pixinfo LossPredictor file (version 1)")
        models = {}
        for variants in d["models"]:
            fitted = [FamilyModel.from_dict(m) for m in variants]
            models[(fitted[0].dataset, fitted[0].family)] = fitted
        baselines = {name: ProbeBaseline(b["fingerprint"], b["accuracy"]) for name, b in d.get("baselines", {}).items()}
        return cls(models, selection=d.get("selection"), baselines=baselines)

    def save(self, path: str | Path) -> Path:
        """Write the predictor as JSON, whole."""
        import json

        from pixinfo.files import write_text_atomic

        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path: str | Path | None = None) -> LossPredictor:
        """Read a saved predictor; the default is the one fitted on the study's records
        (``analyses/predictor.py --from-records``), shipped with the package."""
        from pixinfo.files import read_json

        return cls.from_dict(read_json(PREDICTOR_PATH if path is None else path, kind="LossPredictor file"))


def predict(transform_or_score, dataset: str = "fashion-mnist", model: str = "cnn", *, images=None,
            max_images: int = STUDY_IMAGES, seed: int = 0,
            predictor: LossPredictor | None = None) -> Prediction:  # fmt: skip
    """Predict the accuracy a model family loses when trained and tested on transformed images.

    Parameters
    ----------
    transform_or_score : str, Transform, callable, Score or Features
        What to predict for: as [`features`][pixinfo.predict.features] takes it, or its result
        (measure once, predict for several families).
    dataset : str
        The dataset the family is trained on (a dataset the predictor was fitted on).
    model : str
        The model family, e.g. ``"cnn"``, ``"mlp (before)"`` (augmentation before encryption).
    images, max_images, seed
        As in [`features`][pixinfo.predict.features].
    predictor : LossPredictor, optional
        Default: the predictor shipped with the package ([`LossPredictor.load`][pixinfo.predict.LossPredictor.load]).

    Returns
    -------
    Prediction

    Raises
    ------
    PredictorError
        An unknown dataset or model family (the message lists the fitted ones), or a Score
        measured on another dataset.
    ParameterError
        A bad spec, images without labels or a bad count.

    Examples
    --------
    >>> from pixinfo.predict import Features, predict
    >>> measured = Features("block:size=14", "fashion-mnist", 5000, True, 0.052, 0.052, 0.0, 0.0, 0.0, 0.0)
    >>> p = predict(measured, "fashion-mnist", "cnn")
    >>> p.out_of_domain, p.interval[0] < p.loss < p.interval[1]
    (False, True)
    """
    predictor = predictor if predictor is not None else LossPredictor.load()
    predictor.family(dataset, model)  # an unknown dataset or family fails before anything is measured
    if not isinstance(transform_or_score, Features):
        transform_or_score = features(transform_or_score, dataset, images=images, max_images=max_images, seed=seed,
                                      probes=predictor.probes(dataset, [model]),
                                      baseline=predictor.baseline(dataset))  # fmt: skip
    elif transform_or_score.dataset != dataset:
        raise PredictorError(f"the features were measured on {transform_or_score.dataset!r}, not on {dataset!r}")
    return predictor.predict(transform_or_score, dataset=dataset, model=model)


make_module_callable(__name__, "predict")

__all__ = ["FEATURES", "KINDS", "TARGETS", "Domain", "FamilyModel", "Features", "LabelProbe", "LossPredictor",
           "Prediction", "PredictorError", "ProbeBaseline", "Regression", "conformal_width", "features", "fit_domain",
           "fit_family", "fit_regression", "fits_target", "held_out_residuals", "interval_widths", "label_probe",
           "out_of_domain_width", "outside_other_families", "predict", "probe_fingerprint"]  # fmt: skip
