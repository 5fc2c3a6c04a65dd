"""The warm start's partition of the subsample: candidates, and the lowest normalized cut wins.

Three label-free ways to partition a kNN graph disagree on different data:

- ``"spectral"`` (:func:`._spectral.spectral_partition`) solves the spectral relaxation on the
  mutual kNN graph plus a minimum spanning tree
  (:func:`neuncut.affinity.mutual_knn_mst_graph`) and rounds it by k-means. It is exact on
  chains and rings, and the mutual relation drops the short-cut edges by which the kNN union
  joins two arms of a chain or an outlier group to its nearest cluster; but on image features
  it often splits one class and merges two.
- ``"genie"``: Genie's merges of the kNN graph's minimum spanning tree (:mod:`._genie`).
  It follows chains and density gaps and finds clusters in background noise, where the
  other two cut across the noise (decision D24); but where groups touch, its single-linkage
  merges can take a lower cut that joins the wrong parts.
- ``"embedding"``: the likeliest Gaussian mixture of a neighbour embedding (:mod:`._embedding`,
  :mod:`._mixture`), one of its starts the embedding's k-means partition. It finds compact
  clusters joined by a few edges, but cuts elongated clusters.

All minimize the same thing approximately, so the choice between them is the objective itself
(decision D9): the normalized cut of each hard partition on the self-tuning kNN graph of the
subsample (the graph that the batches use), judged with a 3 % preference for the embedding:
the spectral or Genie partition wins only if its cut is more than 3 % lower (decision D10).
Near ties are where the cut stops telling partitions apart: on image features the mutual
graph's spectral partition can cut about as little as the embedding's while merging two
classes that the embedding keeps apart, hence the preference (decision D10). The spectral
candidate partitions the mutual graph, not the kNN union on which the cut is judged, since
the union's short-cut edges join chains and outlier groups to their neighbours. Where Genie's
partition is in play, a second criterion corrects the cut's choice: the candidates'
stability across subsamples (:mod:`._stability`, decision D25).

Two shortcuts save the layout, which is most of a fit's time (decision D12). A candidate that
cuts nothing (the graph's connected components) ends the search, since no partition cuts
less: this never changes the result. And the layout stops once its k-means partition has
settled (:class:`PartitionSettled`): this changes the embedding where it stops, little its
partition.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from .._threads import native_threads
from .._timing import timed
from ..affinity import (
    fuzzy_knn_graph,
    knn_search,
    knn_spanning_tree,
    mutual_knn_mst_graph,
    self_tuning_knn_graph,
)
from ..affinity._subsample import Neighbors
from ..loss import normalized_cut
from ._embedding import CHECK_EVERY, neighbor_embedding
from ._genie import genie_labels
from ._mixture import likeliest_mixture
from ._spectral import embedding_kmeans, spectral_partition
from ._stability import side_stream, stable_choice

__all__ = ["CANDIDATES", "PartitionSettled", "candidate_partitions", "choose_candidate",
           "embedding_labels", "initial_partition", "lowest_cut"]

logger = logging.getLogger(__name__)

CANDIDATES = ("spectral", "genie", "embedding")
# Layout epochs: UMAP's default for small data; 200 (its default above 10 000 points) gave
# partitions of higher Ncut and lower accuracy on MNIST (decision D11).
_EMBEDDING_EPOCHS = 500
# The spectral candidate wins only if its cut is below (1 - this) times the embedding's
# (module docstring; decision D10).
_EMBEDDING_PREFERENCE = 0.03
# A normalized cut below this is zero up to round-off.
_NO_CUT = 1e-12
# The layout stops early once its k-means partition has changed on at most this fraction of
# the points at _SETTLED_CHECKS checks in a row (every CHECK_EVERY epochs), from
# _SETTLED_MIN_EPOCHS on (decision D12): separated clusters settle early, image data never
# does and keeps all 500 epochs.
_SETTLED_AGREEMENT = 0.999
_SETTLED_CHECKS = 2
_SETTLED_MIN_EPOCHS = 100


class PartitionSettled:
    """Label-free early stop of the layout: its k-means partition no longer changes.

    Each call runs one k-means (Lloyd from the previous call's centres; k-means++ the first
    time) on the layout and compares its labels with the previous call's; it answers True
    once ``_SETTLED_CHECKS`` calls in a row each kept at least 99.9 % of the labels and the
    layout has run at least ``_SETTLED_MIN_EPOCHS`` epochs.

    Parameters
    ----------
    n_clusters : int
    rng : numpy Generator
        Seeds the first k-means++.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Z = np.r_[rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 10]
    >>> settled = PartitionSettled(2, rng)
    >>> [settled(Z) for _ in range(5)]
    [False, False, False, True, True]
    """

    def __init__(self, n_clusters: int, rng: np.random.Generator) -> None:
        self.n_clusters = n_clusters
        self.seed = int(rng.integers(2**31 - 1))
        self.epochs = 0
        self._centers: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._in_a_row = 0
        self.stopped_at: int | None = None  # the epoch of the first True

    def __call__(self, Z: np.ndarray) -> bool:
        self.epochs += CHECK_EVERY
        init = "k-means++" if self._centers is None else self._centers
        with warnings.catch_warnings(), native_threads(1):  # as embedding_kmeans
            warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points: fine
            km = KMeans(self.n_clusters, init=init, n_init=1, random_state=self.seed).fit(Z)
        if self._labels is not None and np.mean(km.labels_ == self._labels) >= _SETTLED_AGREEMENT:
            self._in_a_row += 1
        else:
            self._in_a_row = 0
        self._centers, self._labels = km.cluster_centers_, km.labels_
        done = self._in_a_row >= _SETTLED_CHECKS and self.epochs >= _SETTLED_MIN_EPOCHS
        if done and self.stopped_at is None:
            self.stopped_at = self.epochs
        return done


def embedding_labels(
    X: np.ndarray,
    n_clusters: int,
    n_neighbors: int,
    rng: np.random.Generator,
    *,
    neighbors: Neighbors | None = None,
    timings: dict[str, float] | None = None,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """A partition of the neighbour embedding of X in ``max(n_clusters, 2)`` dimensions.

    k-means (20 inits) on the embedding, then the likeliest full-covariance Gaussian mixture
    among the one EM fits from the k-means partition and four from other starts
    (:func:`._mixture.likeliest_mixture`); k-means' partition only where no mixture keeps
    every cluster. On very small clusters (a few dozen points) the layout can break one into
    clumps that are then regrouped wrongly; :func:`initial_partition` then keeps the spectral
    partition, whose cut is lower.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_clusters, n_neighbors : int
    rng : numpy Generator
        The one source of randomness (layout and k-means seeds).
    neighbors : (distances, indices), optional
        :func:`neuncut.affinity.knn_search` of X, if already computed.
    timings : dict, optional
        Receives the seconds of ``"init/layout"`` and ``"init/kmeans"`` (k-means and the
        mixture).
    device : str or torch.device, default="cpu"
        Where the layout runs (:func:`._embedding.neighbor_embedding`).

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, n_clusters)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(100, 3)), rng.normal(size=(100, 3)) + 5]
    >>> labels = embedding_labels(X, 2, 10, rng)
    >>> bool((labels[:100] == labels[0]).all() and (labels[100:] != labels[0]).all())
    True
    """
    # The early stop's k-means++ draws from a child stream, so that the layout and the final
    # k-means draw what they drew before it existed: a layout that runs all its epochs is the
    # same as without the stop.
    settled = PartitionSettled(n_clusters, rng.spawn(1)[0])
    with timed(timings, "init/layout"):
        W = fuzzy_knn_graph(X, n_neighbors, neighbors=neighbors)
        Z = neighbor_embedding(W, max(n_clusters, 2), n_epochs=_EMBEDDING_EPOCHS, rng=rng,
                               device=device, settled=settled)
    logger.debug("layout: %d of %d epochs", settled.stopped_at or _EMBEDDING_EPOCHS,
                 _EMBEDDING_EPOCHS)
    with timed(timings, "init/kmeans"):
        labels = embedding_kmeans(Z, n_clusters, rng)
        if np.unique(labels).shape[0] < max(n_clusters, 2):  # one cluster, or k-means left
            return labels  # one empty (coincident points): nothing to refine from
        # The mixtures' k-means starts draw from a child stream, as the early stop does.
        found = likeliest_mixture(Z, labels, n_clusters,
                                  seed=int(rng.spawn(1)[0].integers(2**31 - 1)))
    return labels if found is None else found


def candidate_partitions(
    X: np.ndarray,
    n_clusters: int,
    n_neighbors: int,
    rng: np.random.Generator,
    candidates: tuple[str, ...] = CANDIDATES,
    *,
    timings: dict[str, float] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every candidate partition of X and its normalized cut, as :func:`initial_partition`
    computes them before it chooses (its parameters).

    Returns
    -------
    found : dict
        Each computed candidate's labels, in the order of ``candidates``: Genie's is missing
        when the kNN graph has more components than ``n_clusters``, and the search ends at a
        candidate whose cut is zero.
    ncuts : dict
        Each one's normalized cut on the self-tuning ``n_neighbors``-NN graph of X.
    """
    with timed(timings, "init/knn"):
        neighbors = knn_search(X, n_neighbors)
        A = self_tuning_knn_graph(X, n_neighbors, neighbors=neighbors)
    unknown = set(candidates) - set(CANDIDATES)
    if unknown or not candidates:
        raise ValueError(f"candidates={candidates!r}: each must be one of {CANDIDATES}.")
    found: dict[str, np.ndarray] = {}
    ncuts: dict[str, float] = {}
    tree = None  # the kNN graph's spanning forest, shared by the spectral graph and Genie
    for name in candidates:
        if name == "spectral":
            with timed(timings, "init/spectral"):
                tree = tree or knn_spanning_tree(neighbors)
                G = mutual_knn_mst_graph(X, n_neighbors, neighbors=neighbors, tree=tree)
                found[name] = spectral_partition(G, n_clusters, rng, X=X)
        elif name == "genie":
            with timed(timings, "init/genie"):
                tree = tree or knn_spanning_tree(neighbors)
                labels = genie_labels(X.shape[0], tree, n_clusters)
            if labels is None:  # more trees than clusters: no merge of the tree reaches k
                continue
            found[name] = labels
        else:
            found[name] = embedding_labels(
                X, n_clusters, n_neighbors, rng, neighbors=neighbors, timings=timings,
                device=device,
            )
        ncuts[name] = normalized_cut(A, found[name], n_clusters)
        if ncuts[name] < _NO_CUT:
            # The partition cuts no edge (the graph's components): no candidate can cut less,
            # so the rest are not computed, the layout, most of a fit's time, among them
            # (decision D12).
            break
    return found, ncuts


