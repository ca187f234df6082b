"""Image classifiers for small images: ResNet-18, a ViT trained from scratch, the CNN of the
negative-images paper, LeNet and an MLP.

Every model built here takes float images in [0, 1] of shape ``(B, C, H, W)``
and returns logits ``(B, num_classes)``. Input normalisation lives *inside* the
model ([`InputNorm`][pixinfo.models.InputNorm]), so attacks, semantic evaluation and fooling-image
search work in pixel space and clip to [0, 1].

No pretrained weights are used anywhere: nothing can be downloaded at run time,
so the ViT is trained from scratch (the Random Vortex paper fine-tuned an
ImageNet-pretrained ViT-B/16; expect lower ViT accuracy than theirs).

Examples
--------
>>> import torch
>>> from pixinfo.models import build_model
>>> net = build_model("cnn", image_shape=(1, 28, 28), num_classes=10)
>>> net(torch.rand(2, 1, 28, 28)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from pixinfo._checks import bind_call, check_bool, check_finite, check_int, check_positive_int, describe
from pixinfo.errors import ParameterError, PixinfoError, ShapeError

NORMALIZATIONS = ("none", "dataset", "per-image")


from pixinfo.errors import ConfigError  # noqa: E402  (re-exported: its home is pixinfo.errors)


class InputNorm(nn.Module):
    """Normalise [0, 1] inputs inside the model.

    ``mode="dataset"``: ``(x - mean) / std`` with per-channel buffers;
    ``"per-image"``: each image to zero mean and unit standard deviation over
    its pixels (per-image contrast normalisation, a mitigation for negative
    images); ``"none"``: identity.
    """

    def __init__(self, channels: int, *, mode: str = "dataset", mean=None, std=None) -> None:
        super().__init__()
        if mode not in NORMALIZATIONS:
            raise ConfigError(f"normalization must be one of {NORMALIZATIONS}, got {mode!r}")
        self.mode = mode
        mean = torch.full((channels,), 0.5) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
        std = torch.full((channels,), 0.5) if std is None else torch.as_tensor(std, dtype=torch.float32)
        if mean.shape != (channels,) or std.shape != (channels,) or bool((std <= 0).any()):
            raise ConfigError(f"mean/std must be {channels} values with std > 0, got {mean.tolist()}, {std.tolist()}")
        self.register_buffer("mean", mean.view(1, channels, 1, 1))
        self.register_buffer("std", std.view(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "dataset":
            return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        if self.mode == "per-image":
            flat = x.flatten(1)
            mu = flat.mean(1).view(-1, 1, 1, 1)
            sd = flat.std(1).clamp_min(1e-3).view(-1, 1, 1, 1)
            return (x - mu) / sd
        return x

    def extra_repr(self) -> str:
        return self.mode


class Classifier(nn.Module):
    """``InputNorm`` followed by a network; remembers how it was built (for checkpoints)."""

    def __init__(self, net: nn.Module, norm: InputNorm, *, spec: dict[str, Any]) -> None:
        super().__init__()
        self.norm = norm
        self.net = net
        self.spec = spec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))


# -- the networks ----------------------------------------------------------------------------


def _resnet18(c: int, h: int, w: int, k: int, *, small_stem: bool | None = None, width: int = 64) -> nn.Module:
    from torchvision.models import resnet18

    if small_stem is not None:
        check_bool(small_stem, "small_stem")
    if check_positive_int(width, "width") != 64:
        raise ConfigError("resnet18 has a fixed width of 64; use the cnn model for a smaller network")
    net = resnet18(num_classes=k)
    if small_stem is None:
        small_stem = max(h, w) <= 64
    if small_stem:  # CIFAR-style stem: 3x3 stride 1, no max-pool
        net.conv1 = nn.Conv2d(c, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    else:
        net.conv1 = nn.Conv2d(c, 64, 7, 2, 3, bias=False)
    return net


class ViT(nn.Module):
    """A small Vision Transformer for training from scratch (pre-norm, learned positions, class token).

    Uses ``nn.TransformerEncoder``; ``patch`` must divide the image size.
    """

    def __init__(self, c: int, h: int, w: int, k: int, *, patch: int | None = None, dim: int = 192,
                 depth: int = 6, heads: int = 3, mlp_ratio: float = 2.0, dropout: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        patch = (4 if max(h, w) <= 64 else 16) if patch is None else check_positive_int(patch, "patch")
        dim, depth, heads = (check_positive_int(v, n) for n, v in (("dim", dim), ("depth", depth), ("heads", heads)))
        mlp_ratio = check_finite(mlp_ratio, "mlp_ratio", low=0, low_open=True)
        dropout = check_finite(dropout, "dropout", low=0, high=1, high_open=True)
        if h % patch or w % patch:
            raise ConfigError(f"vit: patch size {patch} must divide the image size {h}x{w}")
        if dim % heads:
            raise ConfigError(f"vit: dim {dim} must be divisible by heads {heads}")
        self.patchify = nn.Conv2d(c, dim, patch, patch)
        n = (h // patch) * (w // patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim, heads, int(dim * mlp_ratio), dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patchify(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(len(x), -1, -1).to(tokens.dtype), tokens], 1) + self.pos.to(tokens.dtype)
        return self.head(self.encoder(tokens)[:, 0])


def _cnn(c: int, h: int, w: int, k: int, *, width: int = 32, hidden: int = 200) -> nn.Module:
    """Hosseini & Poovendran: conv 32 3x3 → conv 64 3x3 → max-pool → FC 200 → FC 200 → classes."""
    width, hidden = check_positive_int(width, "width"), check_positive_int(hidden, "hidden")
    oh, ow = (h - 4) // 2, (w - 4) // 2
    return nn.Sequential(
        nn.Conv2d(c, width, 3), nn.ReLU(), nn.Conv2d(width, 2 * width, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * oh * ow, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, k),
    )  # fmt: skip


def _lenet(c: int, h: int, w: int, k: int) -> nn.Module:
    """LeNet-5 (ReLU, max-pool): conv 6 5x5 pad 2 → pool → conv 16 5x5 → pool → 120 → 84 → classes."""
    oh, ow = ((h // 2) - 4) // 2, ((w // 2) - 4) // 2
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * oh * ow, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, k),
    )  # fmt: skip


def _caffe_lenet(c: int, h: int, w: int, k: int) -> nn.Module:
    """Caffe's MNIST example "LeNet" (the network Nguyen et al. fooled): conv 20 5x5 → max-pool →
    conv 50 5x5 → max-pool → FC 500 → ReLU → classes; no nonlinearity after the convolutions."""
    oh, ow = ((h - 4) // 2 - 4) // 2, ((w - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(c, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(50 * oh * ow, 500), nn.ReLU(), nn.Linear(500, k),
    )  # fmt: skip


def _mlp(c: int, h: int, w: int, k: int, *, hidden: tuple[int, ...] | list[int] = (512, 256)) -> nn.Module:
    if not isinstance(hidden, (list, tuple)):
        raise ParameterError(f"hidden must be a list of positive integers (layer widths), got {hidden!r}")
    hidden = [check_positive_int(n, f"hidden[{i}]") for i, n in enumerate(hidden)]
    layers: list[nn.Module] = [nn.Flatten()]
    width = c * h * w
    for n in hidden:
        layers += [nn.Linear(width, n), nn.ReLU()]
        width = n
    layers.append(nn.Linear(width, k))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class ModelInfo:
    build: Callable[..., nn.Module]
    min_size: int
    description: str


MODELS: dict[str, ModelInfo] = {
    "resnet18": ModelInfo(_resnet18, 8, "torchvision ResNet-18; small_stem (3x3 s1, no max-pool) by default up to 64 px"),
    "vit": ModelInfo(ViT, 4, "ViT from scratch: patch 4 (16 above 64 px), dim 192, depth 6, 3 heads"),
    "cnn": ModelInfo(_cnn, 6, "CNN of Hosseini & Poovendran: conv32-conv64-pool-FC200-FC200"),
    "lenet": ModelInfo(_lenet, 12, "LeNet-5 with ReLU and max-pool"),
    "caffe-lenet": ModelInfo(_caffe_lenet, 16, "Caffe's MNIST LeNet: conv20-pool-conv50-pool-FC500, one ReLU"),
    "mlp": ModelInfo(_mlp, 1, "MLP, hidden (512, 256)"),
}


def build_model(
    name: str,
    *,
    image_shape: tuple[int, int, int],
    num_classes: int,
    normalization: str = "dataset",
    mean=None,
    std=None,
    **options: Any,
) -> Classifier:
    """Build a classifier by name for images of ``image_shape = (C, H, W)``.

    Parameters
    ----------
    name : str
        One of ``resnet18``, ``vit``, ``cnn``, ``lenet``, ``caffe-lenet``, ``mlp``.
    image_shape : tuple of int
        ``(C, H, W)`` of the inputs.
    num_classes : int
    normalization : {"dataset", "per-image", "none"}
        Input normalisation inside the model (see [`InputNorm`][pixinfo.models.InputNorm]); ``mean``/``std``
        are the per-channel statistics for ``"dataset"`` (default 0.5/0.5).
    **options
        Passed to the network (e.g. ``small_stem=False`` for resnet18, ``patch=7`` for vit,
        ``hidden=[100]`` for mlp).

    Raises
    ------
    ConfigError
        Unknown model, image too small for it, or bad options.
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3:
        raise ConfigError(f"image_shape must be (C, H, W) with positive sizes, got {image_shape!r}")
    try:
        c, h, w = (check_positive_int(v, "each size in image_shape") for v in image_shape)
        check_int(num_classes, "num_classes", low=2)
    except ParameterError as err:
        raise ConfigError(str(err)) from None
    info = MODELS[name]
    if min(h, w) < info.min_size:
        raise ConfigError(f"{name} needs images of at least {info.min_size}x{info.min_size} pixels, got {h}x{w}")
    try:
        net = bind_call(info.build, c, h, w, num_classes, **options, what=name)
    except ParameterError as err:
        raise ConfigError(str(err)) from None
    spec = {"name": name, "image_shape": [c, h, w], "num_classes": num_classes, "normalization": normalization,
            "options": options}  # fmt: skip
    model = Classifier(net, InputNorm(c, mode=normalization, mean=mean, std=std), spec=spec)
    check_model(model, image_shape=(c, h, w), num_classes=num_classes)
    return model


