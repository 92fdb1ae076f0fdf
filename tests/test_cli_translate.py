"""`munit-fast translate` end to end, and the one-line errors users get for bad input."""
import os
import subprocess
import sys

import cv2
import numpy as np
import torch

from munit_fast.cli.main import main
from tests.conftest import REFERENCE, SAMPLE_IMAGES

CONFIG = os.path.join(REFERENCE, "config.yaml")
CHECKPOINT = os.path.join(REFERENCE, "gen_00000001.pt")


def translate(*extra):
    return main(["translate", "--config", CONFIG, "--checkpoint", CHECKPOINT, *extra])


def test_writes_one_image_per_input_and_style_plus_a_grid(tmp_path, capsys):
    assert translate("--input", SAMPLE_IMAGES, "--output", str(tmp_path), "--num-styles", "3", "--seed", "7") == 0
    inputs = sorted(os.path.splitext(f)[0] for f in os.listdir(SAMPLE_IMAGES))
    for stem in inputs:
        for k in range(3):
            image = cv2.imread(str(tmp_path / f"{stem}_style{k:03d}.png"))
            assert image is not None and min(image.shape[:2]) == 256  # new_size of the config
        assert cv2.imread(str(tmp_path / f"{stem}_grid.jpg")) is not None
    codes = np.load(tmp_path / "styles.npy")
    assert codes.shape == (3, 8)  # the same 3 styles for every input, saved for reuse
    out = capsys.readouterr().out
    assert "translated 4 image(s) x 3 style(s)" in out
    # --backend auto (the default): on the CPU the eager reference ops
    assert "with eager-fp32" in out


def test_style_codes_file_reproduces_a_run(tmp_path):
    image = os.path.join(SAMPLE_IMAGES, "edges2shoes_edge.jpg")
    assert translate("--input", image, "--output", str(tmp_path / "one"), "--num-styles", "2") == 0
    assert translate("--input", image, "--output", str(tmp_path / "two"), "--style-codes",
                     str(tmp_path / "one" / "styles.npy"), "--direction", "a2b") == 0
    first = cv2.imread(str(tmp_path / "one" / "edges2shoes_edge_style001.png"))
    again = cv2.imread(str(tmp_path / "two" / "edges2shoes_edge_style001.png"))
    assert np.array_equal(first, again)


def test_example_guided_style(tmp_path):
    assert translate("--input", os.path.join(SAMPLE_IMAGES, "edges2handbags_edge.jpg"), "--output", str(tmp_path),
                     "--style-image", os.path.join(SAMPLE_IMAGES, "edges2handbags_handbag.jpg")) == 0
    assert os.path.exists(tmp_path / "edges2handbags_edge_style000.png")


def _bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.png").write_bytes(b"not a png")
    (tmp_path / "unknown.yaml").write_text("gen:\n  dim: 8\n  colour: red\n")
    evil = tmp_path / "evil.pt"

    class Payload:
        def __reduce__(self):
            return (os.system, ("true",))

    torch.save({"a": Payload(), "b": {}}, evil)
    image = os.path.join(SAMPLE_IMAGES, "edges2shoes_edge.jpg")
    other_config = os.path.join(os.path.dirname(REFERENCE), "..", "..", "configs", "edges2shoes_folder.yaml")
    return [
        (["--input", str(tmp_path / "missing.jpg")], "input not found"),
        (["--input", str(tmp_path / "broken.png")], "cannot read image"),
        (["--input", str(tmp_path / "empty")], "no images found in folder"),
        (["--input", image, "--config", other_config], "does not fit this config"),
        (["--input", image, "--checkpoint", str(evil)], "is refused"),
        (["--input", image, "--config", str(tmp_path / "unknown.yaml")], "unknown config key gen.colour"),
        (["--input", image, "--num-styles", "0"], "argument --num-styles: expected an integer >= 1"),
    ]


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    for extra, message in _bad_inputs(tmp_path):
        args = ["translate", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--output", str(tmp_path / "out"), *extra]
        assert main(args) == 2, extra
        err = capsys.readouterr().err
        assert message in err, (extra, err)
        errors = [line for line in err.splitlines() if line.startswith("munit-fast: error: ")]
        assert len(errors) == 1 and "Traceback" not in err, err
        assert all(line.startswith("munit-fast: ") for line in err.splitlines())  # the backend choice, at most


def test_console_entry_points(tmp_path):
    """`python -m munit_fast` runs the same CLI; a user error exits 2 with one line and no traceback."""
    result = subprocess.run([sys.executable, "-m", "munit_fast", "translate", "--config", CONFIG, "--checkpoint",
                             CHECKPOINT, "--input", str(tmp_path / "nope.jpg"), "--output", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"munit-fast: error: input not found: {tmp_path / 'nope.jpg'}"]


def test_style_image_is_resized_like_the_input_as_test_py(tmp_path):
    """new_size_a != new_size_b: test.py resizes --style with the input's transform (new_size_a for a2b)."""
    from PIL import Image

    from munit_fast.checkpoint import load_generators
    from munit_fast.config import load_config

    (tmp_path / "cfg.yaml").write_text(open(CONFIG).read() + "\nnew_size_a: 64\nnew_size_b: 200\n")
    config = load_config(tmp_path / "cfg.yaml")
    assert (config.size_for("a"), config.size_for("b")) == (64, 200)
    style_path = os.path.join(SAMPLE_IMAGES, "edges2handbags_handbag.jpg")
    assert translate_with(tmp_path / "cfg.yaml", "--input", os.path.join(SAMPLE_IMAGES, "edges2handbags_edge.jpg"),
                          "--output", str(tmp_path / "out"), "--style-image", style_path) == 0
    style = Image.open(style_path).convert("RGB").resize((64, 64), Image.BILINEAR)  # a 256x256 photo
    tensor = torch.from_numpy((np.asarray(style, np.float32).transpose(2, 0, 1)[None] / 255 - 0.5) / 0.5)
    _, gen_b = load_generators(config, CHECKPOINT)
    with torch.no_grad():
        expected = gen_b.encode_style(tensor).reshape(1, -1)
    # fp32: 1e-5
    np.testing.assert_allclose(np.load(tmp_path / "out" / "styles.npy"), expected.numpy(), rtol=1e-5, atol=1e-5)


def translate_with(config, *extra):
    return main(["translate", "--config", str(config), "--checkpoint", CHECKPOINT, *extra])


def test_no_pad_runs_at_the_image_size_as_the_original(tmp_path):
    from PIL import Image

    photo = Image.open(os.path.join(SAMPLE_IMAGES, "edges2shoes_edge.jpg")).convert("RGB").crop((0, 0, 70, 67))
    photo.save(tmp_path / "odd.png")
    for flag, size in (([], (67, 70)), (["--no-pad"], (64, 68))):  # n_downsample 2: 67 -> 16 -> 64, 70 -> 17 -> 68
        out = tmp_path / ("padded" if not flag else "unpadded")
        assert translate("--input", str(tmp_path / "odd.png"), "--output", str(out), "--no-resize", *flag) == 0
        assert cv2.imread(str(out / "odd_style000.png")).shape[:2] == size
