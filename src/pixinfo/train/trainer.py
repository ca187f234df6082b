"""Fast training on original or transformed data, device-resident in the style of airbench.

[`train`][pixinfo.train.trainer.train] is a short orchestration of small parts: the data and model are set up once and
checked at the boundary (``_setup``); a [`DeviceLoader`][pixinfo.train.loader.DeviceLoader] owns
the uint8 images, shuffling, keyed transform, augmentation and DDP slice; the optimizer and
schedule come from [`pixinfo.train.optim`][pixinfo.train.optim]; [`evaluate`][pixinfo.train.evaluate.evaluate] stands
alone; every epoch ends with an atomically written checkpoint in the cache folder
([`pixinfo.files.cache_dir`][pixinfo.files.cache_dir]), so ``resume=True`` continues an interrupted run and ends
with bit-identical weights. The same entry point runs under ``torchrun --nproc_per_node=N``
with DistributedDataParallel (NCCL on GPUs, gloo on CPU): every rank draws the same global
batch and trains on its slice, so N processes follow the single-process run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pixinfo.files import cache_dir, sha256_file, torch_save_atomic
from pixinfo.runs import content_digest, digest
from pixinfo.models import MODELS, Classifier, ConfigError, build_model, save_model
from pixinfo.train.config import TrainConfig
from pixinfo.train.evaluate import evaluate
from pixinfo.train.loader import Batch, DeviceLoader, apply_in_chunks
from pixinfo.train.optim import WeightAverage, make_optimizer, make_schedule
from pixinfo.train.precision import Precision, cpu_has_native_bf16, resolve_precision

CHECKPOINT_FORMAT = "pixinfo-checkpoint-1"
CHECKPOINT_FIELDS = ("epoch", "model", "optimizer", "schedule", "average", "loader", "torch_rng", "history",
                     "train_seconds", "eval_seconds")  # fmt: skip


@dataclass
class TrainResult:
    """A finished run: its JSON record, the trained model (None when a record was reused
    without its saved model) and where the record was written."""

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
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {name!r}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device 'cuda' asked for, but torch sees no CUDA device")
        if local_rank is not None:
            device = torch.device("cuda", local_rank)
    elif device.type != "cpu":
        raise ConfigError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {name!r}")
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
    return digest(key, length=16)


def weights_digest(model: nn.Module) -> str:
    """Short hash of a model's state (parameters and buffers)."""
    return content_digest(chunk for name, tensor in sorted(model.state_dict().items())
                          for chunk in (name.encode(), tensor.detach().float().cpu().contiguous().numpy().tobytes()))  # fmt: skip


def _channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    x = images.to(torch.float64) / 255.0
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return mean.tolist(), std.tolist()


def run_name(config: TrainConfig) -> str:
    """File stem of a run's record, checkpoint and saved model ([`TrainConfig.stem`][pixinfo.train.TrainConfig.stem])."""
    return config.stem


def record_path(results_dir: str | Path, config: TrainConfig) -> Path:
    """Where the record of ``config``'s run lives in ``results_dir`` (its [`RunStore`][pixinfo.runs.RunStore] path)."""
    from pixinfo.runs import RunStore

    return RunStore(results_dir).path(config)


def checkpoint_path(config: TrainConfig) -> Path:
    """Where the per-epoch checkpoint of ``config``'s run lives (``$PIXINFO_CACHE/checkpoints``)."""
    return cache_dir("checkpoints") / f"{run_name(config)}.ckpt"


def model_path(config: TrainConfig) -> Path:
    """Where the saved final model of ``config``'s run lives (``$PIXINFO_CACHE/models``)."""
    return cache_dir("models") / f"{run_name(config)}.pt"


