"""Fast training on original or transformed data, GPU-resident in the style of airbench.

The whole dataset stays on the device as uint8; the transform under study is
applied once up front with its key (train and test alike) or, for per-image
keys with ``per_image_keys="fresh"``, to every batch; augmentation runs batched
on the device; bf16 autocast and channels-last on CUDA. The same entry point
runs under ``torchrun --nproc_per_node=N`` with DistributedDataParallel (NCCL on
GPUs, gloo on CPU): every rank draws the same global batch and trains on its
slice, so N processes follow the single-process run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pixinfo.models import MODELS, NORMALIZATIONS, Classifier, ConfigError, build_model, evaluating, save_model
from pixinfo.train.augment import random_crop, random_flip, random_negative, ricap

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
PRECISIONS = ("auto", "fp32", "bf16")
PER_IMAGE_KEYS = ("fixed", "fresh")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run's result (and its record's identity).

    ``transform`` is a spec of :func:`pixinfo.transforms.build_transform`
    (``None``: original images). With a per-image transform,
    ``per_image_keys="fixed"`` gives each image one key for the whole run (like
    the paper's released "random" datasets) and ``"fresh"`` draws new keys for
    every batch. ``data_tag`` names a modified dataset passed to :func:`train` with ``data=``
    (for example a hash of added images), so its records are not confused with the stock dataset's.
    """

    dataset: str = "digits"
    model: str = "cnn"
    transform: str | None = None
    per_image_keys: str = "fixed"
    epochs: int = 10
    batch_size: int = 256
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "onecycle"
    warmup: float = 0.2
    label_smoothing: float = 0.0
    crop_pad: int = 0
    flip: bool = False
    ricap_beta: float | None = None
    negative_p: float = 0.0
    robust_eps: float = 0.0
    normalization: str = "dataset"
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    max_train: int | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool | None = None
    eval_batch_size: int = 2048
    data_tag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def config_hash(self) -> str:
        """Identity of the run: hash of every field except where it runs from (``dataset_options``)."""
        d = self.to_dict()
        d.pop("dataset_options")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a configuration that cannot run (before loading anything)."""
        checks = [
            (self.model in MODELS, f"unknown model {self.model!r}; choose one of {sorted(MODELS)}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"),
            (self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}, got {self.precision!r}"),
            (self.per_image_keys in PER_IMAGE_KEYS, f"per_image_keys must be one of {PER_IMAGE_KEYS}"),
            (self.normalization in NORMALIZATIONS, f"normalization must be one of {NORMALIZATIONS}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (0 <= self.label_smoothing < 1, f"label_smoothing must be in [0, 1), got {self.label_smoothing}"),
            (self.crop_pad >= 0, f"crop_pad must be >= 0, got {self.crop_pad}"),
            (self.ricap_beta is None or self.ricap_beta > 0, f"ricap_beta must be > 0, got {self.ricap_beta}"),
            (0 <= self.negative_p <= 1, f"negative_p must be in [0, 1], got {self.negative_p}"),
            (0 <= self.robust_eps <= 1, f"robust_eps must be in [0, 1], got {self.robust_eps}"),
            (0 < self.warmup < 1, f"warmup must be in (0, 1), got {self.warmup}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


@dataclass
class TrainResult:
    """A finished run: its JSON record, the trained model (None when a record was reused
    without a checkpoint) and where the record was written."""

    record: dict[str, Any]
    model: Classifier | None
    path: Path | None

    @property
    def final_test_acc(self) -> float:
        return self.record["results"]["final_test_acc"]

    @property
    def best_test_acc(self) -> float:
        return self.record["results"]["best_test_acc"]

    @property
    def history(self) -> list[dict[str, float]]:
        return self.record["results"]["history"]


# -- helpers ---------------------------------------------------------------------------------


def resolve_device(name: str = "auto", local_rank: int | None = None) -> torch.device:
    """``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; with
    ``local_rank`` a bare ``"cuda"`` becomes that process's GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device 'cuda' asked for, but torch sees no CUDA device")
        if local_rank is not None:
            device = torch.device("cuda", local_rank)
    return device


def _distributed() -> tuple[int, int, int | None]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, None) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, None
    return int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0"))


