"""The repository as users get it: a README they read in minutes, and no big files in git
beyond the shipped model assets and the original implementation's reference tensors."""
from __future__ import annotations

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG_FILES_ALLOWED = ("munit_fast/assets/", "tests/data/official_munit/")  # model weights, original references


def test_readme_is_under_12_kb():
    assert os.path.getsize(os.path.join(ROOT, "README.md")) < 12 * 1024


def test_no_tracked_file_over_1_mb_but_model_assets_and_references():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are unknown")
    big = [path for path in listed.stdout.split("\0") if path and os.path.isfile(os.path.join(ROOT, path))
           and os.path.getsize(os.path.join(ROOT, path)) > 2**20 and not path.startswith(BIG_FILES_ALLOWED)]
    assert big == []
