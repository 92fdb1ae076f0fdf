"""``munit-fast eval``: the paper's diversity metrics of a trained model (IS, CIS, mode coverage,
LPIPS diversity), as a printed table, optional JSON and an optional sample sheet."""
from __future__ import annotations

import json
import os

import torch

from munit_fast.cli import options
from munit_fast.cli.runtime_options import add_runtime_arguments, resolve_model, translator_from_args
from munit_fast.errors import MunitError
from munit_fast.files import atomic_write_text, check_writable


def add_parser(subparsers):
    p = subparsers.add_parser("eval", help="IS, CIS, mode coverage and LPIPS diversity of a model; sample sheet")
    add_runtime_arguments(p)
    p.add_argument("--input", help="folder of source-domain images (default: the config's test split)")
    p.add_argument("--classifier", help="mode classifier of the target domain (default for synthetic:shapes: "
                                        "the shipped one; train others with `munit-fast dataset classifier`)")
    p.add_argument("--lpips-alexnet", help="torchvision AlexNet ImageNet weights (alexnet-owt-7be5be79.pth)")
    p.add_argument("--lpips-linear", help="LPIPS v0.1 AlexNet linear layers (alex.pth)")
    p.add_argument("--lpips-pairs", type=int, default=19, help="consecutive pairs per input (paper: 19)")
    p.add_argument("--num-inputs", type=int, default=100, help="inputs to translate (paper: 100)")
    p.add_argument("--num-samples", type=int, default=100, help="random styles per input (paper: 100)")
    p.add_argument("--fixed-style", action="store_true", help="one style for every sample: the deterministic baseline")
    p.add_argument("--seed", type=options.seed, default=0, help="seed of the random styles")
    p.add_argument("--repeats", type=options.bounded_int(1), default=1,
                   help="independent draws of the random styles (seeds SEED, SEED+1, ...); the scores are "
                        "their mean with its standard error")
    p.add_argument("--json", help="write the results to this JSON file")
    p.add_argument("--sheet", help="write a sample sheet image (rows = inputs, columns = styles)")
    p.add_argument("--sheet-rows", type=int, default=8)
    p.add_argument("--sheet-styles", type=int, default=8)
    return p


def load_inputs(config, source: str, folder, count: int):
    """-> up to ``count`` (1, C, H, W) tensors in [-1, 1] of the source domain's test images."""
    from munit_fast.data.synthetic import is_synthetic, synthetic_domain
    from munit_fast.images import image_to_tensor, list_images, load_image_tensor

    channels, new_size = config.input_dim(source), config.size_for(source)
    if folder is None and is_synthetic(config.data_root):
        images = synthetic_domain(config.data_root, source, train=False)
        tensors = [image_to_tensor(images[i]) for i in range(min(count, len(images)))]
        return [t.mean(dim=1, keepdim=True) if channels == 1 else t for t in tensors]
    if folder is None:
        if not config.data_root:
            raise MunitError("the config has no data_root; pass --input with a folder of source-domain images")
        folder = os.path.join(config.data_root, f"test{source.upper()}")
    if not os.path.isdir(folder):
        raise MunitError(f"input folder not found: {folder}; pass --input with a folder of source-domain images")
    files = list_images(folder)[:count]
    if not files:
        raise MunitError(f"no images found in {folder}")
    return [load_image_tensor(path, channels, new_size) for path in files]


def _classifier_for(args, config):
    from munit_fast.data.synthetic import is_synthetic
    from munit_fast.metrics.classifier import load_classifier

    if args.classifier:
        return load_classifier(args.classifier)
    if is_synthetic(config.data_root):
        return load_classifier(None)
    return None, None


def _write_json(path: str, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=2))


def _score(result, key: str, digits: int = 4) -> str:
    """The score, with its standard error when it is a mean over several draws."""
    text = f"{result[key]:.{digits}f}"
    if f"{key}_se" in result:
        text += f" +/- {result[key + '_se']:.{digits}f}"
    return text


