"""``munit-fast`` command line: one subcommand per module in this package.

User errors (`MunitError`) print as one line ``munit-fast: error: ...`` with exit status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from munit_fast import __version__
from munit_fast.errors import MunitError

# Each module has add_parser(subparsers) and run(args) -> int.
SUBCOMMANDS = ["demo", "translate", "video", "train", "export", "eval", "dataset", "bench"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="munit-fast", description="Fast, faithful MUNIT image-to-image translation.")
    parser.add_argument("--version", action="version", version=f"munit-fast {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"munit_fast.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(run=module.run)
    return parser


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings as ``munit-fast: warning: ...``, without Python's source-line echo."""
    return f"munit-fast: warning: {message}\n"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    python_format, warnings.formatwarning = warnings.formatwarning, one_line_warning
    try:
        return int(args.run(args) or 0)
    except MunitError as exc:
        print(f"munit-fast: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("munit-fast: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = python_format


if __name__ == "__main__":
    sys.exit(main())
