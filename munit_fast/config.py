"""The original MUNIT YAML config, loaded into typed dataclasses and validated.

Every key of the original format is known; an unknown key, a value of the wrong type or an
impossible value raises `MunitError` naming the key (``gen.n_res: expected an integer >= 0,
got -1``). munit-fast's own additions are documented next to their fields.
"""
from __future__ import annotations

import dataclasses
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, Union, get_args, get_origin, get_type_hints

import yaml

from .errors import MunitError, os_reason

ACTIVATIONS = ("relu", "lrelu", "prelu", "selu", "tanh", "none")
PAD_TYPES = ("reflect", "replicate", "zero")
DIS_NORMS = ("none", "bn", "in", "ln", "sn")
GAN_TYPES = ("lsgan", "nsgan")
INIT_TYPES = ("gaussian", "kaiming", "xavier", "orthogonal", "default")
LR_POLICIES = ("step", "constant")
VGG_LAYERS = ("relu5_3", "relu4_3")


@dataclass
class GenConfig:
    dim: int = 64
    mlp_dim: int = 256
    style_dim: int = 8
    activ: str = "relu"
    n_downsample: int = 2
    n_res: int = 4
    pad_type: str = "reflect"


@dataclass
class DisConfig:
    dim: int = 64
    norm: str = "none"
    activ: str = "lrelu"
    n_layer: int = 4
    gan_type: str = "lsgan"
    num_scales: int = 3
    pad_type: str = "reflect"


@dataclass
class MunitConfig:
    # logger options
    image_save_iter: int = 10000
    image_display_iter: int = 500
    display_size: int = 16
    snapshot_save_iter: int = 10000
    log_iter: int = 10
    # optimization options
    max_iter: int = 1000000
    batch_size: int = 1
    weight_decay: float = 0.0001
    beta1: float = 0.5
    beta2: float = 0.999
    init: str = "kaiming"
    lr: float = 0.0001
    lr_policy: str = "step"
    step_size: int = 100000
    gamma: float = 0.5
    gan_w: float = 1.0
    recon_x_w: float = 10.0
    recon_s_w: float = 1.0
    recon_c_w: float = 1.0
    recon_x_cyc_w: float = 0.0
    vgg_w: float = 0.0
    # model options
    gen: GenConfig = field(default_factory=GenConfig)
    dis: DisConfig = field(default_factory=DisConfig)
    # data options
    input_dim_a: int = 3
    input_dim_b: int = 3
    num_workers: int = 8
    new_size: Optional[int] = 256
    new_size_a: Optional[int] = None
    new_size_b: Optional[int] = None
    crop_image_height: int = 256
    crop_image_width: int = 256
    data_root: Optional[str] = None
    data_folder_train_a: Optional[str] = None
    data_list_train_a: Optional[str] = None
    data_folder_test_a: Optional[str] = None
    data_list_test_a: Optional[str] = None
    data_folder_train_b: Optional[str] = None
    data_list_train_b: Optional[str] = None
    data_folder_test_b: Optional[str] = None
    data_list_test_b: Optional[str] = None
    # munit-fast additions (the original reads the VGG weights from <output_path>/models)
    vgg_model_path: Optional[str] = None  # local VGG-16 weights file for the perceptual loss
    vgg_layer: str = "relu5_3"  # relu5_3 as the original code, relu4_3 as the paper
    # decay of an exponential moving average of the generators' weights (e.g. 0.999): gen_*.pt
    # then holds the average, gen_train_*.pt the trained weights; 0 trains as the original
    gen_ema: float = 0.0

    def size_for(self, domain: str) -> int:
        """The shorter-side resize of domain 'a' or 'b': new_size when the config sets it (the
        original's loaders and test.py read it first), else new_size_a / new_size_b."""
        if self.new_size is not None:
            return self.new_size
        return self.new_size_a if domain == "a" else self.new_size_b

    def input_dim(self, domain: str) -> int:
        return self.input_dim_a if domain == "a" else self.input_dim_b

    def to_dict(self) -> dict:
        """The config as the original YAML's dictionary (unset optional keys left out)."""
        out = {}
        for key, value in dataclasses.asdict(self).items():
            if value is None:
                continue
            out[key] = value
        return out


def _check_choice(key: str, value: str, choices) -> None:
    if value not in choices:
        raise MunitError(f"{key}: expected one of {'/'.join(choices)}, got {value!r}")


def _check_min(key: str, value, minimum) -> None:
    if value is not None and value < minimum:
        raise MunitError(f"{key}: expected a value >= {minimum}, got {value!r}")


def _coerce(key: str, value: Any, annotation) -> Any:
    """Convert a YAML scalar to the field's type, or raise naming the key."""
    optional = get_origin(annotation) is Union and type(None) in get_args(annotation)
    if optional:
        if value is None:
            return None
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise MunitError(f"{key}: expected an integer, got {value!r}")
    elif annotation is float:
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string
            try:
                number = float(value)
            except ValueError:
                pass
        if number is None:
            raise MunitError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(number):
            raise MunitError(f"{key}: expected a finite number, got {value!r}")
        return number
    elif annotation is str:
        if isinstance(value, str):
            return value
        raise MunitError(f"{key}: expected a string, got {value!r}")
    raise MunitError(f"{key}: expected {getattr(annotation, '__name__', annotation)}, got {value!r}")


def _build(cls, data: dict, prefix: str):
    if not isinstance(data, dict):
        raise MunitError(f"{prefix.rstrip('.') or 'config'}: expected a mapping of keys, got {data!r}")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MunitError(
            f"unknown config key {prefix}{unknown[0]!s}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + f"; known keys here: {', '.join(sorted(known))}"
        )
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, f"{prefix}{name}.")
        else:
            kwargs[name] = _coerce(prefix + name, value, hint)
    return cls(**kwargs)


