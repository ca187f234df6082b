"""Accuracy on semantically equivalent inputs: negatives, rotations, flips, contrast, translations.

Hosseini & Poovendran showed that networks trained on regular images classify
negative images near chance. [`semantic_accuracy`][pixinfo.adversarial.semantic.semantic_accuracy] measures a model on the
test (and training) images and on meaning-preserving transforms of them, with
per-class accuracy and confusion matrices.

Examples
--------
>>> import torch
>>> from pixinfo.data import load_dataset
>>> from pixinfo.models import build_model
>>> from pixinfo.adversarial.semantic import semantic_accuracy
>>> ds = load_dataset("digits")
>>> net = build_model("mlp", image_shape=ds.image_shape, num_classes=10)
>>> report = semantic_accuracy(net, ds, transforms=["negative", "rot180"], splits=("test",))
>>> report.table["transform"].tolist()
['identity', 'negative', 'rot180']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from pixinfo._checks import check_image_batch, check_positive_int, check_seed, describe
from pixinfo.adversarial.attacks import check_float_images, check_labels, checked_logits
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.models import check_model_input, evaluating, model_device


# the meaning-preserving transforms measured by default: row name -> transform spec
SEMANTIC_TRANSFORMS: dict[str, str] = {
    "negative": "negative",
    "rot180": "rotate:quarter_turns=2",
    "hflip": "flip:axis=horizontal",
    "vflip": "flip:axis=vertical",
    "contrast50": "contrast:factor=0.5",
    "translate2": "translate:dx=2,dy=2",
}


@dataclass
class SemanticReport:
    """``table``: one row per (split, transform) with accuracy and counts; ``per_class``: accuracy per
    class; ``confusion[(split, transform)]``: ``(K, K)`` counts, rows true class, columns predicted."""

    table: pd.DataFrame
    per_class: pd.DataFrame
    confusion: dict[tuple[str, str], torch.Tensor]

    def accuracy(self, transform: str = "identity", split: str = "test") -> float:
        rows = self.table[(self.table["transform"] == transform) & (self.table["split"] == split)]
        if rows.empty:
            raise KeyError(f"no result for transform {transform!r} on split {split!r}")
        return float(rows["accuracy"].iloc[0])


def _resolve(transforms, shape) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    out: dict[str, Callable] = {}
    items = transforms.items() if isinstance(transforms, dict) else [(None, t) for t in transforms]
    for name, t in items:
        if isinstance(t, str):
            from pixinfo.transforms import build_transform

            built = build_transform(SEMANTIC_TRANSFORMS.get(t, t), shape=shape)
            out[name or (t if t in SEMANTIC_TRANSFORMS else built.spec)] = built
        elif callable(t):
            out[name or getattr(t, "spec", None) or getattr(t, "__name__", type(t).__name__)] = t
        else:
            raise TypeError(f"a transform must be a name, a spec or a callable, got {type(t).__name__}")
    return out


def _sources(model: nn.Module, data, splits: Sequence[str], class_names):
    """Images and labels per split, the number of classes (None: ask the model), image shape, names."""
    if hasattr(data, "split") and hasattr(data, "num_classes"):
        if isinstance(splits, str) or not all(s in ("train", "test", "all") for s in splits):
            raise ParameterError(f"splits must be a sequence of 'train', 'test' or 'all', got {splits!r}")
        check_model_input(model, image_shape=data.image_shape, data=f"dataset {data.name!r}")
        sources = {s: (data.split(s).images, data.split(s).labels) for s in splits}
        return sources, data.num_classes, data.image_shape, class_names or data.class_names
    try:
        images, labels = data
    except (TypeError, ValueError):
        raise TypeError("data must be a pixinfo Dataset or a pair (images, labels)") from None
    images = check_image_batch(images)
    check_model_input(model, image_shape=tuple(images.shape[1:]))
    return {"data": (images, labels)}, None, tuple(images.shape[1:]), class_names


def semantic_accuracy(
    model: nn.Module,
    data,
    *,
    transforms: Sequence | dict = tuple(SEMANTIC_TRANSFORMS),
    splits: Sequence[str] = ("test", "train"),
    batch_size: int = 1024,
    max_images: int | None = None,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> SemanticReport:
    """Accuracy of ``model`` on the images of ``data`` and on meaning-preserving transforms of them.

    Parameters
    ----------
    model : nn.Module
        Maps float images in [0, 1] ``(B, C, H, W)`` to logits ``(B, K)``. It is put in eval
        mode for the call and its modes are restored afterwards (also when the call raises).
    data : pixinfo.data.Dataset, or a pair ``(images, labels)``
        uint8 images or floats in [0, 1].
    transforms : sequence or dict
        Names from ``SEMANTIC_TRANSFORMS`` (short names of transform specs), transform specs
        (``"xor:bits=1"``), callables, or a dict naming them. ``identity`` is always measured.
    splits : sequence of str
        Which splits of a Dataset to measure (a pair counts as split ``"data"``).
    max_images : int, optional
        A seeded random subset of each split of at most this size.
    """
    check_positive_int(batch_size, "batch_size")
    if max_images is not None:
        check_positive_int(max_images, "max_images")
    check_seed(seed)
    sources, num_classes, shape, class_names = _sources(model, data, splits, class_names)
    chosen = {"identity": (lambda x: x), **_resolve(transforms, shape)}
    device = model_device(model)

    rows, class_rows, confusion = [], [], {}
    with evaluating(model), torch.no_grad():
        for split, (images, labels) in sources.items():
            if max_images is not None and len(images) > max_images:
                keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:max_images]
                images, labels = images[keep], labels[keep]
            if images.dtype == torch.uint8:
                images = images.float() / 255.0
            check_float_images(images)
            if num_classes is None:
                probe = checked_logits(model, images[:2].to(device))
                num_classes = probe.shape[1]
            labels = check_labels(labels, images, num_classes)
            for name, fn in chosen.items():
                matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
                for start in range(0, len(images), batch_size):
                    x = images[start : start + batch_size].to(device)
                    tx = fn(x)
                    if not isinstance(tx, torch.Tensor) or tx.shape != x.shape:
                        got = describe(tx)
                        raise ShapeError(f"transform {name!r} must keep the batch shape {tuple(x.shape)}, got {got}")
                    if tx.dtype == torch.uint8:
                        tx = tx.float() / 255.0
                    pred = checked_logits(model, tx.float(), num_classes=num_classes).argmax(1).cpu()
                    y = labels[start : start + batch_size].cpu()
                    matrix += torch.bincount(y * num_classes + pred, minlength=num_classes**2).view(
                        num_classes, num_classes
                    )
                confusion[(split, name)] = matrix
                n = int(matrix.sum())
                rows.append({"split": split, "transform": name, "accuracy": float(matrix.trace()) / n, "n": n})
                support = matrix.sum(1)
                for k in range(num_classes):
                    class_rows.append({
                        "split": split, "transform": name,
                        "class": class_names[k] if class_names else str(k),
                        "accuracy": float(matrix[k, k]) / int(support[k]) if support[k] else float("nan"),
                        "n": int(support[k]),
                    })  # fmt: skip
    return SemanticReport(pd.DataFrame(rows), pd.DataFrame(class_rows), confusion)
