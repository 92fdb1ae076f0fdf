"""Image files read with Pillow as the original's PIL pipeline reads them, written with OpenCV.

Reading is what the original's ``Image.open(path).convert('RGB')`` does to the files users
have: alpha dropped (not composited), palette and CMYK images converted; a 1-channel model gets
PIL's ``convert('L')`` (ITU-R 601 luma). Where PIL's conversion would ruin an image, munit-fast
differs on purpose: 16-bit images are scaled to 8 bits (PIL clips them to white). EXIF rotation
is not applied, as in the original.

Test-time preprocessing is torchvision's ``Resize(new_size)`` on the PIL image (shorter side to
new_size, longer side ``int(new_size * long / short)``, PIL bilinear, which antialiases when
shrinking; an image whose shorter side already fits is left alone), then ToTensor and
Normalize(0.5, 0.5): the tensors equal the original's. Video frames come from OpenCV and are
fitted with OpenCV (``munit_fast.video``): the original has no video path to follow.

Files that are not regular files (FIFOs, devices), truncated or corrupt files and images larger
than ``MAX_IMAGE_PIXELS`` are refused with one line naming the file. Writes are atomic.
"""
from __future__ import annotations

import os
import stat
import warnings
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch
from PIL import Image

from .errors import MunitError
from .files import atomic_open

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".webp", ".tif", ".tiff")
# Largest image read, in pixels: Pillow's own decompression-bomb limit (about 13k x 13k) unless
# MUNIT_FAST_MAX_IMAGE_PIXELS sets another; beyond it a file is more likely a bomb than a photo.
MAX_IMAGE_PIXELS = int(os.environ.get("MUNIT_FAST_MAX_IMAGE_PIXELS", 2 * (Image.MAX_IMAGE_PIXELS or 89478485)))
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def is_image_file(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS)


