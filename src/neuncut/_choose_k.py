"""``n_clusters="auto"`` in ``fit``: the number of clusters, chosen before the network is built.

The network's output width is the number of clusters, so the choice comes first: on a
subsample of ``init_size`` training rows (the warm start's size), by
:func:`neuncut.n_clusters.select_n_clusters`. A given integer passes through unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._distributed import on_rank_zero
from ._io import scores_from_json, scores_to_json
from ._timing import timed
from ._warm_start import reference_rows
from .n_clusters import select_n_clusters

__all__ = ["NClustersChoice", "resolve_n_clusters"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NClustersChoice:
    """The fitted ``n_clusters_`` and ``n_clusters_scores_``, and the seconds the choice took."""

    n_clusters: int
    scores: dict[str, np.ndarray] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (the checkpoint's header)."""
        return {"n_clusters": self.n_clusters, "scores": scores_to_json(self.scores),
                "timings": self.timings}

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> NClustersChoice | None:
        """The inverse of :meth:`to_json` (None stays None)."""
        if value is None:
            return None
        return cls(int(value["n_clusters"]), scores_from_json(value["scores"]),
                   dict(value["timings"]))


def resolve_n_clusters(
    estimator: Any, X: torch.Tensor, rng: np.random.Generator
) -> NClustersChoice:
    """The number of clusters of this fit: given, or chosen.

    Parameters
    ----------
    estimator : NeuNcut
        Reads ``n_clusters``, ``max_clusters``, ``init_size``, ``n_neighbors``, ``verbose``.
    X : Tensor of shape (n, n_features)
        The training rows.
    rng : numpy Generator
        The fit's; drawn from only when the number is chosen.

    Returns
    -------
    NClustersChoice
    """
    if estimator.n_clusters != "auto":
        return NClustersChoice(int(estimator.n_clusters))

    def choose() -> NClustersChoice:
        timings: dict[str, float] = {}
        with timed(timings, "n_clusters"):
            X_ref = reference_rows(X, estimator.init_size, rng).cpu().numpy()
            selection = select_n_clusters(
                X_ref, estimator.max_clusters, n_neighbors=estimator.n_neighbors,
                random_state=int(rng.integers(2**31 - 1)),
            )
        scores = {"gap": selection.scores, "gaussian_gap": selection.reference_scores}
        return NClustersChoice(selection.n_clusters, scores, timings)

    choice = on_rank_zero(choose)
    logger.log(logging.INFO if estimator.verbose else logging.DEBUG,
               "n_clusters='auto' chose %d (%.1f s)", choice.n_clusters,
               choice.timings["n_clusters"])
    return choice
