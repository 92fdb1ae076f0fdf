"""VGG-16 features for the domain-invariant perceptual loss, from a local weights file.

Accepted files: a torchvision-style ``vgg16`` state dict (``features.0.weight`` ...,
classifier keys ignored) or the original MUNIT ``vgg16.weight`` layout (``conv1_1.weight`` ...),
named directly or as the original's folder (``<vgg_model_path>/models/vgg16.weight``).
Nothing is downloaded. The loss follows the original code: images RGB -> BGR, [-1, 1] ->
[0, 255], minus the Caffe means, features up to relu5_3 (original code) or relu4_3 (paper),
then instance-normalised features compared by mean squared error.
"""
from __future__ import annotations

import os
from typing import Dict, Optional

import torch
import torch.nn.functional as F

from munit_fast.checkpoint import load_file
from munit_fast.errors import MunitError
from munit_fast.model.vgg16 import STAGES, Vgg16Features

# torchvision's features.N index of each conv, in the order of STAGES
_TORCHVISION_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
_BGR_MEAN = (103.939, 116.779, 123.680)


def _to_original_names(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    if any(k.startswith("features.") for k in state):
        names = [name for stage in STAGES for name, _, _ in stage]
        out = {}
        for name, index in zip(names, _TORCHVISION_INDEX):
            for kind in ("weight", "bias"):
                key = f"features.{index}.{kind}"
                if key in state:
                    out[f"{name}.{kind}"] = state[key]
        return out
    return dict(state)


def weights_file(path: str) -> str:
    """``vgg_model_path`` as a file: the file itself, or the original's ``<folder>/models/vgg16.weight``
    (``<folder>/vgg16.weight`` also accepted)."""
    if os.path.isdir(path):
        for candidate in (os.path.join(path, "models", "vgg16.weight"), os.path.join(path, "vgg16.weight")):
            if os.path.isfile(candidate):
                return candidate
        raise MunitError(f"VGG-16 weights not found in folder {path}: expected {path}/models/vgg16.weight "
                         "(the original's layout) or a weights file; check vgg_model_path in the config")
    if not os.path.isfile(path):
        raise MunitError(f"VGG-16 weights not found: {path}; check vgg_model_path in the config")
    return path


def configured_weights_file(path: Optional[str]) -> str:
    """The weights file ``vgg_model_path`` names, or a one-line error when it is unset or absent."""
    if not path:
        raise MunitError(
            "vgg_w > 0 needs VGG-16 weights: set vgg_model_path to a local torchvision vgg16 state dict "
            "(.pth), the original MUNIT vgg16.weight file, or the original's output folder holding "
            "models/vgg16.weight (nothing is downloaded)"
        )
    return weights_file(path)


def load_vgg16(path: Optional[str], last_layer: str = "relu5_3") -> Vgg16Features:
    """Build the frozen feature extractor from a local file, or raise a one-line error."""
    path = configured_weights_file(path)
    state = load_file(path)
    if not isinstance(state, dict):
        raise MunitError(f"{path} is not a VGG-16 state dict (got {type(state).__name__})")
    model = Vgg16Features(last_layer)
    wanted = model.state_dict()
    state = {f"convs.{k}": v for k, v in _to_original_names(state).items() if f"convs.{k}" in wanted}
    missing = [k for k in wanted if k not in state]
    if missing:
        raise MunitError(
            f"{path} is not a VGG-16 state dict: missing {missing[0][len('convs.'):]} "
            f"({len(missing)} weights missing); expected torchvision vgg16 or MUNIT vgg16.weight keys"
        )
    for key, value in state.items():
        if tuple(value.shape) != tuple(wanted[key].shape):
            raise MunitError(f"{path}: {key[len('convs.'):]} has shape {list(value.shape)}, VGG-16 expects "
                             f"{list(wanted[key].shape)}")
    model.load_state_dict(state)
    return model.eval()


def vgg_preprocess(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [-1, 1] -> BGR in [0, 255] minus the Caffe channel means."""
    bgr = images.flip(1)
    mean = torch.tensor(_BGR_MEAN, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (bgr + 1) * 127.5 - mean


def vgg_loss(vgg: Vgg16Features, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """mean((IN(phi(images)) - IN(phi(targets)))^2), IN without affine, eps 1e-5 (original)."""
    if images.shape[1] == 1:  # grayscale domains: replicate to the 3 channels VGG expects
        images, targets = images.expand(-1, 3, -1, -1), targets.expand(-1, 3, -1, -1)
    img_fea = F.instance_norm(vgg(vgg_preprocess(images)).float(), eps=1e-5)
    target_fea = F.instance_norm(vgg(vgg_preprocess(targets)).float(), eps=1e-5)
    return torch.mean((img_fea - target_fea) ** 2)
