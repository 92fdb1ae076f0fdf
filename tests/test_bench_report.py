"""munit-fast bench: result files compacted (per-round samples stripped) and still reported."""
from __future__ import annotations

import importlib.util
import json
import pathlib
import types

from munit_fast.cli.bench import strip_samples
from munit_fast.cli.main import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _stats(median: float, rounds: int) -> dict:
    return {"min": median * 0.9, "max": median * 1.2, "mean": median, "stddev": median * 0.05, "rounds": rounds,
            "median": median, "iqr": median * 0.02, "q1": median * 0.99, "q3": median * 1.01, "iqr_outliers": 0,
            "stddev_outliers": 1, "outliers": "1;0", "ld15iqr": median * 0.9, "hd15iqr": median * 1.1,
            "ops": 1 / median, "total": median * rounds, "data": [median] * rounds, "iterations": 1}


def synthetic_results() -> dict:
    """A small pytest-benchmark JSON: two translation backends and one kernel benchmark."""
    hardware = {"cpu": "test CPU", "cpu_count": 2, "cpu_capability": "AVX2", "torch": "2.13.0+cpu"}
    benchmarks = []
    for backend, median, psnr in (("original", 0.2, float("inf")), ("eager-fp32", 0.1, 130.0)):
        benchmarks.append({
            "group": "translate", "name": f"test_translate[{backend}-256x256-K1]",
            "fullname": f"benches/test_bench_translate.py::test_translate[{backend}-256x256-K1]",
            "params": {"backend": backend, "resolution": "256x256", "styles": 1}, "param": f"{backend}-256x256-K1",
            "extra_info": {"backend": backend, "resolution": "256x256", "styles": 1, "psnr_db": psnr,
                           "effective_gflops": 142 / median},
            "options": {"min_rounds": 5}, "stats": _stats(median, 5)})
    benchmarks.append({
        "group": "adain", "name": "test_adain[triton-fwd]",
        "fullname": "benches/test_bench_adain.py::test_adain[triton-fwd]",
        "params": {"backend": "triton"}, "param": "triton-fwd",
        "extra_info": {"op": "adain", "ms_per_call": 0.004, "GB/s": 3500.0}, "options": {}, "stats": _stats(0.08, 250)})
    return {"machine_info": {"cpu": {"brand_raw": "test CPU"}, "munit_fast_hardware": hardware},
            "commit_info": {"id": "0" * 40, "branch": "main"}, "benchmarks": benchmarks,
            "datetime": "2026-01-01T00:00:00", "version": "5.3.1"}


def test_strip_samples_keeps_everything_but_the_rounds():
    original = synthetic_results()
    stripped = strip_samples(synthetic_results())
    assert stripped["machine_info"] == original["machine_info"]
    assert stripped["commit_info"] == original["commit_info"]
    for before, after in zip(original["benchmarks"], stripped["benchmarks"]):
        assert "data" not in after["stats"]
        assert after["stats"] == {k: v for k, v in before["stats"].items() if k != "data"}
        assert {k: v for k, v in after.items() if k != "stats"} == {k: v for k, v in before.items() if k != "stats"}


def test_compact_rewrites_the_file_and_report_reads_it(tmp_path, capsys):
    path = tmp_path / "cpu.json"
    path.write_text(json.dumps(synthetic_results(), indent=4))
    assert main(["bench", "--report", str(path)]) == 0
    report_before = capsys.readouterr().out
    assert main(["bench", "--compact", str(path)]) == 0
    assert "per-round samples removed" in capsys.readouterr().err
    data = json.loads(path.read_text())
    assert all("data" not in bench["stats"] and bench["stats"]["rounds"] > 0 for bench in data["benchmarks"])
    assert data["benchmarks"][0]["extra_info"]["psnr_db"] == float("inf")
    assert main(["bench", "--report", str(path)]) == 0
    report_after = capsys.readouterr().out
    assert report_after == report_before
    assert "| 256x256 | 1 | eager-fp32 | 100.0 | 2.00x |" in report_after
    assert "test_adain[triton-fwd]" in report_after


def test_bench_needs_an_action(capsys):
    assert main(["bench"]) == 2
    assert "--report FILE or --compact FILE" in capsys.readouterr().err


def test_benchmark_suite_saves_without_samples():
    spec = importlib.util.spec_from_file_location("benches_conftest", ROOT / "benches" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    for save_data, kept in ((False, False), (True, True)):
        config = types.SimpleNamespace(getoption=lambda name, default=None, value=save_data: value)
        output = synthetic_results()
        conftest.pytest_benchmark_update_json(config=config, benchmarks=[], output_json=output)
        assert all(("data" in bench["stats"]) is kept for bench in output["benchmarks"])
