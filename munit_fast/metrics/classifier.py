"""A small CNN that tells the target domain's modes apart, for IS/CIS and mode coverage.

The paper fine-tunes Inception-v3 on the target domain's modes; for the built-in shapes dataset
a 4-layer CNN is enough (>= 98% held-out accuracy) and ships with the package
(``munit_fast/assets/mode_classifier_shapes.pt``). For other data, train one on a folder with
one sub-folder per mode (`train_classifier` / ``munit-fast dataset classifier``).

File format (read with ``weights_only=True``): ``{"format": "munit-fast-mode-classifier",
"num_classes": int, "width": int, "image_size": int, "class_names": [str], "state_dict": {...}}``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from munit_fast.checkpoint import atomic_save, load_file, load_state_dict_checked
from munit_fast.errors import MunitError

FORMAT = "munit-fast-mode-classifier"
ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets")
SHIPPED_SHAPES_CLASSIFIER = os.path.join(ASSETS, "mode_classifier_shapes.pt")


class ModeClassifier(nn.Module):
    """Four conv 3x3 stride-2 + ReLU blocks (width, 2w, 4w, 4w channels), global average pool,
    linear -> class logits. Any input size: images are resized to ``image_size`` first."""

    def __init__(self, num_classes: int, width: int = 16, image_size: int = 64, in_channels: int = 3):
        super().__init__()
        self.num_classes, self.width, self.image_size = num_classes, width, image_size
        channels = [in_channels, width, 2 * width, 4 * width, 4 * width]
        layers = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels[-1], num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) in [-1, 1] -> (B, classes) logits
        if images.shape[-2:] != (self.image_size, self.image_size):
            images = F.interpolate(images, size=(self.image_size, self.image_size), mode="bilinear",
                                   align_corners=False, antialias=True)
        return self.head(self.features(images).mean(dim=(2, 3)))

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, classes) softmax probabilities, float32."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise MunitError(f"mode classifier input must be shaped (B, 3, H, W), got {tuple(images.shape)}")
        outs = [F.softmax(self(images[i:i + batch_size].float()), dim=1) for i in range(0, len(images), batch_size)]
        return torch.cat(outs)


def save_classifier(model: ModeClassifier, path: str, class_names: Sequence[str]) -> None:
    atomic_save({"format": FORMAT, "num_classes": model.num_classes, "width": model.width,
                 "image_size": model.image_size, "class_names": list(class_names),
                 "state_dict": model.state_dict()}, path)


def load_classifier(path: Optional[str] = None):
    """-> (ModeClassifier in eval mode, class names). ``path`` None: the shipped shapes classifier."""
    path = path or SHIPPED_SHAPES_CLASSIFIER
    if not os.path.exists(path):
        raise MunitError(f"mode classifier not found: {path}; train one with munit-fast dataset classifier")
    data = load_file(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise MunitError(f"{path} is not a munit-fast mode classifier (expected a file written by "
                         "`munit-fast dataset classifier`)")
    model = ModeClassifier(int(data["num_classes"]), int(data["width"]), int(data["image_size"]))
    with torch.no_grad():
        load_state_dict_checked(model, data["state_dict"], f"mode classifier {path}", "b")
    return model.eval(), list(data["class_names"])


def to_batch(images: Sequence[np.ndarray]) -> torch.Tensor:
    """HxWx3 float RGB images in [0, 1] -> (B, 3, H, W) float32 in [-1, 1]."""
    array = np.stack([np.asarray(im, np.float32) for im in images]).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(array)) * 2.0 - 1.0


def _augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Blur and noise like an imperfect translator's output, so translations classify confidently."""
    sigma = float(torch.rand((), generator=generator)) * 1.2
    if sigma > 0.3:
        radius = 2
        x = torch.arange(-radius, radius + 1, dtype=torch.float32)
        kernel = torch.exp(-0.5 * (x / sigma) ** 2)
        kernel = kernel / kernel.sum()
        kernel2d = (kernel[:, None] * kernel[None, :]).expand(3, 1, -1, -1)
        batch = F.conv2d(F.pad(batch, (radius,) * 4, mode="replicate"), kernel2d, groups=3)
    noise = torch.randn(batch.shape, generator=generator) * 0.05
    return (batch + noise).clamp(-1.0, 1.0)


@dataclass
class TrainResult:
    model: ModeClassifier
    accuracy: float  # on the held-out images


def evaluate_accuracy(model: ModeClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """images (N, 3, H, W) in [-1, 1], labels (N,) -> fraction classified correctly."""
    model.eval()
    predicted = model.probabilities(images).argmax(dim=1)
    return float((predicted == labels).float().mean())


def train_classifier(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor,
                     test_labels: torch.Tensor, num_classes: int, epochs: int = 6, batch_size: int = 64,
                     lr: float = 2e-3, width: int = 16, seed: int = 0,
                     progress: Optional[Callable[[int, float], None]] = None) -> TrainResult:
    """Adam on cross-entropy with blur/noise augmentation. images (N, 3, S, S) in [-1, 1], labels (N,) int64.
    ``progress(epoch, held_out_accuracy)`` is called after each epoch."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = ModeClassifier(num_classes, width, train_images.shape[-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * -(-len(train_images) // batch_size))
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_images), generator=generator)
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            batch = _augment(train_images[index], generator)
            loss = F.cross_entropy(model(batch), train_labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if progress is not None:
            progress(epoch, evaluate_accuracy(model, test_images, test_labels))
    return TrainResult(model.eval(), evaluate_accuracy(model, test_images, test_labels))
