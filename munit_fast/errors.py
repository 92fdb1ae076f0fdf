"""The one exception type a user sees as a one-line message instead of a traceback, and the
wording of the operating-system errors that end up in such a line."""
from __future__ import annotations

import errno
import os


class MunitError(Exception):
    """A problem with the user's input (file, key, shape or value) that names what is wrong
    and how to fix it. The CLI prints it as one line and exits non-zero."""


_REASONS = {
    errno.ENOSPC: "disk full (no space left on device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted (immutable file or folder?)",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.EEXIST: "a file of that name already exists",
    errno.ENAMETOOLONG: "file name too long",
}


def os_reason(exc: OSError) -> str:
    """A short, plain reason for an OSError ("disk full", "read-only file system", ...)."""
    return _REASONS.get(exc.errno, exc.strerror or str(exc) or type(exc).__name__)


def write_error(path, exc: OSError) -> MunitError:
    """The one-line error for a failed write of ``path``."""
    return MunitError(f"cannot write {os.fspath(path)}: {os_reason(exc)}")