def check_model_input(model: nn.Module, *, image_shape: tuple[int, ...], source: str = "the model",
                      data: str = "the data") -> None:  # fmt: skip
    """Fail with both shapes when a pixinfo model was built for other images than ``image_shape``.

    Raises
    ------
    ShapeError
        ``model.spec["image_shape"]`` (what it was built and trained for) differs from
        ``image_shape``; models without a spec are not checked here.
    """
    spec = getattr(model, "spec", None)
    want = tuple(spec["image_shape"]) if isinstance(spec, dict) and "image_shape" in spec else None
    if want is not None and want != tuple(image_shape):
        raise ShapeError(f"{source} takes images of shape {want} (C, H, W), but {data} has images of shape "
                         f"{tuple(image_shape)}; use a model trained on this dataset")  # fmt: skip


def check_model(model: nn.Module, *, image_shape: tuple[int, int, int], num_classes: int) -> None:
    """One forward pass of two blank images on the model's device: fail early with a clear message.

    Raises
    ------
    ConfigError
        The model rejects images of ``image_shape`` (e.g. wrong channel count) or does not
        return ``(B, num_classes)`` logits.
    """
    try:
        param = next(model.parameters())
        device, dtype = param.device, param.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.float32
    x = torch.zeros(2, *image_shape, device=device, dtype=dtype)
    try:
        with evaluating(model), torch.no_grad():
            out = model(x)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ConfigError(f"the model cannot take images of shape {tuple(image_shape)} (C, H, W): {first}") from None
    if not isinstance(out, torch.Tensor) or out.shape != (2, num_classes):
        got = describe(out)
        raise ShapeError(f"the model must return logits (B, {num_classes}) for {num_classes} classes, got {got}")


