"""What this machine can allocate or store, checked before a big request is made.

A request larger than the memory available (the system's MemAvailable, the process's address
space limit, a CUDA device's free memory) is refused with one line naming the size, the limit
and the option that changes it, instead of failing half-way or taking the machine down.
"""
from __future__ import annotations

import os
import resource
from typing import Optional

from .errors import MunitError


def _meminfo_available() -> Optional[int]:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _address_space_left() -> Optional[int]:
    """The address-space limit (ulimit -v / RLIMIT_AS) minus what this process already maps."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return max(0, soft - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        return soft
    return soft


def available_bytes(device: str = "cpu") -> Optional[int]:
    """Bytes this process can still allocate on ``device`` ("cpu" or "cuda[:N]"), None if unknown."""
    if str(device).startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
        return None
    limits = [v for v in (_meminfo_available(), _address_space_left()) if v is not None]
    if os.environ.get("MUNIT_FAST_MEMORY_LIMIT"):  # bytes; for tests and shared machines
        limits.append(int(os.environ["MUNIT_FAST_MEMORY_LIMIT"]))
    return min(limits) if limits else None


def human_bytes(count: float) -> str:
    for unit, size in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count / 2 ** 10:.0f} KiB"


def check_fits(needed: int, what: str, hint: str, device: str = "cpu") -> None:
    """Raise one line when ``needed`` bytes exceed what ``device`` can allocate now."""
    available = available_bytes(device)
    if available is not None and needed > available:
        raise MunitError(f"{what} would take about {human_bytes(needed)} of memory, more than the "
                         f"{human_bytes(available)} available on {device}; {hint}")


def check_disk_space(folder: str, needed: int, what: str, hint: str) -> None:
    """Raise one line when ``needed`` bytes (``what``) exceed the free space of ``folder``."""
    import shutil

    free = shutil.disk_usage(folder).free
    if needed > free:
        raise MunitError(f"{what} would need about {human_bytes(needed)} in {folder}, which has "
                         f"{human_bytes(free)} free; {hint}")
