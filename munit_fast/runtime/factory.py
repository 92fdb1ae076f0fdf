"""Build a Translator for one direction of a config + checkpoint, on the backend a user names."""
from __future__ import annotations

from typing import Optional, Union

from munit_fast.checkpoint import load_generators
from munit_fast.config import MunitConfig, load_config
from munit_fast.errors import MunitError

from .backends import EagerBackend
from .translator import Translator

DIRECTIONS = ("a2b", "b2a")
EAGER_BACKENDS = ("eager", "triton", "compile")
EXPORT_BACKENDS = ("onnx", "tensorrt")
BACKENDS = EAGER_BACKENDS + EXPORT_BACKENDS


def build_translator(config, checkpoint, direction: str = "a2b", backend: str = "eager", device: str = "cpu",
                     precision: str = "fp32", channels_last: bool = False, onnx_dir: Optional[str] = None,
                     engine_dir: Optional[str] = None, cuda_graphs: Union[bool, str] = False) -> Translator:
    """config: MunitConfig or YAML path; checkpoint: original gen_*.pt path.

    backend "eager": PyTorch with the reference ops (the exact path); "triton": PyTorch with the
    fused Triton kernels and padding; "compile": torch.compile of the reference ops; "onnx": ONNX
    Runtime on the split graphs in ``onnx_dir`` (exported there, or into a cache folder, when
    missing); "tensorrt": TensorRT engines in ``engine_dir`` (built from the ONNX graphs when
    missing). ``cuda_graphs`` (eager backends on CUDA): replay each encode and
    decode from a CUDA graph captured per input shape; ``"auto"``: where they apply (eager and
    triton backends on CUDA), falling back to launched calls if a capture fails.
    """
    if direction not in DIRECTIONS:
        raise MunitError(f"--direction {direction!r}: expected a2b or b2a")
    if not isinstance(config, MunitConfig):
        config = load_config(config)
    if backend not in BACKENDS:
        raise MunitError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if backend in EXPORT_BACKENDS:
        if cuda_graphs is True:
            raise MunitError(f"--cuda-graphs applies to the eager, triton and compile backends, not --backend {backend}")
        return Translator(_export_backend(config, checkpoint, direction, backend, device, precision, onnx_dir,
                                          engine_dir))
    gen_a, gen_b = load_generators(config, checkpoint)
    source, target = (gen_a, gen_b) if direction == "a2b" else (gen_b, gen_a)
    return Translator(EagerBackend(source, target, device=device, precision=precision, channels_last=channels_last,
                                   kernels="triton" if backend == "triton" else "ref",
                                   compile=backend == "compile", cuda_graphs=cuda_graphs))


def _export_backend(config: MunitConfig, checkpoint, direction: str, backend: str, device: str, precision: str,
                    onnx_dir: Optional[str], engine_dir: Optional[str]):
    from munit_fast.export.onnx_cache import resolve_onnx_graphs

    from .precision import resolve_device

    dev = resolve_device(device)
    graphs = resolve_onnx_graphs(config, checkpoint, direction, precision, onnx_dir)
    if backend == "onnx":
        from munit_fast.export.ort_backend import OrtBackend

        return OrtBackend(graphs, dev)
    from munit_fast.export.trt_runner import TensorRTBackend, resolve_engines

    return TensorRTBackend(resolve_engines(graphs, direction, precision, engine_dir, config), dev)
