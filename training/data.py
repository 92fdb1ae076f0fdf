"""Training data as the original MUNIT reads it: Pillow as its PIL/torchvision transforms.

Layouts: the folder layout (``data_root`` with trainA/ trainB/ testA/ testB/, searched
recursively), the list layout (``data_folder_train_a`` + ``data_list_train_a``, ...: one path
per line, relative to the folder) and ``data_root: synthetic:<name>`` (generated images).
Transforms, in the original's order: random horizontal flip (train only), shorter side to
``new_size`` (torchvision's Resize: PIL bilinear on the 8-bit image), random crop, [-1, 1]. The
test loaders crop new_size x new_size and never flip, as the original's do.

Randomness is reproducible and independent of worker processes: the sampler hands every
item a seed derived from (seed, epoch, position), and the crop and flip draw from it. An
interrupted run that resumes at iteration k therefore sees exactly the images and crops of
an uninterrupted one.
"""
from __future__ import annotations

import os
import signal
import warnings
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from munit_fast.config import MunitConfig
from munit_fast.errors import MunitError
from munit_fast.images import (
    image_to_tensor,
    is_image_file,
    list_images,
    read_image_uint8,
    resize_shorter_side,
    shorter_side_size,
)

SYNTHETIC_PREFIX = "synthetic:"
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class Transform:
    new_size: int
    crop_height: int
    crop_width: int
    flip: bool

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """HxWxC uint8 (or float32 [0, 1]) -> (C, crop_height, crop_width) float32 in [-1, 1].
        Draws as torchvision does, in its order: the flip, then the crop's top and left."""
        flip = self.flip and rng.random() < 0.5
        h, w = shorter_side_size(*image.shape[:2], self.new_size)
        if h < self.crop_height or w < self.crop_width:
            raise MunitError(
                f"crop {self.crop_height}x{self.crop_width} is larger than the resized image {h}x{w}; "
                f"lower crop_image_height/crop_image_width or raise new_size"
            )
        top = int(rng.integers(0, h - self.crop_height + 1))
        left = int(rng.integers(0, w - self.crop_width + 1))
        return self.apply(image, flip, top, left)

    def apply(self, image: np.ndarray, flip: bool, top: int, left: int) -> torch.Tensor:
        """The transform for given random choices: flip, resize, crop at (top, left), to [-1, 1]."""
        if flip:
            image = image[:, ::-1]
        image = resize_shorter_side(np.ascontiguousarray(image), self.new_size)
        image = image[top:top + self.crop_height, left:left + self.crop_width]
        return image_to_tensor(image)[0]


class _Items(Dataset):
    """Common indexing: an item is ``index`` or ``(index, seed)`` (seed drives crop and flip)."""

    transform: Transform

    def load(self, index: int) -> Optional[np.ndarray]:
        raise NotImplementedError

    def __getitem__(self, item: Union[int, Tuple[int, int]]) -> torch.Tensor:
        index, seed = item if isinstance(item, tuple) else (item, index_seed(0, 0, item))
        image = self.load(index)
        if image is None:  # unreadable file: one warning, then the next readable one
            for step in range(1, len(self)):
                image = self.load((index + step) % len(self))
                if image is not None:
                    break
            else:
                raise MunitError(f"no readable image in {self.describe()}")
        return self.transform(image, np.random.default_rng(seed))

    def describe(self) -> str:
        raise NotImplementedError


class ImageFiles(_Items):
    """Image files of one domain; files that cannot be read (corrupt, truncated, not images) are
    skipped with one warning each."""

    def __init__(self, paths: List[str], where: str, channels: int, transform: Transform):
        if not paths:
            raise MunitError(f"no images found in {where} (looked for jpg, png, bmp, ppm, webp); check the data path")
        self.paths, self.where, self.channels, self.transform = paths, where, channels, transform
        self._warned = set()

    def __len__(self) -> int:
        return len(self.paths)

    def describe(self) -> str:
        return self.where

    def load(self, index: int) -> Optional[np.ndarray]:
        path = self.paths[index]
        try:
            return read_image_uint8(path, self.channels)
        except MunitError as exc:
            if path not in self._warned:
                self._warned.add(path)
                warnings.warn(f"skipping unreadable image {path} ({exc})", stacklevel=2)
            return None


