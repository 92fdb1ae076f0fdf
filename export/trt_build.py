"""Build a TensorRT engine from one exported ONNX graph.

TensorRT 10 (weakly typed): ``--fp16`` sets BuilderFlag.FP16, ``--int8`` BuilderFlag.INT8 with an
entropy calibrator fed real frames (``--calib``), unless the graph already carries Q/DQ nodes.
Every layer of a normalization (ONNX nodes under a ``/norm/`` scope: InstanceNormalization, the
AdaIN Mul/Add and LayerNorm's reductions) is pinned to fp32 with OBEY_PRECISION_CONSTRAINTS:
fp16 instance-norm statistics lose too much (documented in TensorRT's and ONNX Runtime's trackers).

TensorRT 11 (strongly typed, per NVIDIA's 10 -> 11 migration guide: precision flags and
calibrators are gone): the network is created STRONGLY_TYPED and precision comes from the graph;
fp16 builds take the ``--fp16`` ONNX export (fp16 convolutions, fp32 statistics via Cast), INT8
builds take a Q/DQ graph (explicit quantization, e.g. from NVIDIA TensorRT Model Optimizer).

The engine is written with a JSON sidecar (``sidecar.EngineInfo``); the timing cache, when named,
is read before and written after the build so later builds skip tactic timing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

import onnx
import torch

import munit_fast
from munit_fast.errors import MunitError
from munit_fast.files import atomic_write_bytes

from .calibration import calibration_feeds, load_calibration_images
from .files import sha256_file
from .onnx_export import graph_filename, read_metadata
from .sidecar import EngineInfo, write_sidecar
from .tensorrt_env import gpu_identity, import_tensorrt, tensorrt_major
from .trt_profiles import ImageProfile, Shape, build_profiles

ENGINE_PRECISIONS = ("fp32", "fp16", "int8")  # what TensorRT builds
NORM_SCOPE = "/norm/"


@dataclass
class BuildOptions:
    precision: str = "fp16"
    # a range, or static sizes (one profile each); default: 1 x C x 256x256 to 1 x C x 720x1280
    images: Union[ImageProfile, List[Shape], None] = None
    styles: int = 1
    calib: Optional[str] = None  # folder of images or a video (int8, TensorRT 10)
    calib_images: int = 64
    calib_cache: Optional[str] = None
    timing_cache: Optional[str] = None
    dla_core: Optional[int] = None
    workspace_gib: Optional[float] = None
    device: str = "cuda"


def dla_layer_count(config, network) -> Tuple[int, int]:
    """(layers the DLA can run, all layers) of a network, from the builder config's per-layer answer."""
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    return sum(1 for layer in layers if config.can_run_on_DLA(layer)), len(layers)


def _listed(profile) -> Dict[str, List[List[int]]]:
    return {name: [list(s) for s in shapes] for name, shapes in profile.items()}


def has_qdq(model: onnx.ModelProto) -> bool:
    return any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node)


def check_build_request(meta, model: onnx.ModelProto, options: BuildOptions, strongly_typed: bool) -> None:
    """Reject combinations the TensorRT version cannot build, with the fix in the message."""
    if options.precision not in ENGINE_PRECISIONS:
        raise MunitError(f"precision {options.precision!r}: expected one of {', '.join(ENGINE_PRECISIONS)}")
    if options.dla_core is not None and options.precision == "fp32":
        raise MunitError("--dla-core: the DLA runs fp16 or int8 only; add --fp16 or --int8")
    if strongly_typed:
        if options.precision == "fp16" and meta.get("precision") != "fp16":
            raise MunitError("TensorRT 11 builds strongly typed networks: export the graph with --fp16 for an fp16 "
                             "engine (FP16 builder flags no longer exist)")
        if options.precision == "int8" and not has_qdq(model):
            raise MunitError("TensorRT 11 builds INT8 engines only from a Q/DQ ONNX graph (explicit quantization, "
                             "e.g. NVIDIA TensorRT Model Optimizer); calibrated INT8 with --calib needs TensorRT 10")
        if options.precision == "fp32" and meta.get("precision") == "fp16":
            raise MunitError("this graph is the fp16 export; TensorRT 11 keeps its types: pass --fp16, "
                             "or use the fp32 export")
    elif options.precision == "int8" and not has_qdq(model) and not options.calib:
        raise MunitError("--int8 needs --calib DIR_OR_VIDEO (real frames for calibration) or a Q/DQ graph")


def _parse(trt, network, logger, onnx_path: str) -> None:
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(onnx_path):
        errors = [str(parser.get_error(i).desc()) for i in range(parser.num_errors)]
        raise MunitError(f"TensorRT cannot parse {onnx_path}: {errors[0] if errors else 'unknown error'}")