def find_record(config: TrainConfig, results_dir: str | Path, *, need_model: bool = False) -> dict[str, Any] | None:
    """A finished record of exactly this configuration in ``results_dir``, or None.

    A record that cannot be read, is unfinished, belongs to another config, or (with
    ``need_model``) whose saved model is missing or differs from the one it recorded, is not
    returned: it is never reused as if complete.
    """
    from pixinfo.errors import CorruptFileError
    from pixinfo.runs import RunStore

    try:
        record = RunStore(results_dir).read(config)
    except (OSError, CorruptFileError):
        return None
    if record is None or record.get("status") != "finished":
        return None
    if not isinstance(record.get("results"), dict) or "final_test_acc" not in record["results"]:
        return None  # finished in name only (damaged, or an older format): train it again
    if record.get("config_hash") != config.config_hash():
        return None
    if need_model and not _saved_model_intact(config, record):
        return None
    return record


def _saved_model_intact(config: TrainConfig, record: dict[str, Any]) -> bool:
    """The record names a saved model and the file in the cache is that model (same SHA-256)."""
    saved = model_path(config)
    return bool(record.get("model_sha256")) and saved.is_file() and sha256_file(saved) == record["model_sha256"]


# -- setup -----------------------------------------------------------------------------------


@dataclass
class _Run:
    """Everything a run trains with, built and checked once by ``_setup``."""

    config: TrainConfig
    device: torch.device
    rank: int
    world: int
    dataset: Any
    transform: Any
    loader: DeviceLoader
    test_x: torch.Tensor
    test_y: torch.Tensor
    model: Classifier
    net: nn.Module
    precision: Precision


def _init_distributed(device: torch.device, world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def _training_images(config: TrainConfig, ds) -> tuple[torch.Tensor, torch.Tensor]:
    train_x, train_y = ds.train.images, ds.train.labels
    if config.max_train is not None and config.max_train < len(train_x):
        keep = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(config.seed))[: config.max_train]
        train_x, train_y = train_x[keep], train_y[keep]
    if config.batch_size > len(train_x):
        raise ConfigError(f"batch_size {config.batch_size} is larger than the {len(train_x)} training images")
    return train_x, train_y


def _build_transform(config: TrainConfig, ds):
    from pixinfo.transforms import build_transform

    if not config.transform:
        return None
    transform = build_transform(config.transform, shape=ds.image_shape, dataset=ds.name)
    if not transform.shared_key and config.per_image_keys == "fixed" and config.augment == "before":
        raise ConfigError(
            f"augment='before' with the per-image transform {config.transform!r} needs per_image_keys='fresh' "
            "(a fixed per-image key cannot follow an image through fresh augmentations)"
        )
    return transform


def _setup(config: TrainConfig, data) -> _Run:
    from pixinfo.data import load_dataset

    rank, world, local_rank = _distributed()
    device = resolve_device(config.device, local_rank)
    if config.batch_size % world:
        raise ConfigError(f"batch_size {config.batch_size} must be divisible by the {world} processes")
    if data is not None and data.name != config.dataset:
        raise ConfigError(f"data is {data.name!r} but the config says {config.dataset!r}")
    ds = data if data is not None else load_dataset(config.dataset, **config.dataset_options)
    c, h, w = ds.image_shape
    if min(h, w) < MODELS[config.model].min_size:
        size = MODELS[config.model].min_size
        raise ConfigError(f"{config.model} needs images of at least {size}x{size} pixels; {ds.name} has {h}x{w}")
    train_x, train_y = _training_images(config, ds)
    transform = _build_transform(config, ds)
    _init_distributed(device, world)

    test_x, test_y = ds.test.images.to(device), ds.test.labels.to(device)
    if transform is not None:
        transform = transform.to(device)
        test_x = apply_in_chunks(transform, test_x)
    loader = DeviceLoader(
        train_x.to(device), train_y.to(device), batch_size=config.batch_size, seed=config.seed,
        transform=transform, fresh_keys=config.per_image_keys == "fresh", augment=config.augment,
        crop_pad=config.crop_pad, flip=config.flip, ricap_beta=config.ricap_beta, negative_p=config.negative_p,
        rank=rank, world=world,
    )  # fmt: skip
    model = _build_model(config, ds, loader, device)
    precision = resolve_precision(config.precision, config.channels_last, model=config.model, device=device)
    if precision.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return _Run(config, device, rank, world, ds, transform, loader, test_x, test_y, model,
                _wrap_ddp(model, device, world), precision)  # fmt: skip


