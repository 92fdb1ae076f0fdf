"""Engine sidecar JSON: round trip, and one-line errors for a mismatching TensorRT, GPU or shape."""
from __future__ import annotations

import dataclasses
import json

import pytest

from munit_fast.errors import MunitError
from munit_fast.export.sidecar import (
    EngineInfo,
    check_compatible,
    profile_for,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)


def info(**changes):
    fields = dict(part="decoder", direction="a2b", precision="fp16", tensorrt_version="10.3.0",
                  gpu_name="Orin", compute_capability="8.7",
                  profiles={"content": [[1, 256, 64, 64], [1, 256, 64, 64], [4, 256, 180, 320]],
                            "style": [[1, 8], [4, 8], [4, 8]]},
                  onnx_sha256="ab" * 32, dla_core=0, metadata={"style_dim": "8"})
    fields.update(changes)
    return EngineInfo(**fields)


def test_round_trip(tmp_path):
    engine = str(tmp_path / "decoder.engine")
    path = write_sidecar(engine, info())
    assert path == sidecar_path(engine) and path.endswith(".engine.json")
    assert read_sidecar(engine) == info()
    assert list(tmp_path.iterdir()) == [tmp_path / "decoder.engine.json"]  # no temporary file left behind


def test_mismatching_tensorrt_version(tmp_path):
    with pytest.raises(MunitError, match=r"built with TensorRT 10\.3\.0, this machine has TensorRT 10\.7\.0; rebuild"):
        check_compatible(info(), "e.engine", "10.7.0", "Orin", "8.7")


def test_mismatching_gpu(tmp_path):
    with pytest.raises(MunitError, match=r"built for Orin \(compute capability 8\.7\), this GPU is NVIDIA H100"):
        check_compatible(info(), "e.engine", "10.3.0", "NVIDIA H100", "9.0")
    check_compatible(info(), "e.engine", "10.3.0", "Orin", "8.7")  # same machine: no error


def test_shape_outside_profile():
    assert profile_for(info(), "e.engine", {"content": (1, 256, 100, 100), "style": (2, 8)}) == 0
    with pytest.raises(MunitError, match=r"takes content .*, style 1x8 to 4x8; got content 1x256x100x100, style 5x8"):
        profile_for(info(), "e.engine", {"content": (1, 256, 100, 100), "style": (5, 8)})


def test_static_profiles_are_chosen_by_shape():
    """DLA engines: one static profile per size; each call runs under the profile of its shapes."""
    small = {"content": [[1, 256, 64, 64]] * 3, "style": [[4, 8]] * 3}
    large = {"content": [[1, 256, 180, 320]] * 3, "style": [[4, 8]] * 3}
    engine = dataclasses.replace(info(), profiles=small, extra_profiles=[large])
    assert profile_for(engine, "e.engine", {"content": (1, 256, 180, 320), "style": (4, 8)}) == 1
    assert profile_for(engine, "e.engine", {"content": (1, 256, 64, 64), "style": (4, 8)}) == 0
    with pytest.raises(MunitError, match="rebuild it with other --shapes"):
        profile_for(engine, "e.engine", {"content": (1, 256, 64, 64), "style": (3, 8)})


def test_missing_and_corrupt_sidecars(tmp_path):
    engine = str(tmp_path / "x.engine")
    with pytest.raises(MunitError, match="sidecar .* is missing"):
        read_sidecar(engine)
    (tmp_path / "x.engine.json").write_text("{not json")
    with pytest.raises(MunitError, match="not a valid munit-fast sidecar"):
        read_sidecar(engine)
    (tmp_path / "x.engine.json").write_text(json.dumps({"sidecar_version": 99}))
    with pytest.raises(MunitError, match="format version 99"):
        read_sidecar(engine)
