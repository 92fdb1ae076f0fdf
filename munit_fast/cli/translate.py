"""``munit-fast translate``: one image per (input, style), the same N styles for every input,
plus a grid per input (input | style 1 | ... | style N)."""
from __future__ import annotations

import os

from munit_fast.demo_model import add_model_arguments, resolve_model
from munit_fast.errors import MunitError
from munit_fast.images import list_images, load_image_tensor, make_grid, tensor_to_image, write_image
from munit_fast.runtime.backend_choice import BACKEND_CHOICES, choose_backend
from munit_fast.runtime.factory import build_translator
from munit_fast.runtime.styles import load_style_codes, save_style_codes


def add_parser(subparsers):
    p = subparsers.add_parser("translate", help="translate images with N random, example-guided or given styles")
    add_model_arguments(p)
    p.add_argument("--input", required=True, help="an image file or a folder of images")
    p.add_argument("--output", required=True, help="output folder")
    p.add_argument("--direction", default="a2b", choices=["a2b", "b2a"])
    p.add_argument("--num-styles", type=int, default=1, help="random styles per input (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random styles")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--style-image", help="example image of the target domain whose style to use")
    group.add_argument("--style-codes", help=".npy file of style codes shaped (K, style_dim)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--backend", default="auto", choices=BACKEND_CHOICES,
                   help="auto (default): the Triton kernels on CUDA where Triton is installed, else eager")
    p.add_argument("--onnx-dir", help="onnx backend: folder of exported graphs (exported there when missing)")
    p.add_argument("--engine-dir", help="tensorrt backend: folder of TensorRT engines (built there when missing)")
    p.add_argument("--channels-last", action="store_true", help="channels_last memory format")
    p.add_argument("--cuda-graphs", nargs="?", const="on", default="auto", choices=["auto", "on", "off"],
                   help="replay each image size's encode/decode from a CUDA graph (eager/triton/compile on CUDA); "
                        "auto (default): eager and triton on CUDA, captured once a size repeats, launched calls "
                        "if a capture fails")
    p.add_argument("--no-resize", action="store_true", help="keep the input size instead of resizing to new_size")
    return p


def _inputs(path: str):
    if os.path.isdir(path):
        files = list_images(path)
        if not files:
            raise MunitError(f"no images found in folder {path} (looked for jpg, png, bmp, ppm, webp, tiff)")
        return files
    if not os.path.exists(path):
        raise MunitError(f"input not found: {path}")
    return [path]


def run(args) -> int:
    if args.num_styles < 1:
        raise MunitError(f"--num-styles must be >= 1, got {args.num_styles}")
    inputs = _inputs(args.input)
    resolve_model(args)
    from munit_fast.config import load_config

    config = load_config(args.config)
    backend, _ = choose_backend(args.backend, args.device, args.engine_dir)
    translator = build_translator(config, args.checkpoint, args.direction, backend, args.device,
                                  args.precision, args.channels_last, onnx_dir=args.onnx_dir, engine_dir=args.engine_dir,
                                  cuda_graphs={"on": True, "off": False, "auto": "auto"}[args.cuda_graphs])
    source, target = ("a", "b") if args.direction == "a2b" else ("b", "a")
    new_size = None if args.no_resize else config.size_for(source)
    if args.style_image:
        styles = translator.style_from_images(load_image_tensor(args.style_image, translator.output_dim, config.size_for(target)))
    elif args.style_codes:
        styles = load_style_codes(args.style_codes, translator.style_dim)
    else:
        styles = translator.random_styles(args.num_styles, args.seed)
    os.makedirs(args.output, exist_ok=True)
    save_style_codes(os.path.join(args.output, "styles.npy"), styles)
    for path in inputs:
        image = load_image_tensor(path, translator.input_dim, new_size)
        outputs = translator.translate(image, styles)[0]  # (K, C, H, W)
        stem = os.path.splitext(os.path.basename(path))[0]
        tiles = [tensor_to_image(image[0])] if translator.input_dim == translator.output_dim else []
        for k, out in enumerate(outputs):
            picture = tensor_to_image(out)
            write_image(os.path.join(args.output, f"{stem}_style{k:03d}.png"), picture)
            tiles.append(picture)
        write_image(os.path.join(args.output, f"{stem}_grid.jpg"), make_grid(tiles, len(tiles)))
    print(f"translated {len(inputs)} image(s) x {styles.shape[0]} style(s) with {translator.name} -> {args.output}")
    return 0
