"""INT8 calibration data: real frames from a folder of images or a video file, preprocessed as at
inference (RGB, resized to cover the target size, centre crop, [-1, 1], NCHW)."""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Mapping, Optional, Tuple, Union

import cv2
import numpy as np

from munit_fast.capture import open_video
from munit_fast.errors import MunitError
from munit_fast.images import list_images, read_image, to_channels

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """HxWxC float [0, 1] -> height x width x C: resize to cover, then centre crop."""
    h, w = image.shape[:2]
    scale = max(height / h, width / w)
    new_h, new_w = max(height, int(np.ceil(h * scale))), max(width, int(np.ceil(w * scale)))
    if (new_h, new_w) != (h, w):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    image = image[..., None] if image.ndim == 2 else image
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return image[top:top + height, left:left + width]


def _to_nchw(images: List[np.ndarray]) -> np.ndarray:  # list of HxWxC [0, 1] -> (N, C, H, W) [-1, 1]
    return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2) * 2.0 - 1.0, dtype=np.float32)


def _video_frames(path: str, count: int, channels: int) -> List[np.ndarray]:
    capture = open_video(path)
    if not capture.isOpened():
        raise MunitError(f"--calib {path}: OpenCV cannot open this video")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or count
    step = max(1, total // count)
    frames, index = [], 0
    try:
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                frames.append(to_channels(frame, channels))
            index += 1
    finally:
        capture.release()
    return frames


def load_calibration_images(source: str, shape: Tuple[int, int, int, int], count: int = 64) -> np.ndarray:
    """Up to ``count`` images (N, C, H, W) float32 in [-1, 1] for ``shape`` = (B, C, H, W), spread
    evenly over the folder's sorted images or the video's frames."""
    _, channels, height, width = shape
    if os.path.isdir(source):
        files = list_images(source)
        if not files:
            raise MunitError(f"--calib {source}: no images in this folder (jpg, png, bmp, ppm, webp, tiff)")
        picked = files[:: max(1, len(files) // count)][:count]
        images = [read_image(path, channels) for path in picked]
    elif os.path.isfile(source) and source.lower().endswith(VIDEO_EXTENSIONS):
        images = _video_frames(source, count, channels)
        if not images:
            raise MunitError(f"--calib {source}: the video has no readable frames")
    elif os.path.isfile(source):
        raise MunitError(f"--calib {source}: expected a folder of images or a video ({', '.join(VIDEO_EXTENSIONS)})")
    else:
        raise MunitError(f"--calib {source}: no such folder or video")
    return _to_nchw([_fit(image, height, width) for image in images])


def calibration_feeds(meta: Mapping[str, str], images: np.ndarray, opt: Mapping[str, Tuple[int, ...]],
                      content_encoder: Union[str, Callable[[np.ndarray], np.ndarray], None] = None,
                      seed: int = 0) -> List[Dict[str, np.ndarray]]:
    """One {input name: array} per calibration step, at the opt shapes ``opt``.

    Images feed the ``image`` input; ``style`` inputs get codes from N(0, I), the style prior that
    inference samples from; the decoder's ``content`` comes from running the fp32 content encoder
    on the images: ``content_encoder`` is the exported graph's path (run with ONNX Runtime CPU) or
    a function (N, C, H, W) images -> (N, content_dim, h, w) codes.
    """
    part = meta.get("part")
    rng = np.random.default_rng(seed)
    batch = opt["image"][0] if "image" in opt else opt["content"][0]
    if len(images) < batch:
        raise MunitError(f"calibration needs at least {batch} images (the profile's opt batch), found {len(images)}")
    steps = [images[i:i + batch] for i in range(0, len(images) - batch + 1, batch)]
    encode = content_encoder
    if part == "decoder" and not callable(encode):
        encode = _onnx_encoder(content_encoder)
    feeds = []
    for step in steps:
        feed = {}
        if "image" in opt:
            feed["image"] = step
        if "content" in opt:
            feed["content"] = np.ascontiguousarray(encode(step), dtype=np.float32)
        if "style" in opt:
            feed["style"] = rng.standard_normal(opt["style"], dtype=np.float32)
        feeds.append(feed)
    return feeds


def _onnx_encoder(path: Optional[str]) -> Callable[[np.ndarray], np.ndarray]:
    """The exported content encoder graph at ``path`` as a function, run with ONNX Runtime (CPU)."""
    if not path or not os.path.isfile(path):
        raise MunitError("INT8 calibration of the decoder runs the content encoder graph on the images; export "
                         "content_encoder next to the decoder (munit-fast export onnx --parts ...)")
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return lambda images: session.run(None, {"image": images})[0]


def _test_folder(config, source: str) -> Optional[str]:
    """The config's test folder for domain ``source`` ('a' or 'b') when it exists and holds images."""
    if config.data_root:
        folder = os.path.join(config.data_root, "test" + source.upper())
    else:
        folder = getattr(config, f"data_folder_test_{source}", None)
    if folder and os.path.isdir(folder) and list_images(folder):
        return folder
    return None


def default_calibration_images(config, source: str, count: int = 32) -> Tuple[np.ndarray, str]:
    """(images (N, C, S, S) in [-1, 1], what they are) when no --calib is given: the source domain's
    test images (a built-in synthetic domain, ``data_root``/testA or testB, or
    ``data_folder_test_a``/``_b``) where this machine has them, else images of uniform noise at the
    config's size, with a warning that frames of the real domain calibrate better."""
    import warnings

    from munit_fast.data.synthetic import is_synthetic, synthetic_domain

    channels = config.input_dim(source)
    if is_synthetic(config.data_root):
        domain = synthetic_domain(config.data_root, source, train=False)
        picked = [domain[i] for i in range(0, len(domain), max(1, len(domain) // count))][:count]  # RGB [0, 1]
        if channels == 1:
            picked = [image.mean(axis=2, keepdims=True) for image in picked]
        return _to_nchw(picked), f"{len(picked)} test images of {config.data_root}"
    multiple = 2 ** config.gen.n_downsample
    size = -(-config.size_for(source) // multiple) * multiple
    test_folder = _test_folder(config, source)
    if test_folder:
        images = load_calibration_images(test_folder, (1, channels, size, size), count)
        return images, f"{len(images)} test images of {test_folder}"
    warnings.warn(f"INT8 calibration without --calib uses {count} images of random noise; pass --calib with a folder "
                  "of images or a video of the source domain: real frames calibrate better", stacklevel=2)
    noise = np.random.default_rng(0).uniform(-1, 1, (count, channels, size, size)).astype(np.float32)
    return noise, f"{count} images of uniform noise"
