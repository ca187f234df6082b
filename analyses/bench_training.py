"""Training throughput: pixinfo's GPU-resident pipeline against a paper-style pipeline, same run,
same device.

* paper-style: a torch ``DataLoader`` with per-image torchvision transforms (resize to 224, random
  crop with padding 4, flip, normalise), fp32 ResNet-18 with the ImageNet stem, SGD — the Random
  Vortex authors' setup;
* pixinfo: :func:`pixinfo.train.train` with the ResNet-18 recipe at native 28×28 (dataset resident
  on the device as uint8, batched device-side augmentation, bf16 and channels-last on CUDA);
  images/s of its second epoch (the first includes start-up and autotuning).

Both use the same Fashion-MNIST training images (``--max-train`` of them). Reports images/s of
training steps (forward, backward, update, and data loading for the paper pipeline), after
``--warmup`` steps, timed with CUDA events on a GPU.

On the CPU (``--device cpu``) it instead times pixinfo's trainer (``precision="auto"``)
against a plain fp32 eager loop (a DataLoader over float tensors) on the same model, batch and
images, interleaved in the same run, for ResNet-18, the CNN and the ViT.

    python analyses/bench_training.py --device cuda
    python analyses/bench_training.py --device cpu --also-precision bf16   # bf16 forced as well
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pixinfo.data import load_dataset
from pixinfo.provenance import make_record, write_json
from pixinfo.train import train
from pixinfo.train.recipes import recipe

ROOT = Path(__file__).resolve().parents[1]


class _PaperStyle(torch.utils.data.Dataset):
    def __init__(self, images, labels, size):
        from torchvision.transforms import v2

        self.images, self.labels = images, labels
        self.transform = v2.Compose([
            v2.Resize(size, antialias=True), v2.RandomCrop(size, padding=4), v2.RandomHorizontalFlip(),
            v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.5], [0.5]),
        ])  # fmt: skip

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.labels[i]


class _Timer:
    def __init__(self, device):
        self.device = device

    def __enter__(self):
        if self.device.type == "cuda":
            self.start, self.end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            self.start.record()
        else:
            self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            self.end.record()
            torch.cuda.synchronize(self.device)
            self.seconds = self.start.elapsed_time(self.end) / 1000
        else:
            self.seconds = time.perf_counter() - self.t0


def paper_pipeline(images, labels, *, device, batch_size, steps, warmup, workers, size, seed) -> dict:
    from torchvision.models import resnet18

    torch.manual_seed(seed)
    model = resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    model = model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(
        _PaperStyle(images, labels, size), batch_size=batch_size, shuffle=True, num_workers=workers,
        drop_last=True, pin_memory=device.type == "cuda", persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    if len(loader) < warmup + steps:
        raise SystemExit(f"need {warmup + steps} batches, the loader has {len(loader)}; raise --max-train")
    batches = iter(loader)

    def step():
        x, y = next(batches)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    model.train()
    for _ in range(warmup):
        step()
    with _Timer(device) as t:
        for _ in range(steps):
            step()
    return {"images_per_second": steps * batch_size / t.seconds, "seconds": t.seconds, "steps": steps,
            "batch_size": batch_size, "warmup_steps": warmup, "workers": workers, "size": size}  # fmt: skip


def eager_loop(model_name: str, images, labels, *, device, batch_size, steps, seed) -> dict:
    """The baseline a user writes first: a DataLoader over float tensors, fp32, eager, contiguous."""
    from pixinfo.models import build_model

    torch.manual_seed(seed)
    model = build_model(model_name, image_shape=tuple(images.shape[1:]), num_classes=10).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    data = torch.utils.data.TensorDataset(images.float() / 255, labels)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True,
                                         generator=torch.Generator().manual_seed(seed))  # fmt: skip
    model.train()

    def one_pass() -> float:
        t0 = time.perf_counter()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return time.perf_counter() - t0

    one_pass()  # warm-up
    seconds = one_pass()
    return {"images_per_second": steps * batch_size / seconds, "seconds": seconds, "steps": steps,
            "batch_size": batch_size, "precision": "fp32"}  # fmt: skip


def pixinfo_trainer(model_name: str, ds, *, device, batch_size, steps, seed, precision: str = "auto") -> dict:
    """pixinfo's trainer on the same images: the second of two one-pass epochs is timed."""
    base = recipe(model_name, ds.name, epochs=2, device=str(device), seed=seed, batch_size=batch_size,
                  max_train=batch_size * steps, precision=precision)  # fmt: skip
    run = train(base, results_dir=None, progress=False, data=ds)
    second = run.history[-1]
    res = run.record["results"]
    return {"images_per_second": steps * batch_size / second["seconds"], "seconds": second["seconds"],
            "steps": steps, "batch_size": batch_size, "precision": res["precision"],
            "channels_last": res["channels_last"], "config": base.to_dict()}  # fmt: skip


