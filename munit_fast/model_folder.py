"""A model folder: a trained MUNIT model as people share it.

    <folder>/config.yaml       the original-format config
    <folder>/gen.safetensors   the generators (a./b. keys: munit_fast.checkpoint) ; gen.pt also read
    <folder>/README.md         the model card: domains, data, training, metrics, version, licence
    <folder>/eval.json         munit-fast eval's results, when measured

Every command takes ``--model DIR_OR_REPO`` for it; ``from_pretrained`` loads it from Python. A
name that is not a local folder but looks like ``owner/name`` is a Hugging Face Hub repository,
fetched (or, with HF_HUB_OFFLINE=1, taken from the local cache) by ``huggingface_hub`` when it
is installed (``pip install 'munit-fast[hub]'``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from typing import Optional, Tuple

import torch

from munit_fast import __version__

from .checkpoint import SAFETENSORS, load_file, load_generators, save_safetensors
from .config import MunitConfig, dump_config, load_config
from .errors import MunitError, write_error
from .files import atomic_write_text, make_folder

CONFIG, WEIGHTS, CARD, EVAL = "config.yaml", "gen" + SAFETENSORS, "README.md", "eval.json"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HUB_FILES = [CONFIG, "*" + SAFETENSORS, "gen.pt", CARD, EVAL]


def _from_hub(repo_id: str) -> str:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError
    except ImportError:
        raise MunitError(f"--model {repo_id}: no such folder here, and Hugging Face Hub repositories need "
                         "huggingface_hub (pip install 'munit-fast[hub]')") from None
    try:
        return snapshot_download(repo_id, allow_patterns=HUB_FILES)
    except LocalEntryNotFoundError:
        raise MunitError(f"--model {repo_id}: not in the local Hugging Face cache and the Hub cannot be reached "
                         "(HF_HUB_OFFLINE is set, or no network); download it once with network access") from None
    except (RepositoryNotFoundError, HfHubHTTPError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MunitError(f"--model {repo_id}: cannot fetch it from the Hugging Face Hub ({first})") from None


def locate(name: str) -> str:
    """The local folder of a model folder or a Hub repository id."""
    if os.path.isdir(name):
        return name
    if os.path.exists(name):
        raise MunitError(f"--model {name}: a model is a folder (config.yaml, gen.safetensors, README.md), not a "
                         "file; for a single checkpoint pass --config and --checkpoint")
    if _REPO_ID.match(name):
        return _from_hub(name)
    raise MunitError(f"--model {name}: no such folder (and not a Hugging Face repository id owner/name)")


def model_paths(name: str) -> Tuple[str, str]:
    """(config.yaml, weights) of a model folder or Hub repository."""
    folder = locate(name)
    config = os.path.join(folder, CONFIG)
    weights = next((os.path.join(folder, w) for w in (WEIGHTS, "gen.pt") if os.path.isfile(os.path.join(folder, w))),
                   None)
    if not os.path.isfile(config) or weights is None:
        missing = CONFIG if not os.path.isfile(config) else f"{WEIGHTS} (or gen.pt)"
        raise MunitError(f"--model {name}: {folder} has no {missing}; a model folder holds config.yaml, "
                         "gen.safetensors and README.md (munit-fast train writes one, or munit-fast export-model)")
    return config, weights


def from_pretrained(name: str, device: str = "cpu"):
    """(gen_a, gen_b, config) of a model folder or Hub repository, in eval mode on ``device``."""
    config_path, weights = model_paths(name)
    config = load_config(config_path)
    gen_a, gen_b = load_generators(config, weights, device)
    return gen_a, gen_b, config


def _domains(config: MunitConfig) -> str:
    data = config.data_root or config.data_folder_train_a or "unknown data"
    name = data if data.startswith("synthetic:") else os.path.basename(os.path.normpath(data))
    channels = {1: "grayscale", 3: "color"}
    return (f"{name}: domain A ({channels[config.input_dim_a]}, resized to {config.size_for('a')}) and domain B "
            f"({channels[config.input_dim_b]}, resized to {config.size_for('b')})")


def model_card(config: MunitConfig, iterations: int, command: str, metrics: Optional[dict] = None,
               license_text: str = "") -> str:
    """README.md of a model folder (markdown)."""
    rows = [
        f"# MUNIT model: {_domains(config).split(':')[0]}",
        "",
        "A MUNIT (multimodal unsupervised image-to-image translation) model in the munit-fast model-folder format:",
        f"`{CONFIG}` (original MUNIT config format) and `{WEIGHTS}` (both generators, original key names under "
        "`a.` and `b.`). Translate with `munit-fast translate --model <this folder> --input IMAGE --output DIR`.",
        "",
        "| | |", "|---|---|",
        f"| domains | {_domains(config)} |",
        f"| data | `{config.data_root or config.data_folder_train_a}` |",
        f"| training | `{command}`, {iterations} iterations, batch size {config.batch_size} |",
        f"| generator | dim {config.gen.dim}, style_dim {config.gen.style_dim}, n_downsample "
        f"{config.gen.n_downsample}, n_res {config.gen.n_res} |",
        f"| munit-fast | {__version__}, written {time.strftime('%Y-%m-%d')} |",
        f"| licence | {license_text or 'set by the owner of the weights: the training data decides it, and weights fine-tuned from the original MUNIT checkpoints inherit their CC BY-NC-SA 4.0'} |",  # noqa: E501
    ]
    if metrics:
        rows += ["", "## Metrics (`munit-fast eval`)", "", "| metric | value |", "|---|---|"]
        rows += [f"| {key} | {value:.4g} |" for key, value in metrics.items() if isinstance(value, (int, float))]
    else:
        rows += ["", "No metrics yet: `munit-fast eval --model <this folder> --json eval.json` measures IS, CIS, "
                 "mode coverage and LPIPS diversity."]
    return "\n".join(rows) + "\n"


def _is_model_file(name: str) -> bool:
    return name in (CONFIG, CARD, EVAL, "gen.pt") or name.endswith(SAFETENSORS)


def check_replaceable(folder: str, what: str = "--output") -> None:
    """Fail unless ``folder`` is new, empty or a model folder: writing one replaces the folder
    as a whole, which must never take a source tree, a training run or anything else with it."""
    if not os.path.lexists(folder):
        return
    if os.path.islink(folder) or not os.path.isdir(folder):
        kind = "a symbolic link" if os.path.islink(folder) else "not a folder"
        raise MunitError(f"{what} {folder} exists and is {kind}; pass a new folder name for the model")
    try:
        others = sorted(name for name in os.listdir(folder) if not _is_model_file(name))
    except OSError as exc:
        raise write_error(folder, exc) from None
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise MunitError(f"{what} {folder} exists and is not a model folder (it holds {shown}); writing a model "
                         "replaces the whole folder, so pass a new folder name or an existing model folder")


def holds_generators(folder: str, generators: dict) -> bool:
    """Whether ``folder`` is a model folder whose weights equal ``generators`` ({'a', 'b'} state dicts)."""
    path = os.path.join(folder, WEIGHTS)
    if not os.path.isfile(path):
        return False
    try:
        saved = load_file(path)
    except MunitError:
        return False
    return all(saved.get(d, {}).keys() == generators[d].keys() and
               all(torch.equal(saved[d][k], v.detach().cpu()) for k, v in generators[d].items()) for d in ("a", "b"))


def write_model_folder(folder: str, config: MunitConfig, generators: dict, card: str,
                       metrics: Optional[dict] = None) -> str:
    """Write (or replace) a model folder as a whole: built beside it, then renamed into place, so a
    reader never sees half of one. An existing folder is replaced only when it is empty or a model
    folder (`check_replaceable`). ``generators``: {'a': state dict, 'b': state dict}."""
    folder = os.path.abspath(folder)
    check_replaceable(folder)
    parent = os.path.dirname(folder)
    make_folder(parent)
    try:
        staging = tempfile.mkdtemp(prefix=os.path.basename(folder) + ".", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise write_error(folder, exc) from None
    try:
        atomic_write_text(os.path.join(staging, CONFIG), dump_config(config))
        save_safetensors(generators, os.path.join(staging, WEIGHTS))
        atomic_write_text(os.path.join(staging, CARD), card)
        if metrics:
            atomic_write_text(os.path.join(staging, EVAL), json.dumps(metrics, indent=2))
        old = None
        if os.path.isdir(folder):
            old = tempfile.mkdtemp(prefix=os.path.basename(folder) + ".", suffix=".old.tmp", dir=parent)
            os.replace(folder, old)  # onto the empty folder just made: no name two writers could share
        os.replace(staging, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise write_error(folder, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
