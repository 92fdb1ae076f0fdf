"""munit-fast translate against bad inputs, bad places and faults: one line, exit 2, nothing lost."""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from munit_fast.checkpoint import load_file

from .conftest import (
    CHECKPOINT,
    CONFIG,
    IMAGES,
    MODEL,
    ROOT,
    assert_one_line_failure,
    no_partial_files,
    run_child,
    run_in_process,
    small_filesystem,
)

EDGE = os.path.join(IMAGES, "edges2shoes_edge.jpg")


def translate(capsys, *argv):
    return run_in_process(capsys, "translate", *MODEL, *argv)


def _bomb_png(path, side=65535):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return path


def _truncated_jpeg(path):
    data = open(EDGE, "rb").read()
    path.write_bytes(data[: len(data) // 3])
    return path


def _bad_files(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    not_utf8 = tmp_path / "latin1.yaml"
    not_utf8.write_bytes(open(CONFIG, "rb").read() + "\n# caf\xe9\n".encode("latin-1"))
    odd_state = tmp_path / "odd.pt"
    state = load_file(CHECKPOINT)
    state["a"]["mlp.model.0.fc.bias"] = "not a tensor"
    torch.save(state, odd_state)
    return {"fifo": fifo, "empty": empty, "not_utf8": not_utf8, "odd_state": odd_state,
            "bomb": _bomb_png(tmp_path / "bomb.png"), "truncated": _truncated_jpeg(tmp_path / "cut.jpg")}


CASES = {  # name: (arguments after the model, words the one error line contains)
    "output is a file": (["--input", EDGE, "--output", "{file}"], "is a file, not a folder"),
    "output under /proc": (["--input", EDGE, "--output", "/proc/munit-fast-out"], "cannot write /proc/munit-fast-out"),
    "truncated jpeg": (["--input", "{truncated}", "--output", "{out}"], "cut.jpg: truncated or corrupt"),
    "fifo input": (["--input", "{fifo}", "--output", "{out}"], "not a regular file"),
    "decompression bomb": (["--input", "{bomb}", "--output", "{out}"], "bomb.png"),
    "empty npy": (["--input", EDGE, "--output", "{out}", "--style-codes", "{empty}"], "cannot read style codes"),
    "seed below 0": (["--input", EDGE, "--output", "{out}", "--seed", "-1"], "argument --seed"),
    "seed above 2^63-1": (["--input", EDGE, "--output", "{out}", "--seed", str(2 ** 63)], "argument --seed"),
    "zero styles": (["--input", EDGE, "--output", "{out}", "--num-styles", "0"], "argument --num-styles"),
    "unknown option": (["--input", EDGE, "--output", "{out}", "--colour", "red"], "unrecognized arguments"),
    # refused before a code is drawn: drawing them took all memory
    "10^8 styles": (["--input", EDGE, "--output", "{out}", "--num-styles", "100000000"],
                    "100000001 pictures of 256x256 would need about"),
    "10^8 original styles": (["--input", EDGE, "--output", "{out}", "--num-styles", "100000000", "--seed-compat",
                              "original"], "100000001 pictures of 256x256 would need about"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line(capsys, tmp_path, name):
    files = _bad_files(tmp_path)
    (tmp_path / "file").write_text("x")
    argv, message = CASES[name]
    values = {k: str(v) for k, v in files.items()}
    values.update(file=str(tmp_path / "file"), out=str(tmp_path / "out"))
    argv = [a.format(**values) for a in argv]
    assert_one_line_failure(translate(capsys, *argv), contains=message)
    assert not os.path.exists(tmp_path / "out" / "styles.npy")  # nothing half-done is left behind


def test_config_and_checkpoint_faults(capsys, tmp_path):
    files = _bad_files(tmp_path)
    out = str(tmp_path / "out")
    result = run_in_process(capsys, "translate", "--config", str(files["not_utf8"]), "--checkpoint", CHECKPOINT,
                            "--input", EDGE, "--output", out)
    assert_one_line_failure(result, contains="is not UTF-8 text")
    result = run_in_process(capsys, "translate", "--config", CONFIG, "--checkpoint", str(files["odd_state"]),
                            "--input", EDGE, "--output", out)
    assert_one_line_failure(result, contains="mlp.model.0.fc.bias holds a str")


def test_read_only_folder(capsys, tmp_path):
    with small_filesystem(tmp_path, "1m", read_only=True) as folder:
        assert_one_line_failure(translate(capsys, "--input", EDGE, "--output", str(folder / "out")),
                                contains="read-only file system")


@pytest.mark.parametrize("size, message", [
    ("96k", "free disk space"),  # too small for even one image's pictures: refused before translating
    ("600k", "disk full"),  # room for one image's estimate, filled while writing
])
def test_full_disk_leaves_only_complete_files(capsys, tmp_path, size, message):
    with small_filesystem(tmp_path, size) as folder:
        out = folder / "out"
        result = translate(capsys, "--input", IMAGES, "--output", str(out), "--num-styles", "8")
        assert_one_line_failure(result, contains=message)
        assert no_partial_files(folder) == []
        assert not (out / "styles.npy").exists()
        for name in os.listdir(out):  # everything that was written is a complete picture
            Image.open(out / name).load()


def test_a_bad_file_stops_the_folder_unless_skip_bad(capsys, tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    _truncated_jpeg(folder / "a_cut.jpg")
    for name in ("b.jpg", "c.jpg"):
        Image.open(EDGE).save(folder / name)
    stopped = translate(capsys, "--input", str(folder), "--output", str(tmp_path / "stop"))
    assert_one_line_failure(stopped, contains="a_cut.jpg")
    assert not (tmp_path / "stop" / "styles.npy").exists()
    code, out, err = translate(capsys, "--input", str(folder), "--output", str(tmp_path / "skip"), "--skip-bad")
    assert code == 1 and "Traceback" not in err
    assert "1 of 3 input(s) could not be translated" in err and "a_cut.jpg" in err
    written = sorted(os.listdir(tmp_path / "skip"))
    assert written == ["b_grid.jpg", "b_style000.png", "c_grid.jpg", "c_style000.png", "styles.npy"]


def test_nan_weights_and_huge_codes_warn(tmp_path):
    state = load_file(CHECKPOINT)
    key = "dec.model.5.conv.weight"  # the last convolution
    state["b"][key] = torch.full_like(state["b"][key], float("nan"))
    torch.save(state, tmp_path / "nan.pt")
    code, _, err = run_child("translate", "--config", CONFIG, "--checkpoint", str(tmp_path / "nan.pt"),
                             "--input", EDGE, "--output", str(tmp_path / "a"))
    assert code == 0 and "Traceback" not in err
    assert f"holds NaN or Inf values in 1 tensor(s) (first: {key})" in err and "hold NaN or Inf values" in err
    np.save(tmp_path / "huge.npy", np.full((1, 8), 1e30, np.float32))
    code, _, err = run_child("translate", *MODEL, "--input", EDGE, "--output", str(tmp_path / "b"), "--style-codes",
                             str(tmp_path / "huge.npy"))
    assert code == 0 and ("clipped everywhere" in err or "hold NaN or Inf" in err), err


def test_styles_are_decoded_in_passes_when_memory_is_short(capsys, tmp_path, monkeypatch):
    """A request bigger than memory runs in passes of styles, with the same pictures."""
    args = ["--input", EDGE, "--num-styles", "6", "--output-only"]
    assert translate(capsys, *args, "--output", str(tmp_path / "one"))[0] == 0
    from munit_fast.runtime.translator import Translator

    passes = []
    real = Translator.translate_in_passes

    def record(self, image, styles, per_pass, pad=True):
        passes.append(per_pass)
        return real(self, image, styles, per_pass, pad)

    monkeypatch.setattr(Translator, "translate_in_passes", record)
    # room for the model and about two styles of a 256x256 translation at a time
    monkeypatch.setenv("MUNIT_FAST_MEMORY_LIMIT", str(40 * 2 ** 20))
    assert translate(capsys, *args, "--output", str(tmp_path / "passes"))[0] == 0
    assert passes and passes[0] < 6
    # the same pictures up to rounding: the CPU's convolution kernels may depend on the batch size,
    # and an fp32 difference near 1e-6 can move a pixel that lies on a rounding boundary by one level
    for k in range(6):
        name = f"edges2shoes_edge_style{k:03d}.png"
        whole = np.asarray(Image.open(tmp_path / "one" / name)).astype(np.int16)
        in_passes = np.asarray(Image.open(tmp_path / "passes" / name)).astype(np.int16)
        difference = np.abs(whole - in_passes)
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-3, (name, difference.max())


def test_an_image_too_big_for_memory_is_refused_naming_the_option(capsys, tmp_path, monkeypatch):
    Image.new("RGB", (3000, 2000), "white").save(tmp_path / "big.png")
    monkeypatch.setenv("MUNIT_FAST_MEMORY_LIMIT", str(64 * 2 ** 20))
    result = translate(capsys, "--input", str(tmp_path / "big.png"), "--output", str(tmp_path / "out"), "--no-resize")
    assert_one_line_failure(result, contains="drop --no-resize")


def test_address_space_limit_gives_one_line(tmp_path):
    """A real allocation failure (RLIMIT_AS in a child): one line, exit 2, no traceback."""
    Image.new("RGB", (4000, 4000), "white").save(tmp_path / "big.png")
    result = run_child("translate", *MODEL, "--input", str(tmp_path / "big.png"), "--output", str(tmp_path / "out"),
                       "--no-resize", limit_as=3 * 2 ** 30, timeout=300)
    assert_one_line_failure(result, contains="memory")


def test_onnx_graphs_of_another_checkpoint_are_refused(capsys, tmp_path):
    other = load_file(CHECKPOINT)
    for domain in "ab":
        other[domain] = {k: v + 0.01 if v.is_floating_point() else v for k, v in other[domain].items()}
    torch.save(other, tmp_path / "other.pt")
    graphs = str(tmp_path / "graphs")
    assert run_in_process(capsys, "translate", "--config", CONFIG, "--checkpoint", str(tmp_path / "other.pt"),
                          "--input", EDGE, "--output", str(tmp_path / "a"), "--backend", "onnx",
                          "--onnx-dir", graphs)[0] == 0
    result = translate(capsys, "--input", EDGE, "--output", str(tmp_path / "b"), "--backend", "onnx",
                       "--onnx-dir", graphs)
    assert_one_line_failure(result, contains="was exported from other weights")


def test_sigterm_leaves_no_partial_files(tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    for i in range(40):
        Image.open(EDGE).save(folder / f"{i:02d}.png")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "munit_fast", "translate", *MODEL, "--input", str(folder),
                             "--output", str(out), "--num-styles", "4"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    deadline = time.time() + 120
    while not (out.is_dir() and any(n.endswith(".png") for n in os.listdir(out))):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "munit-fast: error: interrupted by SIGTERM"
    assert no_partial_files(out) == [] and not (out / "styles.npy").exists()


def test_style_codes_beyond_memory_are_refused_before_drawing(monkeypatch):
    from munit_fast.errors import MunitError
    from munit_fast.runtime.styles import random_styles

    monkeypatch.setenv("MUNIT_FAST_MEMORY_LIMIT", str(2 ** 20))
    with pytest.raises(MunitError, match="100000000 style codes of 8 numbers would take about 3.0 GiB"):
        random_styles(100_000_000, 8)
    assert random_styles(3, 8).shape == (3, 8)  # small requests are unaffected


@pytest.mark.parametrize("backend, option", [("onnx", "--onnx-dir"), ("openvino", "--openvino-dir")])
def test_an_unwritable_model_cache_names_the_way_round_it(capsys, tmp_path, monkeypatch, backend, option):
    """A read-only or missing home (many containers): one line naming the option and the variable."""
    if backend == "openvino":
        pytest.importorskip("openvino", reason="the openvino extra is not installed")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("MUNIT_FAST_CACHE", str(blocker))
    result = translate(capsys, "--input", EDGE, "--output", str(tmp_path / "out"), "--backend", backend)
    line = assert_one_line_failure(result, contains=f"cannot write the model cache {blocker}/{backend}/")
    assert f"pass {option} DIR, or set MUNIT_FAST_CACHE to a writable folder" in line
