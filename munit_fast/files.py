"""Files munit-fast writes: atomically, with one-line errors, and guarded against a second run.

- `atomic_open` / `atomic_write_text` / `atomic_write_bytes`: a temporary file beside the
  target, fsync, rename; a crash, a kill or a full disk never leaves a truncated file under the
  final name, and an existing file stays intact until the new one is complete.
- `make_folder` and `check_writable`: fail before the work, with the reason ("disk full",
  "read-only file system", ...), not after it.
- `remove_partial_files`: temporary files a killed run left behind are removed on the next run.
- `RunLock`: an exclusive lock on a run folder; a second run names the process that holds it.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import tempfile
import time
import warnings
from typing import Optional

from .errors import MunitError, os_reason, write_error

PARTIAL_SUFFIX = ".tmp"
# mkstemp's names: "<target name>.<8 random characters>.tmp"
_PARTIAL = re.compile(r"^.+\.[a-z0-9_]{8}\.tmp$")


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_folder(path) -> None:
    """os.makedirs(exist_ok=True) with a one-line error naming the folder and the reason."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return
    if os.path.exists(path):
        raise MunitError(f"cannot write {path}: it is a file, not a folder; choose another output folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise write_error(path, exc) from None


@contextlib.contextmanager
def atomic_open(path):
    """Open a temporary file beside ``path`` for binary writing; on success fsync and rename it
    over ``path`` (with the permissions a plain open() would give), on failure remove it. Any
    OSError (disk full, read-only, permission) becomes one MunitError naming ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    make_folder(folder)
    if os.path.isdir(path):
        raise MunitError(f"cannot write {path}: it is a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=PARTIAL_SUFFIX, dir=folder)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise write_error(path, exc) from None
    except BaseException:
        _remove_quietly(tmp)
        raise


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_writable(path, what: str = "") -> None:
    """Fail now, with the reason, if ``path`` (a file to be written later) cannot be created:
    its folder is made and a probe file written and removed there."""
    path = os.fspath(path)
    label = f"{what} {path}".strip()
    if os.path.isdir(path):
        raise MunitError(f"cannot write {label}: it is a folder; name a file")
    folder = os.path.dirname(os.path.abspath(path))
    make_folder(folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=".munit-fast-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise MunitError(f"cannot write {label}: {os_reason(exc)}") from None


def check_writable_folder(path) -> None:
    """Fail now if files cannot be created in folder ``path`` (made when missing)."""
    make_folder(path)
    check_writable(os.path.join(os.fspath(path), ".munit-fast-probe"))


def remove_partial_files(folder, min_age_s: float = 0.0) -> int:
    """Remove the temporary files of interrupted atomic writes in ``folder`` (not below it) that are
    at least ``min_age_s`` old; returns how many, and warns once when there were any. Folders that
    another run may be writing into right now (no `RunLock`) pass a min_age_s of an hour."""
    folder = os.fspath(folder)
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    now = time.time()
    for name in names:
        full = os.path.join(folder, name)
        if not _PARTIAL.match(name) or not os.path.isfile(full):
            continue
        try:
            if now - os.stat(full).st_mtime >= min_age_s:
                os.unlink(full)
                removed += 1
        except OSError:
            continue
    if removed:
        warnings.warn(f"removed {removed} partial file(s) that an interrupted run left in {folder}", stacklevel=2)
    return removed


class RunLock:
    """An exclusive lock on a run folder (``<folder>/.munit-fast.lock`` holding the owner's PID,
    host and start time). The kernel releases it when the owner exits, however it exits, so a
    lock file left by a killed run is recognised as stale and taken over."""

    NAME = ".munit-fast.lock"

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        self.path = os.path.join(self.folder, self.NAME)
        self._fd: Optional[int] = None

    def __enter__(self) -> "RunLock":
        make_folder(self.folder)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise write_error(self.path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise MunitError(f"{self.folder} is in use by another munit-fast run ({owner}); wait for it to "
                             "finish or stop it, or pass another --output-dir") from None
        except OSError as exc:
            os.close(fd)
            raise write_error(self.path, exc) from None
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {stamp}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the lock
            self._fd = None