def list_images(folder: str, recursive: bool = True) -> List[str]:
    """Sorted image files below ``folder``."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(os.path.join(root, f) for f in sorted(files) if is_image_file(f))
        if not recursive:
            break
    return found


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """A video frame as OpenCV gives it, uint8/uint16/float HxW[xC] BGR[A] -> float32
    HxWxchannels RGB in [0, 1] (alpha dropped, gray replicated, color to ITU-R 601 luma)."""
    if image.dtype == np.uint16:
        image = image.astype(np.float32) / 65535.0
    elif image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    else:
        image = np.clip(image.astype(np.float32), 0.0, 1.0)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim == 2:
        gray = image
        return gray[:, :, None] if channels == 1 else np.repeat(gray[:, :, None], 3, axis=2)
    rgb = image[:, :, ::-1]
    if channels == 1:
        luma = rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114
        return luma[:, :, None].astype(np.float32)
    return np.ascontiguousarray(rgb)


def _check_file(path: str) -> None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise MunitError(f"image not found: {path}") from None
    except OSError as exc:
        raise MunitError(f"cannot read image {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise MunitError(f"{path} is a folder; pass an image file")
    if not stat.S_ISREG(info.st_mode):
        raise MunitError(f"cannot read image {path}: not a regular file (a FIFO, socket or device); "
                         "pass an image file")


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and float images -> 8-bit 'L' (PIL itself would clip 16-bit values to 255)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.float64)
        return Image.fromarray(np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8), mode="L")
    if image.mode == "F":
        return Image.fromarray(np.clip(np.round(np.asarray(image)), 0, 255).astype(np.uint8), mode="L")
    return image


def read_image_uint8(path: str, channels: int = 3) -> np.ndarray:
    """Read an image file as uint8 HxWxchannels (RGB or luma), or raise a one-line error."""
    _check_file(path)
    if MAX_IMAGE_PIXELS > 2 * (Image.MAX_IMAGE_PIXELS or 0):  # MUNIT_FAST_MAX_IMAGE_PIXELS above Pillow's
        Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS // 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below applies
            with Image.open(path) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise MunitError(
                        f"image {path} is {image.width}x{image.height} ({image.width * image.height / 1e6:.0f} "
                        f"megapixels), more than the {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels munit-fast reads; "
                        "downscale it, or raise MUNIT_FAST_MAX_IMAGE_PIXELS if it is genuine")
                image.load()
                image = _eight_bit(image).convert("L" if channels == 1 else "RGB")
    except MunitError:
        raise
    except Image.DecompressionBombError:
        raise MunitError(f"image {path} declares more pixels than munit-fast reads (a decompression bomb?); "
                         "downscale it, or raise MUNIT_FAST_MAX_IMAGE_PIXELS if it is genuine") from None
    except Image.UnidentifiedImageError:
        raise MunitError(f"cannot read image {path}: not an image Pillow can decode "
                         "(jpg, png, bmp, ppm, webp, tiff)") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt data
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MunitError(f"cannot read image {path}: truncated or corrupt file ({detail})") from None
    array = np.array(image)
    return array[:, :, None] if array.ndim == 2 else array


def read_image(path: str, channels: int = 3) -> np.ndarray:
    """Read an image file as float32 HxWxchannels RGB (or luma) in [0, 1], or raise a one-line error."""
    return read_image_uint8(path, channels).astype(np.float32) / 255.0


def shorter_side_size(height: int, width: int, size: int) -> tuple:
    """(new_height, new_width) of torchvision's Resize(size): shorter side ``size``, longer side
    ``int(size * long / short)``; unchanged when the shorter side is already ``size``."""
    if min(height, width) == size:
        return height, width
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


def resize_shorter_side(image: np.ndarray, size: int) -> np.ndarray:
    """torchvision's Resize(size) with PIL bilinear on a uint8 (or float32) HxWxC image; an image
    whose shorter side is already ``size`` is returned unchanged, as torchvision does."""
    h, w = image.shape[:2]
    new_h, new_w = shorter_side_size(h, w, size)
    if (new_h, new_w) == (h, w):
        return image
    if image.dtype == np.uint8:
        mode = "L" if image.shape[2] == 1 else "RGB"
        resized = np.array(Image.fromarray(image[:, :, 0] if mode == "L" else image, mode=mode)
                           .resize((new_w, new_h), Image.BILINEAR))
        return resized[:, :, None] if resized.ndim == 2 else resized
    planes = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c], np.float32), mode="F")
                         .resize((new_w, new_h), Image.BILINEAR)) for c in range(image.shape[2])]
    return np.stack(planes, axis=2)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWxC uint8 (0-255) or float (0-1) -> (1, C, H, W) float32 in [-1, 1], computed as
    torchvision's ToTensor then Normalize(0.5, 0.5)."""
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    tensor = tensor.float().div(255) if tensor.dtype == torch.uint8 else tensor.float()
    return ((tensor - 0.5) / 0.5).unsqueeze(0)


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> HxWx3 uint8 BGR (or HxW for one channel) for OpenCV."""
    array = ((tensor.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).cpu().numpy()
    array = array.transpose(1, 2, 0)
    if array.shape[2] == 1:
        return array[:, :, 0]
    return np.ascontiguousarray(array[:, :, ::-1])


def load_image_tensor(path: str, channels: int, new_size: Optional[int]) -> torch.Tensor:
    """The original test-time preprocessing: read, shorter side to new_size, [-1, 1], (1, C, H, W)."""
    image = read_image_uint8(path, channels)
    if new_size:
        image = resize_shorter_side(image, new_size)
    return image_to_tensor(image)


def image_extension(path: str, what: str = "") -> str:
    """The extension ``path`` will be encoded with (.png when it has none), or one line when
    OpenCV cannot write it: checked before work whose result would go there."""
    ext = os.path.splitext(path)[1] or ".png"
    if not cv2.haveImageWriter("image" + ext):
        raise MunitError(f"cannot encode {what + ' ' if what else ''}{path}: unsupported image extension {ext!r}; "
                         "use .png or .jpg")
    return ext


def write_image(path: str, image: np.ndarray) -> None:
    """Write a uint8 image atomically (temporary file in the same folder, then rename)."""
    ext = image_extension(path)
    try:
        ok, encoded = cv2.imencode(ext, image)
    except cv2.error:
        ok = False
    if not ok:
        raise MunitError(f"cannot encode {path}: unsupported image extension {ext!r}; use .png or .jpg")
    with atomic_open(path) as handle:
        handle.write(encoded.tobytes())


def make_grid(images: Sequence[np.ndarray], columns: int, pad: int = 2) -> np.ndarray:
    """Tile equally sized HxW[x3] uint8 images into a grid with ``pad`` pixels of white between."""
    h, w = images[0].shape[:2]
    images = [im if im.ndim == 3 else np.repeat(im[:, :, None], 3, axis=2) for im in images]
    rows = (len(images) + columns - 1) // columns
    grid = np.full((rows * h + (rows - 1) * pad, columns * w + (columns - 1) * pad, 3), 255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = image
    return grid
