"""The warm start's partition of the subsample: candidates, and the lowest normalized cut wins.

Two label-free ways to partition a kNN graph disagree on different data:

- ``"spectral"`` (:func:`neuncut.spectral.spectral_labels`) solves the spectral relaxation and
  rounds it by k-means. It is exact on chains and rings (three spirals, two moons), but on
  MNIST it often splits one digit and merges two (ACC 0.81 - 0.92 by subsample).
- ``"embedding"``: k-means on a neighbour embedding (:mod:`neuncut.embedding`). It finds
  compact clusters joined by a few edges (MNIST scattering ACC 0.94 - 0.96, pixels 0.81), but
  k-means cuts elongated clusters (spirals ARI 0.30 - 0.39).

Both minimize the same thing approximately, so the choice between them is the objective itself:
the normalized cut of each hard partition on the self-tuning kNN graph of the subsample (the
graph that spectral clustering relaxes and that the batches use), lowest wins. On the eight
synthetic shapes and on MNIST / Fashion-MNIST this picked the better candidate, or one within
0.03 ARI of it, on every subsample measured (``benchmarks/README.md``).
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse
from sklearn.cluster import KMeans

from .embedding import fuzzy_knn_graph, neighbor_embedding
from .spectral import self_tuning_knn_graph, spectral_partition

__all__ = ["CANDIDATES", "embedding_labels", "initial_partition", "normalized_cut"]

logger = logging.getLogger("neuncut")

CANDIDATES = ("spectral", "embedding")
# Layout epochs. MNIST scattering, 3 subsamples of 20 000: 200 epochs (UMAP's default above
# 10 000 points) gave ACC 0.942 / 0.943 / 0.946 at Ncut 0.498 / 0.508 / 0.516; 500 (its
# default below) 0.956 / 0.958 / 0.950 at Ncut 0.486 / 0.492 / 0.517, for 13 s more. 15
# neighbours instead of 10, or 20 dimensions instead of k, did not help.
_EMBEDDING_EPOCHS = 500
_KMEANS_INITS = 20


def normalized_cut(A: scipy.sparse.spmatrix, labels: np.ndarray, n_clusters: int) -> float:
    r"""Normalized cut of a hard partition: :math:`\sum_c \mathrm{cut}(C, \bar C) /
    \mathrm{vol}(C)`, with :math:`\mathrm{vol}(C) = \sum_{i \in C} d_i` and
    :math:`\mathrm{cut}(C, \bar C) = \mathrm{vol}(C) - \sum_{i, j \in C} A_{ij}`.

    Empty clusters add 0; the value lies in [0, n_clusters]. It equals the ``cut`` term of
    :func:`neuncut.loss.ncut_loss` for one-hot memberships on the same graph.

    Examples
    --------
    >>> import numpy as np, scipy.sparse
    >>> A = scipy.sparse.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float))
    >>> normalized_cut(A, np.array([0, 0, 1]), 2)  # cut 1; volumes 3 and 1
    1.3333333333333333
    """
    n = labels.shape[0]
    H = scipy.sparse.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, n_clusters))
    degree = np.asarray(A.sum(axis=1)).ravel()
    vol = H.T @ degree
    within = (H.T @ (A @ H)).diagonal()
    filled = vol > 0
    return float(((vol[filled] - within[filled]) / vol[filled]).sum())


def embedding_labels(
    X: np.ndarray, n_clusters: int, n_neighbors: int, rng: np.random.Generator
) -> np.ndarray:
    """k-means (20 inits) on the neighbour embedding of X in ``max(n_clusters, 2)`` dimensions.

    On very small clusters the layout can break one into clumps that k-means then regroups
    wrongly: two 3-D Gaussian blobs 8.7 standard deviations apart were split correctly on 1 of
    3 seeds with 40 points each, 2 of 3 with 60, 3 of 3 with 100 or more (200 or 500 epochs
    alike). :func:`initial_partition` then keeps the spectral partition, whose cut is lower.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(100, 3)), rng.normal(size=(100, 3)) + 5]
    >>> labels = embedding_labels(X, 2, 10, rng)
    >>> bool((labels[:100] == labels[0]).all() and (labels[100:] != labels[0]).all())
    True
    """
    W = fuzzy_knn_graph(X, n_neighbors)
    Z = neighbor_embedding(W, max(n_clusters, 2), n_epochs=_EMBEDDING_EPOCHS, rng=rng)
    km = KMeans(n_clusters, n_init=_KMEANS_INITS, random_state=int(rng.integers(2**31 - 1)))
    return km.fit_predict(Z).astype(np.int64)


def initial_partition(
    X: np.ndarray,
    n_clusters: int,
    n_neighbors: int,
    rng: np.random.Generator,
    candidates: tuple[str, ...] = CANDIDATES,
) -> tuple[np.ndarray, dict[str, float]]:
    """The lowest-Ncut partition of X among ``candidates``, and every candidate's Ncut.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_clusters, n_neighbors : int
    rng : numpy Generator
        The one source of randomness, drawn from in the order of ``candidates``.
    candidates : tuple of {"spectral", "embedding"}
        One candidate skips the comparison (its Ncut is still reported).

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, n_clusters)
    ncuts : dict
        Normalized cut of each candidate on the self-tuning ``n_neighbors``-NN graph of X
        (ties go to the first candidate).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) + 5]
    >>> labels, ncuts = initial_partition(X, 2, 10, rng)
    >>> sorted(ncuts), bool(len(set(labels[:40])) == 1)
    (['embedding', 'spectral'], True)
    """
    if n_clusters == 1 or X.shape[0] < 2:  # one cluster, or one point: nothing to cut
        return np.zeros(X.shape[0], dtype=np.int64), {name: 0.0 for name in candidates}
    A = self_tuning_knn_graph(X, n_neighbors)
    found: dict[str, np.ndarray] = {}
    for name in candidates:
        if name == "spectral":
            found[name] = spectral_partition(A, n_clusters, rng)
        elif name == "embedding":
            found[name] = embedding_labels(X, n_clusters, n_neighbors, rng)
        else:
            raise ValueError(f"candidates={candidates!r}: each must be one of {CANDIDATES}.")
    ncuts = {name: normalized_cut(A, labels, n_clusters) for name, labels in found.items()}
    best = min(ncuts, key=ncuts.__getitem__)
    logger.debug("warm-start candidates' Ncut %s: %s chosen", ncuts, best)
    return found[best], ncuts
