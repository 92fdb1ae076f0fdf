"""Image files as users have them, converted and resized as the original's PIL pipeline would."""
import os

import cv2
import numpy as np
import pytest
from PIL import Image

from munit_fast.errors import MunitError
from munit_fast.images import (
    image_to_tensor,
    list_images,
    load_image_tensor,
    read_image,
    resize_shorter_side,
    write_image,
)
from tests.conftest import SAMPLE_IMAGES


def test_alpha_is_dropped_not_composited(tmp_path):
    bgra = np.zeros((4, 5, 4), np.uint8)
    bgra[..., 2] = 255  # red
    bgra[..., 3] = 0  # fully transparent
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    rgb = read_image(str(tmp_path / "a.png"), 3)
    assert rgb.shape == (4, 5, 3)
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.0, 0.0])


def test_sixteen_bit_images_scale_to_eight_bits(tmp_path):
    image = np.full((3, 3, 3), 65535, np.uint16)
    image[..., 0] = 32768  # blue channel in BGR
    cv2.imwrite(str(tmp_path / "deep.png"), image)
    rgb = read_image(str(tmp_path / "deep.png"), 3)
    np.testing.assert_allclose(rgb[0, 0], [1.0, 1.0, 128 / 255], atol=1e-6)
    gray = np.full((3, 3), 40000, np.uint16)  # PIL's convert('RGB') would clip this to white
    cv2.imwrite(str(tmp_path / "gray16.png"), gray)
    np.testing.assert_allclose(read_image(str(tmp_path / "gray16.png"), 3)[0, 0], [156 / 255] * 3, atol=1e-6)


def test_grayscale_for_color_model_and_color_for_grayscale_model(tmp_path):
    cv2.imwrite(str(tmp_path / "g.png"), np.full((2, 2), 128, np.uint8))
    np.testing.assert_allclose(read_image(str(tmp_path / "g.png"), 3)[0, 0], [128 / 255] * 3, atol=1e-6)
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 1] = 255  # green
    cv2.imwrite(str(tmp_path / "c.png"), bgr)
    luma = read_image(str(tmp_path / "c.png"), 1)
    assert luma.shape == (2, 2, 1)
    # ITU-R 601 luma in PIL's integer arithmetic: round(255 * 0.587) = 150
    np.testing.assert_allclose(luma[0, 0, 0], 150 / 255, atol=1e-6)


def test_shorter_side_rule_matches_torchvision():
    # torchvision Resize(256): shorter side 256, longer side int(256 * long / short)
    assert resize_shorter_side(np.zeros((300, 450, 3), np.uint8), 256).shape == (256, 384, 3)
    assert resize_shorter_side(np.zeros((451, 300, 3), np.uint8), 256).shape == (384, 256, 3)
    assert resize_shorter_side(np.zeros((100, 100, 1), np.uint8), 64).shape == (64, 64, 1)
    assert resize_shorter_side(np.zeros((100, 100, 3), np.float32), 64).shape == (64, 64, 3)


def original_test_transform(path, new_size):
    """test.py's transform, restated: PIL convert('RGB'), torchvision Resize(new_size) (PIL
    bilinear, shorter side new_size, longer int(new_size * long / short), unchanged when the
    shorter side already fits), ToTensor, Normalize(0.5, 0.5)."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    if min(w, h) != new_size:
        ow, oh = (new_size, int(new_size * h / w)) if w < h else (int(new_size * w / h), new_size)
        image = image.resize((ow, oh), Image.BILINEAR)
    array = np.asarray(image, np.float32) / 255.0
    return (array.transpose(2, 0, 1)[None] - 0.5) / 0.5


@pytest.fixture(scope="module")
def preprocessing_inputs(tmp_path_factory):
    """The shared sample images, plus a 256x199 (portrait-odd) and a 173x256 crop of one of them."""
    folder = tmp_path_factory.mktemp("inputs")
    paths = [os.path.join(SAMPLE_IMAGES, name) for name in sorted(os.listdir(SAMPLE_IMAGES))]
    photo = Image.open(paths[1]).convert("RGB")
    for name, box in (("wide.png", (0, 0, 256, 199)), ("tall.png", (40, 0, 213, 256))):
        photo.crop(box).save(folder / name)
        paths.append(str(folder / name))
    return paths


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("new_size", [256, 128, 72, 300])  # unchanged, shrink, shrink to odd ratio, enlarge
def test_test_time_preprocessing_equals_the_original(preprocessing_inputs, index, new_size):
    path = preprocessing_inputs[index]
    ours = load_image_tensor(path, 3, new_size).numpy()
    expected = original_test_transform(path, new_size)
    assert ours.shape == expected.shape
    # the bound is 1/255; the same PIL resampling leaves only fp32 rounding (1e-6)
    assert np.abs(ours - expected).max() <= 1e-6


def test_one_channel_preprocessing_is_pil_luma_then_the_same_resize(tmp_path):
    path = os.path.join(SAMPLE_IMAGES, sorted(os.listdir(SAMPLE_IMAGES))[1])
    ours = load_image_tensor(path, 1, 100).numpy()
    luma = Image.open(path).convert("L")
    w, h = luma.size
    luma = luma.resize((100, int(100 * h / w)) if w < h else (int(100 * w / h), 100), Image.BILINEAR)
    expected = (np.asarray(luma, np.float32)[None, None] / 255.0 - 0.5) / 0.5
    assert ours.shape == expected.shape and np.abs(ours - expected).max() <= 1e-6


def test_truncated_jpeg_is_refused_by_name(tmp_path):
    path = os.path.join(SAMPLE_IMAGES, sorted(os.listdir(SAMPLE_IMAGES))[0])
    data = open(path, "rb").read()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(MunitError, match=r"cannot read image .*cut\.jpg: truncated or corrupt"):
        read_image(str(tmp_path / "cut.jpg"))


def test_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(MunitError, match="not a regular file"):
        read_image(str(tmp_path / "pipe.png"))


def test_huge_declared_size_is_refused_before_decoding(tmp_path):
    # a valid PNG header declaring 65535 x 65535 pixels over a few bytes of data
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 65535, 65535, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(MunitError, match=r"bomb\.png .*(65535x65535|decompression bomb)"):
        read_image(str(tmp_path / "bomb.png"))


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
