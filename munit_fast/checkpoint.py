"""Original-format checkpoints, in both directions, and their safetensors form.

``gen_XXXXXXXX.pt`` = ``{'a': gen_a.state_dict(), 'b': gen_b.state_dict()}``, ``dis_XXXXXXXX.pt``
likewise, ``optimizer.pt`` = ``{'gen': ..., 'dis': ...}``. ``.pt`` files are read with
``torch.load(..., weights_only=True)``; every file is written atomically (temporary file, fsync,
rename).

safetensors (``gen.safetensors``, ``dis.safetensors``): one file per checkpoint, the original's
key names under ``a.`` and ``b.`` prefixes (``a.enc_style.model.0.conv.weight``), the key order
kept in the header's metadata; a file of plain tensors that cannot carry code.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import re
import warnings
from typing import Dict, Mapping, Tuple, Union

import torch
import torch.nn as nn

from .config import MunitConfig
from .devices import resolve_device
from .errors import MunitError
from .files import atomic_open
from .model import AdaINGen
from .model.size import check_generators_fit

PathLike = Union[str, os.PathLike]

# Buffers that PyTorch 0.3 wrote for the content encoder's instance norms (and that BatchNorm
# layers of PyTorch < 0.4.1 lack): tolerated, never used.
_TOLERATED_EXTRA = re.compile(r"(^|\.)norm\.(running_mean|running_var|num_batches_tracked)$")
_TOLERATED_MISSING = re.compile(r"(^|\.)num_batches_tracked$")


def atomic_save(obj, path: PathLike) -> None:
    """torch.save to a temporary file in the same folder, fsync, then rename over ``path``.
    Serialized in memory first: torch's zip writer turns a failed write (a full disk) into an
    opaque RuntimeError, while a plain write keeps the OSError that names the reason."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_open(path) as handle:
        handle.write(buffer.getbuffer())


SAFETENSORS = ".safetensors"
_ORDER_KEY = "munit_fast.key_order"


def save_safetensors(state: Mapping[str, Mapping[str, torch.Tensor]], path: PathLike) -> None:
    """{'a': state dict, 'b': state dict} -> one safetensors file with a./b. prefixed keys."""
    from safetensors.torch import save

    flat = {f"{domain}.{key}": value.detach().contiguous()
            for domain in ("a", "b") for key, value in state[domain].items()}
    # One metadata entry only: safetensors writes its metadata map in a random order
    # (safetensors issue #584), so two entries would make identical saves differ in bytes.
    metadata = {_ORDER_KEY: json.dumps(list(flat))}
    with atomic_open(path) as handle:
        handle.write(save(flat, metadata=metadata))


