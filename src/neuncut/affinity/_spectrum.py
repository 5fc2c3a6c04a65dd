"""The spectrum of a graph's normalized Laplacian, and its top eigenvectors.

Both the warm start (:mod:`neuncut._warm_start`: spectral clustering, the layout's
initialisation) and the choice of the number of clusters (:mod:`neuncut.n_clusters`: the
eigengaps) read the same quantities of the same sparse graphs, so they live here, beside the
graphs themselves.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg

from .._threads import native_threads

__all__ = ["laplacian_spectrum", "spectral_embedding"]

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
