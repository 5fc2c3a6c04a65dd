"""neuncut: Neural Normalized Cut, spectral clustering without an eigen-decomposition.

He et al., "Neural Normalized Cut: A Differential and Generalizable Approach for Spectral
Clustering", Pattern Recognition 2025 (arXiv:2503.09260).
"""

from ._version import __version__
from .estimator import NeuNcut

__all__ = ["NeuNcut", "__version__"]
