"""``munit-fast demo``: the built-in model on the built-in clip, no downloads, no camera.

The same as ``munit-fast video --input demo --style walk --side-by-side --overlay`` with the
demo model: the generated 256x256 sketch clip and its translation side by side at the same size,
the style walking between random looks every ``--period`` seconds, fps and style drawn on the
frames; a window where a display exists, otherwise ``demo.mp4`` (or --output) and a line saying
where it is."""
from __future__ import annotations

import os
import sys

from munit_fast.cli import options
from munit_fast.errors import MunitError


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help="translate the built-in clip with the built-in model (no downloads)")
    p.add_argument("--output", help="video file to write (default: a window, or demo.mp4 without a display)")
    p.add_argument("--headless", action="store_true", help="no window: write --output (default demo.mp4)")
    p.add_argument("--frames", type=int, default=300, help="length of the clip in frames (default 300)")
    p.add_argument("--style", default="walk", help="style mode, as for munit-fast video (default walk)")
    p.add_argument("--period", type=options.positive_float, default=2.0,
                   help="seconds between the walk's key styles (default 2: several looks in the clip)")
    p.add_argument("--seed", type=options.seed, default=9,
                   help="seed of the walk's key styles (default 9: with the built-in model the clip passes through "
                        "all four looks)")
    p.add_argument("--no-overlay", action="store_true", help="no fps/style text on the frames")
    p.add_argument("--backend", default="auto", help="as for munit-fast video (default auto)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--stats", help="save frames, per-stage latency and fps as JSON")
    return p


def has_display() -> bool:
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args) -> int:
    from munit_fast.cli.main import build_parser

    if args.frames < 1:
        raise MunitError(f"--frames must be >= 1 for the demo, got {args.frames}")
    headless = args.headless or not has_display()
    output = args.output or ("demo.mp4" if headless else None)
    argv = ["video", "--input", "demo", "--style", args.style, "--frames", str(args.frames), "--width", "256",
            "--height", "256", "--backend", args.backend, "--device", args.device, "--side-by-side",
            "--period", str(args.period), "--seed", str(args.seed)]
    if not args.no_overlay:
        argv.append("--overlay")
    if headless:
        argv.append("--headless")
    if output:
        argv += ["--output", output]
    if args.stats:
        argv += ["--stats", args.stats]
    video_args = build_parser().parse_args(argv)
    status = video_args.run(video_args)
    if status == 0 and output:
        print(f"munit-fast demo: wrote {os.path.abspath(output)}")
    return status
