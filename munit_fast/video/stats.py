"""Per-stage latency and throughput of a video run: frames, dropped frames, mean/p50/p95/p99
milliseconds per stage, end-to-end latency and achieved fps; printed at the end and saved
with ``--stats FILE.json``."""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque

import numpy as np

from munit_fast.files import atomic_write_text

STAGES = ("capture", "preprocess", "inference", "output", "latency")


class RunStats:
    def __init__(self):
        self._times = defaultdict(list)
        self._lock = threading.Lock()
        self.frames_in = 0
        self.frames_out = 0
        self.dropped = 0
        self.start = time.perf_counter()
        self.end = None
        self._output_times = deque(maxlen=30)

    def record(self, stage: str, seconds: float) -> None:
        with self._lock:
            self._times[stage].append(seconds * 1000.0)

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + n)

    def mark_output(self) -> None:
        with self._lock:
            self._output_times.append(time.perf_counter())

    def recent_fps(self) -> float:
        """Output rate over the last frames, for the overlay."""
        with self._lock:
            times = list(self._output_times)
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0

    def finish(self) -> None:
        self.end = time.perf_counter()

    def summary(self) -> dict:
        with self._lock:
            elapsed = (self.end or time.perf_counter()) - self.start
            stages = {}
            for stage in STAGES:
                values = np.asarray(self._times.get(stage, []), dtype=np.float64)
                if values.size:
                    p50, p95, p99 = np.percentile(values, [50, 95, 99])
                    stages[stage] = {"count": int(values.size), "mean_ms": float(values.mean()), "p50_ms": float(p50),
                                     "p95_ms": float(p95), "p99_ms": float(p99)}
            return {"frames_in": self.frames_in, "frames_out": self.frames_out, "dropped": self.dropped,
                    "seconds": elapsed, "fps": self.frames_out / elapsed if elapsed > 0 else 0.0, "stages_ms": stages}


def format_summary(summary: dict) -> str:
    lines = [f"frames: {summary['frames_out']} out of {summary['frames_in']} captured, {summary['dropped']} dropped; "
             f"{summary['fps']:.1f} fps over {summary['seconds']:.2f} s",
             f"{'stage':<12}{'mean':>9}{'p50':>9}{'p95':>9}{'p99':>9}  (ms)"]
    for stage, s in summary["stages_ms"].items():
        lines.append(f"{stage:<12}{s['mean_ms']:>9.2f}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}{s['p99_ms']:>9.2f}")
    return "\n".join(lines)


def save_summary(path: str, summary: dict) -> None:
    """Write the summary as JSON atomically."""
    atomic_write_text(path, json.dumps(summary, indent=2))
