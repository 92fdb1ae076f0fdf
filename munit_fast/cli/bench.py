"""``munit-fast bench``: pytest-benchmark JSON as markdown tables, and compact result files.

``--report FILE.json``: translation results (benches/test_bench_translate.py) become one row per
backend with the speed-up over the "original" baseline of the same resolution and number of
styles, measured in the same run; every other benchmark is listed with its median and its
recorded figures.

``--compact FILE.json``: the file rewritten without pytest-benchmark's per-round samples
(``stats.data``), keeping machine_info, commit_info and every benchmark's name, params,
extra_info and summary statistics. benches/conftest.py applies the same `strip_samples` to every
JSON the benchmark suite saves.
"""
from __future__ import annotations

import json
import os
import sys
from collections import defaultdict

from munit_fast.errors import MunitError
from munit_fast.files import atomic_write_text

FIGURES = ("ms_per_call", "host_ms_per_call", "us_per_call", "GB/s", "images/s", "images_per_s", "gflop_per_s",
           "effective_gflops", "model_fps", "pipeline_fps", "pipeline_over_model", "grid_over_singles",
           "kernel_us_total", "norm_kernel_us", "norm_share", "max_abs_error", "max_abs_error_vs_fp32_ref", "psnr_db")
# pytest-benchmark's per-round samples in each benchmark's stats; the summary statistics
# (min, max, mean, stddev, median, iqr, q1, q3, outliers, rounds, iterations, ops, total) stay.
RAW_SAMPLES = ("data",)


def add_parser(subparsers):
    p = subparsers.add_parser("bench", help="benchmark JSON as markdown tables; compact result files")
    p.add_argument("--report", nargs="+", metavar="FILE", help="pytest-benchmark JSON file(s) (--benchmark-json)")
    p.add_argument("--compact", nargs="+", metavar="FILE",
                   help="rewrite pytest-benchmark JSON file(s) in place without the per-round samples "
                        "(stats.data); summary statistics, extra_info and machine_info stay (runs before --report)")
    return p


def _load(path: str) -> dict:
    if not os.path.isfile(path):
        raise MunitError(f"benchmark file not found: {path}; write one with pytest benches/ --benchmark-json FILE")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MunitError(f"{path} is not pytest-benchmark JSON ({exc})") from None
    if "benchmarks" not in data:
        raise MunitError(f"{path} is not pytest-benchmark JSON (no 'benchmarks' list)")
    return data


def strip_samples(data: dict) -> dict:
    """Remove the per-round samples from pytest-benchmark JSON ``data`` (in place) and return it."""
    for bench in data.get("benchmarks", []):
        stats = bench.get("stats")
        if isinstance(stats, dict):
            for key in RAW_SAMPLES:
                stats.pop(key, None)
    return data


def compact(path: str) -> str:
    """Rewrite ``path`` (atomically) without its per-round samples; returns a line saying what changed."""
    before = os.path.getsize(path) if os.path.isfile(path) else 0
    data = strip_samples(_load(path))
    atomic_write_text(path, json.dumps(data, ensure_ascii=True, indent=4) + "\n")
    return (f"{path}: {before} -> {os.path.getsize(path)} bytes, {len(data['benchmarks'])} benchmarks, "
            "per-round samples removed")


def machine_line(data: dict) -> str:
    hw = data.get("machine_info", {}).get("munit_fast_hardware", {})
    device = hw.get("gpu") or f"{hw.get('cpu', data.get('machine_info', {}).get('cpu', {}).get('brand_raw', '?'))}"
    parts = [device]
    if hw.get("gpu"):
        parts.append(f"driver {hw.get('driver', '?')}, CUDA {hw.get('cuda', '?')}")
    else:
        parts.append(f"{hw.get('cpu_count', '?')} cores ({hw.get('cpu_capability', '?')})")
    parts.append(f"torch {hw.get('torch', '?')}")
    return ", ".join(parts)


def translate_table(benchmarks) -> str:
    groups = defaultdict(dict)
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if "backend" in info and "resolution" in info and "styles" in info:
            groups[(info["resolution"], info["styles"])][info["backend"]] = bench
    if not groups:
        return ""
    lines = ["| resolution | styles | backend | median ms | speed-up vs original | GFLOP/s (effective) | PSNR dB |",
             "|---|---|---|---|---|---|---|"]

    def order(key):
        h, w = (int(v) for v in key[0].split("x"))
        return h * w, key[1]

    for key in sorted(groups, key=order):
        rows = groups[key]
        baseline = rows.get("original", {}).get("stats", {}).get("median")
        for backend, bench in sorted(rows.items(), key=lambda item: item[1]["stats"]["median"]):
            median = bench["stats"]["median"]
            info = bench["extra_info"]
            ratio = f"{baseline / median:.2f}x" if baseline else "n/a"
            psnr = info.get("psnr_db")
            lines.append(f"| {key[0]} | {key[1]} | {backend} | {median * 1e3:.1f} | {ratio} | "
                         f"{info.get('effective_gflops', 0):.0f} | {'exact' if psnr == float('inf') else psnr} |")
    return "\n".join(lines)


def other_table(benchmarks) -> str:
    rows = [b for b in benchmarks if not {"backend", "resolution", "styles"} <= set(b.get("extra_info", {}))]
    if not rows:
        return ""
    lines = ["| benchmark | median ms per round | figures |", "|---|---|---|"]
    for bench in rows:
        info = bench.get("extra_info", {})
        figures = ", ".join(f"{k} {info[k]:.4g}" for k in FIGURES if isinstance(info.get(k), (int, float)))
        lines.append(f"| {bench['name']} | {bench['stats']['median'] * 1e3:.3f} | {figures} |")
    return "\n".join(lines)


def report(path: str) -> str:
    data = _load(path)
    parts = [f"**{os.path.basename(path)}** ({machine_line(data)}; medians of pytest-benchmark rounds)"]
    for table in (translate_table(data["benchmarks"]), other_table(data["benchmarks"])):
        if table:
            parts.append(table)
    return "\n\n".join(parts)


def run(args) -> int:
    if not args.report and not args.compact:
        raise MunitError("munit-fast bench needs --report FILE or --compact FILE (see munit-fast bench --help)")
    for path in args.compact or ():
        print(compact(path), file=sys.stderr)
    if args.report:
        print("\n\n".join(report(path) for path in args.report))
    return 0
