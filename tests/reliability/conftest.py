"""Helpers of the reliability catalogue: run the command line (in this process, or in a child
process where signals, address-space limits or a real traceback matter), check the promise
("one line, exit 2, never a traceback, nothing lost"), and small file systems (a full disk,
a read-only folder) on tmpfs where this machine lets the tests mount one."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid

import pytest

from munit_fast.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = os.path.join(ROOT, "tests", "data", "official_munit")
CONFIG = os.path.join(REFERENCE, "config.yaml")
CHECKPOINT = os.path.join(REFERENCE, "gen_00000001.pt")
DIS_CHECKPOINT = os.path.join(REFERENCE, "dis_00000001.pt")
IMAGES = os.path.join(ROOT, "tests", "data", "images")
MODEL = ["--config", CONFIG, "--checkpoint", CHECKPOINT]


def run_in_process(capsys, *argv):
    """(exit status, stdout, stderr) of ``munit-fast ARGV`` run through main() here."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_child(*argv, env=None, timeout=120, limit_as=None, **popen):
    """(exit status, stdout, stderr) of ``python -m munit_fast ARGV`` in a child process;
    ``limit_as``: an address-space limit in bytes (RLIMIT_AS), so memory cases cannot take the
    machine down."""
    def limits():
        if limit_as:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    child_env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    result = subprocess.run([sys.executable, "-m", "munit_fast", *argv], capture_output=True, text=True,
                            timeout=timeout, env=child_env, cwd=ROOT, preexec_fn=limits, **popen)
    return result.returncode, result.stdout, result.stderr


def assert_one_line_failure(result, status=2, contains=""):
    """The promise: exit ``status``, no traceback, exactly one ``munit-fast: error:`` line
    (containing ``contains``), every other stderr line the tool's own (``munit-fast...``)."""
    code, _, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("munit-fast: error: ")]
    assert "Traceback" not in err, err
    assert code == status, (code, err)
    assert len(errors) == 1, err
    assert contains in errors[0], (contains, errors[0])
    foreign = [line for line in lines if not line.startswith("munit-fast")]
    assert not foreign, f"lines that are not munit-fast's own: {foreign}"
    return errors[0]


def no_partial_files(folder) -> list:
    """Temporary files of atomic writes still lying in ``folder`` (recursively): must be none."""
    found = []
    for root, _, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if f.endswith(".tmp") or ".partial" in f]
    return found


@contextlib.contextmanager
def small_filesystem(tmp_path, size: str, read_only: bool = False):
    """A tmpfs of ``size`` (e.g. "300k") mounted under tmp_path; skips where mounting is not
    allowed (it needs root, as CI runs)."""
    point = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    point.mkdir()
    options = f"size={size}" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): needs root")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)
