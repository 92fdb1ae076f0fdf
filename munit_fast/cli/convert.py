"""``munit-fast convert``: a generator or discriminator checkpoint from the original ``.pt`` format to
safetensors and back. The tensors (values, dtypes, shapes) and the key order come through
unchanged, both ways."""
from __future__ import annotations

import collections
import os

from munit_fast.checkpoint import SAFETENSORS, atomic_save, load_file, save_safetensors
from munit_fast.errors import MunitError
from munit_fast.files import check_writable

FORMATS = (".pt", SAFETENSORS)


def add_parser(subparsers):
    p = subparsers.add_parser("convert", help="convert a gen_*.pt / dis_*.pt checkpoint to safetensors and back")
    p.add_argument("input", help="checkpoint to read (.pt or .safetensors)")
    p.add_argument("output", help="checkpoint to write (.safetensors or .pt: the other format)")
    return p


def _format(path: str, what: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise MunitError(f"{what} {path}: expected a .pt or .safetensors file name")
    return ext


def run(args) -> int:
    source, target = _format(args.input, "input"), _format(args.output, "output")
    if source == target:
        raise MunitError(f"{args.input} and {args.output} have the same format; convert .pt <-> .safetensors")
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        raise MunitError("input and output are the same file")
    check_writable(args.output, "output")
    state = load_file(args.input)
    if not isinstance(state, dict) or set(state) != {"a", "b"}:
        found = sorted(state)[:4] if isinstance(state, dict) else type(state).__name__
        raise MunitError(f"{args.input} is not a generator or discriminator checkpoint (keys 'a' and 'b'), found "
                         f"{found}; optimizer.pt stays in the .pt format")
    if target == SAFETENSORS:
        save_safetensors(state, args.output)
    else:
        atomic_save({d: collections.OrderedDict(state[d]) for d in ("a", "b")}, args.output)
    tensors = sum(len(state[d]) for d in ("a", "b"))
    print(f"wrote {args.output} ({tensors} tensors)")
    return 0
