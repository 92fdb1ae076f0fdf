"""Every registered backend against the eager fp32 reference on the same inputs, through the one
cross-validation helper: a backend gets this test by being registered
(munit_fast/runtime/registry.py). A backend that cannot run here is skipped with its reason."""
from __future__ import annotations

import pytest
import torch

from munit_fast.errors import MunitError
from munit_fast.runtime.crosscheck import cross_validate
from munit_fast.runtime.factory import build_translator
from munit_fast.runtime.registry import BACKENDS

# Stated bounds: fp32 backends reorder sums (ONNX Runtime, OpenVINO, torch.compile fuse and
# vectorize differently), 1e-4 absolute on images in [-1, 1] and 1e-4 relative on codes; reduced
# precisions: images by PSNR, content and style codes by relative error (bf16 keeps 8 mantissa
# bits: 2^-8 per rounding, a few percent after a network's worth of them).
FP32_MAX_ABS = 1e-4
MIN_PSNR_DB = {"bf16": 40.0, "fp16": 45.0, "int8": 30.0}
MAX_REL = {"bf16": 0.05, "fp16": 0.01, "int8": 0.1}
SLOW_ON_CPU = {"compile"}  # C++ compilation of every graph on a CPU: run where CUDA is


def _cases():
    for name, spec in BACKENDS.items():
        for precision in spec.precisions:
            yield pytest.param(name, precision, id=f"{name}-{precision}")


@pytest.fixture(scope="module")
def reference(reference_config, reference_checkpoint):
    return build_translator(reference_config, reference_checkpoint, backend="eager", device="cpu")


@pytest.mark.parametrize("name, precision", list(_cases()))
def test_backend_matches_the_reference(reference, reference_config, reference_checkpoint, reference_tensors,
                                       tmp_path, name, precision):
    spec = BACKENDS[name]
    if spec.missing():
        pytest.skip(spec.missing())
    if name in SLOW_ON_CPU and not torch.cuda.is_available():
        pytest.skip(f"--backend {name}: torch.compile takes over a minute on a CPU; this case runs on CUDA machines")
    if precision == "int8":
        pytest.skip(f"{name} int8 calibrates on images of the source domain, which these reference vectors are too "
                    "few for; its quality gates, calibrated on real images, are in the backend's own tests")
    try:
        translator = build_translator(reference_config, reference_checkpoint, backend=name, device="auto",
                                      precision=precision, onnx_dir=str(tmp_path / "onnx"),
                                      engine_dir=str(tmp_path / "engines"), openvino_dir=str(tmp_path / "openvino"))
    except MunitError as exc:  # e.g. a GPU without bf16, a CPU without fp16 kernels in that runtime
        if any(reason in str(exc) for reason in ("runs on --device", "runs on a CUDA GPU", "no bf16", "not supported")):
            pytest.skip(str(exc))
        raise
    styles = reference_tensors["s_multi"][:, :, 0, 0]
    results = cross_validate(translator.backend, reference.backend, reference_tensors["x_a"], styles,
                             reference_tensors["x_b"][:1])
    for call, stats in results.items():
        image = call == "decode"
        if precision == "fp32":
            assert (stats.max_abs if image else stats.max_rel) <= FP32_MAX_ABS, f"{name} {call}: {stats}"
        elif image:
            assert stats.psnr_db >= MIN_PSNR_DB[precision], f"{name}-{precision} {call}: {stats}"
        else:
            assert stats.max_rel <= MAX_REL[precision], f"{name}-{precision} {call}: {stats} (rel {stats.max_rel:.3g})"
