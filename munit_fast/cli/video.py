"""``munit-fast video``: translate a camera, video file, stream, image folder or the demo clip
in real time with one or several styles, to a window, a video file or nowhere (--headless)."""
from __future__ import annotations

import re

from munit_fast.cli import options
from munit_fast.cli.runtime_options import add_runtime_arguments, resolve_model, translator_from_args
from munit_fast.errors import MunitError
from munit_fast.files import check_writable
from munit_fast.video.style_modes import GRID_MAX


def _size(text: str) -> tuple:
    match = re.fullmatch(r"(\d+)(?:x(\d+))?", text)
    sides = (int(match.group(1)), int(match.group(2) or match.group(1))) if match else (0, 0)
    if not all(16 <= side <= options.FRAME_SIDE_MAX for side in sides):
        raise MunitError(f"--model-size {text!r}: expected S or HxW in pixels, each 16 .. {options.FRAME_SIDE_MAX}, "
                         "e.g. 256 or 256x448")
    return sides


def _canny(text: str) -> tuple:
    match = re.fullmatch(r"(\d+),(\d+)", text)
    if not match:
        raise MunitError(f"--canny {text!r}: expected LOW,HIGH thresholds, e.g. 50,150")
    return int(match.group(1)), int(match.group(2))


def add_parser(subparsers):
    from munit_fast.video.framing import FIT_MODES
    from munit_fast.video.preprocess import PREPROCESSORS

    p = subparsers.add_parser("video", help="real-time multi-style translation of a camera, video, stream or folder")
    p.add_argument("--input", required=True,
                   help="camN or N (webcam), a video file, an rtsp/http stream URL, an image folder or glob, or demo")
    add_runtime_arguments(p)
    p.add_argument("--style", default="random",
                   help="random | walk | image:PATH | codes:FILE.npy | grid:K | cycle | cycle:FILE.npy "
                        "(default random)")
    p.add_argument("--seed", type=options.seed, default=0, help="seed of the random styles")
    p.add_argument("--period", type=float, default=4.0, help="seconds between walk keys / cycle switches")
    p.add_argument("--max-step", type=float, default=0.1, help="walk: largest style-code change (L2) per frame")
    p.add_argument("--bank-size", type=int, default=8, help="cycle: number of random styles in the bank")
    p.add_argument("--grid-size", type=options.bounded_int(1, GRID_MAX), default=4,
                   help="styles shown when the grid is toggled with g")
    p.add_argument("--model-size", default=None,
                   help="model input S or HxW (default: the config's new_size, square)")
    p.add_argument("--fit", default="letterbox", choices=FIT_MODES,
                   help="keep the aspect ratio by padding (letterbox) or by cropping the centre (crop)")
    p.add_argument("--preprocess", default="none", choices=PREPROCESSORS,
                   help="canny: turn frames into edge maps for edge-domain models")
    p.add_argument("--canny", default="50,150", help="Canny thresholds LOW,HIGH (default 50,150)")
    p.add_argument("--width", type=options.frame_side, help="camera/demo frame width")
    p.add_argument("--height", type=options.frame_side, help="camera/demo frame height")
    p.add_argument("--fps", type=options.positive_float, help="camera/demo frame rate; also the output file's rate")
    p.add_argument("--frames", type=int, default=150, help="length of the demo clip in frames (0: endless)")
    p.add_argument("--live", choices=["auto", "on", "off"], default="auto",
                   help="drop stale frames (on) or translate every frame (off); auto: on for cameras and streams")
    p.add_argument("--retries", type=int, default=3, help="times a dropped stream is reopened before giving up")
    p.add_argument("--output", help="video file to write (.mp4, .m4v, .mov, .mkv, .avi)")
    p.add_argument("--headless", action="store_true", help="no preview window")
    p.add_argument("--side-by-side", action="store_true", help="show the input left of the output")
    p.add_argument("--overlay", action="store_true", help="draw fps and latency on the frames (o toggles)")
    p.add_argument("--snapshot-dir", default=".", help="where s saves frames")
    p.add_argument("--queue-size", type=int, default=2, help="frames waiting between stages")
    p.add_argument("--stats", help="save frames, per-stage latency and fps as JSON")
    return p


def _check(args) -> None:
    if args.headless and not args.output and not args.stats:
        print("munit-fast video: --headless without --output or --stats: frames are translated and discarded")
    for name in ("period", "max_step"):
        if getattr(args, name) <= 0:
            raise MunitError(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    for name in ("grid_size", "bank_size", "queue_size"):
        if getattr(args, name) < 1:
            raise MunitError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.frames < 0 or args.retries < 0:
        raise MunitError("--frames and --retries must be >= 0")


def run(args) -> int:
    from munit_fast.config import load_config
    from munit_fast.images import load_image_tensor
    from munit_fast.video.output import VideoFileOutput, WindowOutput
    from munit_fast.video.pipeline import OutputOptions, VideoPipeline
    from munit_fast.video.preprocess import FramePreprocessor
    from munit_fast.video.sources import open_source
    from munit_fast.video.stats import format_summary, save_summary
    from munit_fast.video.style_modes import StyleController, parse_style_mode

    _check(args)
    if args.stats:
        check_writable(args.stats, "--stats")
    writer = VideoFileOutput(args.output, args.fps) if args.output else None  # checks the file can be written
    resolve_model(args)
    model_size = _size(args.model_size) if args.model_size else None
    canny = _canny(args.canny)
    window = None if args.headless else WindowOutput(snapshot_dir=args.snapshot_dir)  # fails early without display
    config = load_config(args.config)
    source_domain = "a" if args.direction == "a2b" else "b"
    box = model_size or (config.size_for(source_domain),) * 2
    translator = translator_from_args(args, config)
    print(f"munit-fast video: model input {box[0]}x{box[1]}, style {args.style}")

    def style_from_image(path):  # resized like the input images, as the original's test.py does
        image = load_image_tensor(path, translator.output_dim, config.size_for(source_domain))
        return translator.style_from_images(image)

    mode = parse_style_mode(args.style, translator.style_dim, args.seed, args.period, args.max_step, args.bank_size,
                            style_from_image)
    styles = StyleController(mode, translator.style_dim, args.grid_size, args.seed)
    preprocessor = FramePreprocessor(translator.input_dim, box, args.fit, args.preprocess, *canny)
    live = {"auto": None, "on": True, "off": False}[args.live]
    source = open_source(args.input, args.width, args.height, args.fps, live, args.frames, args.retries)
    pace = "live: stale frames dropped" if source.live else "every frame"
    print(f"munit-fast video: input {source.description} ({pace})")
    if writer and not writer.fps:
        writer.fps = source.fps
    sinks = [s for s in ((writer.write if writer else None), (window.show if window else None)) if s]

    def save(picture):
        print(f"munit-fast video: saved {window.save(picture)}")

    pipeline = VideoPipeline(source, translator, styles, preprocessor, sinks,
                             OutputOptions(args.side_by_side, args.overlay, args.style), args.queue_size,
                             on_save=save if window else None)
    try:
        stats = pipeline.run()
    finally:
        if writer:
            writer.close()
        if window:
            window.close()
        summary = pipeline.stats.summary()
        print(format_summary(summary))
        if args.stats:
            save_summary(args.stats, summary)
    if writer:
        print(f"munit-fast video: wrote {stats.frames_out} frames to {args.output}")
    return 0
