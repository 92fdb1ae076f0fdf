"""The kernel-path fixture: every kernel test runs the single-pass and the split-reduction kernels."""
from __future__ import annotations

import pytest

from munit_fast.kernels import norm_act


@pytest.fixture(params=["single_pass", "split"])
def kernel_path(request, monkeypatch):
    """Run each case through the single-pass kernels and through the split reduction.

    "split" forces tiny tiles so that small test rows span several blocks and several chunks,
    and the statistics kernels loop over several blocks of rows or channels.
    LayerNorm always takes the split reduction: there the two cases are default and tiny tiles.
    """
    if request.param == "split":
        monkeypatch.setattr(norm_act, "MAX_FUSED_TILE", 0)
        monkeypatch.setattr(norm_act, "SPLIT_TILE_NCHW", (2, 64))
        monkeypatch.setattr(norm_act, "SPLIT_TILE_CHANNELS_LAST", (4, 32))
        monkeypatch.setattr(norm_act, "FINALIZE_BLOCK", 2)
    return request.param
