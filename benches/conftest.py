"""Benchmark suite options and the hardware record of every result.

    pytest benches/ --benchmark-only                     # the full grid for this machine
    pytest benches/ --benchmark-only --quick             # the CI-sized subset (cases marked quick)
    pytest benches/ --benchmark-only --run-slow          # also the heavy cases on a CPU-only machine

Cases marked ``slow`` run by default only where CUDA is available; on a CPU they are skipped
with that reason unless ``--run-slow`` is given. Backends a machine cannot run skip with theirs.

Saved JSON (``--benchmark-json``, ``--benchmark-save``) holds each benchmark's summary statistics
without pytest-benchmark's per-round samples, which made the GPU kernel grids megabytes;
``--benchmark-save-data`` keeps them.
"""
from __future__ import annotations

import os
import platform

import pytest
import torch

from munit_fast.cli.bench import strip_samples


def pytest_addoption(parser):
    parser.addoption("--quick", action="store_true", help="run only the CI-sized benchmark cases (marker quick)")
    parser.addoption("--run-slow", action="store_true", help="run the heavy cases on a machine without CUDA too")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--quick"):
        selected = [item for item in items if item.get_closest_marker("quick")]
        config.hook.pytest_deselected(items=[item for item in items if item not in selected])
        items[:] = selected
        return
    if torch.cuda.is_available() or config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="heavy case: runs by default on CUDA machines; pass --run-slow to run it on a CPU")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


CPU_FLAGS = ("amx_tile", "amx_bf16", "amx_int8", "amx_fp16", "avx512f", "avx512_bf16", "avx512_vnni", "avx512_fp16",
             "avx_vnni", "avx2")  # the matrix and vector units the CPU backends' precisions run on


def cpu_flags() -> list:
    """Which of `CPU_FLAGS` this CPU has (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    present = set(line.split(":", 1)[1].split())
                    return [flag for flag in CPU_FLAGS if flag in present]
    except OSError:
        pass
    return []


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except Exception:
        return "not installed"


def hardware_record() -> dict:
    record = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_flags": cpu_flags(),
        "torch": torch.__version__,
        "triton": _version("triton"),
        "onnxruntime": _version("onnxruntime"),
        "tensorrt": _version("tensorrt"),
        "openvino": _version("openvino"),
        "nncf": _version("nncf"),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        record.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                      cuda=torch.version.cuda, sm_count=props.multi_processor_count)
        try:
            import subprocess

            record["driver"] = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                              capture_output=True, text=True, timeout=20).stdout.strip()
        except Exception:
            record["driver"] = "unknown"
    return record


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["munit_fast_hardware"] = hardware_record()


def pytest_benchmark_update_json(config, benchmarks, output_json):
    if not config.getoption("benchmark_save_data", False):
        strip_samples(output_json)
