"""TensorRT optimization profiles from the user's resolutions and number of styles.

``--shapes 1x3x256x256:1x3x720x1280`` gives the smallest and largest input image (B x C x H x W),
optimized for the largest; three shapes ``MIN:OPT:MAX`` name the optimized one as well; a comma
list ``1x3x256x256,1x3x720x1280`` gives static sizes, one optimization profile each (min = opt =
max). The DLA runs static shapes only: with ``--dla-core`` a range is refused, since TensorRT would
quietly run a dynamic engine on the GPU instead. ``--styles K`` is the most styles decoded per
content map (with static profiles: exactly K). Every graph input gets (min, opt, max):

    content_encoder / style_encoder  image   from the image shapes
    translate                        image, style (B, style_dim)
    decoder                          content (1..K, C, H / 2^n, W / 2^n), style (1..K, style_dim), opt K
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Tuple, Union

from munit_fast.errors import MunitError

Shape = Tuple[int, ...]


@dataclass(frozen=True)
class ImageProfile:
    min: Shape  # (B, C, H, W)
    opt: Shape
    max: Shape


def parse_shape(text: str) -> Shape:
    """``"1x3x256x256"`` -> (1, 3, 256, 256)."""
    try:
        dims = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        dims = ()
    if len(dims) != 4 or min(dims) < 1:
        raise MunitError(f"--shapes: {text!r} is not a shape like 1x3x256x256 (batch x channels x height x width)")
    return dims


def parse_shapes(text: str) -> ImageProfile:
    """``"MIN:MAX"`` (optimized for MAX) or ``"MIN:OPT:MAX"``."""
    shapes = [parse_shape(part) for part in text.split(":")]
    if len(shapes) == 1:
        shapes = shapes * 3
    elif len(shapes) == 2:
        shapes = [shapes[0], shapes[1], shapes[1]]
    elif len(shapes) != 3:
        raise MunitError(f"--shapes {text!r}: expected MIN:MAX or MIN:OPT:MAX, e.g. 1x3x256x256:1x3x720x1280")
    profile = ImageProfile(*shapes)
    if len({s[1] for s in shapes}) != 1:
        raise MunitError(f"--shapes {text!r}: the channel count must be the same in every shape")
    ordered = zip(profile.min, profile.opt), zip(profile.opt, profile.max)
    if any(lo > hi for pairs in ordered for lo, hi in pairs):
        raise MunitError(f"--shapes {text!r}: every dimension must grow from MIN to OPT to MAX")
    return profile


def parse_shapes_option(text: str) -> Union[ImageProfile, List[Shape]]:
    """``--shapes``: a range (`parse_shapes`) or a comma list of static sizes."""
    if "," in text:
        return [parse_shape(part) for part in text.split(",") if part.strip()]
    return parse_shapes(text)


Profile = Dict[str, Tuple[Shape, Shape, Shape]]


def build_profiles(meta: Mapping[str, str], shapes: Union[ImageProfile, List[Shape], None], styles: int,
                   dla: bool) -> List[Profile]:
    """The optimization profiles of one graph: one for a range, one static profile per listed
    size; on the DLA only static ones (default: one at 256x256)."""
    channels = int(meta["output_dim"] if meta.get("part") == "style_encoder" else meta["input_dim"])
    if isinstance(shapes, ImageProfile) and not (shapes.min == shapes.opt == shapes.max):
        if dla:
            raise MunitError("--dla-core: the DLA runs static shapes only, and --shapes gives a range (TensorRT "
                             "would run the engine on the GPU); list the sizes instead, e.g. --shapes "
                             f"1x{channels}x256x256,1x{channels}x720x1280 (one static profile each)")
        return [graph_profile(meta, shapes, styles)]
    if shapes is None:
        if not dla:
            return [graph_profile(meta, ImageProfile((1, channels, 256, 256), (1, channels, 720, 1280),
                                                     (1, channels, 720, 1280)), styles)]
        shapes = [(1, channels, 256, 256)]
    sizes = [shapes.min] if isinstance(shapes, ImageProfile) else shapes
    return [graph_profile(meta, ImageProfile(size, size, size), styles, static=True) for size in sizes]


def _scaled(shape: Shape, channels: int, scale: int, batch: int) -> Shape:
    return (batch, channels, shape[2] // scale, shape[3] // scale)


def graph_profile(meta: Mapping[str, str], images: ImageProfile, styles: int = 1, static: bool = False) -> Profile:
    """{input name: (min, opt, max)} for one exported graph, from its metadata (see onnx_export).
    ``static``: the decoder takes exactly one content map and ``styles`` styles."""
    if styles < 1:
        raise MunitError(f"--styles must be >= 1, got {styles}")
    part = meta.get("part")
    n_down = int(meta["n_downsample"])
    multiple = 2 ** n_down
    for shape in (images.min, images.opt, images.max):
        if shape[2] % multiple or shape[3] % multiple:
            raise MunitError(f"--shapes: {'x'.join(map(str, shape))} has a height or width that is not a multiple of "
                             f"{multiple} (2^n_downsample); round it (the Translator pads frames to a multiple)")
    channels = int(meta["output_dim"] if part == "style_encoder" else meta["input_dim"])
    if images.min[1] != channels:
        raise MunitError(f"--shapes: the {part} graph takes {channels}-channel images, the shapes give {images.min[1]}")
    style_dim = int(meta["style_dim"])
    triple = (images.min, images.opt, images.max)
    if part in ("content_encoder", "style_encoder"):
        return {"image": triple}
    if part == "translate":
        return {"image": triple, "style": tuple((s[0], style_dim) for s in triple)}
    if part == "decoder":
        content_dim = int(meta["content_dim"])
        if static:
            content = _scaled(images.min, content_dim, multiple, 1)
            return {"content": (content,) * 3, "style": ((styles, style_dim),) * 3}
        return {
            "content": (_scaled(images.min, content_dim, multiple, 1), _scaled(images.opt, content_dim, multiple, 1),
                        _scaled(images.max, content_dim, multiple, styles)),
            "style": ((1, style_dim), (styles, style_dim), (styles, style_dim)),
        }
    raise MunitError(f"ONNX graph metadata names no known part ({part!r}); export it with munit-fast export onnx")


def format_shape(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)