def cpu_main(args) -> int:
    """Trainer against a plain fp32 eager loop, same model, batch and images, interleaved."""
    from pixinfo.train.precision import cpu_has_native_bf16

    from pixinfo.data import Dataset, Split

    device = torch.device("cpu")
    full = load_dataset("fashion-mnist")
    # the trainer evaluates after every epoch: a small test split keeps that out of the way
    ds = Dataset(full.name, full.train, Split(full.test.images[:256], full.test.labels[:256]), full.class_names,
                 full.source)  # fmt: skip
    also = f"pixinfo_{args.also_precision}" if args.also_precision else None  # the extra row's key
    rows = []
    for rep in range(args.repeats):
        for name in args.models:
            steps = args.steps.get(name, 4)
            keep = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(args.seed))
            keep = keep[: args.batch_size * steps]
            eager = eager_loop(name, ds.train.images[keep], ds.train.labels[keep], device=device,
                               batch_size=args.batch_size, steps=steps, seed=args.seed)  # fmt: skip
            ours = pixinfo_trainer(name, ds, device=device, batch_size=args.batch_size, steps=steps, seed=args.seed)
            row = {"model": name, "repeat": rep, "eager_fp32": eager, "pixinfo": ours,
                   "speedup": ours["images_per_second"] / eager["images_per_second"]}  # fmt: skip
            if also:
                row[also] = pixinfo_trainer(name, ds, device=device, batch_size=args.batch_size, steps=steps,
                                            seed=args.seed, precision=args.also_precision)  # fmt: skip
            rows.append(row)
            print(f"{name} (repeat {rep}): eager fp32 {eager['images_per_second']:.1f} img/s, pixinfo "
                  f"{ours['images_per_second']:.1f} img/s ({ours['precision']}), {row['speedup']:.2f}x"
                  + (f"; pixinfo {args.also_precision} {row[also]['images_per_second']:.1f}"
                     if also else ""),
                  file=sys.stderr)  # fmt: skip
    summary = {}
    for name in args.models:
        mine = [r for r in rows if r["model"] == name]
        med = lambda key: float(np.median([r[key]["images_per_second"] for r in mine]))  # noqa: E731
        summary[name] = {"eager_fp32_images_per_second": med("eager_fp32"), "pixinfo_images_per_second": med("pixinfo"),
                         "speedup": med("pixinfo") / med("eager_fp32"),
                         "fashion_mnist_epoch_seconds": 60000 / med("pixinfo")}  # fmt: skip
        if also:
            summary[name][f"{also}_images_per_second"] = med(also)
    print(json.dumps(summary, indent=1))
    config = {k: v for k, v in vars(args).items()}
    record = make_record("bench_training", config, {"rows": rows, "summary": summary, "note": args.note,
                                                    "cpu_native_bf16": cpu_has_native_bf16()}, device=device)  # fmt: skip
    path = write_json(Path(args.out) / f"bench_training_cpu{args.tag}.json", record)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--max-train", type=int, default=60000)
    p.add_argument("--paper-batch", type=int, default=128)
    p.add_argument("--paper-steps", type=int, default=100)
    p.add_argument("--paper-warmup", type=int, default=10)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "analyses" / "results"))
    p.add_argument("--models", nargs="+", default=["resnet18", "cnn", "vit"], help="CPU: models to time")
    p.add_argument("--batch-size", type=int, default=256, help="CPU: batch of both loops")
    p.add_argument("--steps", type=json.loads, default={"resnet18": 3, "cnn": 12, "vit": 4},
                   help="CPU: timed steps per model (JSON)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=3, help="CPU: interleaved repeats (medians reported)")
    p.add_argument("--also-precision", choices=["fp32", "bf16"],
                   help="CPU: also time pixinfo with this precision forced (e.g. fp32 where auto picks bf16)")
    p.add_argument("--tag", default="", help="CPU: suffix of the result file")
    p.add_argument("--note", default="", help="what else ran on the machine (recorded)")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        return cpu_main(args)

    ds = load_dataset("fashion-mnist")
    keep = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(args.seed))[: args.max_train]
    images, labels = ds.train.images[keep], ds.train.labels[keep]

    base = recipe("resnet18", "fashion-mnist", epochs=2, device=str(device), seed=args.seed,
                  max_train=args.max_train)  # fmt: skip
    ours_run = train(base, results_dir=None, progress=False, data=ds)
    second = ours_run.history[-1]
    steps = ours_run.record["results"]["n_train"] // base.batch_size
    ours = {"images_per_second": steps * base.batch_size / second["seconds"], "seconds": second["seconds"],
            "steps": steps, "batch_size": base.batch_size, "precision": ours_run.record["results"]["precision"],
            "first_epoch_seconds": ours_run.history[0]["seconds"], "config": base.to_dict()}  # fmt: skip
    print(f"pixinfo: {ours['images_per_second']:.0f} img/s ({ours['precision']}, 28x28, batch {base.batch_size})",
          file=sys.stderr)  # fmt: skip
    paper = paper_pipeline(images, labels, device=device, batch_size=args.paper_batch, steps=args.paper_steps,
                           warmup=args.paper_warmup, workers=args.workers, size=args.size, seed=args.seed)  # fmt: skip
    print(f"paper-style: {paper['images_per_second']:.1f} img/s (fp32, {args.size}px, batch {args.paper_batch}, "
          f"{args.workers} workers)", file=sys.stderr)  # fmt: skip
    speedup = ours["images_per_second"] / paper["images_per_second"]
    print(f"speed-up: {speedup:.1f}x")
    record = make_record("bench_training", vars(args), {"pixinfo": ours, "paper_style": paper, "speedup": speedup},
                         device=device)  # fmt: skip
    path = write_json(Path(args.out) / f"bench_training_{device.type}.json", record)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
