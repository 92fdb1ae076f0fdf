"""Optimization profiles from --shapes and --styles (no TensorRT needed)."""
from __future__ import annotations

import pytest

from munit_fast.errors import MunitError
from munit_fast.export.trt_profiles import ImageProfile, graph_profile, parse_shape, parse_shapes

META = {"n_downsample": "2", "input_dim": "3", "output_dim": "1", "style_dim": "8", "content_dim": "256"}


def meta(part):
    return dict(META, part=part)


def test_parse_shapes_min_max_optimizes_for_max():
    profile = parse_shapes("1x3x256x256:1x3x720x1280")
    assert profile == ImageProfile((1, 3, 256, 256), (1, 3, 720, 1280), (1, 3, 720, 1280))


def test_parse_shapes_min_opt_max_and_single():
    assert parse_shapes("1x3x128x128:1x3x256x256:2x3x512x512").opt == (1, 3, 256, 256)
    assert parse_shapes("1X3x64x64") == ImageProfile(*[(1, 3, 64, 64)] * 3)


@pytest.mark.parametrize("text,match", [
    ("1x3x256", "not a shape like"),  # three dims
    ("1x3x256xa", "not a shape like"),
    ("1x3x0x256", "not a shape like"),
    ("1x3x720x1280:1x3x256x256", "grow from MIN"),
    ("1x3x64x64:1x1x64x64", "channel count"),
    ("1x3x64x64:1x3x64x64:1x3x64x64:1x3x64x64", "MIN:MAX or MIN:OPT:MAX"),
])
def test_bad_shapes_are_one_line_errors(text, match):
    with pytest.raises(MunitError, match=match):
        parse_shapes(text)


def test_encoder_and_translate_profiles():
    images = parse_shapes("1x3x256x256:2x3x720x1280")
    assert graph_profile(meta("content_encoder"), images)["image"] == (images.min, images.opt, images.max)
    translate = graph_profile(meta("translate"), images)
    assert translate["style"] == ((1, 8), (2, 8), (2, 8))


def test_style_encoder_takes_target_channels():
    with pytest.raises(MunitError, match="takes 1-channel images"):
        graph_profile(meta("style_encoder"), parse_shapes("1x3x64x64"))
    assert graph_profile(meta("style_encoder"), parse_shapes("1x1x64x64"))["image"][0] == (1, 1, 64, 64)


def test_decoder_profile_one_content_k_styles():
    profile = graph_profile(meta("decoder"), parse_shapes("1x3x256x256:1x3x720x1280"), styles=4)
    assert profile["content"] == ((1, 256, 64, 64), (1, 256, 180, 320), (4, 256, 180, 320))
    assert profile["style"] == ((1, 8), (4, 8), (4, 8))


def test_sizes_must_be_multiples_of_the_downsampling():
    with pytest.raises(MunitError, match="not a multiple of 4"):
        graph_profile(meta("decoder"), parse_shapes("1x3x256x256:1x3x722x1280"))


def test_styles_at_least_one_and_known_part():
    with pytest.raises(MunitError, match="--styles must be >= 1"):
        graph_profile(meta("decoder"), parse_shape_profile(), styles=0)
    with pytest.raises(MunitError, match="no known part"):
        graph_profile(meta("mystery"), parse_shape_profile())


def parse_shape_profile():
    return ImageProfile(*[parse_shape("1x3x64x64")] * 3)


def test_static_sizes_give_one_profile_each():
    from munit_fast.export.trt_profiles import build_profiles, parse_shapes_option

    sizes = parse_shapes_option("1x3x256x256,1x3x720x1280")
    assert sizes == [(1, 3, 256, 256), (1, 3, 720, 1280)]
    profiles = build_profiles(meta("decoder"), sizes, 4, dla=True)
    assert [p["content"] for p in profiles] == [((1, 256, 64, 64),) * 3, ((1, 256, 180, 320),) * 3]
    assert all(p["style"] == ((4, 8),) * 3 for p in profiles)  # exactly K styles: min = opt = max
    encoder = build_profiles(meta("content_encoder"), sizes, 1, dla=True)
    assert encoder[1]["image"] == ((1, 3, 720, 1280),) * 3


def test_dla_refuses_a_range_and_defaults_to_one_static_size():
    from munit_fast.export.trt_profiles import build_profiles

    with pytest.raises(MunitError, match=r"DLA runs static shapes only.*--shapes 1x3x256x256,1x3x720x1280"):
        build_profiles(meta("content_encoder"), parse_shapes("1x3x256x256:1x3x720x1280"), 1, dla=True)
    assert build_profiles(meta("content_encoder"), None, 1, dla=True) == [{"image": ((1, 3, 256, 256),) * 3}]
    # a single size is static already, so it is not a range
    single = build_profiles(meta("content_encoder"), parse_shapes("1x3x64x64"), 1, dla=True)
    assert single[0]["image"][0] == (1, 3, 64, 64)
    # on the GPU the default stays the dynamic range
    assert build_profiles(meta("content_encoder"), None, 1, dla=False)[0]["image"][2] == (1, 3, 720, 1280)


def test_dla_layer_count_reads_the_builder_config():
    from munit_fast.export.trt_build import dla_layer_count

    class Network:
        num_layers = 5

        def get_layer(self, i):
            return f"layer{i}"

    class Config:
        def can_run_on_DLA(self, layer):  # noqa: N802 (TensorRT's method name)
            return layer != "layer3"

    assert dla_layer_count(Config(), Network()) == (4, 5)
