"""The openvino backend's artifacts, choices and failures: the IR cache, the registry's device and
precision checks, ``auto`` on a CPU, and the one-line errors."""
from __future__ import annotations

import importlib.util
import os
import sys

import pytest
import torch
import yaml

from munit_fast.checkpoint import build_generators, save_generators
from munit_fast.config import config_from_dict
from munit_fast.errors import MunitError
from munit_fast.export.openvino_cache import resolve_openvino_ir
from munit_fast.export.openvino_export import read_ir_metadata
from munit_fast.runtime.backends import openvino as ov_backend
from munit_fast.runtime.factory import build_translator
from munit_fast.runtime.registry import BACKENDS, choose_backend
from tests.conftest import SAMPLE_IMAGES, TINY_MODEL
from tests.reliability.conftest import assert_one_line_failure, run_in_process


@pytest.fixture
def tiny_files(tmp_path):
    """(config, config path, two checkpoints of different weights) of the tiny model."""
    config = config_from_dict(dict(TINY_MODEL))
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(dict(TINY_MODEL)))
    checkpoints = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        checkpoint = tmp_path / f"gen_{seed}.pt"
        save_generators(*build_generators(config), checkpoint)
        checkpoints.append(str(checkpoint))
    return config, str(path), checkpoints


def test_ir_carries_the_metadata_and_the_cache_follows_the_checkpoint(tiny_files, openvino_cache):
    config, _, (first, second) = tiny_files
    paths = resolve_openvino_ir(config, first, "a2b", "fp32")
    assert os.path.commonpath([openvino_cache, paths["decoder"]]) == openvino_cache
    meta = read_ir_metadata(paths["decoder"])
    assert {k: meta[k] for k in ("style_dim", "direction", "precision", "part")} == {
        "style_dim": "8", "direction": "a2b", "precision": "fp32", "part": "decoder"}
    assert len(meta["weights_sha256"]) == 64 and meta["munit_fast_version"]
    assert os.path.isfile(paths["decoder"][:-4] + ".bin")
    assert resolve_openvino_ir(config, first, "a2b", "fp32") == paths  # reused, not rebuilt
    other = resolve_openvino_ir(config, second, "a2b", "fp32")
    assert other["decoder"] != paths["decoder"]
    assert read_ir_metadata(other["decoder"])["weights_sha256"] != meta["weights_sha256"]


def test_stale_cached_ir_is_rebuilt(tiny_files):
    config, _, (first, second) = tiny_files
    stale = resolve_openvino_ir(config, second, "a2b", "fp32")
    paths = resolve_openvino_ir(config, first, "a2b", "fp32")
    weights = read_ir_metadata(paths["decoder"])["weights_sha256"]
    for part, path in paths.items():  # another checkpoint's IR under this checkpoint's key
        for ext in (".xml", ".bin"):
            os.replace(stale[part][:-4] + ext, path[:-4] + ext)
    assert resolve_openvino_ir(config, first, "a2b", "fp32") == paths
    assert read_ir_metadata(paths["decoder"])["weights_sha256"] == weights


def test_ir_of_other_weights_in_a_user_folder_is_refused(tiny_files, tmp_path, capsys):
    _, config_path, (first, second) = tiny_files
    folder = str(tmp_path / "ir")
    build_translator(config_path, first, backend="openvino", openvino_dir=folder)
    result = run_in_process(capsys, "translate", "--config", config_path, "--checkpoint", second, "--backend",
                            "openvino", "--openvino-dir", folder, "--input", SAMPLE_IMAGES, "--output",
                            str(tmp_path / "out"))
    assert_one_line_failure(result, contains="was exported from other weights")


def test_translator_matches_eager_and_decodes_k_styles_at_any_size(tiny_files, tmp_path):
    _, config_path, (first, _) = tiny_files
    translator = build_translator(config_path, first, backend="openvino", openvino_dir=str(tmp_path))
    reference = build_translator(config_path, first, backend="eager", device="cpu")
    assert translator.name == "openvino-CPU-fp32" and translator.backend.device == "CPU"
    styles = torch.randn(3, 8)
    for size in ((64, 64), (40, 72)):  # dynamic height and width; a batch of 3 styles
        image = torch.rand(1, 3, *size) * 2 - 1
        out = translator.translate(image, styles)
        assert out.shape == (1, 3, 3, *size)
        assert (out - reference.translate(image, styles)).abs().max() <= 1e-4


