"""Cross-validation against the PyTorch fp32 reference on the same inputs: of any backend
(`cross_validate`, which the parity tests run for every registered backend) and of single
exported artifacts (`check_onnx`, `check_engine`: ``munit-fast export check``)."""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import torch

from munit_fast.errors import MunitError
from munit_fast.export.compare import ErrorStats, error_stats
from munit_fast.export.onnx_export import read_metadata
from munit_fast.model import AdaINGen

from .backend import Backend


def reference_case(part: str, source: AdaINGen, target: AdaINGen, height: int, width: int, styles: int,
                   seed: int = 0) -> Tuple[Dict[str, torch.Tensor], torch.Tensor]:
    """({input name: tensor}, PyTorch fp32 output) for ``part`` at one image of height x width and K styles."""
    multiple = 2 ** source.n_downsample
    if height % multiple or width % multiple:
        raise MunitError(f"--size {height}x{width}: height and width must be multiples of {multiple}")
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(1, source.input_dim, height, width, generator=generator) * 2 - 1
    codes = torch.randn(styles, target.style_dim, generator=generator)
    with torch.no_grad():
        if part == "content_encoder":
            return {"image": image}, source.encode_content(image)
        if part == "style_encoder":
            target_image = torch.rand(styles, target.input_dim, height, width, generator=generator) * 2 - 1
            return {"image": target_image}, target.encode_style(target_image).flatten(1)
        content = source.encode_content(image)
        if part == "decoder":
            return {"content": content, "style": codes}, target.decode(content, codes)
        if part == "translate":
            images = image.expand(styles, -1, -1, -1).contiguous()
            return {"image": images, "style": codes}, target.decode(source.encode_content(images), codes)
    raise MunitError(f"graph part {part!r} is unknown; export it with munit-fast export onnx")


def check_onnx(path: str, source: AdaINGen, target: AdaINGen, height: int, width: int, styles: int,
               device: torch.device = torch.device("cpu")) -> ErrorStats:
    from .backends.onnxruntime import make_session

    part = read_metadata(path).get("part", "")
    inputs, reference = reference_case(part, source, target, height, width, styles)
    session = make_session(path, device)
    out = session.run(None, {name: t.numpy().astype(np.float32) for name, t in inputs.items()})[0]
    return error_stats(torch.from_numpy(out), reference)


def check_engine(path: str, source: AdaINGen, target: AdaINGen, height: int, width: int, styles: int,
                 device: torch.device) -> ErrorStats:
    from .backends.tensorrt import TrtEngine

    engine = TrtEngine(path, device)
    inputs, reference = reference_case(engine.info.part, source, target, height, width, styles)
    out = engine(**{name: t.to(device) for name, t in inputs.items()})
    torch.cuda.current_stream(device).synchronize()
    return error_stats(out.cpu(), reference)


def check_openvino(path: str, onnx_meta: Dict[str, str], source: AdaINGen, target: AdaINGen, height: int,
                   width: int, styles: int) -> ErrorStats:
    """The OpenVINO IR at ``path`` (the same part and weights as the ONNX graph of ``onnx_meta``)
    on the CPU against the PyTorch fp32 reference."""
    from munit_fast.export.openvino_export import read_ir_metadata

    from .backends.openvino import compile_ir

    meta = read_ir_metadata(path)
    for key in ("part", "direction", "weights_sha256"):
        if meta.get(key) != onnx_meta.get(key):
            raise MunitError(f"--openvino {path} has {key}={meta.get(key)!r}, the ONNX graph {onnx_meta.get(key)!r}: "
                             "pass the IR of the same part and export")
    inputs, reference = reference_case(meta["part"], source, target, height, width, styles)
    request = compile_ir(path, "CPU", meta["precision"]).create_infer_request()
    out = request.infer([t.numpy().astype(np.float32) for t in inputs.values()])[0]
    return error_stats(torch.from_numpy(np.array(out)), reference)


def cross_validate(backend: Backend, reference: Backend, images: torch.Tensor, styles: torch.Tensor,
                   example: torch.Tensor) -> Dict[str, ErrorStats]:
    """Each of the three calls of ``backend`` against ``reference`` (the eager fp32 path) on the
    same inputs: images (B, input_dim, H, W), styles (K, style_dim), example (1, output_dim, H, W)
    a target-domain image for the style encoder. Returns {"content", "style", "decode"}: stats."""
    results = {}
    content_ref = reference.encode_content(images)
    results["content"] = error_stats(backend.encode_content(images).float().cpu(), content_ref.float().cpu())
    results["style"] = error_stats(backend.encode_style(example).float().cpu(),
                                   reference.encode_style(example).float().cpu())
    decoded = backend.decode(content_ref[:1], styles).float().cpu()
    results["decode"] = error_stats(decoded, reference.decode(content_ref[:1], styles).float().cpu())
    return results
