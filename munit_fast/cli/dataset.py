"""``munit-fast dataset``: the built-in synthetic dataset on disk, and the mode classifier.

    munit-fast dataset synth --out DIR [--seed S] [--size N] [--count N] [--test-count N]
        writes DIR/trainA, trainB, testA, testB (PNG) and DIR/labels_trainB.csv, labels_testB.csv
    munit-fast dataset classifier --out FILE [--data DIR] [--seed S] [--epochs N]
        trains a mode classifier: on the shapes dataset's domain B labels (how the shipped
        classifier was made), or on DIR with one sub-folder of images per mode
"""
from __future__ import annotations

import os

import cv2
import numpy as np
import torch

from munit_fast.cli import options
from munit_fast.errors import MunitError
from munit_fast.files import atomic_write_text, check_writable, check_writable_folder
from munit_fast.images import list_images, read_image, write_image
from munit_fast.memory import check_disk_space, check_fits

SHIPPED_RECIPE = {"seed": 0, "count": 4000, "test_count": 400, "epochs": 6}


def add_parser(subparsers):
    p = subparsers.add_parser("dataset", help="write the built-in synthetic dataset; train a mode classifier")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    synth = actions.add_parser("synth", help="write the synthetic shapes dataset (trainA/trainB/testA/testB + labels)")
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--seed", type=options.seed, default=0)
    synth.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    synth.add_argument("--count", type=int, default=4000, help="training images per domain (default 4000)")
    synth.add_argument("--test-count", type=int, default=400, help="test images per domain (default 400)")
    clf = actions.add_parser("classifier", help="train a mode classifier for `munit-fast eval --classifier`")
    clf.add_argument("--out", required=True, help="output classifier file (.pt)")
    clf.add_argument("--data", help="folder with one sub-folder of images per mode (default: the shapes dataset)")
    clf.add_argument("--seed", type=options.seed, default=SHIPPED_RECIPE["seed"])
    clf.add_argument("--count", type=int, default=SHIPPED_RECIPE["count"], help="shapes training images (default 4000)")
    clf.add_argument("--epochs", type=int, default=SHIPPED_RECIPE["epochs"])
    clf.add_argument("--size", type=int, default=64, help="classifier input size (default 64)")
    return p


def _write_labels(path: str, names, labels, mode_names) -> None:
    rows = [f"{name},{label},{mode_names[label]}" for name, label in zip(names, labels)]
    atomic_write_text(path, "\n".join(["file,mode,mode_name", *rows]) + "\n")


