"""The options every command that runs a model shares (translate, video, eval, export check),
defined once, and the one way they become a Translator."""
from __future__ import annotations

import os
import sys

from munit_fast.demo_model import DEMO_CHECKPOINT, DEMO_CONFIG
from munit_fast.devices import PRECISIONS
from munit_fast.errors import MunitError
from munit_fast.model_folder import model_paths
from munit_fast.runtime.registry import BACKEND_CHOICES, BACKENDS


def add_model_arguments(parser) -> None:
    parser.add_argument("--config", help="original-format MUNIT YAML config (default: the built-in demo model)")
    parser.add_argument("--checkpoint", help="generator checkpoint: original gen_*.pt or gen.safetensors "
                                             "(default: the demo model)")
    parser.add_argument("--model", metavar="DIR_OR_REPO",
                        help="a model folder (config.yaml + gen.safetensors + README.md) or a Hugging Face Hub "
                             "repository id, instead of --config and --checkpoint")


def resolve_model(args) -> None:
    """Fill ``args.config``/``args.checkpoint`` from --model, or with the demo model when none of
    the three is given (and say so)."""
    if args.model:
        if args.config or args.checkpoint:
            raise MunitError("--model replaces --config and --checkpoint; pass one or the other")
        args.config, args.checkpoint = model_paths(args.model)
        return
    if args.config and args.checkpoint:
        return
    if args.config or args.checkpoint:
        missing = "--checkpoint" if args.config else "--config"
        raise MunitError(f"{missing} is missing: pass both --config and --checkpoint, --model, or none of them for "
                         "the demo model")
    if not os.path.isfile(DEMO_CHECKPOINT):
        raise MunitError("no --config/--checkpoint given and this installation has no demo model; pass both")
    print("munit-fast: no --config/--checkpoint given: using the built-in shapes demo model "
          "(sketches -> filled shapes)", file=sys.stderr)
    args.config, args.checkpoint = DEMO_CONFIG, DEMO_CHECKPOINT


def add_device_argument(parser, help_text: str = "cpu, cuda, cuda:N or auto (default: CUDA when present); "
                                                   "--backend openvino also GPU, NPU, AUTO (OpenVINO's own)") -> None:
    parser.add_argument("--device", default="auto", help=help_text)


def add_runtime_arguments(parser) -> None:
    """--config/--checkpoint, --direction, --backend, --precision, --device, --channels-last,
    --cuda-graphs and the artifact folders of the export backends."""
    add_model_arguments(parser)
    parser.add_argument("--direction", default="a2b", choices=["a2b", "b2a"],
                        help="a2b (default): translate domain A images into domain B; b2a: the reverse")
    summaries = "; ".join(f"{name}: {spec.summary}" for name, spec in BACKENDS.items())
    parser.add_argument("--backend", default="auto", choices=BACKEND_CHOICES,
                        help=f"auto (default): TensorRT with --engine-dir, the Triton kernels on CUDA; on a CPU "
                             f"OpenVINO for int8 and for bf16 where the CPU has it natively, else eager; {summaries}")
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS,
                        help="fp32 (default), bf16, fp16, or int8 where the backend quantizes")
    add_device_argument(parser)
    parser.add_argument("--channels-last", action="store_true", help="channels_last memory format (PyTorch backends)")
    parser.add_argument("--cuda-graphs", nargs="?", const="on", default="auto", choices=["auto", "on", "off"],
                        help="replay each input size's encode/decode from a CUDA graph (PyTorch backends on CUDA); "
                             "auto (default): eager and triton on CUDA, captured once a size repeats, launched "
                             "calls if a capture fails; on: every size at once, a failed capture is an error")
    parser.add_argument("--onnx-dir", help="onnx/tensorrt backends: folder of exported graphs (exported there when "
                                           "missing)")
    parser.add_argument("--engine-dir", help="tensorrt backend: folder of TensorRT engines (built there when missing)")
    parser.add_argument("--openvino-dir", help="openvino backend: folder of OpenVINO IR (built there when missing; "
                                               "default: a cache keyed by the checkpoint)")
    parser.add_argument("--calib", help="int8: folder of images or a video of the source domain that calibrates the "
                                        "quantization when the IR is built (default: the config's test images of "
                                        "the source domain, else noise with a warning)")


def translator_from_args(args, config, quiet: bool = False):
    """The Translator the runtime options describe; prints the backend choice (one line)."""
    from munit_fast.runtime.factory import build_translator

    translator = build_translator(config, args.checkpoint, args.direction, args.backend, args.device,
                                  args.precision, args.channels_last, onnx_dir=args.onnx_dir,
                                  engine_dir=args.engine_dir, openvino_dir=args.openvino_dir, calib=args.calib,
                                  cuda_graphs={"on": True, "off": False, "auto": "auto"}[args.cuda_graphs])
    if not quiet:
        print(f"munit-fast: backend {translator.choice}")
    return translator
