"""``munit-fast translate``: one image per (input, style), plus a grid per input (input | style 1 |
... | style N). Styles are random from a seed, encoded from an example image, or read from a file.

Two seed rules: munit-fast's (default: its own generator, the same N styles for every input,
saved as styles.npy) and the original's (``--seed-compat original``: the codes test.py draws
for one image, test_batch.py for a folder, fresh per input unless ``--synchronized``).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import List

import torch

from munit_fast.cli import options
from munit_fast.cli.runtime_options import add_runtime_arguments, resolve_model, translator_from_args
from munit_fast.errors import MunitError
from munit_fast.files import check_writable_folder, remove_partial_files
from munit_fast.images import list_images, load_image_tensor, make_grid, tensor_to_image, write_image
from munit_fast.memory import check_disk_space
from munit_fast.runtime.styles import (
    TEST_BATCH_DEFAULTS,
    TEST_PY_DEFAULTS,
    load_style_codes,
    original_batch_style_codes,
    original_style_codes,
    random_styles,
    save_style_codes,
)

SEED_RULES = ("munit-fast", "original")
NAMINGS = ("munit-fast", "original")


def add_parser(subparsers):
    p = subparsers.add_parser("translate", help="translate images with N random, example-guided or given styles")
    p.add_argument("--input", required=True, help="an image file or a folder of images")
    p.add_argument("--output", required=True, help="output folder")
    add_runtime_arguments(p)
    p.add_argument("--num-styles", type=options.bounded_int(1),
                   help="random styles per input (default 1; 10 with --seed-compat original)")
    p.add_argument("--seed", type=options.seed,
                   help="seed of the random styles (default 0; with --seed-compat original "
                                            "10 for one image as test.py, 1 for a folder as test_batch.py)")
    p.add_argument("--seed-compat", default="munit-fast", choices=SEED_RULES,
                   help="original: draw the codes the original's test.py / test_batch.py draw for --seed")
    p.add_argument("--synchronized", action=argparse.BooleanOptionalAction, default=None,
                   help="the same styles for every input (default), or with --no-synchronized fresh codes per "
                        "input (test_batch.py's default, and this command's with --seed-compat original)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--style-image", help="example image of the target domain whose style to use")
    group.add_argument("--style-codes", help=".npy file of style codes shaped (K, style_dim)")
    p.add_argument("--output-only", action="store_true", help="write the translations only: no grid, no input copy")
    p.add_argument("--naming", default="munit-fast", choices=NAMINGS,
                   help="munit-fast: <name>_style000.png, <name>_grid.jpg; original: test.py's output000.jpg and "
                        "input.jpg for one image, test_batch.py's <output>_00/<name> and input000.jpg for a folder")
    p.add_argument("--stretch", action="store_true",
                   help="stretch each written image to its own min..max, as the original's save_image(normalize=True)")
    p.add_argument("--no-resize", action="store_true", help="keep the input size instead of resizing to new_size")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (shown for folders on a terminal)")
    p.add_argument("--skip-bad", action="store_true",
                   help="warn about unreadable or oversized inputs, translate the rest, exit 1 with a count at the "
                        "end (default: stop at the first)")
    p.add_argument("--no-pad", action="store_true",
                   help="run the network at the image's own size as the original does (outputs lose the rows and "
                        "columns past a multiple of 2^n_downsample) instead of padding and cropping back")
    return p


def _inputs(path: str) -> List[str]:
    if os.path.isdir(path):
        files = list_images(path)
        if not files:
            raise MunitError(f"no images found in folder {path} (looked for jpg, png, bmp, ppm, webp, tiff)")
        return files
    if not os.path.exists(path):
        raise MunitError(f"input not found: {path}")
    return [path]


def _random_style_plan(args, config, style_dim: int, count: int, check_room) -> List[torch.Tensor]:
    """Per input, its (K, style_dim) codes under the chosen seed rule; ``check_room(K)`` first."""
    one_image = not os.path.isdir(args.input)
    if args.seed_compat == "original":
        defaults = TEST_PY_DEFAULTS if one_image else TEST_BATCH_DEFAULTS
        seed = defaults["seed"] if args.seed is None else args.seed
        styles = defaults["num_styles"] if args.num_styles is None else args.num_styles
        check_room(styles)
        if one_image:
            return [original_style_codes(config, seed, styles)]
        synchronized = bool(args.synchronized)
        return original_batch_style_codes(config, seed, styles, count, synchronized)
    seed = 0 if args.seed is None else args.seed
    styles = 1 if args.num_styles is None else args.num_styles
    check_room(styles)
    if args.synchronized is False:  # one stream of codes, cut per input
        codes = random_styles(styles * count, style_dim, seed)
        return list(codes.split(styles))
    return [random_styles(styles, style_dim, seed)] * count


def _stretch(image: torch.Tensor) -> torch.Tensor:
    """(C, H, W) -> the same image mapped from its own min..max to [-1, 1] (save_image(normalize=True))."""
    low, high = image.min(), image.max()
    return (image - low) / (high - low).clamp_min(1e-5) * 2 - 1


GRID_TILES = 32  # styles a grid shows at most; every style still gets its own file


class _Outputs:
    """Where each picture goes, under munit-fast's or the original's names."""

    def __init__(self, args, one_image: bool):
        self.folder, self.naming, self.one_image = args.output, args.naming, one_image
        self.output_only, self.stretch = args.output_only, args.stretch

    def picture(self, tensor: torch.Tensor):
        return tensor_to_image(_stretch(tensor) if self.stretch else tensor)

    def translation(self, path: str, k: int) -> str:
        if self.naming == "original":
            if self.one_image:
                return os.path.join(self.folder, f"output{k:03d}.jpg")
            return os.path.join(f"{self.folder}_{k:02d}", os.path.basename(path))
        return os.path.join(self.folder, f"{_stem(path)}_style{k:03d}.png")

    def write_translations(self, path: str, start: int, outputs: torch.Tensor) -> list:
        """outputs (k, C_out, h, w), styles start.. -> files; returns the pictures a grid may show."""
        pictures = [self.picture(out) for out in outputs]
        for k, picture in enumerate(pictures):
            write_image(self.translation(path, start + k), picture)
        return pictures[:max(0, GRID_TILES - start)]

    def finish(self, index: int, path: str, image: torch.Tensor, size, shown: list, same_channels: bool) -> None:
        """The input copy (original naming) or the grid (input | first styles), unless --output-only.
        image (1, C_in, H, W); size: the outputs' (h, w)."""
        if self.output_only:
            return
        source = self.picture(image[0, :, :size[0], :size[1]])
        if self.naming == "original":
            name = "input.jpg" if self.one_image else f"input{index:03d}.jpg"
            write_image(os.path.join(self.folder, name), source)
            return
        tiles = ([source] if same_channels else []) + shown
        write_image(os.path.join(self.folder, f"{_stem(path)}_grid.jpg"), make_grid(tiles, len(tiles)))