def _build_model(config: TrainConfig, ds, loader: DeviceLoader, device: torch.device) -> Classifier:
    # statistics of the training images as stored (transformed unless the transform runs per batch)
    mean, std = _channel_stats(loader.images) if config.normalization == "dataset" else (None, None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(
            config.model, image_shape=ds.image_shape, num_classes=ds.num_classes,
            normalization=config.normalization, mean=mean, std=std, **config.model_options,
        )  # fmt: skip
    return model.to(device)


def _wrap_ddp(model: nn.Module, device: torch.device, world: int) -> nn.Module:
    if world <= 1:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    if device.type == "cuda":
        return DDP(nn.SyncBatchNorm.convert_sync_batchnorm(model), device_ids=[device.index])
    return DDP(model)


# -- the state that a checkpoint holds ---------------------------------------------------------


@dataclass
class _State:
    opt: torch.optim.Optimizer
    sched: Any
    average: WeightAverage
    epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0


def _new_state(run: _Run) -> _State:
    opt = make_optimizer(run.model, run.config)
    sched = make_schedule(opt, run.config, len(run.loader) * run.config.epochs)
    return _State(opt, sched, WeightAverage(run.model, run.config.ema_decay))


def _save_checkpoint(run: _Run, state: _State) -> None:
    if run.rank != 0:
        return
    torch_save_atomic({
        "format": CHECKPOINT_FORMAT, "config_hash": run.config.config_hash(), "epoch": state.epoch,
        "model": run.model.state_dict(), "optimizer": state.opt.state_dict(), "schedule": state.sched.state_dict(),
        "average": state.average.state_dict(), "loader": run.loader.state_dict(),
        "torch_rng": torch.get_rng_state(), "history": state.history,
        "train_seconds": state.train_seconds, "eval_seconds": state.eval_seconds,
    }, checkpoint_path(run.config))  # fmt: skip


def _load_checkpoint(run: _Run, state: _State) -> bool:
    """Continue from the checkpoint of this config, if there is one; True when one was loaded."""
    from pixinfo.errors import CorruptFileError
    from pixinfo.models import load_torch_file

    path = checkpoint_path(run.config)
    if not path.is_file():
        return False
    blob = load_torch_file(path, map_location=run.device, kind="checkpoint")
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise CorruptFileError(f"{path} is not a pixinfo training checkpoint ({CHECKPOINT_FORMAT}); delete it")
    if blob.get("config_hash") != run.config.config_hash():
        raise CorruptFileError(f"{path} belongs to another config (hash {blob.get('config_hash')}); delete it")
    missing = [k for k in CHECKPOINT_FIELDS if k not in blob]
    if missing:
        raise CorruptFileError(f"{path}: the checkpoint has no field {missing[0]!r} (missing: {missing}; an older or "
                               "damaged checkpoint); delete it")  # fmt: skip
    restore = {
        "model": lambda v: run.model.load_state_dict(v), "optimizer": lambda v: state.opt.load_state_dict(v),
        "schedule": lambda v: state.sched.load_state_dict(v), "average": lambda v: state.average.load_state_dict(v),
        "loader": lambda v: run.loader.load_state_dict(v), "torch_rng": lambda v: torch.set_rng_state(v.cpu()),
    }  # fmt: skip
    for field, load in restore.items():
        try:
            load(blob[field])
        except (AttributeError, IndexError, KeyError, RuntimeError, TypeError, ValueError) as err:
            first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
            raise CorruptFileError(f"{path}: the checkpoint's field {field!r} does not fit this run ({first}); "
                                   "delete it") from None  # fmt: skip
    if not isinstance(blob["epoch"], int) or not isinstance(blob["history"], list):
        raise CorruptFileError(f"{path}: the checkpoint's field 'epoch' or 'history' is of the wrong kind; delete it")
    state.epoch, state.history = blob["epoch"], list(blob["history"])
    state.train_seconds, state.eval_seconds = blob["train_seconds"], blob["eval_seconds"]
    return True


# -- training --------------------------------------------------------------------------------


def _loss(out: torch.Tensor, batch: Batch, smoothing: float) -> torch.Tensor:
    if batch.weights is None:
        return F.cross_entropy(out.float(), batch.targets, label_smoothing=smoothing)
    return sum(
        wk * F.cross_entropy(out.float(), tk, label_smoothing=smoothing)
        for wk, tk in zip(batch.weights, batch.targets, strict=True)
    )


def _train_epoch(run: _Run, state: _State) -> dict[str, float]:
    """One pass over the loader; returns train loss and accuracy (one host sync, at the end)."""
    config, autocast = run.config, run.precision.autocast(run.device)
    run.net.train()
    sums = torch.zeros(3, device=run.device, dtype=torch.float64)  # loss, correct, count
    for batch in run.loader:
        x = batch.x.contiguous(memory_format=torch.channels_last) if run.precision.channels_last else batch.x
        with autocast:
            out = run.net(x)
            loss = _loss(out, batch, config.label_smoothing)
            if config.robust_eps:
                with torch.autocast(run.device.type, enabled=False):
                    x_adv = _fgsm_examples(run.model, x, batch, config)
                loss = 0.5 * loss + 0.5 * _loss(run.net(x_adv), batch, config.label_smoothing)
        state.opt.zero_grad(set_to_none=True)
        loss.backward()
        state.opt.step()
        state.sched.step()
        state.average.update()
        sums[0] += loss.detach().double() * len(x)
        sums[1] += (out.detach().argmax(1) == batch.y).sum()
        sums[2] += len(x)
    if run.world > 1:
        import torch.distributed as dist

        dist.all_reduce(sums)
    return {"train_loss": float(sums[0] / sums[2]), "train_acc": float(sums[1] / sums[2])}


def _fgsm_examples(model, x, batch: Batch, config: TrainConfig):
    """FGSM examples for adversarial training (gradients of the un-wrapped model, in fp32)."""
    from pixinfo.adversarial.attacks import fgsm_step

    return fgsm_step(model, x.float(), lambda out: _loss(out, batch, config.label_smoothing), eps=config.robust_eps)


def _epoch(run: _Run, state: _State) -> dict[str, float]:
    """Train one epoch, evaluate, and append the history row."""
    _sync(run.device)
    t0 = time.perf_counter()
    row: dict[str, float] = {"epoch": state.epoch + 1, **_train_epoch(run, state)}
    _sync(run.device)
    t1 = time.perf_counter()
    result = evaluate(
        state.average.model, run.test_x, run.test_y, batch_size=run.config.eval_batch_size,
        autocast=run.precision.autocast(run.device), channels_last=run.precision.channels_last,
        test_flip=run.config.test_flip, rank=run.rank, world=run.world,
    )  # fmt: skip
    row["test_acc"], row["test_loss"] = result.accuracy, result.loss
    if result.accuracy_plain is not None:  # what the test-time flips add, measured on the same logits
        row["test_acc_no_flip"] = result.accuracy_plain
    _sync(run.device)
    row["seconds"] = t1 - t0
    state.train_seconds += t1 - t0
    state.eval_seconds += time.perf_counter() - t1
    state.epoch += 1
    state.history.append(row)
    return row


def train(
    config: TrainConfig,
    *,
    results_dir: str | Path | None = "results/train",
    reuse: bool = False,
    resume: bool = False,
    save_model: bool = False,
    progress: bool = True,
    data=None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``config.model`` on ``config.dataset`` (optionally transformed) and record the run.

    Parameters
    ----------
    config : TrainConfig
    results_dir : path or None
        Where the JSON record is written (``<run name>.json``); None writes nothing and keeps
        no checkpoints.
    reuse : bool
        Return an existing finished record of the identical config instead of training (with
        ``save_model``, only when its saved model is present and unchanged).
    resume : bool
        Continue from this config's checkpoint in ``$PIXINFO_CACHE/checkpoints`` when an earlier
        run was interrupted (the result is bit-identical to an uninterrupted run).
    save_model : bool
        Also save the trained model to ``$PIXINFO_CACHE/models`` (the record names it and its hash).
    data : pixinfo.data.Dataset, optional
        Use this dataset instead of loading ``config.dataset`` (its name must match).
    on_epoch : callable, optional
        Called with each epoch's history row after its checkpoint is written (raise to stop).

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
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    config.validate()
    if reuse and results_dir is not None:
        record = find_record(config, results_dir, need_model=save_model)
        if record is not None:
            return _reused(config, record, results_dir, save_model)
    run = _setup(config, data)
    state = _new_state(run)
    keep = results_dir is not None
    if resume and keep:
        _load_checkpoint(run, state)
    from tqdm.auto import tqdm

    bar = tqdm(total=config.epochs, initial=state.epoch, desc=f"{config.model} {config.transform or 'original'}",
               disable=None if progress and run.rank == 0 else True, unit="epoch")  # fmt: skip
    while state.epoch < config.epochs:
        row = _epoch(run, state)
        if keep:
            _save_checkpoint(run, state)
        bar.update(1)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", train=f"{row['train_acc']:.3f}", test=f"{row['test_acc']:.4f}")
        if on_epoch is not None:
            on_epoch(row)
    bar.close()
    return _finish(run, state, results_dir, save_model)


def _reused(config: TrainConfig, record: dict, results_dir, want_model: bool) -> TrainResult:
    from pixinfo.models import load_model

    # find_record checked the saved model when it was wanted; otherwise load it only if intact
    model = load_model(model_path(config)) if want_model or _saved_model_intact(config, record) else None
    return TrainResult(record, model, record_path(results_dir, config))


def _results(run: _Run, state: _State) -> dict[str, Any]:
    history = state.history
    digests = [weights_digest(state.average.model)]
    if run.world > 1:
        import torch.distributed as dist

        gathered: list[Any] = [None] * run.world
        dist.all_gather_object(gathered, digests[0])
        digests = gathered
    return {
        "final_test_acc": history[-1]["test_acc"],
        "best_test_acc": max(r["test_acc"] for r in history),
        "best_epoch": max(history, key=lambda r: r["test_acc"])["epoch"],
        **({"final_test_acc_no_flip": history[-1]["test_acc_no_flip"]} if run.config.test_flip else {}),
        "history": history,
        "train_seconds": state.train_seconds,
        "eval_seconds": state.eval_seconds,
        "train_images_per_second": run.loader.images_per_epoch * run.config.epochs / state.train_seconds,
        "n_train": len(run.loader.images),
        "n_test": len(run.test_x),
        "world_size": run.world,
        "weights_sha256": digests,
        "precision": run.precision.name,
        "channels_last": run.precision.channels_last,
        "cpu_native_bf16": cpu_has_native_bf16() if run.device.type == "cpu" else None,
        "torch_threads": torch.get_num_threads(),
    }


def _finish(run: _Run, state: _State, results_dir, want_model: bool) -> TrainResult:
    from pixinfo.provenance import make_record
    from pixinfo.runs import RunStore

    record = make_record("train", run.config.to_dict(), _results(run, state), device=run.device)
    record.update(
        status="finished",
        config_hash=run.config.config_hash(),
        run_name=run_name(run.config),
        transform_spec=run.transform.spec if run.transform is not None else None,
        transform_key=transform_key_id(run.transform),
        dataset_source=run.dataset.source,
    )
    path, model = None, state.average.model  # the weights that were evaluated
    if results_dir is not None and run.rank == 0:
        if want_model:
            saved = save_model(model, model_path(run.config),
                               extra={"config": run.config.to_dict(), "transform_key": record["transform_key"]})  # fmt: skip
            record["model_file"] = saved.name
            record["model_sha256"] = sha256_file(saved)
        store = RunStore(results_dir)
        record = store.write(run.config, record)
        path = store.path(run.config)
        checkpoint_path(run.config).unlink(missing_ok=True)  # the record is complete; the run is done
    model.eval()
    return TrainResult(record, model, path)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
