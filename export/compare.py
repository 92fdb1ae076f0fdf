"""Error statistics between a backend's output and the PyTorch fp32 reference."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ErrorStats:
    max_abs: float
    mean_abs: float
    psnr_db: float  # images in [-1, 1]: peak-to-peak 2
    max_rel: float = 0.0  # max_abs / the reference's largest magnitude: for codes, which are not images

    def __str__(self) -> str:
        return f"max {self.max_abs:.3g}  mean {self.mean_abs:.3g}  PSNR {self.psnr_db:.1f} dB"


def psnr(output: torch.Tensor, reference: torch.Tensor, peak_to_peak: float = 2.0) -> float:
    """PSNR in dB of ``output`` against ``reference`` (both in [-1, 1] by default); inf when equal."""
    mse = torch.mean((output.double() - reference.double()) ** 2).item()
    return math.inf if mse == 0 else 10 * math.log10(peak_to_peak ** 2 / mse)


def error_stats(output: torch.Tensor, reference: torch.Tensor) -> ErrorStats:
    if output.shape != reference.shape:
        raise ValueError(f"output shape {tuple(output.shape)} differs from reference {tuple(reference.shape)}")
    diff = (output.double().cpu() - reference.double().cpu()).abs()
    scale = reference.double().abs().max().item() or 1.0
    return ErrorStats(diff.max().item(), diff.mean().item(), psnr(output.cpu(), reference.cpu()),
                      diff.max().item() / scale)
