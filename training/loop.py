"""The training loop: per iteration scheduler step, D update, G update; then logs, samples and
snapshots at the original's intervals. Reliable on long runs: SIGINT/SIGTERM/SIGHUP saves a
snapshot and returns (naming the signal, so the caller can exit non-zero); a NaN or Inf loss
stops with the term and iteration named, the last good snapshot untouched; only rank 0 writes
files, holding an exclusive lock on the output folder (a second run into it is refused), and
removes the partial files an interrupted run left there."""
from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist

from munit_fast.config import MunitConfig, dump_config
from munit_fast.errors import MunitError
from munit_fast.files import RunLock, atomic_write_text, make_folder, remove_partial_files
from munit_fast.model_folder import check_replaceable, holds_generators, model_card, write_model_folder

from . import distributed
from .data import PairedBatches, check_training_sizes, display_images, domain_dataset
from .outputs import TensorBoardLog, progress_bar, write_html, write_samples
from .run_info import write_run_info
from .snapshots import resume as resume_snapshot
from .snapshots import rng_states, save_snapshot
from .trainer import MUNITTrainer

MODEL_FOLDER = "model"


@dataclass
class RunOptions:
    output_dir: str
    device: str = "cpu"
    precision: str = "fp32"
    dis_fakes: str = "reuse"
    resume: bool = False
    seed: int = 0
    progress: bool = True
    command: str = "munit-fast train"  # recorded in run.json and the model card


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopRequest:
    """SIGINT/SIGTERM/SIGHUP set a flag that the loop reads between iterations (installed even
    where the shell started the run with SIGINT ignored, as scripts' background jobs are)."""

    def __init__(self):
        self.signal: Optional[int] = None
        self._previous = {}

    def __enter__(self):
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.signal = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _first_non_finite(losses) -> Optional[str]:
    values = torch.stack([v.float() for v in losses.values()])
    if bool(torch.isfinite(values).all()):
        return None
    return next(name for name, v in losses.items() if not bool(torch.isfinite(v)))


def _gathered_rng(group: distributed.ProcessGroup, device: torch.device) -> list:
    mine = rng_states(device)
    if not group.distributed:
        return [mine]
    everyone = [None] * group.world_size
    dist.all_gather_object(everyone, mine)
    return everyone


@dataclass
class TrainResult:
    iterations: int  # completed iterations
    trainer: MUNITTrainer
    stopped_by: Optional[int] = None  # the signal that stopped the run early, if any