def initial_partition(
    X: np.ndarray,
    n_clusters: int,
    n_neighbors: int,
    rng: np.random.Generator,
    candidates: tuple[str, ...] = CANDIDATES,
    *,
    timings: dict[str, float] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, dict[str, float]]:
    """The lowest-Ncut partition of X among ``candidates``, the embedding's cut weighted 0.97,
    corrected for Genie's by stability (:func:`._stability.stable_choice`).

    The candidates are computed in the order given (:func:`candidate_partitions`); Genie's is
    skipped when the kNN graph has more components than ``n_clusters`` (its tree has no merge
    to k clusters).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_clusters, n_neighbors : int
    rng : numpy Generator
        The one source of randomness, drawn from in the order of ``candidates``.
    candidates : tuple of {"spectral", "genie", "embedding"}
        One candidate skips the comparison (its Ncut is still reported).
    timings : dict, optional
        Receives the seconds of each stage: ``"init/knn"`` (one kNN search for every graph),
        ``"init/spectral"``, ``"init/genie"``, ``"init/layout"``, ``"init/kmeans"``,
        ``"init/stability"``.
    device : str or torch.device, default="cpu"
        Where the embedding candidate's layout runs.

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, n_clusters)
    ncuts : dict
        Normalized cut of each candidate on the self-tuning ``n_neighbors``-NN graph of X
        (the others win over the embedding only if their cut is more than 3 % lower; exact
        ties go to the first candidate). A candidate whose cut is zero (below 1e-12: it separates
        the graph's connected components) ends the search, and the later ones are neither
        computed nor listed.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) + 3]  # touching
    >>> labels, ncuts = initial_partition(X, 2, 10, rng)
    >>> sorted(ncuts), bool(len(set(labels[:40])) == 1)
    (['embedding', 'genie', 'spectral'], True)
    >>> X[40:] += 5  # apart: the spectral partition cuts nothing, and ends the search
    >>> sorted(initial_partition(X, 2, 10, rng)[1])
    ['spectral']
    """
    if n_clusters == 1 or X.shape[0] < 2:  # one cluster, or one point: nothing to cut
        return np.zeros(X.shape[0], dtype=np.int64), {name: 0.0 for name in candidates}
    found, ncuts = candidate_partitions(X, n_clusters, n_neighbors, rng, candidates,
                                        timings=timings, device=device)
    best = choose_candidate(X, n_clusters, n_neighbors, found, ncuts, rng, timings=timings)
    logger.debug("warm-start candidates' Ncut %s: %s chosen", ncuts, best)
    return found[best], ncuts


