"""neuncut: Neural Normalized Cut, spectral clustering without an eigen-decomposition.

He et al., "Neural Normalized Cut: A Differential and Generalizable Approach for Spectral
Clustering", Pattern Recognition 2025 (arXiv:2503.09260).

The public API is what this module re-exports and the public modules ``neuncut.affinity``,
``neuncut.loss``, ``neuncut.penalty``, ``neuncut.n_clusters``, ``neuncut.metrics``,
``neuncut.datasets``, ``neuncut.features``, ``neuncut.plotting``, ``neuncut.dask`` and
``neuncut.exceptions``;
modules whose name starts with an underscore are internal.
"""

from ._estimator import NeuNcut
from ._version import __version__
from .datasets import load_dataset
from .exceptions import (
    DegenerateGraphWarning,
    EmptyClusterWarning,
    ModelFileError,
    NoClearStructureWarning,
)
from .loss import ncut_loss, normalized_cut
from .metrics import clustering_accuracy, evaluate
from .penalty import select_penalty

__all__ = [
    "DegenerateGraphWarning",
    "EmptyClusterWarning",
    "ModelFileError",
    "NeuNcut",
    "NoClearStructureWarning",
    "__version__",
    "clustering_accuracy",
    "evaluate",
    "load_dataset",
    "ncut_loss",
    "normalized_cut",
    "select_penalty",
]