def save_model(model: Classifier, path, *, extra: dict[str, Any] | None = None):
    """Save a ``Classifier`` (its build spec and weights) for [`load_model`][pixinfo.models.load_model], written whole."""
    if not isinstance(model, Classifier):
        raise TypeError(f"save_model takes a pixinfo Classifier (from build_model), got {type(model).__name__}")
    from pixinfo.files import torch_save_atomic

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return torch_save_atomic({"format": "pixinfo-model", "spec": model.spec, "state_dict": state,
                              "extra": extra or {}}, Path(path))  # fmt: skip


def load_model(path, *, map_location="cpu") -> Classifier:
    """Rebuild a model saved by [`save_model`][pixinfo.models.save_model] (safe loading: weights and plain data only).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    CorruptFileError
        The file is truncated, not a torch file, not a pixinfo model, or its weights do not fit
        the model it describes.
    """
    from pixinfo.errors import CorruptFileError

    blob = load_torch_file(path, map_location=map_location, kind="model")
    spec = blob.get("spec") if isinstance(blob, dict) else None
    if not isinstance(spec, dict) or not isinstance(blob.get("state_dict"), dict):
        raise CorruptFileError(f"{path} is not a pixinfo model file (saved by save_model): no spec/state_dict")
    try:
        model = build_model(
            spec["name"], image_shape=tuple(spec["image_shape"]), num_classes=spec["num_classes"],
            normalization=spec["normalization"], **spec["options"],
        )  # fmt: skip
        model.load_state_dict(blob["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CorruptFileError(f"{path}: the saved weights do not fit the model it describes: {first}") from None
    model.extra = blob.get("extra", {})
    return model.eval()


def load_torch_file(path, *, map_location="cpu", kind: str = "file"):
    """``torch.load(path, weights_only=True)`` with typed errors naming the path.

    Raises ``FileNotFoundError`` for a missing file and [`CorruptFileError`][pixinfo.errors.CorruptFileError]
    for one that is truncated, not a torch file, or holds anything but weights and plain data.
    """
    from pixinfo.errors import CorruptFileError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {kind} file at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # arbitrary bytes fail anywhere in the unpickler (IndexError, KeyError, ...)
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CorruptFileError(f"{path} is not a readable {kind} file (truncated, tampered or another format): "
                               f"{first[:200]}") from None  # fmt: skip


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block and restore each submodule's mode after, even on error."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter (CPU for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def predict_logits(model: nn.Module, images: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """Logits of float images in [0, 1] (or uint8), in eval mode, batched, without gradients (float32)."""
    from pixinfo.data import to_float

    images = to_float(images)
    device = model_device(model)
    outs = []
    with evaluating(model), torch.no_grad():
        for start in range(0, len(images), batch_size):
            outs.append(model(images[start : start + batch_size].to(device)).float())
    if not outs:
        return torch.empty(0, 0, device=device)
    return torch.cat(outs)
