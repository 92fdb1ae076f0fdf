"""The built-in two-domain "shapes" dataset: no download, deterministic from a seed.

Domain A: black line sketches of random shapes on white (5 families, random size, position,
rotation and line width). Domain B: the same families rendered filled and shaded in one of 4
appearance modes (palette + texture). The mode label of every domain-B image is known but never
used by MUNIT's training; like the paper's animal set, the target domain has modes the
translator is not told about, and a mode classifier can measure IS/CIS and mode coverage.

Images are rendered lazily with OpenCV on indexing; image ``i`` depends only on (seed, domain,
split, i), so any subset renders identically on any machine, in any order.

Spec strings (``data_root`` in a config): ``synthetic:shapes`` or, with options,
``synthetic:shapes?seed=0&size=64&count=4000&test_count=400``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Dict, Tuple
from urllib.parse import parse_qsl

import cv2
import numpy as np

from munit_fast.errors import MunitError

SYNTHETIC_PREFIX = "synthetic:"
SPEC_PREFIX = SYNTHETIC_PREFIX + "shapes"
FAMILIES = ("ellipse", "rectangle", "triangle", "star", "cross")
MODES = ("ember", "ocean", "forest", "dusk")
NUM_MODES = len(MODES)
DEFAULTS = {"seed": 0, "size": 64, "count": 4000, "test_count": 400}

_DOMAIN_IDS = {"a": 0, "b": 1}
_SPLIT_IDS = {True: 0, False: 1}

# Per mode: fill colour (RGB, [0, 1]) at the lit side, background colour, texture.
_MODE_STYLE = {
    0: {"fill": (0.93, 0.33, 0.10), "background": (0.98, 0.93, 0.82), "texture": "radial"},
    1: {"fill": (0.12, 0.35, 0.85), "background": (0.86, 0.93, 0.98), "texture": "stripes"},
    2: {"fill": (0.15, 0.62, 0.22), "background": (0.93, 0.96, 0.88), "texture": "dots"},
    3: {"fill": (0.55, 0.20, 0.65), "background": (0.22, 0.22, 0.26), "texture": "checker"},
}


@dataclass(frozen=True)
class Shape:
    """One shape, in units of the image side: centre (cx, cy) and radius in [0, 1]."""

    family: str
    cx: float
    cy: float
    radius: float
    angle: float  # degrees
    aspect: float  # height / width of ellipses and rectangles


@dataclass(frozen=True)
class ShapesSpec:
    seed: int = DEFAULTS["seed"]
    size: int = DEFAULTS["size"]
    count: int = DEFAULTS["count"]
    test_count: int = DEFAULTS["test_count"]


def parse_spec(spec: str) -> ShapesSpec:
    """``[synthetic:]shapes[?seed=S&size=N&count=N&test_count=N]`` -> ShapesSpec."""
    base, _, query = spec.partition("?")
    if not base.startswith(SYNTHETIC_PREFIX):
        base = SYNTHETIC_PREFIX + base
    if base != SPEC_PREFIX:
        raise MunitError(f"data_root {spec!r}: unknown synthetic dataset; expected {SPEC_PREFIX!r} "
                         f"(options: {SPEC_PREFIX}?seed=0&size=64&count=4000&test_count=400)")
    values: Dict[str, int] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        if key not in DEFAULTS:
            raise MunitError(f"data_root {spec!r}: unknown option {key!r}; known: {', '.join(DEFAULTS)}")
        try:
            values[key] = int(raw)
        except ValueError:
            raise MunitError(f"data_root {spec!r}: option {key} must be an integer, got {raw!r}") from None
    parsed = ShapesSpec(**values)
    if parsed.size < 16 or parsed.count < 1 or parsed.test_count < 1:
        raise MunitError(f"data_root {spec!r}: need size >= 16, count >= 1 and test_count >= 1")
    return parsed


def _rng(seed: int, domain: str, train: bool, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _DOMAIN_IDS[domain], _SPLIT_IDS[train], index])


def random_shape(rng: np.random.Generator) -> Shape:
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    radius = float(rng.uniform(0.18, 0.34))
    cx, cy = (float(v) for v in rng.uniform(radius + 0.04, 1.0 - radius - 0.04, size=2))
    return Shape(family, cx, cy, radius, angle=float(rng.uniform(0.0, 360.0)), aspect=float(rng.uniform(0.55, 1.0)))


def _outline(shape: Shape, size: int) -> np.ndarray:
    """The shape's polygon, (N, 2) float pixel coordinates."""
    if shape.family == "ellipse":
        t = np.linspace(0.0, 2.0 * math.pi, 64, endpoint=False)
        points = np.stack([np.cos(t), shape.aspect * np.sin(t)], axis=1)
    elif shape.family == "rectangle":
        points = np.array([[-1, -shape.aspect], [1, -shape.aspect], [1, shape.aspect], [-1, shape.aspect]], float)
        points *= 0.8
    elif shape.family == "triangle":
        t = np.deg2rad([90.0, 210.0, 330.0])
        points = np.stack([np.cos(t), np.sin(t)], axis=1)
    elif shape.family == "star":
        t = np.deg2rad(np.arange(10) * 36.0 + 90.0)
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        points = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    else:  # cross
        a, b = 1.0, 0.33
        points = np.array([[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a], [-b, b],
                           [-a, b], [-a, -b], [-b, -b]], float)
    theta = math.radians(shape.angle)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    points = points @ rotation.T * shape.radius + np.array([shape.cx, shape.cy])
    return points * size