class ImageArrays(_Items):
    """In-memory float32 HxWx3 RGB [0, 1] images (the synthetic source)."""

    def __init__(self, images: Sequence[np.ndarray], where: str, channels: int, transform: Transform):
        if len(images) == 0:
            raise MunitError(f"the synthetic source {where} produced no images")
        self.images, self.where, self.channels, self.transform = images, where, channels, transform

    def __len__(self) -> int:
        return len(self.images)

    def describe(self) -> str:
        return self.where

    def load(self, index: int) -> np.ndarray:
        image = np.asarray(self.images[index], np.float32)
        if self.channels == 1 and image.shape[2] == 3:
            return (image @ _LUMA)[:, :, None]
        return image


def _read_list(folder: str, list_file: str) -> List[str]:
    if not os.path.isfile(list_file):
        raise MunitError(f"image list not found: {list_file}; check data_list_* in the config")
    with open(list_file, "r", encoding="utf-8") as handle:
        names = [line.strip() for line in handle if line.strip()]
    return [os.path.join(folder, name) for name in names if is_image_file(name)]


def _check_crop_fits(config: MunitConfig, domain: str) -> None:
    new_size = config.size_for(domain)
    if min(config.crop_image_height, config.crop_image_width) > new_size:
        raise MunitError(
            f"crop {config.crop_image_height}x{config.crop_image_width} cannot fit images whose shorter side is "
            f"resized to {new_size}; lower crop_image_height/crop_image_width or raise new_size"
        )


def check_training_sizes(config: MunitConfig) -> None:
    """One line, before any data is read, when the training crop or the test images of the sample
    grids (new_size x new_size) cannot go through the networks (see `training_size_problem`)."""
    from munit_fast.model.size import training_size_problem

    for domain in "ab":
        _check_crop_fits(config, domain)
    sizes = {(config.crop_image_height, config.crop_image_width): "crop_image_height x crop_image_width"}
    for domain in "ab":  # each distinct size once: the crop usually equals new_size
        side = config.size_for(domain)
        sizes.setdefault((side, side), "new_size" if config.new_size is not None else f"new_size_{domain}")
    for (height, width), key in sizes.items():
        problem = training_size_problem(config, height, width)
        if problem:
            what = "test images for the sample grids" if key.startswith("new_size") else "training crop"
            raise MunitError(f"{key} {height}x{width} ({what}): {problem}")


def domain_dataset(config: MunitConfig, domain: str, train: bool) -> _Items:
    """The dataset of domain 'a' or 'b', train or test split, with the original's transforms."""
    new_size = config.size_for(domain)
    if train:
        _check_crop_fits(config, domain)
        transform = Transform(new_size, config.crop_image_height, config.crop_image_width, flip=True)
    else:
        transform = Transform(new_size, new_size, new_size, flip=False)
    channels = config.input_dim(domain)
    split = ("train" if train else "test") + domain.upper()
    if config.data_root and config.data_root.startswith(SYNTHETIC_PREFIX):
        from munit_fast.data.synthetic import synthetic_domain

        spec = config.data_root[len(SYNTHETIC_PREFIX):]
        return ImageArrays(synthetic_domain(spec, domain, train), f"{config.data_root} {split}", channels, transform)
    if config.data_root:
        folder = os.path.join(config.data_root, split)
        if not os.path.isdir(folder):
            raise MunitError(f"data folder not found: {folder}; data_root needs trainA/ trainB/ testA/ testB/")
        return ImageFiles(list_images(folder), f"folder {folder}", channels, transform)
    key = f"{'train' if train else 'test'}_{domain}"
    folder, list_file = getattr(config, f"data_folder_{key}"), getattr(config, f"data_list_{key}")
    if not folder or not list_file:
        raise MunitError(f"no data for {split}: set data_root, or data_folder_{key} and data_list_{key}")
    return ImageFiles(_read_list(folder, list_file), f"list {list_file}", channels, transform)


