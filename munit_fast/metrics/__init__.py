"""The paper's evaluation of multimodal translation: IS/CIS with a mode classifier, mode
coverage, LPIPS diversity, and a sample sheet to look at."""
from .coverage import mode_coverage
from .is_cis import inception_scores

__all__ = ["inception_scores", "mode_coverage"]