class _OutputChecks:
    """One warning per run when translations come out non-finite or entirely clipped."""

    def __init__(self):
        self.warned = set()

    def __call__(self, path: str, outputs: torch.Tensor) -> None:
        if "finite" not in self.warned and not bool(torch.isfinite(outputs).all()):
            self.warned.add("finite")
            warnings.warn(f"translations of {path} hold NaN or Inf values (written as black): the checkpoint or "
                          "the style codes are broken", stacklevel=2)
        elif "clipped" not in self.warned and bool((outputs.abs() >= 1.0).all()):
            self.warned.add("clipped")
            warnings.warn(f"translations of {path} are clipped everywhere (every pixel at -1 or 1): style codes "
                          "far outside N(0, I)?", stacklevel=2)


def _check_disk(folder: str, pictures: int, height: int, width: int, channels: int) -> None:
    """Refuse before translating when the folder cannot hold even compressed pictures."""
    needed = pictures * height * width * channels // 4  # PNGs of photos rarely compress below a quarter
    check_disk_space(folder, needed, f"{pictures} pictures of {height}x{width}",
                     "lower --num-styles or free disk space")


def _progress(total: int, enabled: bool):
    """A tqdm bar with ETA on stderr when it is a terminal (and tqdm is installed), else a no-op."""
    try:
        from tqdm import tqdm
    except ImportError:
        enabled = False
    if not enabled:
        return _NoBar()
    return tqdm(total=total, unit="image", disable=None, file=sys.stderr, dynamic_ncols=True)


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, count: int) -> None:
        pass


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def run(args) -> int:
    inputs = _inputs(args.input)
    resolve_model(args)
    from munit_fast.config import load_config

    config = load_config(args.config)
    check_writable_folder(args.output)
    remove_partial_files(args.output, min_age_s=3600)  # another run may be writing here right now
    translator = translator_from_args(args, config)
    device = str(translator.backend.device)
    source = "a" if args.direction == "a2b" else "b"
    new_size = None if args.no_resize else config.size_for(source)
    if args.style_image:  # resized like the input, as test.py does
        styles = translator.style_from_images(load_image_tensor(args.style_image, translator.output_dim, new_size))
        plan = [styles] * len(inputs)
    elif args.style_codes:
        plan = [load_style_codes(args.style_codes, translator.style_dim)] * len(inputs)
    else:
        def check_room(styles: int) -> None:  # before drawing: the outputs are at least new_size a side
            if new_size is not None:
                _check_disk(args.output, styles + 1, new_size, new_size, translator.output_dim)

        plan = _random_style_plan(args, config, translator.style_dim, len(inputs), check_room)
    shared = all(codes is plan[0] for codes in plan)
    outputs, check_outputs = _Outputs(args, one_image=not os.path.isdir(args.input)), _OutputChecks()
    hint = "drop --no-resize or lower new_size" if args.no_resize else "lower new_size in the config"
    skipped = []
    with _progress(len(inputs), enabled=not args.no_progress and len(inputs) > 1) as bar:
        for index, (path, styles) in enumerate(zip(inputs, plan)):
            try:
                image = load_image_tensor(path, translator.input_dim, new_size)
                height, width = image.shape[-2:]
                per_pass = translator.check_image_fits(height, width, f"image {path}", hint, device)
            except MunitError as exc:
                if not args.skip_bad:
                    raise
                print(f"munit-fast: warning: skipped: {exc}", file=sys.stderr)
                skipped.append(path)
                bar.update(1)
                continue
            _check_disk(args.output, styles.shape[0] + 1, height, width, translator.output_dim)
            shown, size = [], (height, width)
            for start, translations in translator.translate_in_passes(image, styles, per_pass, pad=not args.no_pad):
                check_outputs(path, translations)
                shown += outputs.write_translations(path, start, translations)
                size = translations.shape[-2:]
            outputs.finish(index, path, image, size, shown, translator.input_dim == translator.output_dim)
            if not shared:
                save_style_codes(os.path.join(args.output, f"{_stem(path)}_styles.npy"), styles)
            bar.update(1)
    done = len(inputs) - len(skipped)
    if shared and done:  # written last: a failed run leaves no codes that match no pictures
        save_style_codes(os.path.join(args.output, "styles.npy"), plan[0])
    if plan[0].shape[0] > GRID_TILES and not args.output_only and args.naming == "munit-fast":
        print(f"grids show the first {GRID_TILES} of {plan[0].shape[0]} styles; every style has its own file")
    print(f"translated {done} image(s) x {plan[0].shape[0]} style(s) with {translator.name} -> {args.output}")
    if skipped:
        print(f"munit-fast: error: {len(skipped)} of {len(inputs)} input(s) could not be translated and were "
              f"skipped (--skip-bad); see the warnings above", file=sys.stderr)
        return 1
    return 0
