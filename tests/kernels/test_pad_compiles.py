"""The padding kernels compile for a Hopper GPU (sm_90) on this machine, without one.

The interpreter runs the kernels' Python semantics; compiling to PTX checks what only the
compiler sees (constexpr branches, static loops, accumulator dtypes). It runs in a subprocess:
this test session imported Triton in interpreter mode, whose kernels cannot be compiled.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("triton")

SCRIPT = r'''
import re
import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from munit_fast.kernels import pad as P

def compile_ptx(fn, signature, constexprs):
    signature = dict(signature, **{name: "constexpr" for name in constexprs})
    return triton.compile(ASTSource(fn=fn, signature=signature, constexprs=constexprs),
                          target=GPUTarget("cuda", 90, 32)).asm["ptx"]

count = 0
for ptr, acc in (("*fp16", tl.float32), ("*bf16", tl.float32), ("*fp32", tl.float32), ("*fp64", tl.float64)):
    for reflect, pads in ((True, (1, 1, 3, 3)), (False, (2, 0, 1, 3))):
        top, bottom, left, right = pads
        readers = dict(TOP=top, BOTTOM=bottom, LEFT=left, RIGHT=right, REFLECT=reflect,
                       READERS_H=P._readers(top, bottom, reflect), READERS_W=P._readers(left, right, reflect), ACC=acc)
        sizes = {name: "i32" for name in ("H", "W", "HO", "WO")}
        compile_ptx(P._pad_nchw, dict(x_ptr=ptr, y_ptr=ptr, TOP="i32", LEFT="i32", **sizes),
                    dict(REFLECT=reflect, BLOCK=1024))
        compile_ptx(P._pad_channels_last, dict(x_ptr=ptr, y_ptr=ptr, C="i32", TOP="i32", LEFT="i32", TILES_P="i32",
                                               TILES_C="i32", **sizes), dict(REFLECT=reflect, BLOCK_P=32, BLOCK_C=64))
        compile_ptx(P._pad_backward_nchw, dict(gy_ptr=ptr, gx_ptr=ptr, **sizes), dict(readers, BLOCK=1024))
        signature = dict(gy_ptr=ptr, gx_ptr=ptr, C="i32", TILES_P="i32", TILES_C="i32", **sizes)
        ptx = compile_ptx(P._pad_backward_channels_last, signature, dict(readers, BLOCK_P=32, BLOCK_C=64))
        assert re.search(r"\bst\.global", ptx), "the backward stores nothing"
        count += 4
print(f"compiled {count}")
'''


def test_padding_kernels_compile_for_sm_90():
    environment = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    environment["TRITON_DEFAULT_FP_FUSION"] = "1"  # Triton's default; set to silence its notice
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=environment, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "compiled 32" in result.stdout
