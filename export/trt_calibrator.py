"""TensorRT 10 INT8 entropy calibrator fed with real frames (see ``calibration``).

Implicit (calibrated) INT8 is deprecated in TensorRT 10 and removed in 11; on 11 the builder
takes a Q/DQ ONNX graph instead (see ``trt_build``). The class is created on first use because
its base class lives in the optional ``tensorrt`` package.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import numpy as np
import torch

from munit_fast.files import atomic_write_bytes


def make_entropy_calibrator(trt, batches: List[Dict[str, np.ndarray]], cache_path: Optional[str], device: torch.device):
    """An ``IInt8EntropyCalibrator2`` feeding ``batches`` ({input name: array at the calibration
    profile's opt shape}, see ``calibration.calibration_feeds``) from CUDA buffers, reading and
    writing the calibration table at ``cache_path``."""

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            super().__init__()
            self.batches = batches
            self.index = 0
            self.buffers = {name: torch.empty(array.shape, dtype=torch.float32, device=device)
                            for name, array in batches[0].items()}

        def get_batch_size(self) -> int:
            return 1  # explicit-batch networks: the shapes come from the calibration profile

        def get_batch(self, names):  # -> one device pointer per name, or None when done
            if self.index >= len(self.batches):
                return None
            feed = self.batches[self.index]
            for name in names:
                self.buffers[name].copy_(torch.from_numpy(feed[name]))
            torch.cuda.synchronize(device)
            self.index += 1
            return [int(self.buffers[name].data_ptr()) for name in names]

        def read_calibration_cache(self):
            if cache_path and os.path.isfile(cache_path):
                with open(cache_path, "rb") as handle:
                    return handle.read()
            return None

        def write_calibration_cache(self, cache) -> None:
            if cache_path:
                atomic_write_bytes(cache_path, bytes(cache))

    return EntropyCalibrator()