def _to_uint8_bgr(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray((image * 255.0).round().astype(np.uint8)[:, :, ::-1])


def _check_disk(out: str, spec: str, count: int, test_count: int, size: int) -> None:
    """Refuse before writing when the PNGs, at the size the first image of each domain takes, cannot fit."""
    from munit_fast.data.synthetic import synthetic_domain

    per_pair = sum(len(cv2.imencode(".png", _to_uint8_bgr(synthetic_domain(spec, d, True)[0]))[1]) for d in "ab")
    check_disk_space(out, per_pair * (count + test_count), f"{2 * (count + test_count)} images of {size}x{size}",
                     "lower --count, --test-count or --size")


def write_synthetic(out: str, seed: int, size: int, count: int, test_count: int) -> None:
    from tqdm import tqdm

    from munit_fast.data.synthetic import MODES, synthetic_domain

    spec = f"synthetic:shapes?seed={seed}&size={size}&count={count}&test_count={test_count}"
    _check_disk(out, spec, count, test_count, size)
    for train in (True, False):
        split = "train" if train else "test"
        for domain in ("a", "b"):
            images = synthetic_domain(spec, domain, train)
            folder = os.path.join(out, f"{split}{domain.upper()}")
            names = [f"{i:06d}.png" for i in range(len(images))]
            for i, name in enumerate(tqdm(names, desc=f"{split}{domain.upper()}", unit="img", leave=False)):
                write_image(os.path.join(folder, name), _to_uint8_bgr(images[i]))
            if domain == "b":
                _write_labels(os.path.join(out, f"labels_{split}B.csv"), names, images.labels, MODES)
    print(f"wrote {2 * (count + test_count)} images ({size}x{size}) with seed {seed} to {out} "
          f"(trainA, trainB, testA, testB; modes in labels_trainB.csv, labels_testB.csv)")


def _shapes_set(seed: int, count: int, train: bool, size: int):
    from munit_fast.data.synthetic import MODES, synthetic_domain
    from munit_fast.metrics.classifier import to_batch

    spec = f"synthetic:shapes?seed={seed}&size={size}&count={count}&test_count={SHIPPED_RECIPE['test_count']}"
    images = synthetic_domain(spec, "b", train)
    return to_batch([images[i] for i in range(len(images))]), torch.from_numpy(images.labels), list(MODES)


def _folder_set(data: str, size: int, seed: int):
    """DIR/<mode>/*.png -> 90% / 10% split of (images, labels), class names."""
    from munit_fast.metrics.classifier import to_batch

    if not os.path.isdir(data):
        raise MunitError(f"--data {data}: not a folder; expected one sub-folder of images per mode")
    classes = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)))
    if len(classes) < 2:
        raise MunitError(f"--data {data}: found {len(classes)} sub-folder(s); need one per mode, at least 2")
    images, labels = [], []
    for label, name in enumerate(classes):
        files = list_images(os.path.join(data, name))
        if not files:
            raise MunitError(f"--data {data}: sub-folder {name} has no images")
        for path in files:
            images.append(cv2.resize(read_image(path, 3), (size, size), interpolation=cv2.INTER_AREA))
            labels.append(label)
    order = np.random.default_rng(seed).permutation(len(images))
    held = max(1, len(order) // 10)
    batch, labels = to_batch(images), torch.tensor(labels, dtype=torch.int64)
    test, train = torch.from_numpy(order[:held]), torch.from_numpy(order[held:])
    return batch[train], labels[train], batch[test], labels[test], classes


def train_mode_classifier(out: str, data, seed: int, count: int, epochs: int, size: int) -> float:
    from munit_fast.metrics.classifier import save_classifier, train_classifier

    if data:
        train_x, train_y, test_x, test_y, names = _folder_set(data, size, seed)
    else:
        images = count + SHIPPED_RECIPE["test_count"]  # rendered, then stacked into one batch
        check_fits(2 * images * 3 * size * size * 4, f"--count {count} shapes images of {size}x{size}",
                   "lower --count or --size")
        train_x, train_y, names = _shapes_set(seed, count, True, size)
        test_x, test_y, _ = _shapes_set(seed, count, False, size)
    print(f"training a {len(names)}-mode classifier on {len(train_x)} images, {len(test_x)} held out")
    result = train_classifier(train_x, train_y, test_x, test_y, len(names), epochs=epochs, seed=seed,
                              progress=lambda e, acc: print(f"epoch {e + 1}/{epochs}: held-out accuracy {acc:.4f}"))
    save_classifier(result.model, out, names)
    print(f"held-out accuracy {result.accuracy:.4f}; classifier written to {out}")
    return result.accuracy


def run(args) -> int:
    if args.action == "synth":
        if not 16 <= args.size <= 1024 or args.count < 1 or args.test_count < 1:
            raise MunitError("need --size 16 .. 1024, --count >= 1 and --test-count >= 1")
        check_writable_folder(args.out)
        write_synthetic(args.out, args.seed, args.size, args.count, args.test_count)
        return 0
    if args.epochs < 1 or args.count < 1 or args.size < 16:
        raise MunitError("need --epochs >= 1, --count >= 1 and --size >= 16")
    check_writable(args.out, "--out")
    train_mode_classifier(args.out, args.data, args.seed, args.count, args.epochs, args.size)
    return 0