def choose_candidate(
    X: np.ndarray,
    n_clusters: int,
    n_neighbors: int,
    found: dict[str, np.ndarray],
    ncuts: dict[str, float],
    rng: np.random.Generator,
    *,
    timings: dict[str, float] | None = None,
) -> str:
    """The candidate :func:`initial_partition` keeps: the lowest weighted cut
    (:func:`lowest_cut`), corrected for Genie's by stability across subsamples
    (:func:`._stability.stable_choice`, decision D25) unless that cut is zero. ``rng`` is
    the stream the candidates drew from; the subsamples draw from a side stream of it."""
    best = lowest_cut(ncuts)
    if ncuts[best] >= _NO_CUT:
        with timed(timings, "init/stability"):
            best = stable_choice(X, n_clusters, n_neighbors, found, ncuts, best,
                                 {c: _weight(c) for c in ncuts}, side_stream(rng))
    return best


def lowest_cut(ncuts: dict[str, float]) -> str:
    """The candidate whose cut, the embedding's weighted 0.97, is lowest (decision D10).

    >>> lowest_cut({"spectral": 0.100, "embedding": 0.102})
    'embedding'
    >>> lowest_cut({"spectral": 0.090, "genie": 0.095, "embedding": 0.102})
    'spectral'
    """
    return min(ncuts, key=lambda name: ncuts[name] * _weight(name))


def _weight(candidate: str) -> float:
    """What a candidate's cut is multiplied by before the comparison (module docstring)."""
    return 1.0 - _EMBEDDING_PREFERENCE if candidate == "embedding" else 1.0
