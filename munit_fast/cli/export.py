"""``munit-fast export onnx|trt|openvino|check``: ONNX graphs, TensorRT engines, OpenVINO IR, and their
check against PyTorch."""
from __future__ import annotations

import os

from munit_fast.cli import options
from munit_fast.cli.runtime_options import add_device_argument, add_model_arguments, resolve_model
from munit_fast.errors import MunitError
from munit_fast.export.opsets import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET
from munit_fast.files import check_writable, check_writable_folder


def add_parser(subparsers):
    p = subparsers.add_parser("export", help="export ONNX graphs, build TensorRT engines or OpenVINO IR, check them "
                                             "against PyTorch")
    sub = p.add_subparsers(dest="export_command", metavar="{onnx,trt,openvino,check}")
    sub.required = True

    o = sub.add_parser("onnx", help="export the translate graph and the split graphs of one direction")
    add_model_arguments(o)
    o.add_argument("--direction", default="a2b", choices=["a2b", "b2a"])
    o.add_argument("--output", required=True, help="output folder (munit_<direction>_<part>_<precision>.onnx)")
    o.add_argument("--opset", type=options.bounded_int(MIN_OPSET, MAX_OPSET), default=DEFAULT_OPSET,
                   help=f"ONNX opset (default {DEFAULT_OPSET}, {MIN_OPSET} .. {MAX_OPSET})")
    o.add_argument("--precision", choices=["fp32", "fp16"], default="fp32",
                   help="fp32 (default), or fp16 convolutions with normalization statistics in fp32")
    o.add_argument("--fp16", dest="precision", action="store_const", const="fp16", help="same as --precision fp16")
    o.add_argument("--parts", default="translate,content_encoder,style_encoder,decoder",
                   help="comma list of translate, content_encoder, style_encoder, decoder")
    o.add_argument("--simplify", action="store_true", help="run onnxsim on each graph (needs onnxsim)")

    t = sub.add_parser("trt", help="build a TensorRT engine (+ JSON sidecar) from one exported graph")
    t.add_argument("--onnx", required=True, help="graph exported by munit-fast export onnx")
    t.add_argument("--output", required=True, help="engine file to write (the sidecar goes to ENGINE.json)")
    precision = t.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="fp16 (normalization layers pinned to fp32)")
    precision.add_argument("--int8", action="store_true", help="INT8: calibrated (TensorRT 10) or a Q/DQ graph")
    t.add_argument("--calib", help="folder of images or a video whose frames calibrate INT8")
    t.add_argument("--calib-images", type=options.bounded_int(1, 4096), default=64,
                   help="calibration images to use (default 64)")
    t.add_argument("--calib-cache", help="calibration table file, read when present and written after")
    t.add_argument("--shapes", default=None,
                   help="image shapes MIN:MAX or MIN:OPT:MAX, e.g. 1x3x256x256:1x3x720x1280 (the default), or "
                        "static sizes S1,S2,... (one profile each; the only form --dla-core takes)")
    t.add_argument("--styles", type=int, default=1, help="most styles decoded per content map (decoder)")
    t.add_argument("--timing-cache", help="timing cache file, read when present and updated after the build")
    t.add_argument("--dla-core", type=int, help="build for this DLA core (Jetson), GPU fallback on")
    t.add_argument("--workspace", type=float, help="builder workspace limit in GiB")
    t.add_argument("--device", default="cuda", help="CUDA device to build on (cuda or cuda:N)")

    v = sub.add_parser("openvino", help="OpenVINO IR (.xml/.bin) of the split graphs of one direction")
    add_model_arguments(v)
    v.add_argument("--direction", default="a2b", choices=["a2b", "b2a"])
    v.add_argument("--output", required=True, help="output folder (munit_<direction>_<part>_<precision>.xml/.bin)")
    v.add_argument("--precision", choices=["fp32", "bf16", "fp16", "int8"], default="fp32",
                   help="fp32 (default); bf16, fp16: fp16 weights, compiled at that precision; int8: NNCF "
                        "post-training quantization (normalization and the style MLP stay in float)")
    v.add_argument("--calib", help="int8: folder of images or a video of the source domain to calibrate on "
                                   "(default: the config's test images of that domain, else noise with a warning)")
    v.add_argument("--calib-images", type=options.bounded_int(1, 4096), default=32,
                   help="calibration images to use (default 32)")
    v.add_argument("--onnx-dir", help="folder of the fp32 split graphs to convert (exported there when missing; "
                                      "default: the ONNX cache)")

    c = sub.add_parser("check", help="compare a graph (and an engine) with the PyTorch reference")
    c.add_argument("--onnx", required=True, help="exported graph")
    add_model_arguments(c)
    c.add_argument("--engine", help="TensorRT engine built from the graph, also compared when given")
    c.add_argument("--openvino", help="OpenVINO IR (.xml) of the same part (munit-fast export openvino), also "
                                      "compared when given, on the CPU")
    c.add_argument("--size", default="180x320", help="HEIGHTxWIDTH of the test image (default 180x320)")
    c.add_argument("--styles", type=options.bounded_int(1, 64), default=4, help="styles to decode (default 4)")
    add_device_argument(c, "ONNX Runtime device: cpu, cuda or auto (default: CUDA when present)")
    c.add_argument("--min-psnr", type=float, help="exit with status 1 when any PSNR (dB) is below this")
    return p


def run(args) -> int:
    return {"onnx": _onnx, "trt": _trt, "openvino": _openvino, "check": _check}[args.export_command](args)


