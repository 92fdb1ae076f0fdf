"""Real-time multi-style video: sources, framing, style modes, a threaded pipeline and outputs."""
from .pipeline import OutputOptions, VideoPipeline
from .sources import open_source
from .style_modes import StyleController, parse_style_mode

__all__ = ["OutputOptions", "StyleController", "VideoPipeline", "open_source", "parse_style_mode"]
