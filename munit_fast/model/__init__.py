"""The MUNIT networks, key-compatible with the original implementation."""
from .discriminator import MsImageDis
from .generator import AdaINGen, set_kernel_impl
from .init import init_weights

__all__ = ["AdaINGen", "MsImageDis", "init_weights", "set_kernel_impl"]
