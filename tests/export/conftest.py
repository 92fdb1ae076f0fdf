"""Graphs of the original implementation's reference model (dim 8), exported once per session."""
from __future__ import annotations

import pytest

from munit_fast.export import export_onnx


@pytest.fixture(scope="session")
def reference_graphs(reference_generators, tmp_path_factory):
    """{precision: {part: path}} for direction a2b (content encoder of gen_a, the rest of gen_b)."""
    gen_a, gen_b = reference_generators
    folder = tmp_path_factory.mktemp("onnx")
    return {precision: export_onnx(gen_a, gen_b, str(folder), "a2b", precision=precision)
            for precision in ("fp32", "fp16")}