def _polygon(shape: Shape, size: int, shift: int) -> np.ndarray:
    """int32 polygon in OpenCV's fixed-point format (``shift`` fractional bits), anti-aliased drawing."""
    return np.round(_outline(shape, size) * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)


def render_sketch(shape: Shape, size: int, line_width: int = 2) -> np.ndarray:
    """Domain A: the shape's outline in black on white, float32 (size, size, 3) RGB in [0, 1]."""
    canvas = np.full((size, size), 255, np.uint8)
    cv2.polylines(canvas, [_polygon(shape, size, 4)], True, 0, line_width, cv2.LINE_AA, 4)
    gray = canvas.astype(np.float32) / 255.0
    return np.repeat(gray[:, :, None], 3, axis=2)


def _mask(shape: Shape, size: int) -> np.ndarray:
    """(size, size) float32 coverage of the filled shape in [0, 1], anti-aliased."""
    canvas = np.zeros((size, size), np.uint8)
    cv2.fillPoly(canvas, [_polygon(shape, size, 4)], 255, cv2.LINE_AA, 4)
    return canvas.astype(np.float32) / 255.0


def _texture(kind: str, shape: Shape, size: int, phase: float) -> np.ndarray:
    """(size, size) float32 shading factor in about [0.45, 1.15] for a texture kind."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if kind == "radial":  # lit from the upper left of the shape
        d = np.hypot(x - (shape.cx - 0.4 * shape.radius), y - (shape.cy - 0.4 * shape.radius)) / (2.0 * shape.radius)
        return 1.15 - 0.7 * np.clip(d, 0.0, 1.0)
    period = 0.125
    if kind == "stripes":  # diagonal bands
        return np.where(((x + y) / period + phase) % 1.0 < 0.5, 1.1, 0.55)
    if kind == "dots":
        u, v = (x / period + phase) % 1.0 - 0.5, (y / period + phase) % 1.0 - 0.5
        return np.where(u * u + v * v < 0.09, 0.5, 1.05)
    cells = np.floor(x / period + phase) + np.floor(y / period + phase)  # checker
    return np.where(cells % 2 == 0, 1.1, 0.6)


def render_filled(shape: Shape, mode: int, size: int, rng: np.random.Generator = None) -> np.ndarray:
    """Domain B: the shape filled and shaded in appearance ``mode`` (0..3), float32 (size, size, 3)
    RGB in [0, 1]. ``rng`` jitters colour and texture phase; None renders the mode's canonical look."""
    if not 0 <= mode < NUM_MODES:
        raise MunitError(f"mode must be in 0..{NUM_MODES - 1}, got {mode}")
    style = _MODE_STYLE[mode]
    fill = np.array(style["fill"], np.float32)
    background = np.array(style["background"], np.float32)
    phase = 0.0
    if rng is not None:
        fill = fill * rng.uniform(0.85, 1.15) + rng.uniform(-0.05, 0.05, size=3)
        background = background + rng.uniform(-0.04, 0.04, size=3)
        phase = float(rng.uniform(0.0, 1.0))
    shading = _texture(style["texture"], shape, size, phase)[:, :, None]
    body = np.clip(fill[None, None, :] * shading, 0.0, 1.0)
    alpha = _mask(shape, size)[:, :, None]
    image = alpha * body + (1.0 - alpha) * np.clip(background, 0.0, 1.0)[None, None, :]
    return image.astype(np.float32)


