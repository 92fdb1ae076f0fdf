"""The video pipeline: capture, preprocessing, inference and output in separate threads joined
by bounded queues.

    capture thread -> [queue] -> preprocess thread -> [queue] -> inference thread -> [queue] -> output (caller's thread)

Live sources (camera, stream) drop the oldest waiting frame when a queue is full, so what is
shown is always recent and latency stays bounded whatever the model's speed; files, folders
and the demo clip block instead, so every frame is translated. The output stage runs in the
caller's thread because preview windows must be driven from there.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np
import torch

from munit_fast.images import tensor_to_image

from .framing import Framing, plan_framing, restore
from .layout import compose
from .overlay import draw_overlay, overlay_lines
from .preprocess import FramePreprocessor
from .stats import RunStats
from .style_modes import StyleController

_END = object()  # end of stream marker, passed down every queue


def warm_up(translator, box_size: tuple) -> None:
    """Translate one blank (1, C_in, h, w) input with a zero style before the clock starts, so that
    one-time costs (kernel selection, compilation, engine loading) do not land on the first
    frames. On a busy CPU, eager calls from worker threads run far slower until one call has run
    in the calling thread."""
    h, w = box_size
    blank = torch.zeros(1, translator.input_dim, h, w)
    translator.decode(translator.encode_content(blank), torch.zeros(1, translator.style_dim), (h, w)).cpu()


@dataclass
class Packet:
    index: int
    t: float  # seconds of video: index / fps for files, wall clock for live sources
    captured_at: float  # time.perf_counter() when the frame was read
    frame: np.ndarray  # (H, W, 3) uint8 BGR
    framing: Optional[Framing] = None
    boxed: Optional[np.ndarray] = None  # (h, w, 3) uint8 BGR model input as the user sees it
    tensor: Optional[torch.Tensor] = None  # (1, C_in, h, w) fp32 in [-1, 1]
    outputs: Optional[torch.Tensor] = None  # (K, C_out, h, w) fp32 in [-1, 1], on the CPU


@dataclass
class OutputOptions:
    side_by_side: bool = False
    overlay: bool = False
    style_name: str = ""


class VideoPipeline:
    """``sinks`` receive each composed frame (H', W', 3) uint8 BGR and may return an action
    ("next_style", "toggle_grid", "toggle_overlay", "save", "quit") or None."""

    def __init__(self, source, translator, styles: StyleController, preprocessor: FramePreprocessor,
                 sinks: List[Callable[[np.ndarray], Optional[str]]], options: Optional[OutputOptions] = None,
                 queue_size: int = 2, on_save: Optional[Callable[[np.ndarray], None]] = None):
        self.source, self.translator, self.styles = source, translator, styles
        self.preprocessor, self.sinks, self.on_save = preprocessor, sinks, on_save
        self.options = options or OutputOptions()
        self.live = bool(source.live)
        self.stats = RunStats()
        self._captured = queue.Queue(maxsize=queue_size)
        self._prepared = queue.Queue(maxsize=queue_size)
        self._translated = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._errors: List[BaseException] = []

    # -- queue helpers -------------------------------------------------------------------
    def _put(self, q: queue.Queue, item, drop_stale: bool) -> None:
        """Blocking put; with ``drop_stale`` a full queue loses its oldest frame instead of waiting."""
        while not self._stop.is_set():
            try:
                if drop_stale:
                    q.put_nowait(item)
                else:
                    q.put(item, timeout=0.05)
                return
            except queue.Full:
                if drop_stale:
                    try:
                        q.get_nowait()  # the producer owns this end: only frames, never _END, are older
                        self.stats.count("dropped")
                    except queue.Empty:
                        pass

    def _get(self, q: queue.Queue):
        while not self._stop.is_set():
            try:
                return q.get(timeout=0.05)
            except queue.Empty:
                continue
        return _END

    def _worker(self, body: Callable[[], None], stop_on_error: bool, downstream: queue.Queue) -> Callable[[], None]:
        def run():
            try:
                body()
            except BaseException as exc:  # reported by run() after the output is finalized
                self._errors.append(exc)
                if stop_on_error:
                    self._stop.set()
            finally:
                self._put(downstream, _END, drop_stale=False)
        return run

    # -- stages --------------------------------------------------------------------------
    def _capture(self) -> None:
        index, start = 0, time.perf_counter()
        while not self._stop.is_set():
            began = time.perf_counter()
            frame = self.source.read()
            if frame is None:
                return
            now = time.perf_counter()
            self.stats.record("capture", now - began)
            self.stats.count("frames_in")
            t = now - start if self.live else index / self.source.fps
            self._put(self._captured, Packet(index, t, now, frame), drop_stale=self.live)
            index += 1

    def _preprocess(self) -> None:
        framing = None
        while (packet := self._get(self._captured)) is not _END:
            began = time.perf_counter()
            if framing is None or framing.frame_size != packet.frame.shape[:2]:
                framing = plan_framing(packet.frame.shape[:2], self.preprocessor.box_size, self.preprocessor.fit_mode)
            packet.framing = framing
            packet.boxed, packet.tensor = self.preprocessor(packet.frame, framing)
            self.stats.record("preprocess", time.perf_counter() - began)
            self._put(self._prepared, packet, drop_stale=self.live)

    def _infer(self) -> None:
        while (packet := self._get(self._prepared)) is not _END:
            began = time.perf_counter()
            codes = self.styles.codes(packet.t)
            content = self.translator.encode_content(packet.tensor)
            packet.outputs = self.translator.decode(content, codes, packet.tensor.shape[-2:]).cpu()
            packet.tensor = None
            self.stats.record("inference", time.perf_counter() - began)
            self._put(self._translated, packet, drop_stale=False)

    def _emit(self, packet: Packet) -> Optional[str]:
        began = time.perf_counter()
        tiles = [restore(tensor_to_image(out), packet.framing) for out in packet.outputs]
        tiles = [t if t.ndim == 3 else np.repeat(t[:, :, None], 3, axis=2) for t in tiles]
        shown_input = restore(packet.boxed, packet.framing) if self.options.side_by_side else None
        picture = compose(tiles, shown_input)
        if self.options.overlay:
            latency = (time.perf_counter() - packet.captured_at) * 1000.0
            picture = draw_overlay(picture, overlay_lines(self.stats.recent_fps(), latency, self.translator.name,
                                                          self.options.style_name))
        actions = [sink(picture) for sink in self.sinks]
        now = time.perf_counter()
        self.stats.record("output", now - began)
        self.stats.record("latency", now - packet.captured_at)
        self.stats.count("frames_out")
        self.stats.mark_output()
        for action in actions:
            if action and self._act(action, picture):
                return "quit"
        return None

    def _act(self, action: str, picture: np.ndarray) -> bool:
        """Apply a key action; True when the run should end."""
        if action == "next_style":
            self.styles.next_style()
        elif action == "toggle_grid":
            self.styles.toggle_grid()
        elif action == "toggle_overlay":
            self.options.overlay = not self.options.overlay
        elif action == "save" and self.on_save is not None:
            self.on_save(picture)
        return action == "quit"

    # -- run -----------------------------------------------------------------------------
    def run(self) -> RunStats:
        """Warm up, then run until the source ends, a sink says quit, or a stage fails. Raises the
        first stage error after the workers stopped; the caller finalizes its sinks either way."""
        warm_up(self.translator, self.preprocessor.box_size)
        self.stats = RunStats()
        threads = [threading.Thread(target=self._worker(self._capture, False, self._captured), name="capture"),
                   threading.Thread(target=self._worker(self._preprocess, True, self._prepared), name="preprocess"),
                   threading.Thread(target=self._worker(self._infer, True, self._translated), name="inference")]
        for thread in threads:
            thread.daemon = True
            thread.start()
        try:
            while (packet := self._get(self._translated)) is not _END:
                if self._emit(packet) == "quit":
                    break
        finally:
            self._stop.set()
            for thread in threads:
                thread.join()
            self.source.close()
            self.stats.finish()
        if self._errors:
            raise self._errors[0]
        return self.stats
