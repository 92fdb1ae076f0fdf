"""Training data: layouts, transforms, unreadable and missing files, sharding, resumable order."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from munit_fast.config import apply_overrides
from munit_fast.errors import MunitError
from munit_fast.images import image_to_tensor, read_image_uint8, resize_shorter_side
from munit_fast.training.data import EpochSampler, PairedBatches, domain_dataset
from tests.training.conftest import DEMO


def test_train_items_are_cropped_scaled_and_deterministic(training_config):
    data = domain_dataset(training_config, "a", train=True)
    assert len(data) == 6
    x = data[(0, 123)]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert torch.equal(x, data[(0, 123)])  # same seed, same crop and flip


def test_test_items_crop_new_size_square_without_flip(training_config):
    config = apply_overrides(training_config, ["crop_image_height=16", "crop_image_width=24"])
    data = domain_dataset(config, "b", train=False)
    assert data.transform.flip is False
    x = data[(0, 1)]
    assert x.shape == (3, 32, 32)  # new_size x new_size, as the original's test loaders
    # the test images are square, so the crop is the whole resized image: exactly the preprocessing
    expected = image_to_tensor(resize_shorter_side(read_image_uint8(data.paths[0], 3), 32))[0]
    torch.testing.assert_close(x, expected, atol=1e-6, rtol=0)


def original_train_transform(path, mode, new_size, crop, flip, top, left):
    """utils.py get_data_loader_folder(train=True), restated for given random choices:
    RandomHorizontalFlip, Resize(new_size) (PIL bilinear), RandomCrop at (top, left), ToTensor,
    Normalize(0.5, 0.5). ``mode``: "RGB" as data.py's loader; "L" for a 1-channel domain."""
    image = Image.open(path).convert(mode)
    if flip:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    w, h = image.size
    if min(w, h) != new_size:
        ow, oh = (new_size, int(new_size * h / w)) if w < h else (int(new_size * w / h), new_size)
        image = image.resize((ow, oh), Image.BILINEAR)
    image = image.crop((left, top, left + crop[1], top + crop[0]))
    array = np.asarray(image, np.float32) / 255.0
    array = array[:, :, None] if array.ndim == 2 else array
    return torch.from_numpy((array.transpose(2, 0, 1) - 0.5) / 0.5)


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("new_size, crop, flip, top, left", [
    (40, (32, 32), False, 0, 0), (40, (32, 24), True, 5, 11), (37, (30, 36), True, 7, 1), (64, (64, 48), False, 0, 9),
])
def test_train_transform_equals_the_original_for_the_same_draws(training_config, channels, new_size, crop, flip,
                                                                 top, left):
    config = apply_overrides(training_config, [f"new_size={new_size}", f"crop_image_height={crop[0]}",
                                               f"crop_image_width={crop[1]}", f"input_dim_a={channels}"])
    data = domain_dataset(config, "a", train=True)
    ours = data.transform.apply(data.load(0), flip, top, left)
    expected = original_train_transform(data.paths[0], "RGB" if channels == 3 else "L", new_size, crop, flip, top,
                                        left)
    assert ours.shape == expected.shape == (channels, *crop)
    # the bound is 1/255; flipping before the same PIL resize leaves only fp32 rounding
    assert (ours - expected).abs().max().item() <= 1e-6


def test_grayscale_domain_has_one_channel(training_config):
    data = domain_dataset(apply_overrides(training_config, ["input_dim_a=1"]), "a", train=True)
    assert data[(1, 5)].shape == (1, 32, 32)


def test_unreadable_file_is_skipped_with_one_warning(training_config, tmp_path):
    shutil.copytree(DEMO, tmp_path / "demo")
    broken = tmp_path / "demo" / "trainA" / "00000.jpg"
    broken.write_bytes(b"not an image")
    data = domain_dataset(apply_overrides(training_config, [f"data_root={tmp_path / 'demo'}"]), "a", train=True)
    with pytest.warns(UserWarning, match="skipping unreadable image .*00000.jpg"):
        x = data[(0, 1)]
    assert x.shape == (3, 32, 32)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data[(0, 2)]  # the second time: no warning


