"""Atomic writes and content hashes for exported files (graphs, engines, sidecars, timing caches)."""
from __future__ import annotations

import hashlib

from munit_fast.files import atomic_open


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    with atomic_open(path) as handle:
        handle.write(data)


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
