"""The command line's one error boundary: every exception a command lets out becomes one line
``munit-fast: error: ...`` and an exit status, never a traceback (``--debug`` or
MUNIT_FAST_DEBUG=1 shows it instead).

Exit status 2: bad input, an unusable file or folder, too little memory or disk; 1: a failure
munit-fast did not expect (a bug to report); 128 + N: stopped by signal N (130 for Ctrl-C).
"""
from __future__ import annotations

import contextlib
import re
import signal
import threading
from typing import Tuple

from munit_fast.errors import MunitError, os_reason

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP: ``finally`` blocks finalize the
    outputs (a video file is closed and playable) before the command exits with 128 + N."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def signals_interrupt():
    """SIGINT, SIGTERM and SIGHUP raise `Interrupted` for the duration (installed explicitly: a
    command started in the background by a script inherits an ignored SIGINT)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _gib(count: float) -> str:
    return f"{count / 2 ** 30:.1f} GiB" if count >= 2 ** 30 else f"{count / 2 ** 20:.0f} MiB"


def _memory_message(exc: BaseException) -> str:
    text = str(exc)
    asked = re.search(r"tried to allocate (\d+) bytes", text)
    size = ""
    if asked:
        size = f" (an allocation of {_gib(int(asked.group(1)))} failed)"
    else:
        gpu = re.search(r"Tried to allocate ([\d.]+ [KMG]iB)", text)
        size = f" (an allocation of {gpu.group(1)} failed)" if gpu else ""
    return (f"out of memory{size}; lower the image size (new_size, --model-size, --no-resize off), "
            "the number of styles or the batch size")


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower())


def _library_error(exc: BaseException) -> str:
    """Errors of the libraries munit-fast drives, named by library; '' for any other."""
    kind = type(exc)
    module = kind.__module__ or ""
    if module.startswith("cv2") or kind.__name__ == "error" and "cv2" in repr(kind):
        return f"OpenCV: {_first_line(exc)}"
    if module.startswith("onnxruntime"):
        return f"ONNX Runtime: {_first_line(exc)}"
    if module.startswith("google.protobuf") or kind.__name__ == "DecodeError":
        return f"not a valid protobuf (ONNX) file: {_first_line(exc)}"
    if module.startswith("yaml"):
        return f"invalid YAML: {_first_line(exc)}"
    if module.startswith("openvino"):
        return f"OpenVINO: {_first_line(exc)}"
    return ""


def describe(exc: BaseException) -> Tuple[str, int]:
    """(message for ``munit-fast: error: ...``, exit status) of an exception a command raised."""
    if isinstance(exc, MunitError):
        return str(exc), 2
    if isinstance(exc, Interrupted):
        return f"interrupted by {signal.Signals(exc.signum).name}", 128 + exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 128 + signal.SIGINT
    if _is_out_of_memory(exc):
        return _memory_message(exc), 2
    if isinstance(exc, OSError) and exc.errno is not None:
        where = exc.filename if exc.filename is not None else ""
        target = f" {where}" if where else ""
        return f"cannot access{target}: {os_reason(exc)}", 2
    library = _library_error(exc)
    if library:
        return library, 2
    return (f"unexpected {type(exc).__name__}: {_first_line(exc)}; rerun with --debug for the traceback "
            "and report it"), 1