def validate(config: MunitConfig) -> MunitConfig:
    """Reject impossible values, naming the key."""
    g, d = config.gen, config.dis
    for key, value, minimum in [
        ("gen.dim", g.dim, 1), ("gen.mlp_dim", g.mlp_dim, 1), ("gen.style_dim", g.style_dim, 1),
        ("gen.n_downsample", g.n_downsample, 0), ("gen.n_res", g.n_res, 0),
        ("dis.dim", d.dim, 1), ("dis.n_layer", d.n_layer, 1), ("dis.num_scales", d.num_scales, 1),
        ("batch_size", config.batch_size, 1), ("display_size", config.display_size, 1),
        ("max_iter", config.max_iter, 1), ("num_workers", config.num_workers, 0),
        ("image_save_iter", config.image_save_iter, 1), ("image_display_iter", config.image_display_iter, 1),
        ("snapshot_save_iter", config.snapshot_save_iter, 1), ("log_iter", config.log_iter, 1),
        ("step_size", config.step_size, 1), ("lr", config.lr, 0.0), ("weight_decay", config.weight_decay, 0.0),
        ("crop_image_height", config.crop_image_height, 1), ("crop_image_width", config.crop_image_width, 1),
        ("new_size", config.new_size, 1), ("new_size_a", config.new_size_a, 1), ("new_size_b", config.new_size_b, 1),
    ]:
        _check_min(key, value, minimum)
    for key in ("gan_w", "recon_x_w", "recon_s_w", "recon_c_w", "recon_x_cyc_w", "vgg_w"):
        _check_min(key, getattr(config, key), 0.0)
    for key in ("beta1", "beta2", "gen_ema"):
        value = getattr(config, key)
        if not 0.0 <= value < 1.0:
            raise MunitError(f"{key}: expected a value in [0, 1), got {value!r}")
    for key in ("input_dim_a", "input_dim_b"):
        if getattr(config, key) not in (1, 3):
            raise MunitError(f"{key}: expected 1 (grayscale) or 3 (color), got {getattr(config, key)!r}")
    _check_choice("gen.activ", g.activ, ACTIVATIONS)
    _check_choice("gen.pad_type", g.pad_type, PAD_TYPES)
    _check_choice("dis.activ", d.activ, ACTIVATIONS)
    _check_choice("dis.pad_type", d.pad_type, PAD_TYPES)
    _check_choice("dis.norm", d.norm, DIS_NORMS)
    _check_choice("dis.gan_type", d.gan_type, GAN_TYPES)
    _check_choice("init", config.init, INIT_TYPES)
    _check_choice("lr_policy", config.lr_policy, LR_POLICIES)
    _check_choice("vgg_layer", config.vgg_layer, VGG_LAYERS)
    if config.new_size is None and (config.new_size_a is None or config.new_size_b is None):
        raise MunitError("new_size: missing; set new_size, or both new_size_a and new_size_b")
    return config


def config_from_dict(data: dict) -> MunitConfig:
    """Build and validate a config from the original YAML's dictionary. new_size defaults to 256
    only when the config sets no size at all; new_size_a/_b alone leave it unset."""
    data = data or {}
    if isinstance(data, dict) and "new_size" not in data and ("new_size_a" in data or "new_size_b" in data):
        data = dict(data, new_size=None)
    config = validate(_build(MunitConfig, data, ""))
    if config.new_size is not None and (config.new_size_a is not None or config.new_size_b is not None):
        warnings.warn(f"new_size_a/new_size_b are ignored: new_size ({config.new_size}) is set, and the original "
                      "reads new_size first; remove new_size to resize the domains differently", stacklevel=2)
    return config


def load_config(path: Union[str, os.PathLike]) -> MunitConfig:
    """Load an original-format MUNIT YAML config (``yaml.safe_load``) into a `MunitConfig`."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isfile(path):
        raise MunitError(f"config {path} is not a regular file (a folder, FIFO or device); pass the YAML file")
    if not os.path.isfile(path):
        raise MunitError(f"config file not found: {path}; pass the YAML of the model "
                         "(e.g. configs/edges2shoes_folder.yaml)")
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MunitError(f"config {path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError as exc:
        raise MunitError(f"config {path} is not UTF-8 text (byte {exc.start}); is it a YAML file?") from None
    except OSError as exc:
        raise MunitError(f"cannot read config {path}: {os_reason(exc)}") from None
    if data is None:
        raise MunitError(f"config {path} is empty (or only comments); pass the YAML of the model "
                         "(e.g. configs/edges2shoes_folder.yaml)")
    try:
        return config_from_dict(data)
    except MunitError as exc:
        raise MunitError(f"config {path}: {exc}") from None


def apply_overrides(config: MunitConfig, overrides) -> MunitConfig:
    """Apply ``key=value`` strings (``gen.dim=16``, ``lr=2e-4``) with YAML value parsing."""
    data = config.to_dict()
    for item in overrides or ():
        if "=" not in item:
            raise MunitError(f"--set {item!r}: expected key=value, e.g. --set gen.dim=16")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise MunitError(f"--set {item!r}: the value is not valid YAML ({getattr(exc, 'problem', exc)}); "
                             "quote strings, e.g. --set data_root=path/to/data") from None
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise MunitError(f"--set {key}: {part!r} is not a section of the config")
            node = node[part]
        node[parts[-1]] = value
    return config_from_dict(data)


def dump_config(config: MunitConfig) -> str:
    """The resolved config as original-format YAML."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
