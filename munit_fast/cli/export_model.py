"""``munit-fast export-model``: a model folder (config.yaml, gen.safetensors, README.md model card)
from one iteration of a training run. ``munit-fast train`` writes one for its last snapshot."""
from __future__ import annotations

import json
import os

from munit_fast.errors import MunitError


def add_parser(subparsers):
    p = subparsers.add_parser("export-model", help="a shareable model folder from a training run's checkpoint")
    p.add_argument("--run", dest="run_dir", required=True, help="training output folder (config.yaml, checkpoints/)")
    p.add_argument("--iteration", type=int, help="the snapshot to export (default: the newest)")
    p.add_argument("--output", required=True, help="model folder to write (replaced as a whole)")
    p.add_argument("--eval", dest="eval_json", help="munit-fast eval --json results to put in the model card")
    p.add_argument("--license", dest="license_text", default="", help="the weights' licence, for the model card")
    return p


def run(args) -> int:
    from munit_fast.checkpoint import load_file
    from munit_fast.config import load_config
    from munit_fast.files import check_writable_folder
    from munit_fast.model_folder import check_replaceable, model_card, write_model_folder
    from munit_fast.training.run_info import read_run_command
    from munit_fast.training.snapshots import latest_generator_iteration

    if args.iteration is not None and args.iteration < 1:
        raise MunitError(f"--iteration must be >= 1 (a snapshot's number), got {args.iteration}")
    check_replaceable(os.path.abspath(args.output))  # before any work
    if not os.path.isdir(args.run_dir):
        raise MunitError(f"--run {args.run_dir}: no such folder; pass the output folder of munit-fast train "
                         "(it holds config.yaml and checkpoints/)")
    config = load_config(os.path.join(args.run_dir, "config.yaml"))
    checkpoints = os.path.join(args.run_dir, "checkpoints")
    iteration = args.iteration if args.iteration is not None else latest_generator_iteration(checkpoints)
    if iteration is None:
        raise MunitError(f"{checkpoints} holds no gen_*.pt snapshot; train first, or pass another --run")
    weights = os.path.join(checkpoints, f"gen_{iteration:08d}.pt")
    if not os.path.isfile(weights):
        raise MunitError(f"--iteration {iteration}: {weights} does not exist")
    metrics = None
    if args.eval_json:
        try:
            with open(args.eval_json, encoding="utf-8") as handle:
                metrics = json.load(handle)
        except (OSError, ValueError) as exc:
            raise MunitError(f"--eval {args.eval_json}: not a readable JSON file ({exc})") from None
        if not isinstance(metrics, dict):
            raise MunitError(f"--eval {args.eval_json}: expected the JSON object munit-fast eval --json writes, "
                             f"got a {type(metrics).__name__}")
    check_writable_folder(os.path.dirname(os.path.abspath(args.output)))
    state = load_file(weights)
    card = model_card(config, iteration, read_run_command(args.run_dir), metrics, args.license_text)
    write_model_folder(args.output, config, state, card, metrics)
    print(f"wrote model folder {args.output} (iteration {iteration})")
    return 0