def _load_safetensors(path: str) -> Dict[str, Dict[str, torch.Tensor]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="pt") as handle:
            order = json.loads((handle.metadata() or {}).get(_ORDER_KEY, "[]")) or sorted(handle.keys())
            flat = {key: handle.get_tensor(key) for key in order}
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as exc:
        raise MunitError(f"checkpoint {path} is not a readable safetensors file ({str(exc).strip() or exc!r}); "
                         "is it complete?") from None
    state: Dict[str, Dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        domain, _, name = key.partition(".")
        if domain not in ("a", "b") or not name:
            raise MunitError(f"checkpoint {path}: key {key!r} has no a. or b. prefix; munit-fast safetensors "
                             "checkpoints hold both domains as a.<key> and b.<key> (munit-fast convert writes them)")
        state.setdefault(domain, {})[name] = value
    return state


def load_file(path: PathLike, map_location="cpu"):
    """A checkpoint's content: torch.load with weights_only=True for .pt, safetensors for
    .safetensors; one-line errors for missing, corrupt or unsafe files."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        if os.path.exists(path):
            raise MunitError(f"checkpoint {path} is not a regular file (a folder, FIFO or device); pass a .pt or "
                             ".safetensors file")
        raise MunitError(f"checkpoint not found: {path}")
    if path.endswith(SAFETENSORS):
        state = _load_safetensors(path)
        return {d: {k: v.to(map_location) for k, v in s.items()} for d, s in state.items()}
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if re.search(r"unsupported global", message, re.IGNORECASE):
            raise MunitError(
                f"checkpoint {path} holds Python objects, not just tensors, and is refused "
                "(weights_only=True never runs code from a file); re-save it as a plain state dict"
            ) from None
        found = re.search(r"Unsupported [^\n.]*", message)
        detail = found.group(0) if found else "not a PyTorch checkpoint"
        raise MunitError(f"checkpoint {path} cannot be read ({detail or 'unpickling failed'}); "
                         "is it a complete PyTorch file?") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        # the first sentence of the first line: PyTorch follows it with paragraphs of advice
        first = str(exc).strip().splitlines()[0].split(". ")[0] if str(exc).strip() else type(exc).__name__
        raise MunitError(f"checkpoint {path} cannot be read ({first}); is it a complete PyTorch file?") from None


def _likely_cause(key: str, expected: Tuple[int, ...], got: Tuple[int, ...], domain: str) -> str:
    """Name the config value that most probably makes ``key`` a different shape."""
    input_key = f"input_dim_{domain}"
    if key.endswith("model.0.conv.weight") and key.startswith(("enc_style", "enc_content")):
        if expected[1] != got[1]:
            return f"{input_key} (the checkpoint has {got[1]} input channels)"
        return f"gen.dim (the checkpoint has dim {got[0]})"
    if key.startswith("enc_style.model.") and key.endswith(".weight") and len(got) == 4 and got[0] != expected[0]:
        if key.split(".")[2] not in ("0",) and len(got) == 4 and got[2:] == (1, 1):
            return f"gen.style_dim (the checkpoint has style_dim {got[0]})"
        return "gen.dim"
    if key.startswith("mlp.model.0.fc.weight"):
        if got[1] != expected[1]:
            return f"gen.style_dim (the checkpoint has style_dim {got[1]})"
        return f"gen.mlp_dim (the checkpoint has mlp_dim {got[0]})"
    if key.startswith("mlp.") and key.endswith("weight") and got[0] != expected[0] and key.startswith("mlp.model.2"):
        return "gen.n_res or gen.dim/n_downsample (the number of AdaIN parameters differs)"
    if key.startswith("mlp."):
        return "gen.mlp_dim"
    if key.startswith("dec.") and key.endswith("conv.weight") and got[0] != expected[0] and got[0] in (1, 3):
        return f"{input_key} (the checkpoint outputs {got[0]} channels)"
    return "gen.dim or gen.n_downsample"


def _key_hint(keys) -> str:
    sample = sorted(keys)[0]
    if re.match(r"(enc_content\.model\.\d+\.model|dec\.model\.0\.model)\.\d+\.", sample):
        return "gen.n_res"
    if re.match(r"(enc_content|dec)\.model\.\d+\.", sample):
        return "gen.n_downsample"
    if sample.startswith("cnns."):
        return "dis.num_scales, dis.n_layer or dis.norm"
    if ".activation." in sample:
        return "gen.activ / dis.activ (prelu has weights)"
    return "the model options in the config"


def load_state_dict_checked(module: nn.Module, state: Mapping[str, torch.Tensor], what: str, domain: str) -> None:
    """Load ``state`` into ``module`` strictly, with a one-line error naming the first missing,
    unexpected or mismatched key and the config value that probably caused it."""
    if not isinstance(state, Mapping):
        raise MunitError(f"{what}: expected a state dict, got {type(state).__name__}")
    own = module.state_dict()
    state = {k: v for k, v in state.items() if k in own or not _TOLERATED_EXTRA.search(k)}
    odd = next((k for k, v in state.items() if not isinstance(v, torch.Tensor)), None)
    if odd is not None:
        raise MunitError(f"{what} is not a state dict of tensors: {odd} holds a {type(state[odd]).__name__}; "
                         "re-save the checkpoint from the model's state_dict()")
    missing = [k for k in own if k not in state and not _TOLERATED_MISSING.search(k)]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:3]}" + (f" (+{len(missing) - 3} more)" if len(missing) > 3 else ""))
        if unexpected:
            more = f" (+{len(unexpected) - 3} more)" if len(unexpected) > 3 else ""
            parts.append(f"unexpected keys {unexpected[:3]}{more}")
        raise MunitError(
            f"{what} does not fit this config: {'; '.join(parts)}; check {_key_hint(missing or unexpected)}"
        )
    for key, value in own.items():
        if key in state and tuple(state[key].shape) != tuple(value.shape):
            got, expected = tuple(state[key].shape), tuple(value.shape)
            raise MunitError(
                f"{what} does not fit this config: {key} has shape {list(got)}, the config expects "
                f"{list(expected)}; check {_likely_cause(key, expected, got, domain)}"
            )
    broken = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        warnings.warn(f"{what} holds NaN or Inf values in {len(broken)} tensor(s) (first: {broken[0]}): its "
                      "translations will be garbage; use an earlier checkpoint", stacklevel=3)
    for key, value in own.items():
        if key in state:
            value.copy_(state[key])


def build_generators(config: MunitConfig) -> Tuple[AdaINGen, AdaINGen]:
    """gen_a and gen_b of ``config`` (refused in one line when they cannot fit in memory)."""
    check_generators_fit(config)
    return AdaINGen(config.input_dim_a, config.gen), AdaINGen(config.input_dim_b, config.gen)


def load_generator_state(gen_a: AdaINGen, gen_b: AdaINGen, checkpoint: Union[PathLike, Dict]) -> None:
    """Fill two generators from an original ``gen_*.pt`` file (or its loaded dictionary)."""
    name = checkpoint if not isinstance(checkpoint, dict) else "generator checkpoint"
    state = load_file(checkpoint) if not isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state, dict) or "a" not in state or "b" not in state:
        found = sorted(state)[:5] if isinstance(state, dict) else type(state).__name__
        raise MunitError(
            f"{name} is not an original MUNIT generator checkpoint: expected keys 'a' and 'b', found {found}"
        )
    with torch.no_grad():
        load_state_dict_checked(gen_a, state["a"], f"{name} ['a']", "a")
        load_state_dict_checked(gen_b, state["b"], f"{name} ['b']", "b")


def load_generators(config: Union[MunitConfig, PathLike], checkpoint: Union[PathLike, Dict], device="cpu"):
    """Build gen_a and gen_b from a config (object or YAML path) and load an original checkpoint.

    Returns ``(gen_a, gen_b)`` in eval mode on ``device`` (cpu, cuda, cuda:N, auto or a torch.device).
    """
    if not isinstance(device, torch.device):
        device = resolve_device(str(device))  # one line for a missing GPU or a misspelt name
    if not isinstance(config, MunitConfig):
        from .config import load_config

        config = load_config(config)
    gen_a, gen_b = build_generators(config)
    load_generator_state(gen_a, gen_b, checkpoint)
    return gen_a.to(device).eval(), gen_b.to(device).eval()


def save_generators(gen_a: nn.Module, gen_b: nn.Module, path: PathLike) -> None:
    atomic_save({"a": gen_a.state_dict(), "b": gen_b.state_dict()}, path)


def save_discriminators(dis_a: nn.Module, dis_b: nn.Module, path: PathLike) -> None:
    atomic_save({"a": dis_a.state_dict(), "b": dis_b.state_dict()}, path)


def load_discriminators(dis_a: nn.Module, dis_b: nn.Module, checkpoint: PathLike) -> None:
    state = load_file(checkpoint)
    if not isinstance(state, dict) or "a" not in state or "b" not in state:
        raise MunitError(f"{checkpoint} is not an original MUNIT discriminator checkpoint: expected keys 'a' and 'b'")
    with torch.no_grad():
        load_state_dict_checked(dis_a, state["a"], f"{checkpoint} ['a']", "a")
        load_state_dict_checked(dis_b, state["b"], f"{checkpoint} ['b']", "b")