def transform_key_id(transform) -> str | None:
    """Short hash of a transform's saved key (identifies the key a model was trained on)."""
    if transform is None:
        return None
    try:
        key = transform.key_dict()
    except ValueError:
        return None
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _apply_in_chunks(transform, images: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    if len(images) == 0:
        return images
    return torch.cat([transform(images[i : i + chunk]) for i in range(0, len(images), chunk)])


def _weights_digest(model: nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    x = images.to(torch.float64) / 255.0
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return mean.tolist(), std.tolist()


def _record_path(results_dir: Path, config: TrainConfig) -> Path:
    slug = (config.transform or "original").replace(":", "-").replace(",", "-").replace("=", "").replace("+", "_")
    return results_dir / f"train-{config.dataset}-{config.model}-{slug}-s{config.seed}-{config.config_hash()}.json"


def find_record(config: TrainConfig, results_dir: str | Path) -> dict[str, Any] | None:
    """A finished record of exactly this configuration in ``results_dir``, or None."""
    path = _record_path(Path(results_dir), config)
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    if record.get("status") != "finished" or record.get("config_hash") != config.config_hash():
        return None
    return record


# -- training --------------------------------------------------------------------------------


def train(
    config: TrainConfig,
    *,
    results_dir: str | Path | None = "results/train",
    reuse: bool = False,
    save_checkpoint: bool = False,
    progress: bool = True,
    data=None,
) -> TrainResult:
    """Train ``config.model`` on ``config.dataset`` (optionally transformed) and record the run.

    Parameters
    ----------
    config : TrainConfig
    results_dir : path or None
        Where the JSON record (and with ``save_checkpoint`` the model, ``.pt``) is written;
        None writes nothing.
    reuse : bool
        Return an existing finished record of the identical config instead of training
        (its model is loaded when a checkpoint was saved).
    data : pixinfo.data.Dataset, optional
        Use this dataset instead of loading ``config.dataset`` (its name must match).

    Returns
    -------
    TrainResult
        ``final_test_acc`` (what pixinfo's tables use) and ``best_test_acc`` (the best over
        epochs, what the Random Vortex paper reports), per-epoch history, timings.

    Examples
    --------
    >>> from pixinfo.train import TrainConfig, train
    >>> run = train(TrainConfig(dataset="digits", model="mlp", epochs=3, seed=0),
    ...             results_dir=None, progress=False)
    >>> run.final_test_acc > 0.8
    True
    """
    config.validate()
    if reuse and results_dir is not None:
        record = find_record(config, results_dir)
        if record is not None:
            from pixinfo.models import load_model

            ckpt = record.get("checkpoint")
            model = load_model(Path(results_dir) / ckpt) if ckpt and (Path(results_dir) / ckpt).exists() else None
            return TrainResult(record, model, _record_path(Path(results_dir), config))

    from pixinfo.data import load_dataset
    from pixinfo.provenance import make_record, write_json
    from pixinfo.transforms import build_transform

    rank, world, local_rank = _distributed()
    device = resolve_device(config.device, local_rank)
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if config.batch_size % world:
            raise ConfigError(f"batch_size {config.batch_size} must be divisible by the {world} processes")

    # -- data (checked before any training) ----------------------------------------------
    if data is not None and data.name != config.dataset:
        raise ConfigError(f"data is {data.name!r} but the config says {config.dataset!r}")
    ds = data if data is not None else load_dataset(config.dataset, **config.dataset_options)
    c, h, w = ds.image_shape
    train_x, train_y = ds.train.images, ds.train.labels
    if config.max_train is not None and config.max_train < len(train_x):
        keep = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(config.seed))[: config.max_train]
        train_x, train_y = train_x[keep], train_y[keep]
    if config.batch_size > len(train_x):
        raise ConfigError(f"batch_size {config.batch_size} is larger than the {len(train_x)} training images")
    info = MODELS[config.model]
    if min(h, w) < info.min_size:
        raise ConfigError(
            f"{config.model} needs images of at least {info.min_size}x{info.min_size} pixels; "
            f"{ds.name} has {h}x{w}"
        )
    transform = build_transform(config.transform, shape=ds.image_shape, dataset=ds.name) if config.transform else None
    fresh = transform is not None and not transform.shared_key and config.per_image_keys == "fresh"

    train_x, train_y = train_x.to(device), train_y.to(device)
    test_x, test_y = ds.test.images.to(device), ds.test.labels.to(device)
    if transform is not None:
        transform = transform.to(device)
        if not fresh:
            train_x = _apply_in_chunks(transform, train_x)
        test_x = _apply_in_chunks(transform, test_x)
    mean, std = _channel_stats(train_x) if config.normalization == "dataset" else (None, None)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(
            config.model, image_shape=ds.image_shape, num_classes=ds.num_classes,
            normalization=config.normalization, mean=mean, std=std, **config.model_options,
        )  # fmt: skip
    model = model.to(device)
    channels_last = config.channels_last if config.channels_last is not None else device.type == "cuda"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    use_bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16)
    net: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        if device.type == "cuda":
            net = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            net = DDP(net, device_ids=[device.index])
        else:
            net = DDP(model)

    steps_per_epoch = len(train_x) // config.batch_size  # drop the last partial batch
    total_steps = steps_per_epoch * config.epochs
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith((".cls", ".pos")) else decay).append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=config.momentum > 0)
    else:
        opt = torch.optim.AdamW(groups, lr=config.lr)
    if config.schedule == "onecycle":  # linear warm-up from lr/25 to lr, then linear decay to 0
        warm = max(1, int(config.warmup * total_steps))

        def one_cycle(step: int) -> float:
            if step < warm:
                return 0.04 + 0.96 * step / warm
            return max(0.0, (total_steps - step) / max(1, total_steps - warm))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, one_cycle)
    elif config.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)

    gen = torch.Generator(device=device).manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    def evaluate() -> tuple[float, float]:
        n = len(test_x)
        lo, hi = rank * n // world, (rank + 1) * n // world
        totals = torch.zeros(2, device=device, dtype=torch.float64)
        with evaluating(model), torch.no_grad(), autocast:
            for s in range(lo, hi, config.eval_batch_size):
                x = test_x[s : min(s + config.eval_batch_size, hi)].float() / 255.0
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                y = test_y[s : min(s + config.eval_batch_size, hi)]
                out = model(x).float()
                totals[0] += (out.argmax(1) == y).sum()
                totals[1] += F.cross_entropy(out, y, reduction="sum")
        if world > 1:
            import torch.distributed as dist

            dist.all_reduce(totals)
        return float(totals[0]) / n, float(totals[1]) / n

    def criterion(out, targets, weights):
        if weights is None:
            return F.cross_entropy(out.float(), targets, label_smoothing=config.label_smoothing)
        return sum(
            wk * F.cross_entropy(out.float(), tk, label_smoothing=config.label_smoothing)
            for wk, tk in zip(weights, targets, strict=True)
        )

    from tqdm.auto import tqdm

    history: list[dict[str, float]] = []
    train_seconds = eval_seconds = 0.0
    bar = tqdm(range(config.epochs), desc=f"{config.model} {config.transform or 'original'}",
               disable=not progress or rank != 0, unit="epoch")  # fmt: skip
    for epoch in bar:
        _sync(device)
        t0 = time.perf_counter()
        net.train()
        order = torch.randperm(len(train_x), generator=gen, device=device)
        sums = torch.zeros(3, device=device, dtype=torch.float64)  # loss, correct, count
        for step in range(steps_per_epoch):
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            x = train_x[idx].float() / 255.0
            y = train_y[idx]
            if fresh:
                x = transform(x)
            if config.crop_pad:
                x = random_crop(x, pad=config.crop_pad, generator=gen)
            if config.flip:
                x = random_flip(x, generator=gen)
            if config.negative_p:
                x = random_negative(x, generator=gen, p=config.negative_p)
            targets, weights = y, None
            if config.ricap_beta is not None:
                x, targets, weights = ricap(x, y, beta=config.ricap_beta, generator=gen, rng=rng)
            if world > 1:  # this rank's slice of the global batch
                x, y = x[rank::world], y[rank::world]
                targets = targets[:, rank::world] if weights is not None else y
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast:
                out = net(x)
                loss = criterion(out, targets, weights)
                if config.robust_eps:
                    with torch.autocast(device.type, enabled=False):
                        x_adv = _fgsm_examples(model, x, targets, weights, criterion, config.robust_eps)
                    loss = 0.5 * loss + 0.5 * criterion(net(x_adv), targets, weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            sums[0] += loss.detach().double() * len(x)
            sums[1] += (out.detach().argmax(1) == y).sum()
            sums[2] += len(x)
        if world > 1:
            import torch.distributed as dist

            dist.all_reduce(sums)
        _sync(device)
        t1 = time.perf_counter()
        test_acc, test_loss = evaluate()
        _sync(device)
        train_seconds += t1 - t0
        eval_seconds += time.perf_counter() - t1
        row = {
            "epoch": epoch + 1,
            "train_loss": float(sums[0] / sums[2]),
            "train_acc": float(sums[1] / sums[2]),
            "test_loss": test_loss,
            "test_acc": test_acc,
            "seconds": t1 - t0,
        }
        history.append(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", train=f"{row['train_acc']:.3f}", test=f"{test_acc:.4f}")

    digests = [_weights_digest(model)]
    if world > 1:
        import torch.distributed as dist

        gathered: list[Any] = [None] * world
        dist.all_gather_object(gathered, digests[0])
        digests = gathered
    results = {
        "final_test_acc": history[-1]["test_acc"],
        "best_test_acc": max(r["test_acc"] for r in history),
        "best_epoch": max(history, key=lambda r: r["test_acc"])["epoch"],
        "history": history,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "train_images_per_second": steps_per_epoch * config.batch_size * config.epochs / train_seconds,
        "n_train": len(train_x),
        "n_test": len(test_x),
        "world_size": world,
        "weights_sha256": digests,
        "precision": "bf16" if use_bf16 else "fp32",
    }
    record = make_record("train", config.to_dict(), results, device=device)
    record.update(
        status="finished",
        config_hash=config.config_hash(),
        transform_spec=transform.spec if transform is not None else None,
        transform_key=transform_key_id(transform),
        dataset_source=ds.source,
    )
    path = None
    if results_dir is not None and rank == 0:
        path = _record_path(Path(results_dir), config)
        if save_checkpoint:
            ckpt = path.with_suffix(".pt")
            save_model(model, ckpt, extra={"config": config.to_dict(), "transform_key": record["transform_key"]})
            record["checkpoint"] = ckpt.name
        write_json(path, record)
    model.eval()
    return TrainResult(record, model, path)


def _fgsm_examples(model, x, targets, weights, criterion, eps):
    """FGSM examples for adversarial training (gradients of the un-wrapped model, in fp32)."""
    from pixinfo.adversarial.attacks import fgsm_step

    return fgsm_step(model, x.float(), lambda out: criterion(out, targets, weights), eps=eps)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
