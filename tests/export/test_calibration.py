"""INT8 calibration data from a folder of images or a video (OpenCV), no TensorRT needed."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from munit_fast.errors import MunitError
from munit_fast.export import read_metadata
from munit_fast.export.calibration import calibration_feeds, load_calibration_images

RED_BGR = (0, 0, 255)


def _write_images(folder, sizes):
    folder.mkdir()
    for i, (h, w) in enumerate(sizes):
        image = np.zeros((h, w, 3), np.uint8)
        image[:] = RED_BGR
        image[:, : w // 2] = (i * 20,) * 3  # left half grey, right half red
        cv2.imwrite(str(folder / f"{i:02d}.png"), image)
    return folder


def test_folder_images_are_fitted_and_normalized(tmp_path):
    folder = _write_images(tmp_path / "frames", [(100, 200), (300, 150), (64, 64), (90, 90)])
    images = load_calibration_images(str(folder), (1, 3, 64, 96), count=8)
    assert images.shape == (4, 3, 64, 96) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    # RGB order: the right edge of the 100x200 picture is pure red -> (1, -1, -1)
    np.testing.assert_allclose(images[0, :, 32, -1], [1.0, -1.0, -1.0], atol=1e-6)


def test_folder_count_spreads_over_files(tmp_path):
    folder = _write_images(tmp_path / "many", [(32, 32)] * 10)
    assert len(load_calibration_images(str(folder), (1, 3, 32, 32), count=3)) == 3


def test_video_frames(tmp_path):
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (80, 60))
    assert writer.isOpened()
    for i in range(12):
        writer.write(np.full((60, 80, 3), i * 20, np.uint8))
    writer.release()
    frames = load_calibration_images(path, (1, 3, 48, 64), count=4)
    assert frames.shape == (4, 3, 48, 64)
    means = frames.mean(axis=(1, 2, 3))
    assert np.all(np.diff(means) > 0)  # evenly spread over the clip: brighter and brighter


@pytest.mark.parametrize("make,match", [
    (lambda p: str(p / "absent"), "no such folder or video"),
    (lambda p: (p / "empty").mkdir() or str(p / "empty"), "no images in this folder"),
    (lambda p: (p / "notes.txt").write_text("x") and str(p / "notes.txt"), "expected a folder of images or a video"),
])
def test_bad_sources(tmp_path, make, match):
    with pytest.raises(MunitError, match=match):
        load_calibration_images(make(tmp_path), (1, 3, 32, 32))


def test_decoder_feeds_run_the_content_encoder(reference_graphs, tmp_path):
    graphs = reference_graphs["fp32"]
    images = np.random.default_rng(0).uniform(-1, 1, (3, 3, 64, 64)).astype(np.float32)
    opt = {"content": (1, 32, 16, 16), "style": (4, 8)}
    feeds = calibration_feeds(read_metadata(graphs["decoder"]), images, opt, graphs["content_encoder"])
    assert len(feeds) == 3
    assert feeds[0]["content"].shape == (1, 32, 16, 16) and feeds[0]["style"].shape == (4, 8)
    assert not np.allclose(feeds[0]["content"], feeds[1]["content"])
    with pytest.raises(MunitError, match="export content_encoder next to the decoder"):
        calibration_feeds(read_metadata(graphs["decoder"]), images, opt, str(tmp_path / "none.onnx"))


def test_feeds_need_a_full_batch(reference_graphs):
    meta = read_metadata(reference_graphs["fp32"]["content_encoder"])
    images = np.zeros((1, 3, 64, 64), np.float32)
    with pytest.raises(MunitError, match="at least 2 images"):
        calibration_feeds(meta, images, {"image": (2, 3, 64, 64)})


@pytest.mark.parametrize("layout", ["data_root", "data_folder"])
def test_without_calib_the_configs_test_images_calibrate(tmp_path, layout):
    """No --calib: the source domain's test folder of the config (folder or list layout) is used,
    not noise, and no warning asks for real frames."""
    import warnings

    from munit_fast.config import config_from_dict, load_config
    from munit_fast.export.calibration import default_calibration_images

    _write_images(tmp_path / "testB", [(80, 80)] * 3)
    keys = ({"data_root": str(tmp_path)} if layout == "data_root"
            else {"data_root": None, "data_folder_test_b": str(tmp_path / "testB"), "data_list_test_b": "unused.txt"})
    config = config_from_dict({**load_config("configs/shapes_demo.yaml").to_dict(), **keys})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images, described = default_calibration_images(config, "b", count=8)
    side = config.size_for("b")
    assert images.shape == (3, 3, side, side) and described == f"3 test images of {tmp_path / 'testB'}"
    assert np.allclose(images[0, :, :, -1].mean(axis=1), [1, -1, -1], atol=1e-6)  # the red right half


def test_without_calib_or_test_images_noise_calibrates_with_a_warning(tmp_path):
    from munit_fast.config import config_from_dict, load_config
    from munit_fast.export.calibration import default_calibration_images

    demo = load_config("configs/shapes_demo.yaml").to_dict()
    config = config_from_dict({**demo, "data_root": str(tmp_path / "none")})
    with pytest.warns(UserWarning, match="random noise; pass --calib"):
        images, described = default_calibration_images(config, "a", count=4)
    assert images.shape[0] == 4 and "noise" in described
