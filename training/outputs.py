"""What a training run shows: sample grids, the HTML index, TensorBoard and the progress bar.

Grids follow the original: one row per kind (input, reconstruction, translation with the
fixed display style, translation with a random style), one column per display image;
``gen_a2b_{train,test}_%08d.jpg`` every image_save_iter, ``gen_a2b_train_current.jpg`` every
image_display_iter, and ``index.html`` listing them newest first.
"""
from __future__ import annotations

import html
import os
import warnings
from typing import Dict, Sequence

import numpy as np
import torch

from munit_fast.files import atomic_write_text
from munit_fast.images import make_grid, tensor_to_image, write_image


def sample_grid(rows: Sequence[torch.Tensor]) -> np.ndarray:
    """rows: K tensors (N, C, H, W) in [-1, 1] -> one uint8 BGR image, K rows x N columns."""
    columns = rows[0].shape[0]
    tiles = [tensor_to_image(row[i]) for row in rows for i in range(columns)]
    return make_grid(tiles, columns, pad=0)


def write_samples(folder: str, outputs: Sequence[torch.Tensor], postfix: str) -> Dict[str, np.ndarray]:
    """outputs: the 8 tensors of MUNITTrainer.sample; writes the a2b and b2a grids."""
    grids = {"a2b": sample_grid(outputs[:4]), "b2a": sample_grid(outputs[4:])}
    for direction, grid in grids.items():
        write_image(os.path.join(folder, f"gen_{direction}_{postfix}.jpg"), grid)
    return grids


def write_html(path: str, iterations: int, image_save_iter: int, image_folder: str = "images") -> None:
    """index.html: the current train grids, then every saved iteration, newest first (atomic)."""
    lines = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'><title>MUNIT training samples</title>",
             "<meta http-equiv='refresh' content='30'></head><body>", "<h3>current</h3>"]
    for direction in ("a2b", "b2a"):
        lines.append(f"<p><img src='{image_folder}/gen_{direction}_train_current.jpg' style='width:100%'></p>")
    for it in range(iterations, image_save_iter - 1, -image_save_iter):
        lines.append(f"<h3>iteration [{it}]</h3>")
        for split in ("test", "train"):
            for direction in ("a2b", "b2a"):
                name = html.escape(f"{image_folder}/gen_{direction}_{split}_{it:08d}.jpg")
                lines.append(f"<p><img src='{name}' style='width:100%'></p>")
    lines.append("</body></html>")
    atomic_write_text(path, "\n".join(lines) + "\n")


class TensorBoardLog:
    """Scalars and sample grids for TensorBoard; a no-op with one warning without tensorboard."""

    def __init__(self, folder: str):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            warnings.warn("tensorboard is not installed (pip install munit-fast[train]); no TensorBoard logs",
                          stacklevel=2)
            self.writer = None
        else:
            self.writer = SummaryWriter(folder)

    def scalars(self, values: Dict[str, float], step: int) -> None:
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(name, value, step)

    def images(self, grids: Dict[str, np.ndarray], tag: str, step: int) -> None:
        if self.writer is not None:
            for direction, grid in grids.items():  # BGR HWC uint8 -> RGB
                self.writer.add_image(f"{tag}/{direction}", np.ascontiguousarray(grid[:, :, ::-1]), step,
                                      dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def progress_bar(total: int, initial: int, enabled: bool):
    """tqdm bar with iterations/s and ETA (None when disabled or tqdm is missing)."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="it", dynamic_ncols=True)
