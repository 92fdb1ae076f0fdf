"""Image I/O with OpenCV and the original MUNIT preprocessing.

Reading follows what the original's PIL ``.convert('RGB')`` does to the files users have:
alpha is dropped (not composited), 16-bit images are scaled to 8-bit range, grayscale is
replicated to 3 channels for a 3-channel model and color becomes ITU-R 601 luma for a
1-channel model. Test-time preprocessing: shorter side resized to ``new_size`` (torchvision's
size rule), then [0, 1] -> [-1, 1]. Writes are atomic.
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch

from .errors import MunitError
from .files import atomic_open

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".webp", ".tif", ".tiff")


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
    """uint8/uint16/float HxW[xC] (BGR[A] as OpenCV reads it) -> float32 HxWxchannels RGB in [0, 1]."""
    if image.dtype == np.uint16:
        image = image.astype(np.float32) / 65535.0
    elif image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    else:
        image = np.clip(image.astype(np.float32), 0.0, 1.0)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]  # the original drops alpha (PIL convert('RGB'))
    if image.ndim == 2:
        gray = image
        return gray[:, :, None] if channels == 1 else np.repeat(gray[:, :, None], 3, axis=2)
    rgb = image[:, :, ::-1]
    if channels == 1:
        luma = rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114
        return luma[:, :, None].astype(np.float32)
    return np.ascontiguousarray(rgb)


def read_image(path: str, channels: int = 3) -> np.ndarray:
    """Read an image file as float32 HxWxchannels RGB in [0, 1], or raise a one-line error."""
    if not os.path.exists(path):
        raise MunitError(f"image not found: {path}")
    if os.path.isdir(path):
        raise MunitError(f"{path} is a folder; pass an image file")
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise MunitError(f"cannot read image {path}: not an image OpenCV can decode (jpg, png, bmp, ppm, webp, tiff)")
    return to_channels(image, channels)


def resize_shorter_side(image: np.ndarray, size: int) -> np.ndarray:
    """Resize so the shorter side is ``size`` (torchvision's Resize(int) size rule), area filter
    when shrinking and bilinear when enlarging."""
    h, w = image.shape[:2]
    if min(h, w) == size:
        return image
    if w <= h:
        new_w, new_h = size, int(size * h / w)
    else:
        new_h, new_w = size, int(size * w / h)
    interp = cv2.INTER_AREA if size < min(h, w) else cv2.INTER_LINEAR
    out = cv2.resize(image, (new_w, new_h), interpolation=interp)
    return out[:, :, None] if out.ndim == 2 else out


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWxC float [0, 1] -> (1, C, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).unsqueeze(0) * 2.0 - 1.0


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> HxWx3 uint8 BGR (or HxW for one channel) for OpenCV."""
    array = ((tensor.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).cpu().numpy()
    array = array.transpose(1, 2, 0)
    if array.shape[2] == 1:
        return array[:, :, 0]
    return np.ascontiguousarray(array[:, :, ::-1])


def load_image_tensor(path: str, channels: int, new_size: Optional[int]) -> torch.Tensor:
    """The original test-time preprocessing: read, shorter side to new_size, [-1, 1], (1, C, H, W)."""
    image = read_image(path, channels)
    if new_size:
        image = resize_shorter_side(image, new_size)
    return image_to_tensor(image)


def write_image(path: str, image: np.ndarray) -> None:
    """Write a uint8 image atomically (temporary file in the same folder, then rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    ext = os.path.splitext(path)[1] or ".png"
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