def test_empty_domain_names_the_folder(training_config, tmp_path):
    for split in ("trainA", "trainB", "testA", "testB"):
        os.makedirs(tmp_path / split)
    config = apply_overrides(training_config, [f"data_root={tmp_path}"])
    with pytest.raises(MunitError, match=f"no images found in folder {tmp_path / 'trainA'}"):
        domain_dataset(config, "a", train=True)


def test_list_layout(training_config, tmp_path):
    listing = tmp_path / "list_a.txt"
    listing.write_text("00002.jpg\n00000.jpg\n\n")
    config = apply_overrides(training_config, [
        "data_root=null", f"data_folder_train_a={os.path.join(DEMO, 'trainA')}", f"data_list_train_a={listing}"])
    data = domain_dataset(config, "a", train=True)
    assert [os.path.basename(p) for p in data.paths] == ["00002.jpg", "00000.jpg"]


def test_ranks_get_disjoint_shards():
    a = [i for i, _ in EpochSampler(10, 1, seed=3, epoch=0, rank=0, world_size=2)]
    b = [i for i, _ in EpochSampler(10, 1, seed=3, epoch=0, rank=1, world_size=2)]
    assert len(a) == len(b) == 5 and not set(a) & set(b)


def test_batches_from_iteration_k_equal_the_uninterrupted_order(training_config):
    data_a, data_b = (domain_dataset(training_config, d, True) for d in "ab")
    batches = PairedBatches(data_a, data_b, batch_size=2, num_workers=0, seed=0)
    assert batches.steps_per_epoch == 3
    straight = [pair for pair, _ in zip(batches.from_iteration(0), range(5))]
    resumed = [pair for pair, _ in zip(batches.from_iteration(2), range(3))]  # mid-epoch, into the next
    for (a0, b0), (a1, b1) in zip(straight[2:], resumed):
        assert torch.equal(a0, a1) and torch.equal(b0, b1)
    assert not torch.equal(straight[0][0], straight[3][0])  # a new epoch reshuffles


def test_worker_count_is_capped_and_does_not_change_the_batches(training_config):
    data_a, data_b = (domain_dataset(training_config, d, True) for d in "ab")
    cpus = len(os.sched_getaffinity(0))
    assert PairedBatches(data_a, data_b, batch_size=2, num_workers=cpus + 6, seed=0).num_workers == cpus
    in_process = PairedBatches(data_a, data_b, batch_size=2, num_workers=0, seed=0).from_iteration(1)
    in_workers = PairedBatches(data_a, data_b, batch_size=2, num_workers=2, seed=0).from_iteration(1)
    for (a0, b0), (a1, b1), _ in zip(in_process, in_workers, range(3)):
        assert torch.equal(a0, a1) and torch.equal(b0, b1)


def test_synthetic_source_is_wrapped_with_the_transforms(training_config, monkeypatch):
    import munit_fast.data.synthetic as synthetic

    images = [np.full((40, 48, 3), 0.25, np.float32)] * 3
    monkeypatch.setattr(synthetic, "synthetic_domain", lambda spec, domain, train: images)
    data = domain_dataset(apply_overrides(training_config, ["data_root=synthetic:anything"]), "a", train=True)
    x = data[(0, 0)]
    assert x.shape == (3, 32, 32)
    torch.testing.assert_close(x, torch.full_like(x, -0.5), atol=1e-6, rtol=0)  # 0.25 -> -0.5, resize keeps flat


def test_crop_larger_than_new_size_is_rejected_up_front(training_config):
    config = apply_overrides(training_config, ["crop_image_height=48", "crop_image_width=40"])
    with pytest.raises(MunitError, match="crop 48x40 cannot fit .* resized to 32"):
        domain_dataset(config, "a", train=True)
