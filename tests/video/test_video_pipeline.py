"""The threaded pipeline: files keep every frame in order, live sources drop stale frames under
a slow backend instead of queueing them, a stream that drops mid-run is retried and then ends
the run with an error after the output is finalized, and quit stops it."""
from __future__ import annotations

import numpy as np
import pytest
from video_helpers import ScriptedTranslator

from munit_fast.errors import MunitError
from munit_fast.video.pipeline import VideoPipeline
from munit_fast.video.preprocess import FramePreprocessor
from munit_fast.video.sources import DemoSource, StreamSource
from munit_fast.video.style_modes import StyleController, parse_style_mode


def make_pipeline(source, translator, sinks, queue_size=2):
    styles = StyleController(parse_style_mode("random", translator.style_dim), translator.style_dim)
    return VideoPipeline(source, translator, styles, FramePreprocessor(3, (32, 32), "letterbox"), sinks,
                         queue_size=queue_size)


def test_file_like_source_keeps_every_frame_in_order():
    frames = []
    stats = make_pipeline(DemoSource(frames=12, width=32, height=32), ScriptedTranslator(delay=0.01),
                          [frames.append]).run()
    assert stats.frames_in == stats.frames_out == 12 and stats.dropped == 0
    # the scripted model returns its input: the frames come out in source order
    for i, frame in enumerate(frames):
        expected = DemoSource(frames=12, width=32, height=32)
        for _ in range(i + 1):
            reference = expected.read()
        assert np.abs(frame.astype(int) - reference.astype(int)).max() <= 1  # [-1, 1] round trip


def test_live_source_drops_stale_frames_under_a_slow_backend():
    delay, fps, count, queue_size = 0.05, 200.0, 60, 2
    stats = make_pipeline(DemoSource(frames=count, width=32, height=32, fps=fps, live=True),
                          ScriptedTranslator(delay=delay), [lambda frame: None], queue_size).run()
    summary = stats.summary()
    assert stats.frames_in == count
    assert stats.dropped > count // 2  # the model keeps up with 20 of 200 frames per second
    assert stats.frames_out + stats.dropped == count  # nothing lost but what was dropped
    # bounded queues: a frame waits behind at most 2 queues of queue_size frames and the one in the
    # model (0.3 s, plus slack for a busy machine); a queue that grew would reach 60 x 50 ms = 3 s
    assert summary["stages_ms"]["latency"]["p99_ms"] < 1000 * delay * (2 * queue_size + 2) + 700


class FlakyCapture:
    """cv2.VideoCapture stand-in: the first connection gives ``frames`` frames then fails; later
    connections cannot be opened."""

    connections = 0

    def __init__(self, url, frames=4):
        FlakyCapture.connections += 1
        self.first = FlakyCapture.connections == 1
        self.left = frames if self.first else 0

    def isOpened(self):
        return self.first

    def get(self, prop):
        return 25.0

    def read(self):
        if self.left:
            self.left -= 1
            return True, np.full((24, 32, 3), 200, np.uint8)
        return False, None

    def release(self):
        pass


def test_stream_dropping_mid_run_is_retried_then_fails_after_its_frames():
    FlakyCapture.connections = 0
    source = StreamSource("rtsp://camera.local/stream", retries=2, retry_delay=0.0, opener=FlakyCapture)
    frames = []
    pipeline = make_pipeline(source, ScriptedTranslator(), [frames.append])
    with pytest.raises(MunitError, match=r"stream rtsp://camera.local/stream stopped .* 2 retries"):
        pipeline.run()
    assert FlakyCapture.connections == 3  # the first connection and 2 retries
    # the frames received before the drop were translated or (live source) dropped as stale, never lost
    assert len(frames) >= 1 and len(frames) + pipeline.stats.dropped == 4


def test_quit_action_stops_an_endless_source():
    shown = []

    def sink(frame):
        shown.append(frame)
        return "quit" if len(shown) == 3 else None

    stats = make_pipeline(DemoSource(frames=0, width=32, height=32), ScriptedTranslator(), [sink]).run()
    assert len(shown) == 3 and stats.frames_out == 3


def test_a_failing_model_stops_the_run_with_its_error():
    class Broken(ScriptedTranslator):
        def decode(self, content, styles, size=None):
            raise MunitError("model exploded")

    with pytest.raises(MunitError, match="model exploded"):
        make_pipeline(DemoSource(frames=0, width=32, height=32), Broken(), [lambda frame: None]).run()