def render_pair(shape: Shape, mode: int, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """The same shape in domain A (sketch) and in domain B (canonical look of ``mode``)."""
    return render_sketch(shape, size), render_filled(shape, mode, size)


def _draw_b(rng: np.random.Generator) -> Tuple[Shape, int]:
    """The random draws of one domain-B image, mode first so labels need no rendering."""
    mode = int(rng.integers(NUM_MODES))
    return random_shape(rng), mode


class ShapesDomain(Sequence):
    """One domain and split of the shapes dataset: ``len()`` images, each float32 HxWx3 RGB in
    [0, 1], rendered when indexed. ``labels`` holds the modes (domain B) and ``shape(i)`` the
    drawn shape of image i."""

    def __init__(self, spec: ShapesSpec, domain: str, train: bool):
        if domain not in _DOMAIN_IDS:
            raise MunitError(f"synthetic domain must be 'a' or 'b', got {domain!r}")
        self.spec, self.domain, self.train = spec, domain, train
        self.count = spec.count if train else spec.test_count

    def __len__(self) -> int:
        return self.count

    def _draw(self, index: int):
        """-> (shape, mode (domain b) or None, sketch line width (domain a) or None, the image's rng)."""
        rng = _rng(self.spec.seed, self.domain, self.train, index)
        if self.domain == "a":
            shape = random_shape(rng)
            width = max(1, round(int(rng.integers(1, 4)) * self.spec.size / 64))  # 1-3 px at 64 px
            return shape, None, width, rng
        shape, mode = _draw_b(rng)
        return shape, mode, None, rng

    def shape(self, index: int) -> Shape:
        return self._draw(self._check(index))[0]

    def _check(self, index: int) -> int:
        if not -self.count <= index < self.count:
            raise IndexError(f"index {index} out of range for {self.count} images")
        return index % self.count

    def __getitem__(self, index):  # -> float32 (size, size, 3) RGB in [0, 1]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.count))]
        shape, mode, line_width, rng = self._draw(self._check(int(index)))
        if self.domain == "a":
            return render_sketch(shape, self.spec.size, line_width)
        return render_filled(shape, mode, self.spec.size, rng)

    @property
    def labels(self) -> np.ndarray:
        """(len,) int64 mode of each image (domain B only)."""
        if self.domain != "b":
            raise MunitError("mode labels exist only for domain b of the synthetic shapes dataset")
        return np.array([self._draw(i)[1] for i in range(self.count)], np.int64)


def is_synthetic(data_root) -> bool:
    return isinstance(data_root, str) and data_root.startswith(SYNTHETIC_PREFIX)


def synthetic_domain(spec: str, domain: str, train: bool) -> ShapesDomain:
    """The images of ``domain`` ('a' or 'b') for ``data_root: synthetic:shapes[?...]`` (``spec`` with or
    without the ``synthetic:`` prefix), train or test split."""
    return ShapesDomain(parse_spec(spec), domain.lower(), train)


def mode_labels(spec: str, train: bool) -> np.ndarray:
    """(N,) int64 appearance modes of domain B's images in the train or test split."""
    return synthetic_domain(spec, "b", train).labels
