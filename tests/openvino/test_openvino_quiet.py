"""A home folder OpenVINO's telemetry cannot write into: its warnings stay off the console, every
other log record still reaches it."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from munit_fast.export.openvino_quiet import without_telemetry_lines
from tests.conftest import SAMPLE_IMAGES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TELEMETRY_LINE = "WARNING:root:"


@pytest.fixture
def unwritable_home(tmp_path):
    """A folder this process cannot write into (root writes anywhere but /proc)."""
    if os.geteuid() == 0:
        home = "/proc/1"
    else:
        home = str(tmp_path / "home")
        os.mkdir(home, 0o500)
    if not os.path.isdir(home) or os.access(home, os.W_OK):
        pytest.skip(f"no unwritable folder to use as HOME here ({home} is writable)")
    return home


# OpenVINO's telemetry stays silent when one of these says it runs in a CI job; users have none
CI_MARKERS = ("CI", "TF_BUILD", "JENKINS_URL")


def run_child(argv, home):
    env = {key: value for key, value in os.environ.items() if key not in CI_MARKERS}
    env.update(HOME=home, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_export_int8_on_a_read_only_home_prints_only_its_own_lines(tmp_path, unwritable_home):
    plain = run_child(["-c", "import openvino"], unwritable_home)
    assert TELEMETRY_LINE in plain.stderr  # the condition is real: the package itself prints them
    out = tmp_path / "ir"
    result = run_child(["-m", "munit_fast", "export", "openvino", "--output", str(out), "--precision", "int8",
                        "--calib", SAMPLE_IMAGES, "--calib-images", "2"], unwritable_home)
    assert result.returncode == 0, result.stderr
    assert TELEMETRY_LINE not in result.stderr and "telemetry" not in result.stderr, result.stderr
    assert len(os.listdir(out)) == 6


def test_other_records_still_print_as_without_the_guard(capsys):
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()  # as in a command that configured no logging (pytest adds its own handlers)
    try:
        with without_telemetry_lines():
            logging.getLogger("munit_fast.test").warning("a warning of another package")
            logging.getLogger("munit_fast.test").info("an info record")
        assert root.handlers == []  # the guard leaves no handler behind, and basicConfig never ran
    finally:
        root.handlers[:] = saved
    printed = capsys.readouterr().err
    assert printed == "a warning of another package\n"
