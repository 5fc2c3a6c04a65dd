"""The peers of ``n_clusters="auto"`` that choose k themselves (issue 13's benchmark).

Neither is in a library, so both are written here as a user would, from the textbook recipes:

* :class:`EigengapSpectral`: the eigengap heuristic (von Luxburg, "A tutorial on spectral
  clustering", 2007, section 8.3) on scikit-learn's ``SpectralClustering(affinity=
  "nearest_neighbors")`` graph (the 10-NN connectivity graph, symmetrized ``(A + A^T) / 2``):
  k maximizes :math:`\\mu_{k+1} - \\mu_k` over the eigenvalues of the normalized Laplacian,
  then ``SpectralClustering`` with that k.
* :class:`SilhouetteKMeans`: ``KMeans`` for k = 2 ... max_clusters, the k of the best
  silhouette (on at most 5000 points, as the silhouette costs n^2).

Both build their ``SpectralClustering`` and ``KMeans`` through
:func:`benchmarks.harness.peers.peer`.
HDBSCAN (scikit-learn's) is the third peer, in :mod:`benchmarks.harness.peers`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from sklearn.metrics import silhouette_score
from sklearn.neighbors import kneighbors_graph

from benchmarks.harness.peers import peer

SILHOUETTE_SAMPLE = 5000


def normalized_laplacian_eigenvalues(A: scipy.sparse.spmatrix, m: int, seed: int) -> np.ndarray:
    """The m smallest eigenvalues of ``I - D^-1/2 A D^-1/2``, ascending."""
    n = A.shape[0]
    d = np.asarray(A.sum(axis=1)).ravel()
    inv = np.where(d > 0, 1.0 / np.sqrt(np.maximum(d, 1e-300)), 0.0)
    M = (scipy.sparse.diags(inv) @ A @ scipy.sparse.diags(inv)).tocsr()
    m = min(m, n)
    if n <= 2000 or m >= n - 1:
        top = scipy.linalg.eigh(M.toarray(), eigvals_only=True, subset_by_index=[n - m, n - 1])
    else:
        v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
        shifted = M + scipy.sparse.identity(n)  # spectrum in [0, 2]: "LA" finds the top
        top = scipy.sparse.linalg.eigsh(shifted, k=m, which="LA", v0=v0,
                                        return_eigenvectors=False) - 1.0
    return np.sort(np.clip(1.0 - top, 0.0, 2.0))


class EigengapSpectral:
    """The eigengap heuristic's k, then kNN spectral clustering with that k."""

    def __init__(self, max_clusters: int = 20, n_neighbors: int = 10,
                 random_state: int | None = None) -> None:
        self.max_clusters, self.n_neighbors = max_clusters, n_neighbors
        self.random_state = random_state

    def get_params(self) -> dict:
        return {"max_clusters": self.max_clusters, "n_neighbors": self.n_neighbors,
                "random_state": self.random_state}

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[0]
        connectivity = kneighbors_graph(X, min(self.n_neighbors, n - 1), include_self=True)
        A = 0.5 * (connectivity + connectivity.T)
        mu = normalized_laplacian_eigenvalues(A, self.max_clusters + 1, self.random_state or 0)
        self.eigenvalues_ = mu
        self.n_clusters_ = int(np.argmax(np.diff(mu))) + 1
        if self.n_clusters_ == 1:
            return np.zeros(n, dtype=np.int64)
        model = peer("sklearn-spectral", self.n_clusters_, self.random_state,
                     n_neighbors=self.n_neighbors)
        return model.fit_predict(X)


class SilhouetteKMeans:
    """``KMeans`` with the k in 2 ... max_clusters of the highest silhouette."""

    def __init__(self, max_clusters: int = 20, random_state: int | None = None) -> None:
        self.max_clusters, self.random_state = max_clusters, random_state

    def get_params(self) -> dict:
        return {"max_clusters": self.max_clusters, "random_state": self.random_state}

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[0]
        best, best_labels, self.silhouettes_ = -np.inf, np.zeros(n, dtype=np.int64), {}
        for k in range(2, min(self.max_clusters, n - 1) + 1):
            labels = peer("kmeans", k, self.random_state).fit_predict(X)
            if len(np.unique(labels)) < 2:
                continue
            s = float(silhouette_score(X, labels, sample_size=min(n, SILHOUETTE_SAMPLE),
                                       random_state=self.random_state))
            self.silhouettes_[k] = s
            if s > best:
                best, best_labels = s, labels
        self.n_clusters_ = int(len(np.unique(best_labels)))
        return best_labels
