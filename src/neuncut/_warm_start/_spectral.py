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
from ..affinity import self_tuning_knn_graph
from ._components import merge_components

__all__ = [
    "embedding_kmeans", "laplacian_spectrum", "spectral_embedding", "spectral_labels",
    "spectral_partition",
]

# Below this many points a dense eigen-decomposition is faster and always converges.
_DENSE_LIMIT = 1500
_ZERO_EIGENVALUE = 1e-10


def spectral_embedding(A: scipy.sparse.spmatrix, n_components: int, seed: int) -> np.ndarray:
    r"""Top eigenvectors of :math:`M = D^{-1/2} A D^{-1/2}`, rows normalized (Ng, Jordan, Weiss).

    The k largest eigenvalues of M are the k smallest of the normalized Laplacian
    :math:`I - M`. ``eigsh`` runs on :math:`M + I` (spectrum in [0, 2]) with ``which="LA"``,
    so a bipartite component's eigenvalue -1 is never mistaken for a large one.

    Parameters
    ----------
    A : sparse matrix of shape (n, n), symmetric, non-negative.
    n_components : int
    seed : int
        Seed of the starting vector of the Lanczos iteration.

    Returns
    -------
    U : ndarray of shape (n, n_components), unit rows.
    """
    _, U = _top_eigenpairs(A, n_components, seed)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    return U / np.where(norms > 0, norms, 1.0)


def laplacian_spectrum(A: scipy.sparse.spmatrix, n_eigenvalues: int, seed: int) -> np.ndarray:
    r"""The smallest eigenvalues of the normalized Laplacian :math:`I - D^{-1/2} A D^{-1/2}`.

    Computed as :math:`2 - \lambda` from the top eigenvalues :math:`\lambda` of
    :math:`M + I` as in :func:`spectral_embedding` (connected components give exact zeros).

    Parameters
    ----------
    A : sparse matrix of shape (n, n), symmetric, non-negative.
    n_eigenvalues : int
        How many (at most n).
    seed : int
        Seed of the Lanczos start vector.

    Returns
    -------
    mu : ndarray of shape (min(n_eigenvalues, n),), ascending, in [0, 2].

    Examples
    --------
    >>> import numpy as np, scipy.sparse
    >>> A = scipy.sparse.block_diag([np.ones((3, 3)) - np.eye(3)] * 2).tocsr()
    >>> np.round(laplacian_spectrum(A, 3, seed=0), 6).tolist()
    [0.0, 0.0, 1.5]
    """
    values, _ = _top_eigenpairs(A, n_eigenvalues, seed)
    mu = np.sort(np.clip(2.0 - values, 0.0, 2.0))
    # A connected component's eigenvalue is 0 up to rounding (1e-15 by eigh, 1e-10 by eigsh).
    return np.where(mu < _ZERO_EIGENVALUE, 0.0, mu)


@native_threads(1)
def _top_eigenpairs(
    A: scipy.sparse.spmatrix, n_components: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top eigenvalues and eigenvectors of :math:`D^{-1/2} A D^{-1/2} + I`, on one native
    thread (``neuncut._threads``)."""
    n = A.shape[0]
    d = np.asarray(A.sum(axis=1)).ravel()
    inv_sqrt = np.where(d > 0, 1.0 / np.sqrt(np.maximum(d, 1e-300)), 0.0)
    Dm = scipy.sparse.diags(inv_sqrt)
    M = (Dm @ A @ Dm + scipy.sparse.identity(n)).tocsr()
    k = min(n_components, n)
    if n <= _DENSE_LIMIT or k >= n - 1:
        dense = M.toarray()
        values, vectors = scipy.linalg.eigh(dense, subset_by_index=[n - k, n - 1])
        if values.size < k:
            # LAPACK's index range can return fewer than asked when an eigenvalue is repeated
            # many times (30 points on 2 distinct values: 19 of 21); the full problem cannot.
            values, vectors = scipy.linalg.eigh(dense)
            values, vectors = values[n - k:], vectors[:, n - k:]
        return values, vectors
    return _top_eigenvectors(M, A, d, k, seed)


def _top_eigenvectors(
    M: scipy.sparse.csr_matrix, A: scipy.sparse.spmatrix, d: np.ndarray, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""The k top eigenvectors of :math:`M = D^{-1/2} A D^{-1/2} + I` by Lanczos (``eigsh``).

    Each connected component C contributes the eigenvalue 2 with eigenvector
    :math:`D^{1/2}\mathbf{1}_C`, known exactly. Lanczos from one start vector cannot resolve
    an eigenvalue repeated c times (well separated blobs then come out merged for some start
    vectors). So with c > 1 components those vectors are taken as
    they are (the k largest components' when c >= k) and ``eigsh`` runs on M deflated of
    them, :math:`M - 2BB^\top`, for the remaining k - c.
    """
    n_comp, comp = scipy.sparse.csgraph.connected_components(A, directed=False)
    v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, M.shape[0])
    if n_comp == 1:
        # tol=0 (machine precision): with a looser tolerance the eigenvectors of a degenerate
        # top eigenvalue mix with the near-1 ones of long chains (two circles).
        return scipy.sparse.linalg.eigsh(M, k=k, which="LA", v0=v0, tol=0)
    sizes = np.bincount(comp)
    keep = np.argsort(-sizes, kind="stable")[: min(n_comp, k)]  # the largest components
    B = np.zeros((M.shape[0], keep.size))  # (n, c) orthonormal: sqrt(d) on each component
    for j, c in enumerate(keep):
        members = comp == c
        B[members, j] = np.sqrt(d[members])
        B[:, j] /= max(np.linalg.norm(B[:, j]), 1e-300)
    if keep.size >= k:
        return np.full(keep.size, 2.0), B
    deflated = scipy.sparse.linalg.LinearOperator(
        M.shape, matvec=lambda x: M @ x - 2.0 * (B @ (B.T @ x)), dtype=np.float64
    )
    v0 = v0 - B @ (B.T @ v0)
    values, rest = scipy.sparse.linalg.eigsh(deflated, k=k - keep.size, which="LA", v0=v0,
                                             tol=0)
    return np.r_[np.full(keep.size, 2.0), values], np.hstack([B, rest])


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
