"""Inference runtime: backends, style codes and the Translator."""
from .backends.eager import EagerBackend
from .styles import load_style_codes, random_styles, save_style_codes
from .translator import Translator

__all__ = ["EagerBackend", "Translator", "load_style_codes", "random_styles", "save_style_codes"]