def pin_normalization_fp32(trt, network) -> int:
    """Run every normalization layer (and its outputs) in fp32; returns how many were pinned."""
    # Data movement and the fp16 export's own Casts (fp16 <-> fp32 at the norm's edges) keep their types.
    untouched = (trt.LayerType.CONSTANT, trt.LayerType.SHUFFLE, trt.LayerType.CAST, trt.LayerType.IDENTITY)
    pinned = 0
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if NORM_SCOPE not in layer.name or layer.type in untouched:
            continue
        layer.precision = trt.float32
        for j in range(layer.num_outputs):
            if layer.get_output(j).dtype in (trt.float32, trt.float16):
                layer.set_output_type(j, trt.float32)
        pinned += 1
    return pinned


def _calibrator(trt, meta, onnx_path: str, profile, options: BuildOptions, device: torch.device):
    from .trt_calibrator import make_entropy_calibrator

    opt = {name: shapes[1] for name, shapes in profile.items()}
    scale = 2 ** int(meta["n_downsample"])
    if "image" in opt:
        image_shape = opt["image"]
    else:  # decoder: images at the content's opt size
        _, _, h, w = opt["content"]
        image_shape = (opt["content"][0], int(meta["input_dim"]), h * scale, w * scale)
    images = load_calibration_images(options.calib, image_shape, options.calib_images)
    encoder = os.path.join(os.path.dirname(os.path.abspath(onnx_path)),
                           graph_filename("content_encoder", meta["direction"], meta["precision"]))
    feeds = calibration_feeds(meta, images, opt, encoder)
    return make_entropy_calibrator(trt, feeds, options.calib_cache, device)


def build_engine(onnx_path: str, engine_path: str, options: BuildOptions) -> EngineInfo:
    """Build ``engine_path`` (+ ``.json`` sidecar) from ``onnx_path``; returns the sidecar's content."""
    trt = import_tensorrt()
    device = torch.device(options.device)
    gpu_name, capability = gpu_identity(device)
    if not os.path.isfile(onnx_path):
        raise MunitError(f"--onnx {onnx_path}: no such file")
    model = onnx.load(onnx_path)
    meta = read_metadata(model)
    profiles = build_profiles(meta, options.images, options.styles, options.dla_core is not None)
    strongly_typed = tensorrt_major(trt) >= 11
    check_build_request(meta, model, options, strongly_typed)

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed else 0
    network = builder.create_network(flags)
    _parse(trt, network, logger, onnx_path)
    config = builder.create_builder_config()
    if options.workspace_gib:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(options.workspace_gib * (1 << 30)))

    trt_profiles = []
    for profile in profiles:
        trt_profile = builder.create_optimization_profile()
        for name, (low, opt, high) in profile.items():
            trt_profile.set_shape(name, low, opt, high)
        config.add_optimization_profile(trt_profile)
        trt_profiles.append(trt_profile)

    if not strongly_typed:
        if options.precision in ("fp16", "int8"):
            config.set_flag(trt.BuilderFlag.FP16)
            config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
            pin_normalization_fp32(trt, network)
        if options.precision == "int8":
            config.set_flag(trt.BuilderFlag.INT8)
            if not has_qdq(model):
                config.int8_calibrator = _calibrator(trt, meta, onnx_path, profiles[0], options, device)
                config.set_calibration_profile(trt_profiles[0])

    if options.dla_core is not None:
        if builder.num_DLA_cores == 0:
            raise MunitError("--dla-core: this GPU has no DLA (Jetson AGX Orin, Orin NX and Xavier have them)")
        if not 0 <= options.dla_core < builder.num_DLA_cores:
            raise MunitError(f"--dla-core {options.dla_core}: this device has DLA cores 0..{builder.num_DLA_cores - 1}")
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = options.dla_core
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)  # pinned fp32 layers and unsupported ops run on the GPU
        on_dla, total = dla_layer_count(config, network)
        print(f"{os.path.basename(onnx_path)}: {on_dla} of {total} layers run on DLA core {options.dla_core}, "
              f"{total - on_dla} fall back to the GPU")

    cache_bytes = b""
    if options.timing_cache and os.path.isfile(options.timing_cache):
        with open(options.timing_cache, "rb") as handle:
            cache_bytes = handle.read()
    timing_cache = config.create_timing_cache(cache_bytes)
    config.set_timing_cache(timing_cache, ignore_mismatch=False)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise MunitError(f"TensorRT could not build an engine from {onnx_path}; see TensorRT's messages above")
    atomic_write_bytes(engine_path, bytes(serialized))
    if options.timing_cache:
        atomic_write_bytes(options.timing_cache, bytes(config.get_timing_cache().serialize()))
    info = EngineInfo(
        part=meta["part"], direction=meta["direction"], precision=options.precision, tensorrt_version=trt.__version__,
        gpu_name=gpu_name, compute_capability=capability,
        profiles=_listed(profiles[0]), extra_profiles=[_listed(p) for p in profiles[1:]],
        onnx_sha256=sha256_file(onnx_path), strongly_typed=strongly_typed, dla_core=options.dla_core,
        munit_fast_version=munit_fast.__version__, metadata=dict(meta))
    write_sidecar(engine_path, info)
    return info
