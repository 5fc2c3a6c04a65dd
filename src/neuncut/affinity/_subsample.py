"""Subsample graphs: sparse kNN graphs over all the warm start's points, without self-loops."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import minimum_spanning_tree
from sklearn.neighbors import NearestNeighbors

__all__ = [
    "Neighbors", "fuzzy_knn_graph", "knn_search", "knn_spanning_tree", "mutual_knn_mst_graph",
    "self_tuning_knn_graph",
]

# (distances, indices), each of shape (n, k): every point's k nearest other points, nearest first.
Neighbors = tuple[np.ndarray, np.ndarray]

# Bisection steps for the local scale of each point in the fuzzy graph.
_BISECTION_STEPS = 64


def knn_search(X: np.ndarray, n_neighbors: int) -> Neighbors:
    """Each point's ``n_neighbors`` nearest other points (exact, scikit-learn), nearest first.

    One search serves every graph of the warm start (:func:`self_tuning_knn_graph`,
    :func:`fuzzy_knn_graph`). Among duplicate points the point itself may not come first: its
    own column is dropped where it is found, else the farthest one.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_neighbors : int
        Clipped to n - 1 (at least 1).

    Returns
    -------
    distances : ndarray of shape (n, k), float64
    indices : ndarray of shape (n, k), int64

    Examples
    --------
    >>> import numpy as np
    >>> dist, ind = knn_search(np.array([[0.0], [1.0], [3.0]]), 1)
    >>> ind.ravel().tolist(), dist.ravel().tolist()
    ([1, 0, 1], [1.0, 1.0, 2.0])
    """
    n = X.shape[0]
    k = max(1, min(n_neighbors, n - 1))
    dist, ind = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    is_self = ind == np.arange(n)[:, None]
    self_col = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(ind, dtype=bool)
    keep[np.arange(n), self_col] = False
    return dist[keep].reshape(n, k).astype(np.float64), ind[keep].reshape(n, k)


def self_tuning_knn_graph(
    X: np.ndarray, n_neighbors: int, *, neighbors: Neighbors | None = None
) -> scipy.sparse.csr_matrix:
    r"""Sparse twin of :func:`neuncut.affinity.self_tuning_knn_affinity` over all of X, no
    self-loops.

    :math:`W_{ij} = \exp(-\|x_i - x_j\|^2 / \sigma_i \sigma_j)` on the union of the kNN
    relations, :math:`\sigma_i` the distance to the k-th neighbour. The warm start partitions
    this graph, so the partition it distills is one the batch loss agrees with.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_neighbors : int
        Neighbours per point, clipped to n - 1.
    neighbors : (distances, indices), optional
        The result of :func:`knn_search` on X with ``n_neighbors``, if already computed.

    Returns
    -------
    W : csr_matrix of shape (n, n), symmetric, zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> W = self_tuning_knn_graph(np.array([[0.0], [1.0], [3.0]]), 1)
    >>> np.round(W.toarray(), 3)
    array([[0.   , 0.368, 0.   ],
           [0.368, 0.   , 0.135],
           [0.   , 0.135, 0.   ]])
    """
    dist, ind = knn_search(X, n_neighbors) if neighbors is None else neighbors
    W = _directed_self_tuning(dist, ind)
    return W.maximum(W.T).tocsr()


def mutual_knn_mst_graph(
    X: np.ndarray,
    n_neighbors: int,
    *,
    neighbors: Neighbors | None = None,
    tree: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> scipy.sparse.csr_matrix:
    r"""The mutual kNN graph plus a minimum spanning tree: connected chains, no long bridges.

    Keeps the edge (i, j) when each point is among the other's ``n_neighbors`` nearest
    (mutual kNN), then adds the edges of a minimum spanning forest of the symmetric kNN
    distance graph; every edge weighs :math:`\exp(-\|x_i - x_j\|^2 / \sigma_i \sigma_j)` as in
    :func:`self_tuning_knn_graph`. The union of kNN relations joins two arms of a chain, or
    an outlier group and its nearest cluster, by many short-cut edges; the mutual relation
    drops them, and the tree keeps every point and every chain connected (the graph has the
    components of the kNN graph, and no isolated point). On such shapes (noisy moons, sheared
    blobs) spectral clustering of this graph came closer to the reference partition than that
    of the kNN union, which is why the warm start's spectral candidate uses it (decision
    D10).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_neighbors : int
        Neighbours per point, clipped to n - 1.
    neighbors : (distances, indices), optional
        The result of :func:`knn_search` on X with ``n_neighbors``, if already computed.
    tree : (rows, cols, lengths), optional
        :func:`knn_spanning_tree` of ``neighbors``, if already computed.

    Returns
    -------
    W : csr_matrix of shape (n, n), symmetric, zero diagonal.

    Examples
    --------
    Point 2's nearest neighbour is 1, but 1's is 0: no mutual edge reaches 2, and the tree
    attaches it by its shortest edge. Points 3 and 4 stay a component of their own, as in the
    kNN graph.

    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.5], [6.0], [7.0]])
    >>> W = mutual_knn_mst_graph(X, 1)
    >>> (W.toarray() > 0).astype(int)
    array([[0, 1, 0, 0, 0],
           [1, 0, 1, 0, 0],
           [0, 1, 0, 0, 0],
           [0, 0, 0, 0, 1],
           [0, 0, 0, 1, 0]])
    >>> bool(W[1, 2] < W[0, 1])
    True
    """
    dist, ind = knn_search(X, n_neighbors) if neighbors is None else neighbors
    W = _directed_self_tuning(dist, ind)
    mutual = W.minimum(W.T)
    rows, cols, lengths = knn_spanning_tree((dist, ind)) if tree is None else tree
    T = _self_tuning_edges(dist.max(axis=1), rows, cols, lengths)
    G = mutual.maximum(T).maximum(T.T).tocsr()
    G.eliminate_zeros()
    return G


def knn_spanning_tree(neighbors: Neighbors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A minimum spanning forest of the symmetric kNN graph, edges weighted by distance.

    One tree per connected component of the kNN graph (a forest of n - c edges for c
    components); on the kNN graph it is the Euclidean minimum spanning tree whenever that
    tree's edges are kNN edges, as they are but for rare long ones between far groups.

    Parameters
    ----------
    neighbors : (distances, indices)
        :func:`knn_search` of the points.

    Returns
    -------
    rows, cols : ndarray of int
        The edges' end points.
    lengths : ndarray of float
        Their distances (duplicate points: a tiny positive floor instead of 0).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [3.0], [10.0], [11.0]])
    >>> rows, cols, lengths = knn_spanning_tree(knn_search(X, 1))
    >>> sorted(zip(rows.tolist(), cols.tolist(), lengths.tolist()))
    [(0, 1, 1.0), (1, 2, 2.0), (3, 4, 1.0)]
    """
    dist, ind = neighbors
    n, k = ind.shape
    # Explicit zeros are no edge to the tree search: duplicates' distance gets a tiny floor.
    D = scipy.sparse.csr_matrix(
        (np.maximum(dist.ravel(), np.finfo(np.float64).tiny), (np.repeat(np.arange(n), k),
                                                               ind.ravel())), shape=(n, n)
    )
    tree = minimum_spanning_tree(D.maximum(D.T)).tocoo()
    return tree.row.astype(np.int64), tree.col.astype(np.int64), tree.data