def test_devices_are_matched_case_insensitively_and_checked():
    spec = BACKENDS["openvino"]
    assert spec.resolve_device("auto") == "cpu"
    assert spec.resolve_device("gpu.1") == "GPU.1" and spec.resolve_device("Npu") == "NPU"
    assert ov_backend.openvino_device("cpu") == "CPU"
    spec.check("CPU", "fp32")
    with pytest.raises(MunitError, match="runs on --device cpu/GPU/NPU/AUTO, not cuda"):
        spec.check("cuda", "fp32")


def test_a_device_this_machine_lacks_lists_what_it_has(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(ov_backend, "_core", lambda: FakeCore(["CPU"], ["FP32", "INT8"]))
    result = run_in_process(capsys, "translate", "--backend", "openvino", "--device", "npu", "--input",
                            SAMPLE_IMAGES, "--output", str(tmp_path))
    line = assert_one_line_failure(result, contains="--device NPU: not available")
    assert "OpenVINO devices here: CPU, AUTO; CPU capabilities: FP32, INT8" in line


def test_bf16_on_a_cpu_without_it_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(ov_backend, "_core", lambda: FakeCore(["CPU"], ["FP32", "INT8", "EXPORT_IMPORT"]))
    result = run_in_process(capsys, "translate", "--backend", "openvino", "--precision", "bf16", "--input",
                            SAMPLE_IMAGES, "--output", str(tmp_path))
    assert_one_line_failure(result, contains="--precision bf16: OpenVINO's CPU here has no BF16 (its capabilities: "
                                             "FP32, INT8, EXPORT_IMPORT")
    assert not ov_backend.has_native_bf16()
    assert choose_backend("auto", "cpu", "bf16") == ("eager", "CPU")


def test_fp16_on_the_cpu_is_refused():
    with pytest.raises(MunitError, match="fp16 is not supported on OpenVINO's CPU"):
        BACKENDS["openvino"].check("cpu", "fp16")


def test_int8_without_nncf_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "nncf", None)  # import nncf raises ImportError
    result = run_in_process(capsys, "export", "openvino", "--precision", "int8", "--output", str(tmp_path / "ir"))
    assert_one_line_failure(result, contains="quantizes with NNCF, which is not installed: "
                                             "pip install 'munit-fast[openvino]'")


def test_without_openvino_every_request_names_the_extra(monkeypatch, tmp_path, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    result = run_in_process(capsys, "translate", "--backend", "openvino", "--input", SAMPLE_IMAGES,
                            "--output", str(tmp_path))
    assert_one_line_failure(result, contains="--backend openvino needs openvino: pip install 'munit-fast[openvino]'")
    with pytest.raises(MunitError, match=r"--precision int8 on a CPU runs on OpenVINO: .*munit-fast\[openvino\]"):
        choose_backend("auto", "cpu", "int8")


def test_auto_on_a_cpu_never_lowers_the_precision(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("checks auto where CUDA is absent; this machine has CUDA, where auto picks the GPU paths")
    monkeypatch.setattr(ov_backend, "has_native_bf16", lambda: True)
    assert choose_backend("auto", "auto", "int8")[0] == "openvino"
    assert choose_backend("auto", "auto", "bf16")[0] == "openvino"
    assert choose_backend("auto", "auto", "fp32")[0] == "eager"
    assert choose_backend("auto", "GPU", "fp32")[0] == "openvino"  # a device only OpenVINO has


class FakeCore:
    """ov.Core's device queries, for machines other than this one."""

    def __init__(self, devices, capabilities):
        self.available_devices = devices
        self.capabilities = capabilities

    def get_property(self, device, name):
        assert name == "OPTIMIZATION_CAPABILITIES"
        return self.capabilities
