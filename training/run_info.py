"""``run.json`` in a training folder: the command that started the run, for the model card."""
from __future__ import annotations

import json
import os
import shlex

from munit_fast import __version__
from munit_fast.files import atomic_write_text

RUN_INFO = "run.json"


def command_line(argv) -> str:
    """``munit-fast ARGV`` as a shell would take it."""
    return " ".join(["munit-fast", *(shlex.quote(a) for a in argv)])


def write_run_info(folder: str, command: str) -> None:
    atomic_write_text(os.path.join(folder, RUN_INFO), json.dumps({"command": command, "munit_fast": __version__}))


def read_run_command(folder: str) -> str:
    try:
        with open(os.path.join(folder, RUN_INFO), encoding="utf-8") as handle:
            return str(json.load(handle)["command"])
    except (OSError, ValueError, KeyError):
        return "munit-fast train --config config.yaml"