def _directed_self_tuning(dist: np.ndarray, ind: np.ndarray) -> scipy.sparse.csr_matrix:
    """Each point's edges to its kNN, self-tuning weights; not symmetric."""
    n, k = ind.shape
    return _self_tuning_edges(dist.max(axis=1), np.repeat(np.arange(n), k), ind.ravel(),
                              dist.ravel())


def _self_tuning_edges(
    scale: np.ndarray, rows: np.ndarray, cols: np.ndarray, dist: np.ndarray
) -> scipy.sparse.csr_matrix:
    r"""Edges (rows, cols) weighted :math:`\exp(-d^2 / \sigma_i \sigma_j)`, :math:`\sigma` =
    ``scale`` (each point's distance to its k-th neighbour), as an (n, n) matrix."""
    denom = np.maximum(scale[rows] * scale[cols], np.finfo(np.float64).tiny)
    w = np.exp(-(dist**2) / denom)
    n = scale.shape[0]
    return scipy.sparse.csr_matrix((w, (rows, cols)), shape=(n, n))


def fuzzy_knn_graph(
    X: np.ndarray, n_neighbors: int, *, neighbors: Neighbors | None = None
) -> scipy.sparse.csr_matrix:
    r"""UMAP's fuzzy kNN graph: local, density-adaptive memberships joined by fuzzy union.

    For each point i with neighbour distances :math:`d_{ij}` (j among its ``n_neighbors``
    nearest), :math:`\rho_i = \min_j d_{ij}` and :math:`s_i > 0` solves
    :math:`\sum_j \exp(-(d_{ij} - \rho_i) / s_i) = \log_2(\text{n\_neighbors})` (bisection);
    :math:`P_{ij} = \exp(-(d_{ij} - \rho_i) / s_i)` and :math:`W = P + P^\top - P \circ P^\top`.
    Every point's nearest neighbour has membership 1, so no point is isolated, whatever the
    local density (McInnes, Healy, Melville, arXiv:1802.03426, 2018).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_neighbors : int
    neighbors : (distances, indices), optional
        The result of :func:`knn_search` on X with ``n_neighbors``, if already computed.

    Returns
    -------
    W : csr_matrix of shape (n, n), symmetric, entries in (0, 1], zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> W = fuzzy_knn_graph(np.array([[0.0], [1.0], [3.0], [7.0]]), 2)
    >>> bool(abs(W - W.T).max() == 0), float(W.max())
    (True, 1.0)
    """
    dist, ind = knn_search(X, n_neighbors) if neighbors is None else neighbors
    n, k = ind.shape
    excess = np.maximum(dist - dist[:, :1], 0.0)
    target = np.log2(k) if k > 1 else 1.0
    lo, hi = np.zeros((n, 1)), np.full((n, 1), np.inf)
    s = np.ones((n, 1))
    for _ in range(_BISECTION_STEPS):
        too_big = np.exp(-excess / s).sum(axis=1, keepdims=True) > target
        hi = np.where(too_big, s, hi)
        lo = np.where(too_big, lo, s)
        s = np.where(np.isinf(hi), 2.0 * s, 0.5 * (lo + hi))
    P = scipy.sparse.csr_matrix(
        (np.exp(-excess / s).ravel(), (np.repeat(np.arange(n), k), ind.ravel())), shape=(n, n)
    )
    W = (P + P.T - P.multiply(P.T)).tocsr()
    W.setdiag(0.0)
    W.eliminate_zeros()
    return W
