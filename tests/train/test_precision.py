"""precision='auto': bf16 where the CPU has native bf16, fp32 elsewhere; bf16 learns like fp32."""

import pytest
import torch

from pixinfo.train import TrainConfig, train
from pixinfo.train.precision import _cpu_flags, cpu_has_native_bf16, native_bf16_flags, resolve_precision


@pytest.mark.parametrize(
    "flags, machine, native",
    [
        ({"avx512f", "avx512_bf16"}, "x86_64", True),
        ({"amx_bf16", "amx_tile"}, "x86_64", True),
        ({"avx512f", "avx512bw", "avx2"}, "x86_64", False),  # oneDNN would emulate bf16: slower than fp32
        ({"avx2"}, "x86_64", False),
        ({"asimd", "bf16"}, "aarch64", True),
        ({"asimd"}, "aarch64", False),
        ({"bf16"}, "riscv64", False),
    ],
)
def test_native_bf16_flags(flags, machine, native):
    assert native_bf16_flags(flags, machine) is native


def test_cpuinfo_parsing(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    assert _cpu_flags(info) >= {"avx2", "avx512_bf16"}
    assert _cpu_flags(tmp_path / "missing") == set()


def test_auto_follows_the_cpu():
    cpu = torch.device("cpu")
    auto = resolve_precision("auto", None, model="resnet18", device=cpu)
    assert auto.bf16 is cpu_has_native_bf16()
    assert auto.channels_last is auto.bf16  # channels-last only where bf16 runs, for conv models
    assert resolve_precision("bf16", None, model="vit", device=cpu).channels_last is False
    assert resolve_precision("fp32", True, model="mlp", device=cpu).channels_last is True


def test_bf16_on_cpu_learns_like_fp32_and_is_deterministic(digits):
    # tolerance: 4 points of test accuracy on digits (fp32 reaches ~0.95 here; bf16 rounding of
    # activations and gradients moves single runs by 1-2 points)
    base = dict(dataset="digits", model="cnn", epochs=4, batch_size=64, device="cpu", seed=0)
    fp32 = train(TrainConfig(**base, precision="fp32"), results_dir=None, progress=False, data=digits)
    bf16 = [train(TrainConfig(**base, precision="bf16"), results_dir=None, progress=False, data=digits)
            for _ in range(2)]  # fmt: skip
    assert fp32.record["results"]["precision"] == "fp32" and bf16[0].record["results"]["precision"] == "bf16"
    assert fp32.final_test_acc > 0.85
    assert abs(bf16[0].final_test_acc - fp32.final_test_acc) <= 0.04
    assert bf16[0].record["results"]["weights_sha256"] == bf16[1].record["results"]["weights_sha256"]
    assert bf16[0].record["results"]["weights_sha256"] != fp32.record["results"]["weights_sha256"]


@pytest.mark.parametrize("bf16", [True, False])
def test_forward_context_is_reusable_and_picks_the_math_attention_kernel_under_cpu_bf16(bf16):
    cpu = torch.device("cpu")
    ctx = resolve_precision("bf16" if bf16 else "fp32", None, model="vit", device=cpu).autocast(cpu)
    flash_before = torch.backends.cuda.flash_sdp_enabled()
    for _ in range(2):  # the trainer enters one context for every batch
        with ctx:
            assert torch.is_autocast_enabled("cpu") is bf16
            assert torch.backends.cuda.flash_sdp_enabled() is (flash_before and not bf16)
            assert torch.backends.cuda.math_sdp_enabled()
            y = torch.nn.Linear(4, 4)(torch.randn(2, 4))
        assert y.dtype == (torch.bfloat16 if bf16 else torch.float32)
        assert not torch.is_autocast_enabled("cpu") and torch.backends.cuda.flash_sdp_enabled() is flash_before
