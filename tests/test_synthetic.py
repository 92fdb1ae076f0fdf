"""The built-in shapes dataset: deterministic from the seed, labelled, lazily rendered."""
from __future__ import annotations

import numpy as np
import pytest

from munit_fast.data.synthetic import (
    NUM_MODES,
    mode_labels,
    parse_spec,
    random_shape,
    render_filled,
    render_pair,
    synthetic_domain,
)
from munit_fast.errors import MunitError

SPEC = "synthetic:shapes?seed=3&size=32&count=64&test_count=16"


@pytest.mark.parametrize("domain", ["a", "b"])
def test_images_are_float_rgb_in_unit_range(domain):
    images = synthetic_domain(SPEC, domain, train=True)
    assert len(images) == 64
    image = images[5]
    assert image.shape == (32, 32, 3) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert image.std() > 0.05  # a shape is drawn, not a blank canvas


@pytest.mark.parametrize("domain", ["a", "b"])
def test_same_seed_same_images_in_any_order(domain):
    first = synthetic_domain(SPEC, domain, train=True)
    second = synthetic_domain(SPEC, domain, train=True)
    np.testing.assert_array_equal(first[7], second[7])
    np.testing.assert_array_equal(first[-1], second[63])  # negative index, rendered independently
    np.testing.assert_array_equal(np.stack(first[2:5]), np.stack([second[4], second[3], second[2]])[::-1])


def test_seed_and_split_change_the_images():
    base = synthetic_domain(SPEC, "b", train=True)[0]
    other_seed = synthetic_domain(SPEC.replace("seed=3", "seed=4"), "b", train=True)[0]
    test_split = synthetic_domain(SPEC, "b", train=False)[0]
    assert np.abs(base - other_seed).max() > 0.1
    assert np.abs(base - test_split).max() > 0.1


def test_domain_b_is_labelled_with_all_four_modes():
    labels = mode_labels(SPEC, train=True)
    assert labels.shape == (64,) and labels.dtype == np.int64
    assert set(labels.tolist()) == set(range(NUM_MODES))
    np.testing.assert_array_equal(labels, mode_labels(SPEC, train=True))
    with pytest.raises(MunitError, match="domain b"):
        synthetic_domain(SPEC, "a", train=True).labels


def test_modes_differ_in_appearance_not_in_shape():
    shape = random_shape(np.random.default_rng(0))
    looks = [render_filled(shape, mode, 48) for mode in range(NUM_MODES)]
    for i in range(NUM_MODES):
        for j in range(i + 1, NUM_MODES):
            assert np.abs(looks[i] - looks[j]).mean() > 0.05, (i, j)


def test_pair_renders_the_same_shape_in_both_domains():
    shape = random_shape(np.random.default_rng(1))
    sketch, filled = render_pair(shape, 2, 48)
    inside_sketch = sketch.mean(axis=2) < 0.5  # the outline pixels
    background = filled[0, 0]  # corners are never covered by the shape
    changed = np.abs(filled - background).max(axis=2) > 0.2
    # The outline lies on the filled shape's border: nearly every outline pixel is at most
    # one pixel away from a covered pixel.
    grown = changed.copy()
    grown[1:] |= changed[:-1]
    grown[:-1] |= changed[1:]
    grown[:, 1:] |= changed[:, :-1]
    grown[:, :-1] |= changed[:, 1:]
    assert inside_sketch.sum() > 20
    assert (inside_sketch & grown).sum() / inside_sketch.sum() > 0.9


@pytest.mark.parametrize("spec, match", [
    ("synthetic:faces", "unknown synthetic dataset"),
    ("synthetic:shapes?colour=1", "unknown option 'colour'"),
    ("synthetic:shapes?size=big", "size must be an integer"),
    ("synthetic:shapes?size=4", "size >= 16"),
])
def test_bad_spec_names_the_problem(spec, match):
    with pytest.raises(MunitError, match=match):
        parse_spec(spec)


def test_spec_prefix_is_optional():
    np.testing.assert_array_equal(synthetic_domain(SPEC, "b", True)[3],
                                  synthetic_domain(SPEC[len("synthetic:"):], "b", True)[3])


def test_bad_domain_and_index():
    with pytest.raises(MunitError, match="'a' or 'b'"):
        synthetic_domain(SPEC, "c", train=True)
    with pytest.raises(IndexError):
        synthetic_domain(SPEC, "a", train=False)[16]
