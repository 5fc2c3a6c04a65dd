"""A second criterion beside the cut: how stable each candidate is across subsamples.

The lowest normalized cut (:func:`._candidates.lowest_cut`) decides between the warm start's
candidates, and where Genie's partition is one of them it can be wrong both ways (decision
D25): where thin clusters touch, Genie's single-linkage merges can join the wrong parts with
the lowest cut of all; in heavy background noise, the spectral and embedding partitions cut
the noise field anywhere with a lower cut than Genie's, which is right. What tells the two
apart is stability (Ben-Hur, Elisseeff & Guyon 2002; Lange et al. 2004): a partition that
the data support is found again on random subsamples of them. A wrong Genie merge changes
with the subsample; a cut across a noise field changes with it while Genie's clusters in that
noise do not.

:func:`candidate_stability` recomputes the two cheap candidates, spectral and Genie, on
random subsamples (each with its own kNN graph) and scores each candidate by its agreement
(adjusted Rand index) with them; the embedding, the expensive one, is not recomputed and is
scored by its better agreement with either. :func:`stable_choice` corrects the cut's choice
for Genie only: Genie chosen but clearly less stable than another candidate gives way to the
lowest cut among the others; Genie not chosen, clearly more stable than the choice and with a
cut not far above it, replaces it. Where Genie's cut is far above the choice's (image
features, most tables) no subsample is computed, and where every candidate is the same
partition nothing is to decide.

The subsamples draw from a stream of their own (:func:`side_stream`), so that the rest of the
fit draws the same numbers as before: a fit whose choice does not change is unchanged.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
from sklearn.metrics import adjusted_rand_score

from ..affinity import knn_search, knn_spanning_tree, mutual_knn_mst_graph
from ._genie import genie_labels
from ._spectral import spectral_partition

__all__ = ["candidate_stability", "side_stream", "stable_choice"]

logger = logging.getLogger(__name__)

# Subsamples and the fraction of the points in each (decision D25).
_SUBSAMPLES = 6
_FRACTION = 0.8
# Genie chosen gives way when its stability is this much below another candidate's; Genie
# not chosen wins when its stability is this much above the choice's and its cut at most
# _CUT_FACTOR times the choice's weighted cut (decision D25).
_DEMOTE = 0.05
_PROMOTE = 0.10
_CUT_FACTOR = 1.5
# An entry of the seed sequence's spawn key that no spawned child of the fit's stream uses.
_SIDE_KEY = 0x57AB


def side_stream(rng: np.random.Generator) -> np.random.Generator:
    """A generator of its own, derived from ``rng`` without drawing from it.

    Its seed is ``rng``'s seed sequence with :data:`_SIDE_KEY` appended to the spawn key,
    so it never equals a stream that ``rng.spawn`` gives; a generator without a seed sequence
    (made from a bare state) seeds it from a copy of ``rng``.

    >>> rng = np.random.default_rng(0)
    >>> a, b = side_stream(rng).integers(100), side_stream(rng).integers(100)
    >>> bool(a == b), int(rng.integers(100)) == int(np.random.default_rng(0).integers(100))
    (True, True)
    """
    seq = getattr(rng.bit_generator, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return np.random.default_rng(np.random.SeedSequence(
            seq.entropy, spawn_key=(*seq.spawn_key, _SIDE_KEY), pool_size=seq.pool_size))
    return np.random.default_rng(copy.deepcopy(rng).integers(2**63))


def candidate_stability(
    X: np.ndarray,
    n_clusters: int,
    n_neighbors: int,
    found: dict[str, np.ndarray],
    rng: np.random.Generator,
    n_subsamples: int = _SUBSAMPLES,
    fraction: float = _FRACTION,
) -> dict[str, float]:
    r"""Each candidate's mean agreement with the cheap candidates recomputed on subsamples.

    On each of ``n_subsamples`` random subsamples :math:`S` of ``fraction`` of the points,
    the spectral partition :math:`s_S` and Genie's :math:`g_S` are recomputed from the
    subsample's own kNN graph. A candidate :math:`c` restricted to :math:`S` is compared by the
    adjusted Rand index:

    .. math::
        \mathrm{stab}(c) = \operatorname{mean}_S \mathrm{ARI}(c|_S, c_S)
        \quad (c = \text{spectral, genie}), \qquad
        \mathrm{stab}(\text{embedding}) = \max\big(\operatorname{mean}_S \mathrm{ARI}(e|_S,
        s_S), \operatorname{mean}_S \mathrm{ARI}(e|_S, g_S)\big),

    with an ARI of 0 where Genie finds no partition of :math:`S` (more trees than clusters).

    Returns
    -------
    dict
        The stability of each candidate of ``found``, in [-1, 1].
    """
    n = X.shape[0]
    size = max(int(round(fraction * n)), n_clusters + 1, n_neighbors + 2)
    agree: dict[str, dict[str, list[float]]] = {c: {"spectral": [], "genie": []} for c in found}
    for _ in range(n_subsamples):
        rows = np.sort(rng.choice(n, min(size, n), replace=False))
        Xs = X[rows]
        neighbors = knn_search(Xs, n_neighbors)
        tree = knn_spanning_tree(neighbors)
        G = mutual_knn_mst_graph(Xs, n_neighbors, neighbors=neighbors, tree=tree)
        again = {"spectral": spectral_partition(G, n_clusters, rng, X=Xs),
                 "genie": genie_labels(len(rows), tree, n_clusters)}
        for name, labels in found.items():
            for other, redone in again.items():
                agree[name][other].append(
                    0.0 if redone is None else adjusted_rand_score(labels[rows], redone))
    return {name: float(np.mean(a[name])) if name != "embedding"
            else max(float(np.mean(a["spectral"])), float(np.mean(a["genie"])))
            for name, a in agree.items()}


def stable_choice(
    X: np.ndarray,
    n_clusters: int,
    n_neighbors: int,
    found: dict[str, np.ndarray],
    ncuts: dict[str, float],
    best: str,
    weight: dict[str, float],
    rng: np.random.Generator,
) -> str:
    """The cut's choice ``best``, corrected for Genie by stability (module docstring).

    Parameters
    ----------
    X, n_clusters, n_neighbors
        The subsample and the settings the candidates were computed with.
    found, ncuts : dict
        Each candidate's labels and normalized cut.
    best : str
        The lowest weighted cut's choice.
    weight : dict
        What each candidate's cut is multiplied by before the comparison.
    rng : numpy.random.Generator
        The subsamples' stream (:func:`side_stream`).

    Returns
    -------
    str
        ``best``, or the candidate that replaces it.
    """
    if "genie" not in found or len(found) < 2:
        return best
    if best != "genie" and ncuts["genie"] > _CUT_FACTOR * ncuts[best] * weight[best]:
        return best  # Genie cannot win: no subsample is computed
    names = list(found)
    if all(adjusted_rand_score(found[names[0]], found[c]) == 1.0 for c in names[1:]):
        return best  # one partition: nothing to decide
    stability = candidate_stability(X, n_clusters, n_neighbors, found, rng)
    logger.debug("warm-start candidates' stability %s", stability)
    if best == "genie":
        others = [c for c in ncuts if c != "genie"]
        if stability["genie"] < max(stability[c] for c in others) - _DEMOTE:
            return min(others, key=lambda c: ncuts[c] * weight[c])
        return best
    return "genie" if stability["genie"] > stability[best] + _PROMOTE else best
