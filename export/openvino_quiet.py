"""Keeps OpenVINO's telemetry package off the console.

``openvino_telemetry`` (imported by ``openvino`` and ``nncf``, and run again by every
``convert_model`` and ``nncf.quantize``) reports its own troubles, such as a home folder it cannot
write its consent file into, through the module-level ``logging.warning``. In a process that set up
no logging that call installs a stderr handler on the root logger (``logging.basicConfig``), so a
command on a read-only home printed ``WARNING:root:...`` lines before its result, and every later
root record too. Inside `without_telemetry_lines` the root logger has a handler of its own, so
``basicConfig`` is not called; it drops the telemetry package's records and prints every other one
exactly as Python would have without it (``logging.lastResort``, WARNING and above).
"""
from __future__ import annotations

import contextlib
import logging
import os

TELEMETRY_PACKAGE = "openvino_telemetry"


def is_telemetry_record(record: logging.LogRecord) -> bool:
    return TELEMETRY_PACKAGE in os.path.normpath(record.pathname).split(os.sep)


def _handled_below_root(record: logging.LogRecord) -> bool:
    """Whether a logger between the record's own and the root has a handler (then Python would not
    have used its last-resort handler)."""
    logger = logging.getLogger(record.name)
    while logger is not None and logger is not logging.root:
        if logger.handlers:
            return True
        logger = logger.parent
    return False


class _LastResortWithoutTelemetry(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if is_telemetry_record(record) or _handled_below_root(record):
            return
        last_resort = logging.lastResort
        if last_resort is not None and record.levelno >= last_resort.level:
            last_resort.handle(record)


@contextlib.contextmanager
def without_telemetry_lines():
    """Run OpenVINO or NNCF code without the telemetry package's log lines; does nothing when the
    application configured the root logger itself (its handlers then decide)."""
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    handler = _LastResortWithoutTelemetry()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