def select_fastest_convolutions(device: torch.device) -> None:
    """On CUDA, let cuDNN time its convolution algorithms once per shape and keep the fastest,
    as the original's train.py does (``cudnn.benchmark = True``): training crops have one size."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def train(config: MunitConfig, options: RunOptions) -> TrainResult:
    """Train until config.max_iter (or a stop signal)."""
    device = torch.device(options.device)
    group = distributed.init_from_env(device.type)
    try:
        if not group.is_main:
            return _train(config, options, group)
        with RunLock(options.output_dir):
            return _train(config, options, group)
    finally:
        distributed.shutdown(group)


def _train(config: MunitConfig, options: RunOptions, group: distributed.ProcessGroup) -> TrainResult:
    device = torch.device(options.device)
    if device.type == "cuda":
        device = torch.device("cuda", group.local_rank if group.distributed else (device.index or 0))
    select_fastest_convolutions(device)
    checkpoints = os.path.join(options.output_dir, "checkpoints")
    images = os.path.join(options.output_dir, "images")
    check_replaceable(os.path.join(options.output_dir, MODEL_FOLDER), "the run's model folder")  # not after training
    check_training_sizes(config)

    data = {(d, split): domain_dataset(config, d, split == "train") for d in "ab" for split in ("train", "test")}
    batches = PairedBatches(data["a", "train"], data["b", "train"], config.batch_size, config.num_workers,
                            options.seed, group.rank, group.world_size, pin_memory=device.type == "cuda")

    torch.manual_seed(options.seed)  # identical initial weights on every rank
    reduce = distributed.average_gradients if group.distributed else None
    trainer = MUNITTrainer(config, device, options.precision, options.dis_fakes, reduce_gradients=reduce)
    if group.distributed:
        distributed.broadcast_module(trainer.networks)
    torch.manual_seed(options.seed + group.rank)  # per-rank style codes
    iterations = 0
    if options.resume:
        iterations = resume_snapshot(trainer, checkpoints, group.rank, group.world_size)
        if group.is_main:
            print(f"resuming from iteration {iterations} in {checkpoints}", file=sys.stderr)
    if iterations >= config.max_iter:  # a finished run: only its model folder may be missing (a crash writing it)
        if group.is_main and not holds_generators(os.path.join(options.output_dir, MODEL_FOLDER),
                                                  trainer.checkpoint_states(iterations)[0]):
            write_model(config, options, trainer, iterations)
        return TrainResult(iterations, trainer)

    log = bar = None
    if group.is_main:
        for folder in (options.output_dir, checkpoints, images):
            make_folder(folder)
            remove_partial_files(folder)  # the lock is ours: nothing else writes here
        atomic_write_text(os.path.join(options.output_dir, "config.yaml"), dump_config(config))
        write_run_info(options.output_dir, options.command)
        log = TensorBoardLog(os.path.join(options.output_dir, "logs"))
        bar = progress_bar(config.max_iter, iterations, options.progress)
        display = {}
        for split in ("train", "test"):
            count = min(config.display_size, len(data["a", split]), len(data["b", split]))
            for d in "ab":
                display[d, split] = display_images(data[d, split], count)

    def snapshot():
        rngs = _gathered_rng(group, device)
        if group.is_main:
            save_snapshot(trainer, checkpoints, iterations, rngs)
        return iterations

    last_saved = iterations if options.resume else None
    stopped_by = None
    try:
        with _StopRequest() as stop:
            for x_a, x_b in batches.from_iteration(iterations):
                losses = trainer.iterate(x_a, x_b)
                bad = _first_non_finite(losses)
                stopping = stop.signal is not None
                if group.distributed:
                    stopping = distributed.any_rank(stopping, device)
                    if distributed.any_rank(bad is not None, device) and bad is None:
                        bad = "(on another process)"
                if bad is not None:
                    value = losses[bad].item() if bad in losses else float("nan")
                    kept = f"gen_{last_saved:08d}.pt" if last_saved is not None else "none saved yet"
                    raise MunitError(f"loss {bad} is {value} at iteration {iterations + 1}; training stopped, "
                                     f"last good checkpoint in {checkpoints}: {kept}")
                iterations += 1
                if group.is_main:
                    if iterations % config.log_iter == 0:
                        values = {k: v.item() for k, v in losses.items()}
                        log.scalars(values, iterations)
                        if bar is not None:
                            bar.set_postfix(gen=f"{values['gen_total']:.3f}", dis=f"{values['dis_total']:.3f}",
                                            recon_x=f"{values['gen_recon_x_a'] + values['gen_recon_x_b']:.3f}")
                        else:  # no bar (--no-progress, logs to a file): one line per log_iter, as the original
                            print(f"Iteration: {iterations:08d}/{config.max_iter:08d} gen {values['gen_total']:.4f} "
                                  f"dis {values['dis_total']:.4f}", flush=True)
                    if iterations % config.image_save_iter == 0:
                        for split in ("test", "train"):
                            outs = trainer.sample(display[("a", split)], display[("b", split)])
                            grids = write_samples(images, outs, f"{split}_{iterations:08d}")
                            log.images(grids, split, iterations)
                        write_html(os.path.join(options.output_dir, "index.html"), iterations, config.image_save_iter)
                    if iterations % config.image_display_iter == 0:
                        write_samples(images, trainer.sample(display[("a", "train")], display[("b", "train")]),
                                      "train_current")
                    if bar is not None:
                        bar.update(1)
                if iterations % config.snapshot_save_iter == 0 or iterations >= config.max_iter or stopping:
                    last_saved = snapshot()
                if stopping:
                    stopped_by = stop.signal or signal.SIGTERM
                    if group.is_main:
                        name = signal.Signals(stop.signal).name if stop.signal else "a signal on another process"
                        print(f"\nmunit-fast: interrupted by {name}: saved iteration {iterations} in {checkpoints}",
                              file=sys.stderr)
                    break
                if iterations >= config.max_iter:
                    break
    finally:
        if bar is not None:
            bar.close()
        if log is not None:
            log.close()
    if group.is_main and last_saved == iterations:
        write_model(config, options, trainer, iterations)
    return TrainResult(iterations, trainer, stopped_by)


def write_model(config: MunitConfig, options: RunOptions, trainer: MUNITTrainer, iterations: int) -> None:
    """<output_dir>/model: the last snapshot as a shareable model folder (munit_fast.model_folder)."""
    gen, _, _ = trainer.checkpoint_states(iterations)
    card = model_card(config, iterations, options.command)
    write_model_folder(os.path.join(options.output_dir, MODEL_FOLDER), config, gen, card)
