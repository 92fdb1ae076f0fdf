"""The kernel-path fixture: every kernel test runs the single-pass and the split-reduction kernels."""
from __future__ import annotations

import pytest
import torch

from munit_fast.kernels import norm_elementwise, norm_fused, norm_split


@pytest.fixture(autouse=True)
def _exact_convolutions():
    """On CUDA, convolutions default to TF32 (10-bit mantissa): it would turn the 1e-7 rounding
    differences of two exact norm paths into 1e-4 differences after the next conv. The kernels
    are compared in true fp32, and with cuDNN's deterministic algorithms (its default weight
    gradients accumulate with atomics, in a different order on every run)."""
    saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    yield
    (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32,
     torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) = saved


@pytest.fixture(params=["single_pass", "split"])
def kernel_path(request, monkeypatch):
    """Run each case through the single-pass kernels and through the split reduction.

    "split" forces tiny tiles so that small test rows span several blocks and several chunks,
    and the statistics kernels loop over several blocks of rows or channels.
    LayerNorm always takes the split reduction: there the two cases are default and tiny tiles.
    """
    if request.param == "split":
        monkeypatch.setattr(norm_fused, "MAX_FUSED_TILE", 0)
        monkeypatch.setattr(norm_split, "SPLIT_TILE_NCHW", (2, 64))
        monkeypatch.setattr(norm_split, "SPLIT_TILE_CHANNELS_LAST", (4, 32))
        monkeypatch.setattr(norm_split, "FINALIZE_BLOCK", 2)
    return request.param


@pytest.fixture
def many_chunk_rows(monkeypatch):
    """The split path with rows cut into more chunks than the elementwise pass adds up itself,
    so the statistics (forward) and dx coefficients (backward) come from the finalize kernels."""
    monkeypatch.setattr(norm_fused, "MAX_FUSED_TILE", 0)
    monkeypatch.setattr(norm_split, "SPLIT_TILE_NCHW", (2, 32))
    monkeypatch.setattr(norm_split, "SPLIT_TILE_CHANNELS_LAST", (4, 32))
    monkeypatch.setattr(norm_elementwise, "MAX_SPLITS_FROM_SUMS", 1)
