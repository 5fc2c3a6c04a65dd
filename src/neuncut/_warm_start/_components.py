"""More connected components than clusters: which components belong together.

When the kNN graph of the subsample has c > k connected components, every grouping of the
components into k groups cuts no edge: the normalized cut is 0 for all of them, the top
eigenvalue of :math:`D^{-1/2} A D^{-1/2}` is c-fold, and the spectral relaxation does not
say which grouping to take. A dense eigensolver returns an arbitrary basis of the c-fold
eigenspace: on two rings and a far-off group of 15 points (k = 2), k-means on it can put the
group alone and the two rings together. A small group far from everything is what a kNN graph makes
of outliers, so this case is common on real data.

The graph cannot decide; the geometry can. :func:`merge_components` joins components as
single linkage does, but smallest first (as Genie favours balanced clusters): the smallest
component joins the component of its nearest point, until k remain. Outlier groups so join
their nearest cluster, and a cluster that the kNN graph split in two pieces is mended before
two large clusters are merged.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import pairwise_distances_argmin_min

__all__ = ["merge_components"]


def merge_components(X: np.ndarray, components: np.ndarray, n_clusters: int) -> np.ndarray:
    r"""Group c connected components into ``n_clusters``, the smallest joining its nearest.

    While more than k groups remain, the smallest group S (the lowest label among equal
    sizes) joins the group of :math:`\arg\min_{j \notin S} \min_{i \in S} \|x_i - x_j\|`, its
    nearest point outside. Each step costs :math:`|S| \cdot n \cdot d` distances, so many
    small components are slow: 3.9 s for 455 components of 5 005 points in 784 dimensions
    (rows repeated in blocks of 11 or more, each block a component of the 10-NN graph).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    components : ndarray of shape (n,), int
        Component labels in [0, c) (``scipy.sparse.csgraph.connected_components``).
    n_clusters : int
        k, at least 1.

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, min(c, k))

    Examples
    --------
    Two groups of four points at 0 and 10, and a pair at 13: the pair joins the group at 10.

    >>> import numpy as np
    >>> X = np.r_[np.zeros(4), np.full(4, 10.0), [13.0, 13.5]][:, None]
    >>> merge_components(X, np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]), 2).tolist()
    [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    """
    if n_clusters < 1:
        raise ValueError(f"n_clusters={n_clusters!r} should be at least 1.")
    labels = np.asarray(components, dtype=np.int64).copy()
    sizes = np.bincount(labels)
    alive = sizes > 0
    while alive.sum() > n_clusters:
        small = int(np.flatnonzero(alive)[np.argmin(sizes[alive])])
        inside = labels == small
        outside = np.flatnonzero(~inside)
        nearest, dist = pairwise_distances_argmin_min(X[inside], X[outside])
        target = int(labels[outside[nearest[np.argmin(dist)]]])
        labels[inside] = target
        sizes[target] += sizes[small]
        sizes[small], alive[small] = 0, False
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)