def _generators(config_path: str, checkpoint: str, direction: str):
    from munit_fast.checkpoint import load_generators

    gen_a, gen_b = load_generators(config_path, checkpoint)
    return (gen_a, gen_b) if direction == "a2b" else (gen_b, gen_a)


def _onnx(args) -> int:
    from munit_fast.export import export_onnx, graph_report, parse_parts

    parts = parse_parts(args.parts)
    check_writable_folder(args.output)
    resolve_model(args)
    source, target = _generators(args.config, args.checkpoint, args.direction)
    paths = export_onnx(source, target, args.output, args.direction, parts, args.opset, args.precision, args.simplify)
    import onnx

    for part, path in paths.items():
        report = graph_report(onnx.load(path))
        print(f"{part:16s} {path}  opset {report.opset}, {sum(report.op_counts.values())} nodes, "
              f"{report.op_counts.get('InstanceNormalization', 0)} InstanceNormalization, "
              f"{report.adain_patterns} AdaIN")
    return 0


def _openvino(args) -> int:
    from munit_fast.config import load_config
    from munit_fast.export.openvino_cache import build_ir
    from munit_fast.export.openvino_export import import_openvino, read_ir_metadata

    import_openvino("munit-fast export openvino")
    if args.calib and args.precision != "int8":
        raise MunitError("--calib calibrates INT8: pass it with --precision int8")
    check_writable_folder(args.output)
    resolve_model(args)
    paths = build_ir(load_config(args.config), args.checkpoint, args.direction, args.precision, args.output,
                     args.calib, args.calib_images, args.onnx_dir)
    for part, path in paths.items():
        meta = read_ir_metadata(path)
        print(f"{part:16s} {path}  {meta['precision']}, OpenVINO {meta['openvino_version']}, int8 layers: "
              f"{meta.get('int8', 'no (float)')}")
    return 0


def _trt(args) -> int:
    from munit_fast.export.trt_build import BuildOptions, build_engine
    from munit_fast.export.trt_profiles import format_shape, parse_shapes_option

    if args.calib and not args.int8:
        raise MunitError("--calib is for --int8 builds")
    precision = "int8" if args.int8 else ("fp16" if args.fp16 else "fp32")
    options = BuildOptions(precision=precision, images=parse_shapes_option(args.shapes) if args.shapes else None,
                           styles=args.styles, calib=args.calib, calib_images=args.calib_images,
                           calib_cache=args.calib_cache, timing_cache=args.timing_cache, dla_core=args.dla_core,
                           workspace_gib=args.workspace, device=args.device)
    check_writable(args.output, "--output")
    info = build_engine(args.onnx, args.output, options)
    shapes = ", ".join(f"{name} {format_shape(s[0])}..{format_shape(s[2])}" for name, s in info.profiles.items())
    print(f"built {args.output} ({info.part}, {info.precision}, TensorRT {info.tensorrt_version}, "
          f"{info.gpu_name}): {shapes}")
    return 0


def _check(args) -> int:
    import torch

    from munit_fast.config import load_config
    from munit_fast.devices import resolve_device
    from munit_fast.export import read_metadata
    from munit_fast.export.onnx_cache import check_graph_matches
    from munit_fast.export.onnx_export import weights_digest
    from munit_fast.export.openvino_export import read_ir_metadata
    from munit_fast.memory import check_fits
    from munit_fast.runtime.crosscheck import check_engine, check_onnx, check_openvino

    try:
        height, width = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        height = width = 0
    if not all(16 <= side <= options.FRAME_SIDE_MAX for side in (height, width)):
        raise MunitError(f"--size {args.size!r}: expected HEIGHTxWIDTH, each 16 .. {options.FRAME_SIDE_MAX}, "
                         "e.g. 180x320")
    if not os.path.isfile(args.onnx):
        raise MunitError(f"--onnx {args.onnx}: no such file")
    meta = read_metadata(args.onnx)
    if "direction" not in meta:
        raise MunitError(f"--onnx {args.onnx}: not a graph exported by munit-fast export onnx (no metadata)")
    resolve_model(args)
    config = load_config(args.config)
    source, target = _generators(args.config, args.checkpoint, meta["direction"])
    check_graph_matches(args.onnx, config, meta["direction"], weights=weights_digest(source, target))
    plane = 4 * height * width  # the reference and ONNX Runtime each hold ~2 + 6 per style gen.dim-wide maps
    check_fits(2 * plane * (config.gen.dim * 2 + args.styles * (config.gen.dim * 6 + 3)),
               f"checking at {height}x{width} with {args.styles} style(s)", "lower --size or --styles")
    results = [("onnxruntime", check_onnx(args.onnx, source, target, height, width, args.styles,
                                          resolve_device(args.device)))]
    if args.engine:
        results.append(("tensorrt", check_engine(args.engine, source, target, height, width, args.styles,
                                                 torch.device("cuda"))))
    if args.openvino:
        stats = check_openvino(args.openvino, meta, source, target, height, width, args.styles)
        results.append((f"openvino-{read_ir_metadata(args.openvino).get('precision')}", stats))
    for name, stats in results:
        print(f"{meta.get('part')} ({meta.get('precision')}) {name:13s} vs PyTorch fp32 at {height}x{width}, "
              f"{args.styles} style(s): {stats}")
    if args.min_psnr is not None and any(stats.psnr_db < args.min_psnr for _, stats in results):
        print(f"PSNR below --min-psnr {args.min_psnr}")
        return 1
    return 0

