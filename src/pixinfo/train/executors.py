"""Run many independent training configs: in-process, on a local pool of worker processes, or on Ray.

An analysis builds its list of [`TrainConfig`][pixinfo.train.config.TrainConfig] and hands it to an executor;
each run writes its own record (written whole) into ``results_dir``, so runs done anywhere add
up, and a rerun skips every config whose finished record is present.

* [`InProcess`][pixinfo.train.executors.InProcess] runs them one after the other in this process.
* [`ProcessPool`][pixinfo.train.executors.ProcessPool] runs them on ``workers`` local processes (``spawn``), splitting the torch
  threads between them (two workers with one thread each suit small models on two cores).
* [`RayExecutor`][pixinfo.train.executors.RayExecutor] sends one Ray task per run to a local runtime (started with usage
  statistics and the dashboard off) or to a cluster (``address``); a task asks for one GPU when
  CUDA is present. Needs the optional extra: ``pip install 'pixinfo[ray]'``.

Every executor shows runs done / total with an ETA.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pixinfo.models import ConfigError
from pixinfo.train.config import TrainConfig


@dataclass(frozen=True)
class RunOptions:
    """How each run is done (the same for every config of a sweep)."""

    results_dir: str
    reuse: bool = True
    resume: bool = True
    save_model: bool = False
    threads: int | None = None


def run_one(config: dict[str, Any], options: RunOptions, data=None) -> str:
    """Train (or reuse) one config given as a dict; returns the path of its record.

    The unit of work of every executor (a plain function of plain data, so it pickles).
    """
    import torch

    from pixinfo.train.trainer import train

    if options.threads is not None:
        torch.set_num_threads(options.threads)
    run = train(TrainConfig.from_dict(config), results_dir=options.results_dir, reuse=options.reuse,
                resume=options.resume, save_model=options.save_model, progress=False, data=data)  # fmt: skip
    return str(run.path)


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", disable=None if enabled else True, smoothing=0.1)


class Executor:
    """Runs a list of configs; subclasses say where (``map``)."""

    progress: bool = True

    def map(self, configs: list[TrainConfig], options: RunOptions, data: dict | None = None) -> Iterator[str]:
        raise NotImplementedError  # pragma: no cover - abstract

    def run(self, configs: Iterable[TrainConfig], options: RunOptions, data: dict | None = None) -> list[str]:
        """Record paths of every config (in the order given), with a progress bar."""
        configs = list(configs)
        with _progress(len(configs), f"runs ({type(self).__name__})", self.progress) as bar:
            paths = []
            for path in self.map(configs, options, data):
                paths.append(path)
                bar.update(1)
        return paths


@dataclass
class InProcess(Executor):
    """One run after the other in this process (``data``: preloaded datasets by name)."""

    progress: bool = True

    def map(self, configs, options, data=None):
        for config in configs:
            yield run_one(config.to_dict(), options, (data or {}).get(config.dataset))


def _worker_init(threads: int) -> None:
    import torch

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)


@dataclass
class ProcessPool(Executor):
    """``workers`` local processes, each with ``threads`` torch threads (default: cores / workers)."""

    workers: int = 2
    threads: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        from pixinfo._checks import is_integer

        if not is_integer(self.workers) or self.workers < 1:
            raise ConfigError(f"workers must be an integer >= 1, got {self.workers!r}")
        self.workers = int(self.workers)

    def map(self, configs, options, data=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        threads = self.threads or max(1, (os.cpu_count() or 1) // self.workers)
        options = dataclasses.replace(options, threads=threads)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_init,
                                 initargs=(threads,)) as pool:  # fmt: skip
            futures = [pool.submit(run_one, c.to_dict(), options) for c in configs]
            for future in futures:
                yield future.result()


def start_ray(address: str | None = None, *, num_cpus: int | None = None, dashboard: bool = False):
    """Connect to Ray at ``address`` or start a local runtime, with usage statistics off.

    A local runtime runs on the local host only (one node) and starts without its dashboard unless
    asked; nothing is sent off the host.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise ConfigError("Ray is not installed; install the extra: pip install 'pixinfo[ray]'") from None
    if ray.is_initialized():
        return ray
    if address:
        ray.init(address=address, include_dashboard=dashboard, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=dashboard, log_to_driver=False)
    return ray


@dataclass
class RayExecutor(Executor):
    """One Ray task per run, on a local runtime or the cluster at ``address``.

    Each task takes ``cpus_per_run`` CPUs (and sets as many torch threads) and, when CUDA is
    present on the driver, one GPU. Tasks load their datasets themselves.
    """

    address: str | None = None
    num_cpus: int | None = None
    cpus_per_run: int = 1
    dashboard: bool = False
    progress: bool = True

    def map(self, configs, options, data=None):
        import torch

        ray = start_ray(self.address, num_cpus=self.num_cpus, dashboard=self.dashboard)
        gpus = 1 if torch.cuda.is_available() else 0
        task = ray.remote(num_cpus=self.cpus_per_run, num_gpus=gpus, max_retries=1)(run_one)
        options = dataclasses.replace(options, threads=self.cpus_per_run)
        pending = [task.remote(c.to_dict(), options) for c in configs]
        for ref in pending:
            yield ray.get(ref)


def make_executor(*, workers: int = 1, ray: bool = False, ray_address: str | None = None,
                  progress: bool = True) -> Executor:  # fmt: skip
    """The executor of the analyses' ``--workers N`` / ``--ray`` / ``--ray-address`` options.

    ``workers`` must be an integer >= 1 (0 or -1 do not mean "in this process" or "every core").
    """
    from pixinfo._checks import check_positive_int

    workers = check_positive_int(workers, "workers")
    if ray or ray_address:
        return RayExecutor(address=ray_address, progress=progress)
    if workers > 1:
        return ProcessPool(workers=workers, progress=progress)
    return InProcess(progress=progress)

