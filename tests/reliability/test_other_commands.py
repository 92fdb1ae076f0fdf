"""export, eval, dataset and the error boundary itself: one line, exit 2, before any work."""
from __future__ import annotations

import pytest
import torch

from munit_fast.checkpoint import load_file

from .conftest import CHECKPOINT, CONFIG, MODEL, assert_one_line_failure, run_child, run_in_process


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    from munit_fast.cli.main import main

    folder = tmp_path_factory.mktemp("graphs")
    assert main(["export", "onnx", *MODEL, "--output", str(folder), "--parts", "decoder"]) == 0
    return str(folder / "munit_a2b_decoder_fp32.onnx")


def test_export_check_refuses_a_graph_of_another_model(capsys, tmp_path, graph):
    other = tmp_path / "style2.yaml"
    other.write_text(open(CONFIG).read().replace("style_dim: 8", "style_dim: 2"))
    state = load_file(CHECKPOINT)
    for domain in "ab":  # a checkpoint of that model: style_dim 2
        model = state[domain]
        model["enc_style.model.6.weight"] = model["enc_style.model.6.weight"][:2]
        model["enc_style.model.6.bias"] = model["enc_style.model.6.bias"][:2]
        model["mlp.model.0.fc.weight"] = model["mlp.model.0.fc.weight"][:, :2]
    torch.save(state, tmp_path / "style2.pt")
    result = run_in_process(capsys, "export", "check", "--onnx", graph, "--config", str(other),
                            "--checkpoint", str(tmp_path / "style2.pt"))
    assert_one_line_failure(result, contains="style_dim='8', this config and direction need '2'")


@pytest.mark.parametrize("content", [b"", b"\x08\x07garbage that is not protobuf" * 10, None],
                         ids=["empty", "random", "truncated"])
def test_export_check_refuses_unreadable_graphs(capsys, tmp_path, graph, content):
    path = tmp_path / "bad.onnx"
    data = open(graph, "rb").read()
    path.write_bytes(content if content is not None else data[: len(data) // 2])
    result = run_in_process(capsys, "export", "check", "--onnx", str(path), *MODEL)
    assert_one_line_failure(result, contains="bad.onnx")


@pytest.mark.parametrize("argv, message", [
    (["export", "onnx", *MODEL, "--output", "{tmp}/out", "--opset", "999"], "argument --opset"),
    (["export", "onnx", *MODEL, "--output", "{file}"], "is a file, not a folder"),
    (["export", "check", "--onnx", "{graph}", *MODEL, "--size", "0x0"], "--size '0x0'"),
    (["export", "check", "--onnx", "{graph}", *MODEL, "--size", "100000x100000"], "--size '100000x100000'"),
    (["eval", *MODEL, "--json", "/proc/munit-fast.json"], "cannot write --json /proc/munit-fast.json"),
    (["eval", *MODEL, "--sheet", "{tmp}"], "cannot write --sheet"),
    (["dataset", "synth", "--out", "{file}"], "is a file, not a folder"),
    (["dataset", "classifier", "--out", "/proc/classifier.pt"], "cannot write --out /proc/classifier.pt"),
    (["export", "trt", "--onnx", "{graph}", "--output", "/proc/engine.plan"], "cannot write --output"),
])
def test_destinations_are_checked_before_the_work(capsys, tmp_path, graph, argv, message):
    (tmp_path / "file").write_text("x")
    argv = [a.format(tmp=tmp_path, file=tmp_path / "file", graph=graph) for a in argv]
    assert_one_line_failure(run_in_process(capsys, *argv), contains=message)


@pytest.mark.parametrize("argv, message", [
    (["translate", "--config", "{empty}", "--checkpoint", CHECKPOINT, "--input", "{empty}", "--output", "{tmp}/o"],
     "config {empty} is empty (or only comments)"),
    (["export-model", "--run", "{tmp}/no-run", "--output", "{tmp}/model"], "--run {tmp}/no-run: no such folder"),
    (["eval", *MODEL, "--classifier", "{tmp}/none.pt", "--num-inputs", "1"],
     "mode classifier not found: {tmp}/none.pt"),
    # refused before the first image is rendered
    (["dataset", "synth", "--out", "{tmp}/ds", "--count", "1000000000", "--size", "1024"],
     "2000000800 images of 1024x1024 would need about"),
    (["dataset", "classifier", "--out", "{tmp}/c.pt", "--count", "1000000000"],
     "--count 1000000000 shapes images of 64x64 would take about"),
])
def test_missing_empty_or_huge_sources_are_named(capsys, tmp_path, argv, message):
    (tmp_path / "empty.yaml").write_text("# nothing but a comment\n")
    fields = {"tmp": tmp_path, "empty": tmp_path / "empty.yaml"}
    argv = [a.format(**fields) for a in argv]
    assert_one_line_failure(run_in_process(capsys, *argv), contains=message.format(**fields))


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    import munit_fast.cli.translate as translate

    def broken(args):
        raise ValueError("a bug")

    monkeypatch.setattr(translate, "run", broken)
    result = run_in_process(capsys, "translate", "--input", "x", "--output", "y")
    assert_one_line_failure(result, status=1, contains="unexpected ValueError: a bug; rerun with --debug")
    with pytest.raises(ValueError, match="a bug"):
        run_in_process(capsys, "--debug", "translate", "--input", "x", "--output", "y")


def test_usage_errors_are_one_line_with_a_hint(capsys):
    result = run_in_process(capsys, "translate", "--input", "x")
    assert_one_line_failure(result, contains="(see munit-fast translate --help)")


def test_a_traceback_never_reaches_a_real_terminal(tmp_path):
    """In a child process: a missing camera, through the whole CLI (OpenCV probe noise included)."""
    result = run_child("video", *MODEL, "--input", "cam97", "--headless", "--device", "cpu")
    assert_one_line_failure(result, contains="cannot open camera 97")
