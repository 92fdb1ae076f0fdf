"""``munit-fast train``: train MUNIT on two unpaired image sets from an original-format config.

Single process: ``munit-fast train --config CFG``. Data parallel over N GPUs (or N CPU
processes): ``torchrun --nproc_per_node N -m munit_fast train --config CFG``.
"""
from __future__ import annotations

import os
import sys

from munit_fast.cli import options
from munit_fast.cli.runtime_options import add_device_argument
from munit_fast.config import apply_overrides, dump_config, load_config
from munit_fast.devices import DTYPES, resolve_device
from munit_fast.errors import MunitError


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train MUNIT (checkpoints, samples, HTML, TensorBoard)")
    p.add_argument("--config", required=True, help="original-format MUNIT YAML config")
    p.add_argument("--output-dir", help="where checkpoints/, images/, logs/ and index.html go "
                                        "(default: outputs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set gen.dim=16 (repeatable)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the resolved config and exit; refuses sizes that cannot train, warns of missing data or "
                        "VGG weights")
    add_device_argument(p, "cpu, cuda or auto (default: CUDA when present; under torchrun each process takes "
                           "cuda:LOCAL_RANK)")
    p.add_argument("--precision", default="fp32", choices=list(DTYPES),
                   help="fp32; bf16 autocast (CPU or GPU); fp16 autocast with gradient scaling (GPU)")
    p.add_argument("--max-iter", type=int, help="stop after this many iterations (overrides max_iter)")
    p.add_argument("--dis-fakes", default="reuse", choices=["reuse", "recompute"],
                   help="D update on the G step's detached fakes (reuse, faster) or on its own decode "
                        "(recompute, the original)")
    p.add_argument("--seed", type=options.seed, default=0, help="seed of weights, styles and data order")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run(args) -> int:
    overrides = list(args.overrides)
    if args.max_iter is not None:
        if args.max_iter < 1:
            raise MunitError(f"--max-iter must be >= 1, got {args.max_iter}")
        overrides.append(f"max_iter={args.max_iter}")
    config = apply_overrides(load_config(args.config), overrides)
    if args.dry_run:
        import warnings

        from munit_fast.training.data import check_training_sizes
        from munit_fast.training.preflight import check_local_inputs

        check_training_sizes(config)  # the config cannot train anywhere: an error
        sys.stdout.write(dump_config(config))
        try:  # the config is fine, this machine lacks its data or weights: said, not refused
            check_local_inputs(config)
        except MunitError as missing:
            warnings.warn(f"a run would stop here: {missing}")
        return 0
    device = str(resolve_device(args.device))
    from munit_fast.training.loop import RunOptions, train
    from munit_fast.training.run_info import command_line

    name = os.path.splitext(os.path.basename(args.config))[0]
    options = RunOptions(output_dir=args.output_dir or os.path.join("outputs", name), device=device,
                         precision=args.precision, dis_fakes=args.dis_fakes, resume=args.resume, seed=args.seed,
                         progress=not args.no_progress, command=command_line(args.argv))
    result = train(config, options)
    if result.stopped_by is not None:  # interrupted: the snapshot is saved, the run is not finished
        return 128 + int(result.stopped_by)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"trained to iteration {result.iterations}; outputs in {options.output_dir}", file=sys.stderr)
    return 0
