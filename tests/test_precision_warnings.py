"""bf16/fp16 on a CPU that would emulate them: one warning line saying so, before the slow run."""
import warnings

import pytest
import torch

from munit_fast.cli.main import main, one_line_warning
from munit_fast.devices import emulated_precision_message, resolve_dtype
from munit_fast.training.precision import check_precision

CPU = torch.device("cpu")


@pytest.fixture
def cpu_features(monkeypatch):
    """Sets which native bf16/fp16 features torch reports for this CPU."""
    def set_features(**present):
        for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported", "_is_amx_fp16_supported"):
            monkeypatch.setattr(torch.cpu, name, lambda value=present.get(name, False): value)
    return set_features


def test_bf16_without_amx_or_avx512_bf16_warns(cpu_features):
    cpu_features()
    message = emulated_precision_message("bf16", CPU)
    assert "neither AMX nor AVX-512 BF16" in message and "use --precision fp32" in message
    with pytest.warns(UserWarning, match="bf16 runs emulated"):
        assert resolve_dtype("bf16", CPU) == torch.bfloat16
    with pytest.warns(UserWarning, match="bf16 runs emulated"):
        check_precision("bf16", CPU)  # training


def test_fp16_without_amx_fp16_warns(cpu_features):
    cpu_features(_is_amx_tile_supported=True)
    assert "no AMX-FP16" in emulated_precision_message("fp16", CPU)


@pytest.mark.parametrize("feature", ["_is_amx_tile_supported", "_is_avx512_bf16_supported"])
def test_native_bf16_does_not_warn(cpu_features, feature):
    cpu_features(**{feature: True})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_dtype("bf16", CPU) == torch.bfloat16


def test_fp32_gpu_and_unknown_cpus_do_not_warn(cpu_features, monkeypatch):
    cpu_features()
    assert emulated_precision_message("fp32", CPU) is None
    assert emulated_precision_message("bf16", torch.device("cuda")) is None
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")  # a PyTorch that cannot tell
    assert emulated_precision_message("bf16", CPU) is None


def test_command_line_warnings_are_one_line_and_python_format_is_restored():
    assert one_line_warning("slow", UserWarning, "x.py", 3) == "munit-fast: warning: slow\n"
    python_format = warnings.formatwarning
    assert main(["eval", "--num-inputs", "0"]) == 2  # a command that fails still restores it
    assert warnings.formatwarning is python_format


def test_bf16_on_a_gpu_without_it_is_one_error_for_inference_and_training(monkeypatch):
    from munit_fast.errors import MunitError

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    gpu = torch.device("cuda")  # only its type is read: no GPU needed
    for check in (resolve_dtype, check_precision):
        with pytest.raises(MunitError, match="this GPU has no bf16 support; use --precision fp16"):
            check("bf16", gpu)
