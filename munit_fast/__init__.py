"""munit-fast: the fastest, most dependable MUNIT (multimodal unsupervised image-to-image translation)."""
__version__ = "0.1.0"

from .checkpoint import load_generators, save_generators  # noqa: E402
from .config import MunitConfig, load_config  # noqa: E402
from .errors import MunitError  # noqa: E402
from .model_folder import from_pretrained  # noqa: E402

__all__ = ["MunitConfig", "MunitError", "__version__", "from_pretrained", "load_config", "load_generators",
           "save_generators"]
