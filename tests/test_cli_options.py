"""The runtime options are defined once: every command that runs a model shows them with the same
text, and `munit-fast --help` lists every command."""
from __future__ import annotations

import re

import pytest

from munit_fast.cli.main import SUBCOMMANDS, build_parser

SHARED = ["--config", "--checkpoint", "--model", "--direction", "--backend", "--precision", "--device",
          "--channels-last", "--cuda-graphs", "--onnx-dir", "--engine-dir"]
COMMANDS = ["translate", "video", "eval"]


def _help(argv):
    parser = build_parser()
    for action in parser._subparsers._group_actions:  # the subcommand parsers
        sub = action.choices[argv[0]]
        return sub.format_help() if len(argv) == 1 else sub._subparsers._group_actions[0].choices[argv[1]].format_help()
    raise AssertionError(argv)


def _option_block(text: str, option: str) -> str:
    """The help entry of one option: its line and the indented lines under it, whitespace folded."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s+{re.escape(option)}\b", line))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if re.match(r"\s{3,}-", line) or not line.startswith("      "):
            break
        block.append(line)
    return " ".join(" ".join(block).split())


@pytest.mark.parametrize("option", SHARED)
def test_shared_options_read_the_same_everywhere(option):
    texts = {command: _option_block(_help([command]), option) for command in COMMANDS}
    assert all(text.startswith(option) and len(text) > len(option) + 10 for text in texts.values()), texts
    assert len(set(texts.values())) == 1, texts


def test_export_check_shares_the_model_options():
    check = _help(["export", "check"])
    for option in ("--config", "--checkpoint", "--model"):
        assert _option_block(check, option) == _option_block(_help(["translate"]), option)


def test_top_level_help_lists_every_command(capsys):
    text = build_parser().format_help()
    for command in SUBCOMMANDS:
        assert command in text
