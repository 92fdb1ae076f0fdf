"""``munit-fast`` command line: one subcommand per module in this package.

Every failure ends as one line ``munit-fast: error: ...`` (see `boundary`); warnings print as
``munit-fast: warning: ...``. ``--debug`` (or MUNIT_FAST_DEBUG=1) shows tracebacks instead.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from munit_fast import __version__

from .boundary import describe, signals_interrupt

# Each module has add_parser(subparsers) and run(args) -> int.
SUBCOMMANDS = ["demo", "translate", "video", "train", "export", "export-model", "eval", "convert", "dataset", "bench"]


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``munit-fast: error: ... (see munit-fast translate --help)``."""

    def error(self, message):
        self.exit(2, f"munit-fast: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="munit-fast", description="Fast, faithful MUNIT image-to-image translation.")
    parser.add_argument("--version", action="version", version=f"munit-fast {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"munit_fast.cli.{name.replace('-', '_')}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(run=module.run)
    return parser


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings as ``munit-fast: warning: ...``, without Python's source-line echo."""
    return f"munit-fast: warning: {message}\n"


def main(argv=None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed in one line
        return int(stop.code or 0)
    args.argv = argv  # what was typed, for records such as a training run's model card
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("MUNIT_FAST_DEBUG", "") not in ("", "0")
    if not debug:  # FFmpeg's own lines ("moov atom not found") would come before the one-line error
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET, read when OpenCV opens FFmpeg
    python_format, warnings.formatwarning = warnings.formatwarning, one_line_warning
    try:
        with signals_interrupt():
            return int(args.run(args) or 0)
    except BaseException as exc:  # the one error boundary: SystemExit passes through unchanged
        if isinstance(exc, SystemExit) or (debug and not isinstance(exc, KeyboardInterrupt)):
            raise
        if isinstance(exc, BrokenPipeError):  # output piped into a program that stopped reading
            return 1
        message, status = describe(exc)
        print(f"munit-fast: error: {message}", file=sys.stderr)
        return status
    finally:
        warnings.formatwarning = python_format


if __name__ == "__main__":
    sys.exit(main())
