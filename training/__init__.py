"""The MUNIT trainer: losses and updates as the original, data loading, the training loop
with checkpoints, samples and logs, data-parallel training and mixed precision."""
from .loop import RunOptions, TrainResult, train
from .trainer import LOSS_NAMES, MUNITTrainer

__all__ = ["LOSS_NAMES", "MUNITTrainer", "RunOptions", "TrainResult", "train"]
