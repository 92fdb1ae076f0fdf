"""CUDA graphs for the eager backends: each encode/decode call replays one captured graph
instead of launching a few hundred kernels from Python.

At 256x256 the generator's GPU work takes well under a millisecond while launching it from
Python takes several: a graph removes that host time and leaves the kernels' own speed. A
graph is captured per input signature (shape, dtype, strides), so a video stream at one frame
size and style count captures once; the least recently used graphs are dropped beyond
``max_graphs``. Chosen automatically, a signature is captured on its second call, so shapes
seen once never pay for a capture. Outputs are copied out of the graph's static buffers, so
results stay valid after later calls. Capture is thread-local: other threads (a video
pipeline's capture and output stages) may keep using CUDA meanwhile. With ``fallback=True``
(graphs chosen automatically) a capture that fails is reported in one warning and the
function runs launched from Python from then on.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Callable, Tuple

import torch

from munit_fast.errors import MunitError

# Warm-up calls before a capture: Triton autotuning and cuDNN's algorithm choice happen here.
WARMUP_CALLS = 2


def check_cuda_graphs(device: torch.device) -> None:
    if device.type != "cuda":
        raise MunitError(f"--cuda-graphs needs a CUDA device, got --device {device}; drop --cuda-graphs on a CPU")


class _Capture:
    """One captured graph with its static input and output buffers."""

    def __init__(self, fn: Callable[..., torch.Tensor], inputs: Tuple[torch.Tensor, ...]):
        self.inputs = tuple(torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=t.device) for t in inputs)
        for static, t in zip(self.inputs, inputs):
            static.copy_(t)
        side = torch.cuda.Stream(device=inputs[0].device)
        side.wait_stream(torch.cuda.current_stream(inputs[0].device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_CALLS):
                fn(*self.inputs)
        torch.cuda.current_stream(inputs[0].device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, capture_error_mode="thread_local"):
            self.output = fn(*self.inputs)

    def __call__(self, inputs: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        for static, t in zip(self.inputs, inputs):
            static.copy_(t)
        self.graph.replay()
        return self.output.clone()


class GraphedFunction:
    """``fn(*tensors) -> tensor`` on one CUDA device, replayed from a graph per input signature.

    ``capture_at``: the call of a signature that captures it; the calls before run launched. 1
    captures at once; 2 (graphs chosen automatically) captures only signatures that repeat, so a
    folder of images of all different sizes pays no capture (two warm-up calls and the capture,
    about three calls' time) for shapes it never sees again.
    """

    def __init__(self, fn: Callable[..., torch.Tensor], max_graphs: int = 8, fallback: bool = False,
                 capture_at: int = 1):
        self.fn = fn
        self.max_graphs = max_graphs
        self.fallback = fallback
        self.capture_at = capture_at
        self.launched = False  # True once a failed capture made a fallback run ``fn`` directly
        self._captures: "OrderedDict[tuple, _Capture]" = OrderedDict()
        self._sightings: "OrderedDict[tuple, int]" = OrderedDict()  # calls so far of signatures not yet captured

    @property
    def num_graphs(self) -> int:
        return len(self._captures)

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        if self.launched:
            return self.fn(*inputs)
        key = tuple((tuple(t.shape), t.stride(), t.dtype, t.device) for t in inputs)
        capture = self._captures.get(key)
        if capture is None:
            if self._sighted(key) < self.capture_at:
                return self.fn(*inputs)
            try:
                capture = _Capture(self.fn, inputs)
            except RuntimeError as error:
                if not self.fallback:
                    raise
                warnings.warn(f"CUDA graph capture failed ({str(error).splitlines()[0]}); running the model "
                              "launched from Python instead (slower; --cuda-graphs off skips the attempt)")
                self.launched, self._captures = True, OrderedDict()
                return self.fn(*inputs)
            self._captures[key] = capture
            self._sightings.pop(key, None)
            while len(self._captures) > self.max_graphs:
                self._captures.popitem(last=False)
        else:
            self._captures.move_to_end(key)
        return capture(inputs)

    def _sighted(self, key: tuple) -> int:
        """Count one more call of ``key``; returns its calls so far (the oldest of many
        uncaptured signatures are forgotten)."""
        count = self._sightings.pop(key, 0) + 1
        self._sightings[key] = count
        while len(self._sightings) > 4 * self.max_graphs:
            self._sightings.popitem(last=False)
        return count
