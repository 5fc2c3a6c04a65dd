"""Spectral clustering of the warm-start subsample (Ng, Jordan, Weiss): one candidate partition.

Minibatch SGD on the relaxed Ncut from a random network has poor local minima (merged
clusters, one giant cluster). An exact spectral partition of the subsample, distilled into the
network, puts training in the basin of a good cut (decision D8).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg
from sklearn.cluster import KMeans

from .._threads import native_threads
from ..affinity import self_tuning_knn_graph, spectral_embedding
from ._components import merge_components

__all__ = ["embedding_kmeans", "spectral_labels", "spectral_partition"]

def spectral_labels(
    X: np.ndarray, n_clusters: int, n_neighbors: int, rng: np.random.Generator
) -> np.ndarray:
    """Spectral clustering of X: self-tuning kNN graph, NJW embedding, k-means (20 inits).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_clusters : int
    n_neighbors : int
    rng : numpy Generator
        The one source of randomness (Lanczos start vector and k-means seeds).

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, n_clusters).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((20, 2)), np.full((20, 2), 10.0)]
    >>> X += np.random.default_rng(0).normal(size=X.shape)
    >>> labels = spectral_labels(X, 2, 5, np.random.default_rng(0))
    >>> bool((labels[:20] == labels[0]).all() and (labels[20:] != labels[0]).all())
    True
    """
    if n_clusters == 1 or X.shape[0] < 2:  # one cluster, or one point: nothing to cut
        return np.zeros(X.shape[0], dtype=np.int64)
    return spectral_partition(self_tuning_knn_graph(X, n_neighbors), n_clusters, rng, X=X)


def spectral_partition(
    A: scipy.sparse.spmatrix,
    n_clusters: int,
    rng: np.random.Generator,
    *,
    X: np.ndarray | None = None,
) -> np.ndarray:
    """NJW spectral clustering of the graph A: top eigenvectors, rows normalized, k-means.

    Parameters
    ----------
    A : sparse matrix of shape (n, n), symmetric, non-negative.
    n_clusters : int
    rng : numpy Generator
        Draws the Lanczos start vector and the k-means seed (nothing when the components
        are grouped by distance).
    X : ndarray of shape (n, n_features), optional
        The points of A. When A has more connected components than ``n_clusters``, the
        relaxation cannot choose between the groupings of components (all cut nothing); with
        X they are grouped by distance (:func:`._components.merge_components`); without it
        the eigensolver's basis decides (the k largest components, above 1 500 points).

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, n_clusters)

    Examples
    --------
    >>> import numpy as np, scipy.sparse
    >>> A = scipy.sparse.block_diag([np.ones((3, 3)) - np.eye(3)] * 2).tocsr()
    >>> labels = spectral_partition(A, 2, np.random.default_rng(0))
    >>> bool(len(set(labels[:3])) == 1 and labels[0] != labels[3])
    True
    """
    if X is not None:
        n_comp, comp = scipy.sparse.csgraph.connected_components(A, directed=False)
        if n_comp > n_clusters:
            return merge_components(X, comp, n_clusters)
    U = spectral_embedding(A, n_clusters, seed=int(rng.integers(2**31 - 1)))
    return embedding_kmeans(U, n_clusters, rng)


@native_threads(1)
def embedding_kmeans(U: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """k-means with 20 starts on a low-dimensional embedding, on one native thread.

    k-means on an embedding has many local minima; the lowest inertia of 20 runs is a
    label-free pick (decision D14). On k dimensions one OpenMP thread is as fast as two or
    faster, idle or not (decision D18).

    Parameters
    ----------
    U : ndarray of shape (n, n_components)
    n_clusters : int
    rng : numpy Generator
        Draws the k-means seed.

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, n_clusters)
    """
    km = KMeans(n_clusters, n_init=20, random_state=int(rng.integers(2**31 - 1)))
    return km.fit_predict(U).astype(np.int64)