def index_seed(seed: int, epoch: int, position: int) -> int:
    """A seed per (run seed, epoch, position in the epoch's order) for crop and flip."""
    return int(np.random.SeedSequence([seed, epoch, position]).generate_state(1)[0])


class EpochSampler(Sampler):
    """One epoch's shuffled order, sharded over ranks like DistributedSampler (drop_last),
    starting at ``start`` batches in, each index paired with its augmentation seed."""

    def __init__(self, size: int, batch_size: int, seed: int, epoch: int, rank: int = 0, world_size: int = 1,
                 start: int = 0):
        self.size, self.batch_size, self.seed, self.epoch = size, batch_size, seed, epoch
        self.rank, self.world_size, self.start = rank, world_size, start

    def steps(self) -> int:
        return (self.size // self.world_size) // self.batch_size

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed + self.epoch)).tolist()
        shard = order[: (self.size // self.world_size) * self.world_size][self.rank::self.world_size]
        for position in range(self.start * self.batch_size, self.steps() * self.batch_size):
            yield shard[position], index_seed(self.seed, self.epoch, position * self.world_size + self.rank)

    def __len__(self) -> int:
        return (self.steps() - self.start) * self.batch_size


def usable_workers(requested: int) -> int:
    """The config's ``num_workers`` capped at the CPUs this process may use: the original configs
    ask for 8 per domain, which oversubscribes a small machine (and makes PyTorch warn) for no
    gain. Crop and flip are seeded per image, so the batches do not depend on the count."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(requested, available)


def _ignore_sigint(worker_id: int) -> None:
    """Ctrl-C reaches the whole process group; workers leave it to the main process, which
    saves a checkpoint and then shuts them down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PairedBatches:
    """(x_a, x_b) batches for iteration k onwards: two independently shuffled domains zipped,
    an epoch ends with the shorter one (as the original's zip of two loaders)."""

    def __init__(self, data_a: _Items, data_b: _Items, batch_size: int, num_workers: int, seed: int,
                 rank: int = 0, world_size: int = 1, pin_memory: bool = False):
        self.data = (data_a, data_b)
        self.batch_size, self.num_workers, self.seed = batch_size, usable_workers(num_workers), seed
        self.rank, self.world_size, self.pin_memory = rank, world_size, pin_memory
        self.steps_per_epoch = min(len(d) // world_size for d in self.data) // batch_size
        if self.steps_per_epoch == 0:
            smallest = min(self.data, key=len)
            raise MunitError(
                f"{smallest.describe()} has {len(smallest)} images, fewer than batch_size {batch_size} x "
                f"{world_size} processes; lower batch_size or add images"
            )

    def _loader(self, domain: int, epoch: int, start: int) -> DataLoader:
        # domain b's order uses another seed, so the two domains shuffle independently
        sampler = EpochSampler(len(self.data[domain]), self.batch_size, self.seed + 7919 * domain, epoch,
                               self.rank, self.world_size, start)
        return DataLoader(self.data[domain], batch_size=self.batch_size, sampler=sampler, drop_last=True,
                          num_workers=self.num_workers, pin_memory=self.pin_memory, worker_init_fn=_ignore_sigint,
                          generator=torch.Generator().manual_seed(self.seed))  # leaves the global RNG alone

    def from_iteration(self, iteration: int) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        """Endless batches; the first one is what iteration ``iteration`` trains on."""
        epoch, start = divmod(iteration, self.steps_per_epoch)
        while True:
            loaders = [self._loader(d, epoch, start) for d in (0, 1)]
            for step, (x_a, x_b) in enumerate(zip(*loaders)):
                if start + step >= self.steps_per_epoch:
                    break
                yield x_a, x_b
            epoch, start = epoch + 1, 0


def display_images(dataset: _Items, count: int) -> torch.Tensor:
    """The first ``count`` images (fixed crops) for the sample grids: (count, C, H, W)."""
    count = min(count, len(dataset))
    return torch.stack([dataset[i] for i in range(count)])
