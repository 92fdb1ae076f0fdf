"""Image files as users have them, converted as the original's PIL .convert('RGB') would."""
import cv2
import numpy as np
import pytest

from munit_fast.errors import MunitError
from munit_fast.images import image_to_tensor, list_images, read_image, resize_shorter_side, write_image


def test_alpha_is_dropped_not_composited(tmp_path):
    bgra = np.zeros((4, 5, 4), np.uint8)
    bgra[..., 2] = 255  # red
    bgra[..., 3] = 0  # fully transparent
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    rgb = read_image(str(tmp_path / "a.png"), 3)
    assert rgb.shape == (4, 5, 3)
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.0, 0.0])


def test_sixteen_bit_images_scale_to_unit_range(tmp_path):
    image = np.full((3, 3, 3), 65535, np.uint16)
    image[..., 0] = 32768  # blue channel in BGR
    cv2.imwrite(str(tmp_path / "deep.png"), image)
    rgb = read_image(str(tmp_path / "deep.png"), 3)
    np.testing.assert_allclose(rgb[0, 0], [1.0, 1.0, 32768 / 65535], atol=1e-6)


def test_grayscale_for_color_model_and_color_for_grayscale_model(tmp_path):
    cv2.imwrite(str(tmp_path / "g.png"), np.full((2, 2), 128, np.uint8))
    np.testing.assert_allclose(read_image(str(tmp_path / "g.png"), 3)[0, 0], [128 / 255] * 3, atol=1e-6)
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 1] = 255  # green
    cv2.imwrite(str(tmp_path / "c.png"), bgr)
    luma = read_image(str(tmp_path / "c.png"), 1)
    assert luma.shape == (2, 2, 1)
    np.testing.assert_allclose(luma[0, 0, 0], 0.587, atol=1e-6)  # ITU-R 601 luma, as PIL's convert('L')


def test_shorter_side_rule_matches_torchvision():
    # torchvision Resize(256): shorter side 256, longer side int(256 * long / short)
    assert resize_shorter_side(np.zeros((300, 450, 3), np.float32), 256).shape == (256, 384, 3)
    assert resize_shorter_side(np.zeros((451, 300, 3), np.float32), 256).shape == (384, 256, 3)
    assert resize_shorter_side(np.zeros((100, 100, 1), np.float32), 64).shape == (64, 64, 1)


def test_tensor_range_and_layout():
    image = np.zeros((2, 3, 3), np.float32)
    image[..., 0] = 1.0
    tensor = image_to_tensor(image)
    assert tensor.shape == (1, 3, 2, 3)
    assert tensor[0, 0].eq(1).all() and tensor[0, 1].eq(-1).all()


def test_bad_files_are_one_line_errors(tmp_path):
    with pytest.raises(MunitError, match="image not found"):
        read_image(str(tmp_path / "missing.png"))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(MunitError, match="cannot read image"):
        read_image(str(tmp_path / "broken.jpg"))


def test_list_images_is_recursive_and_sorted(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ["b.png", "a.jpg", "sub/c.webp", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    assert [p[len(str(tmp_path)) + 1:] for p in list_images(str(tmp_path))] == ["a.jpg", "b.png", "sub/c.webp"]


def test_write_image_is_atomic_and_rejects_unknown_extensions(tmp_path):
    write_image(str(tmp_path / "out.png"), np.zeros((2, 2, 3), np.uint8))
    assert cv2.imread(str(tmp_path / "out.png")).shape == (2, 2, 3)
    with pytest.raises(MunitError, match="unsupported image extension"):
        write_image(str(tmp_path / "out.xyz"), np.zeros((2, 2, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
