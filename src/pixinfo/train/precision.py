"""Which numeric precision and memory format a run uses (``precision="auto"``).

bf16 autocast pays on CUDA and on CPUs with *native* bf16 arithmetic (x86 AVX-512-BF16 or
AMX-BF16, Arm BF16): on a 2-core AMD EPYC with AVX-512-BF16 one ResNet-18 training step ran
2.2× faster than fp32, 2.5× with channels-last. On CPUs
without native bf16, oneDNN emulates it and it is far slower than fp32 (a CNN step ran ~10×
slower on an AVX2-only EPYC), so ``"auto"`` keeps fp32 there. Under bf16 on the CPU, attention
uses PyTorch's math kernel (see ``_Autocast``).
"""

from __future__ import annotations

import contextlib
import functools
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from pixinfo.provenance import cpuinfo_fields

# convolutional models, for which channels-last helps under bf16 (measured on a CPU with
# AVX-512-BF16: ResNet-18 and the CNN gain 15-20%, the ViT loses 10%)
CHANNELS_LAST_MODELS = frozenset({"resnet18", "cnn", "lenet"})


def _cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    fields = cpuinfo_fields(cpuinfo)
    return set((fields.get("flags") or fields.get("Features") or "").split())


def native_bf16_flags(flags: set[str], machine: str) -> bool:
    """Whether CPU feature flags (``/proc/cpuinfo``) include native bf16 arithmetic.

    Examples
    --------
    >>> native_bf16_flags({"avx512f", "avx512_bf16"}, "x86_64")
    True
    >>> native_bf16_flags({"avx512f", "avx512bw"}, "x86_64")  # bf16 only emulated
    False
    >>> native_bf16_flags({"asimd", "bf16"}, "aarch64")
    True
    """
    if machine in ("x86_64", "AMD64", "i686"):
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    if machine in ("aarch64", "arm64"):
        return "bf16" in flags
    return False


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True on CPUs with native bf16 arithmetic (checked once per process; no side effects)."""
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, probe, None)
        if fn is not None:
            try:
                if fn():
                    return True
            except RuntimeError:  # pragma: no cover - probe unavailable in this build
                pass
    return native_bf16_flags(_cpu_flags(), platform.machine())


@dataclass(frozen=True)
class Precision:
    """What a run computes in: ``bf16`` autocast or not, and the channels-last memory format."""

    bf16: bool
    channels_last: bool

    @property
    def name(self) -> str:
        return "bf16" if self.bf16 else "fp32"

    def autocast(self, device: torch.device) -> _Autocast:
        """The context of forward passes: bf16 autocast when ``bf16`` (re-enterable, one per run)."""
        return _Autocast(device, self.bf16)


class _Autocast:
    """bf16 autocast, and on the CPU the math kernel of ``scaled_dot_product_attention``.

    PyTorch's CPU flash-attention backward is slow for the ViT's short sequences (50 tokens at
    28 px): on a 2-core AMX-BF16 Xeon it took half of a bf16 ViT training step, and the math
    kernel made the whole step 1.6× faster (0.52 against 0.84 s, batch 128, 1 thread), with errors
    against float64 no larger than the flash kernel's. Models without attention are unaffected.
    """

    def __init__(self, device: torch.device, bf16: bool) -> None:
        self.device, self.bf16 = device, bf16
        self._stack: contextlib.ExitStack | None = None

    def __enter__(self) -> _Autocast:
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16))
        if self.bf16 and self.device.type == "cpu":
            from torch.nn.attention import SDPBackend, sdpa_kernel

            self._stack.enter_context(sdpa_kernel([SDPBackend.MATH]))
        return self

    def __exit__(self, *exc) -> bool:
        stack, self._stack = self._stack, None
        return bool(stack is not None and stack.__exit__(*exc))


def resolve_precision(precision: str, channels_last: bool | None, *, model: str, device: torch.device) -> Precision:
    """``precision`` ("auto", "fp32", "bf16") and ``channels_last`` (None: automatic) for ``model`` on ``device``.

    Examples
    --------
    >>> p = resolve_precision("fp32", None, model="resnet18", device=torch.device("cpu"))
    >>> p.name, p.channels_last
    ('fp32', False)
    >>> resolve_precision("bf16", None, model="vit", device=torch.device("cpu")).channels_last
    False
    """
    if precision == "auto":
        bf16 = device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16())
    else:
        bf16 = precision == "bf16"
    if channels_last is None:
        channels_last = model in CHANNELS_LAST_MODELS and (bf16 or device.type == "cuda")
    return Precision(bf16=bf16, channels_last=channels_last)
