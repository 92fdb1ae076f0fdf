"""Build a Translator for one direction of a config + checkpoint, on the backend a user names
(or ``auto``: `munit_fast.runtime.registry.choose_backend`)."""
from __future__ import annotations

from typing import Optional, Union

from munit_fast.config import MunitConfig, load_config
from munit_fast.errors import MunitError

from .registry import BackendRequest, choose_backend, get_backend
from .translator import Translator

DIRECTIONS = ("a2b", "b2a")
GRAPH_BACKENDS = ("eager", "triton", "compile")  # the PyTorch backends CUDA graphs apply to


def build_translator(config, checkpoint, direction: str = "a2b", backend: str = "auto", device: str = "auto",
                     precision: str = "fp32", channels_last: bool = False, onnx_dir: Optional[str] = None,
                     engine_dir: Optional[str] = None, cuda_graphs: Union[bool, str] = "auto",
                     openvino_dir: Optional[str] = None, calib: Optional[str] = None) -> Translator:
    """config: MunitConfig or YAML path; checkpoint: original gen_*.pt path.

    backend: a registered name (`munit_fast.runtime.registry.BACKENDS`: eager, triton, compile,
    onnx, tensorrt, ...) or "auto"; the choice and its reason are on ``translator.choice``.
    ``cuda_graphs`` (PyTorch backends on CUDA): replay each encode and decode from a CUDA graph
    captured per input shape; ``"auto"``: where they apply, falling back to launched calls if a
    capture fails.
    """
    if direction not in DIRECTIONS:
        raise MunitError(f"--direction {direction!r}: expected a2b or b2a")
    if not isinstance(config, MunitConfig):
        config = load_config(config)
    name, reason = choose_backend(backend, device, precision, engine_dir)
    if name not in GRAPH_BACKENDS:
        if cuda_graphs is True:
            raise MunitError(f"--cuda-graphs applies to the {', '.join(GRAPH_BACKENDS)} backends, not --backend {name}")
        cuda_graphs = False
    request = BackendRequest(config, checkpoint, name, direction, device, precision, channels_last, cuda_graphs,
                             onnx_dir, engine_dir, openvino_dir, calib)
    translator = Translator(get_backend(name).build(request))
    translator.choice = f"{translator.name} ({reason})"
    return translator
