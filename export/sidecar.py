"""The JSON file beside every TensorRT engine: what it was built from, for which shapes, with which
TensorRT and on which GPU; checked before an engine is loaded.

A serialized engine only runs on the TensorRT version that built it and is tuned for (and, across
compute capabilities, unusable on) other GPUs: loading it elsewhere fails deep inside TensorRT or
runs slowly, so the mismatch is reported first, with the command that rebuilds it.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

from munit_fast.errors import MunitError
from munit_fast.files import atomic_write_bytes

SIDECAR_VERSION = 1


@dataclass
class EngineInfo:
    part: str
    direction: str
    precision: str  # fp32 | fp16 | int8
    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "8.7"
    profiles: Dict[str, List[List[int]]]  # input name -> [min, opt, max] of the first profile
    onnx_sha256: str
    strongly_typed: bool = False
    dla_core: Optional[int] = None
    munit_fast_version: str = ""
    metadata: Dict[str, str] = field(default_factory=dict)  # the ONNX graph's metadata_props
    extra_profiles: List[Dict[str, List[List[int]]]] = field(default_factory=list)  # static sizes after the first
    sidecar_version: int = SIDECAR_VERSION


def sidecar_path(engine_path: str) -> str:
    return engine_path + ".json"


def write_sidecar(engine_path: str, info: EngineInfo) -> str:
    """Write ``<engine>.json`` atomically; returns its path."""
    path = sidecar_path(engine_path)
    atomic_write_bytes(path, json.dumps(asdict(info), indent=2, sort_keys=True).encode())
    return path


def read_sidecar(engine_path: str) -> EngineInfo:
    path = sidecar_path(engine_path)
    if not os.path.isfile(path):
        raise MunitError(f"engine sidecar {path} is missing; build the engine with munit-fast export trt, "
                         "which writes it beside the engine")
    try:
        with open(path) as handle:
            data = json.load(handle)
        if data.get("sidecar_version") != SIDECAR_VERSION:
            raise MunitError(f"engine sidecar {path} has format version {data.get('sidecar_version')!r}, "
                             f"expected {SIDECAR_VERSION}; rebuild the engine")
        return EngineInfo(**data)
    except (json.JSONDecodeError, TypeError) as exc:
        raise MunitError(f"engine sidecar {path} is not a valid munit-fast sidecar ({exc}); "
                         "rebuild the engine") from None


def check_compatible(info: EngineInfo, engine_path: str, tensorrt_version: str, gpu_name: str,
                     compute_capability: str) -> None:
    """One-line error when the engine was built with another TensorRT or for another GPU."""
    rebuild = f"rebuild it on this machine: munit-fast export trt --onnx <graph.onnx> --output {engine_path}"
    if info.tensorrt_version != tensorrt_version:
        raise MunitError(f"engine {engine_path} was built with TensorRT {info.tensorrt_version}, this machine has "
                         f"TensorRT {tensorrt_version}; {rebuild}")
    if info.compute_capability != compute_capability or info.gpu_name != gpu_name:
        raise MunitError(f"engine {engine_path} was built for {info.gpu_name} (compute capability "
                         f"{info.compute_capability}), this GPU is {gpu_name} ({compute_capability}); {rebuild}")


def _fits(profile: Dict[str, List[List[int]]], shapes: Dict[str, tuple]) -> bool:
    for name, shape in shapes.items():
        low, _, high = profile[name]
        if len(shape) != len(low) or any(s < lo or s > hi for s, lo, hi in zip(shape, low, high)):
            return False
    return True


def profile_for(info: EngineInfo, engine_path: str, shapes: Dict[str, tuple]) -> int:
    """The index of the first optimization profile that takes these input shapes, or one line
    naming what the engine takes."""
    profiles = [info.profiles] + list(info.extra_profiles)
    for index, profile in enumerate(profiles):
        if _fits(profile, shapes):
            return index
    show = lambda s: "x".join(map(str, s))  # noqa: E731
    takes = "; ".join(", ".join(f"{name} {show(p[name][0])} to {show(p[name][2])}" for name in shapes)
                      for p in profiles)
    got = ", ".join(f"{name} {show(shape)}" for name, shape in shapes.items())
    raise MunitError(f"engine {engine_path} takes {takes}; got {got}; rebuild it with other --shapes / --styles")