def format_table(result) -> str:
    rows = []
    if "cis_kl" in result:
        ceiling = f"(max ln {result['num_modes']} = {result['cis_kl_max']:.4f})"
        rows += [("CIS, mean KL", f"{_score(result, 'cis_kl')}  {ceiling}"),
                 ("CIS, exp(mean KL)", f"{result['cis_exp']:.4f}"),
                 ("IS, mean KL", _score(result, "is_kl")),
                 ("IS, exp(mean KL)", f"{result['is_exp']:.4f}"),
                 ("mode coverage per input", f"{_score(result, 'coverage_mean', 2)} of {result['num_modes']}"),
                 ("classifier confidence", _score(result, "confidence")),
                 ("translations per mode", " ".join(str(n) for n in result["mode_histogram"]))]
    else:
        rows.append(("IS / CIS / coverage", "skipped: pass --classifier (a mode classifier of the target domain)"))
    if "lpips_diversity" in result:
        pairs = result["lpips_pairs_per_input"]
        rows.append(("LPIPS diversity", f"{_score(result, 'lpips_diversity')}  ({pairs} pairs/input)"))
    else:
        rows.append(("LPIPS diversity", "skipped: pass --lpips-alexnet and --lpips-linear"))
    if "repeats" in result:
        rows.append(("", f"(+/- standard error of the mean over {result['repeats']} draws of styles)"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


SHEET_PASS = 25  # styles decoded at once for the sheet


def _check_sheet_fits(args, translator, inputs) -> None:
    """Before the evaluation: the sheet is made after it."""
    from munit_fast.memory import check_fits
    from munit_fast.metrics.sheet import sheet_bytes

    rows = min(args.sheet_rows, len(inputs))
    height, width = inputs[0].shape[-2:]
    check_fits(sheet_bytes(rows, args.sheet_styles, height, width, translator.output_dim),
               f"--sheet of {rows} rows x {args.sheet_styles} styles of {height}x{width}",
               "lower --sheet-rows or --sheet-styles")


def _sheet(args, translator, inputs, classifier, names):
    from munit_fast.images import write_image
    from munit_fast.metrics.sheet import sample_sheet

    rows = inputs[: args.sheet_rows]
    styles = translator.random_styles(args.sheet_styles, args.seed)  # the same styles in every row
    outputs = [torch.cat([translator.translate(image, styles[i:i + SHEET_PASS])[0].float()
                          for i in range(0, len(styles), SHEET_PASS)]) for image in rows]  # each (K, C, H, W)
    labels = None
    if classifier is not None:
        labels = [[f"{names[int(p.argmax())]} {float(p.max()):.2f}" for p in classifier.probabilities(out)]
                  for out in outputs]
    write_image(args.sheet, sample_sheet([image[0] for image in rows], outputs, labels))


def run(args) -> int:
    for name in ("num_inputs", "num_samples", "sheet_rows", "sheet_styles", "lpips_pairs"):
        if getattr(args, name) < 1:
            raise MunitError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    from munit_fast.metrics.repeats import draw_seeds, summarize_draws

    seeds = draw_seeds(args.seed, args.repeats, options.SEED_MAX)
    for path, what in ((args.json, "--json"), (args.sheet, "--sheet")):
        if path:
            check_writable(path, what)  # before minutes of translation, not after
    if args.sheet:
        from munit_fast.images import image_extension

        image_extension(args.sheet, "--sheet")
    resolve_model(args)
    if bool(args.lpips_alexnet) != bool(args.lpips_linear):
        from munit_fast.metrics.lpips import MISSING_HINT

        raise MunitError(f"pass both --lpips-alexnet and --lpips-linear; {MISSING_HINT}")
    from tqdm import tqdm

    from munit_fast.config import load_config
    from munit_fast.metrics.evaluate import evaluate_translations
    from munit_fast.metrics.lpips import load_lpips

    config = load_config(args.config)
    translator = translator_from_args(args, config)
    source = "a" if args.direction == "a2b" else "b"
    classifier, names = _classifier_for(args, config)
    if classifier is not None and translator.output_dim != 3:
        raise MunitError("the mode classifier needs 3-channel translations; this direction outputs 1 channel")
    lpips = load_lpips(args.lpips_alexnet, args.lpips_linear) if args.lpips_alexnet else None
    inputs = load_inputs(config, source, args.input, args.num_inputs)
    if args.sheet:
        _check_sheet_fits(args, translator, inputs)
    draws = []
    for number, seed in enumerate(seeds, 1):
        desc = "eval" if len(seeds) == 1 else f"eval {number}/{len(seeds)}"
        draws.append(evaluate_translations(translator, inputs, args.num_samples, seed, classifier, lpips,
                                           args.lpips_pairs, args.fixed_style,
                                           progress=lambda it, desc=desc: tqdm(it, desc=desc, unit="input")))
    result = summarize_draws(draws)
    result.update({"config": args.config, "checkpoint": args.checkpoint, "direction": args.direction,
                   "classifier": args.classifier or ("shipped shapes classifier" if classifier is not None else None)})
    kind = "copies of one style" if args.fixed_style else "random styles"
    drawn = f", {len(seeds)} draws (seeds {seeds[0]}..{seeds[-1]})" if len(seeds) > 1 else ""
    print(f"{len(inputs)} inputs x {args.num_samples} {kind}{drawn}, "
          f"{args.direction}, {translator.name}")
    print(format_table(result))
    if args.json:
        _write_json(args.json, result)
        print(f"results written to {args.json}")
    if args.sheet:
        _sheet(args, translator, inputs, classifier, names)
        print(f"sample sheet written to {args.sheet}")
    return 0
