r"""Label-free choice of the number of clusters (``NeuNcut(n_clusters="auto")``).

Why a spectral gap. The normalized cut of the best k-partition of a graph is bounded below by
the sum of the k smallest eigenvalues :math:`\mu_1 \le \dots \le \mu_k` of its normalized
Laplacian :math:`L = I - D^{-1/2} W D^{-1/2}`, and a graph of k groups joined by few edges has
k eigenvalues near 0 and a jump to :math:`\mu_{k+1}` (exactly k zeros for k components). So the
k to look for is where the spectrum jumps; the same graph is the one whose Ncut the warm start
and the network minimize.

Why a *relative* gap. On the kNN graph of a curve or a surface the eigenvalues grow like
:math:`j^2`, so the absolute gap :math:`\mu_{k+1} - \mu_k` is largest near the largest k
tried (as it was on moons, circles and spirals; decision D16). The relative gap

.. math::
    r_k = \frac{\mu_{k+1} - \mu_k}{\mu_{k+1}} \in [0, 1]

is scale-free: 1 when :math:`\mu_k = 0 < \mu_{k+1}` (k components), near 0 inside a smooth
spectrum.

The criterion (:func:`select_n_clusters`; decision D16 holds its constants, how they were
chosen and the figures):

1. :math:`p_k`, the mean of :math:`r_k` on the two kNN graphs of the library, the self-tuning
   graph and UMAP's fuzzy graph (one neighbour search): their mean smooths the noise of
   either graph alone.
2. :math:`\hat k` = the **largest** k >= 2 with :math:`p_k \ge 0.85 \max_{j \ge 2} p_j`. Nested
   structure (classes within groups of classes) shows several large gaps, the coarsest the
   largest; among nearly equal gaps the finer partition is kept, rather than the coarsest.
3. A warning, not an answer, for data without clear structure. The profile is compared with
   that of structureless data of the same shape: a Gaussian with the mean and covariance of X
   (a parametric reference, as the gap statistic's, Tibshirani, Walther, Hastie, JRSS B
   2001), :math:`q_k`, the mean of two draws. When the largest gap does not exceed the
   reference's by 0.15, :class:`~neuncut.exceptions.NoClearStructureWarning` says that the
   choice is a guess. Structureless data stay below that excess and warn; so can data whose
   classes touch or are noisy shapes, while well separated clusters exceed it.

Why k = 1 is never the answer (except for fewer than 3 points, or all points alike): the
spectrum does not tell one Gaussian blob from noisy two- or three-cluster shapes.
A 2-D blob's kNN graph has a relative gap of 0.5 at k = 3 (its two first non-trivial
eigenvalues are equal by symmetry, then the spectrum jumps), as large as that of 300 points on
three spirals; the excess over the Gaussian reference at any k is as noisy as the difference
between those sets. Choosing 1 there would lose the noisy shapes; choosing k with a warning
loses nothing. The warning is a caution, not a verdict: end to end it also came on suite
sets whose k it got right.

What it cannot do: on data whose classes touch, with no spectral gap at the reference k
(MNIST and Fashion-MNIST images, digits: 10 classes), it answers the coarse groups.

End to end, against HDBSCAN, the silhouette of k-means and the eigengap heuristic: decision
D16, which names the study and its figures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components
from sklearn.utils import check_random_state

from .affinity import fuzzy_knn_graph, knn_search, laplacian_spectrum, self_tuning_knn_graph
from .exceptions import NoClearStructureWarning

__all__ = [
    "NClustersSelection", "gap_profile", "gaussian_reference", "relative_eigengaps",
    "select_n_clusters",
]

#: Gaps within this fraction of the largest count as large (step 2 of the criterion; decision
#: D16).
GAP_FRACTION = 0.85
#: A largest gap within this of the Gaussian reference's warns (step 3; decision D16).
MIN_EXCESS = 0.15
#: Draws of the Gaussian reference, averaged.
N_REFERENCES = 2
#: Rows of the comparison with the reference (its data and its reference), for a bounded cost.
TEST_SIZE = 5000


@dataclass(frozen=True)
class NClustersSelection:
    """What :func:`select_n_clusters` found.

    Attributes
    ----------
    n_clusters : int
        The chosen number of clusters.
    scores : ndarray of shape (max_clusters,)
        The gap profile :math:`p_k` for k = 1, ..., max_clusters (entry k - 1); NaN for k = 1
        and for k the data could not have.
    reference_scores : ndarray of shape (max_clusters,)
        The profile :math:`q_k` of the Gaussian reference, the same way.
    excess : float
        :math:`\\max_k p_k - \\max_k q_k` (on at most 5000 rows); below 0.15 warns.
    """

    n_clusters: int
    scores: np.ndarray
    reference_scores: np.ndarray
    excess: float


def relative_eigengaps(mu: np.ndarray) -> np.ndarray:
    r"""Relative gaps :math:`r_k = (\mu_{k+1} - \mu_k) / \mu_{k+1}` of ascending eigenvalues.

    Parameters
    ----------
    mu : ndarray of shape (m,), ascending, non-negative

    Returns
    -------
    r : ndarray of shape (m - 1,), in [0, 1]; entry k - 1 is :math:`r_k` (0 where
        :math:`\mu_{k+1} = 0`).

    Examples
    --------
    >>> relative_eigengaps(np.array([0.0, 0.0, 0.5, 0.6])).round(3).tolist()
    [0.0, 1.0, 0.167]
    """
    mu = np.asarray(mu, dtype=np.float64)
    upper = mu[1:]
    safe = np.where(upper > 0, upper, 1.0)
    return np.where(upper > 0, (upper - mu[:-1]) / safe, 0.0)


def gap_profile(X: np.ndarray, n_gaps: int, n_neighbors: int, seed: int) -> np.ndarray:
    r"""Mean relative eigengaps :math:`p_k`, k = 1 ... n_gaps, of X's two kNN graphs.

    The self-tuning graph (:func:`neuncut.affinity.self_tuning_knn_graph`) and UMAP's fuzzy
    graph (:func:`neuncut.affinity.fuzzy_knn_graph`) of one neighbour search; eigenvalues by
    :func:`neuncut.affinity.laplacian_spectrum` (components counted exactly).

    Parameters
    ----------
    X : ndarray of shape (n, n_features), n >= 2
    n_gaps : int
        At most n - 1.
    n_neighbors : int
    seed : int
        Seed of the eigensolver's start vector.

    Returns
    -------
    p : ndarray of shape (n_gaps,), entry k - 1 is :math:`p_k`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 20]
    >>> float(gap_profile(X, 3, 10, seed=0)[1])  # two components: r_2 = 1 on both graphs
    1.0
    """
    neighbors = knn_search(X, n_neighbors)
    graphs = (self_tuning_knn_graph(X, n_neighbors, neighbors=neighbors),
              fuzzy_knn_graph(X, n_neighbors, neighbors=neighbors))
    gaps = [relative_eigengaps(laplacian_spectrum(W, n_gaps + 1, seed)) for W in graphs]
    return np.mean(gaps, axis=0)


def gaussian_reference(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """As many rows as X from the Gaussian of X's mean and covariance (no cluster structure).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    rng : numpy Generator

    Returns
    -------
    X_ref : ndarray of shape (n, n_features), float32

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(4000, 2)) @ np.array([[2.0, 0.0], [1.0, 0.5]]) + 3
    >>> R = gaussian_reference(X, rng)
    >>> bool(np.allclose(np.cov(R.T), np.cov(X.T), rtol=0.1, atol=0.1))
    True
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    Z = rng.standard_normal((n, s.size)) * (s / np.sqrt(max(n - 1, 1)))
    return (Z @ vt + mean).astype(np.float32)


def select_n_clusters(
    X: np.ndarray,
    max_clusters: int = 50,
    *,
    n_neighbors: int = 10,
    random_state: int | np.random.RandomState | None = None,
) -> NClustersSelection:
    """Choose the number of clusters of X, from 2 to ``max_clusters``, without labels.

    The largest k whose mean relative eigengap on X's two kNN graphs is within 85 % of the
    largest gap; a warning when that gap is no larger than a Gaussian's of X's mean and
    covariance (the module docstring derives and measures the rule). Data of fewer than 3
    rows, or without any gap (all rows alike), get 1.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    max_clusters : int, default=50
        Largest k considered (capped at n_samples - 1). Data that fall apart into more
        separate groups than that get ``max_clusters``, with a warning.
    n_neighbors : int, default=10
        Neighbours per point in the kNN graphs.
    random_state : int, RandomState instance or None
        Eigensolver start vectors, the Gaussian reference and its rows.

    Returns
    -------
    NClustersSelection

    Warns
    -----
    NoClearStructureWarning
        When the largest gap exceeds the Gaussian reference's by less than 0.15: the data
        may have no cluster structure, or classes that touch (MNIST), and k is a guess.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(600, centers=4, cluster_std=0.8, random_state=1)
    >>> select_n_clusters(X, random_state=0).n_clusters
    4
    """
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    k_max = int(min(max_clusters, n - 1))
    scores, reference = np.full(max_clusters, np.nan), np.full(max_clusters, np.nan)
    if k_max < 2:
        return NClustersSelection(1, scores, reference, 0.0)
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    seed = int(rng.integers(2**31 - 1))
    p = gap_profile(X, k_max, n_neighbors, seed)
    scores[1:k_max] = p[1:]
    best = float(np.nanmax(scores))
    if best < 1e-9:
        # No gap among the first k_max + 1 eigenvalues: all equal and positive (every point
        # alike, a complete graph: one cluster), or all zero (more than k_max components).
        components = connected_components(
            self_tuning_knn_graph(X, n_neighbors), directed=False)[0]
        if components <= k_max:
            return NClustersSelection(1, scores, reference, 0.0)
        warnings.warn(
            f"n_clusters='auto' found {components} separate groups of points, more than"
            f" max_clusters={max_clusters}: it answers {k_max}; raise max_clusters, or give"
            " n_clusters.", NoClearStructureWarning, stacklevel=2,
        )
        return NClustersSelection(k_max, scores, reference, 0.0)
    k_hat = int(np.flatnonzero(scores >= GAP_FRACTION * best).max()) + 1

    X_test = X
    if n > TEST_SIZE:
        X_test = X[np.sort(rng.choice(n, TEST_SIZE, replace=False))]
        p = gap_profile(X_test, k_max, n_neighbors, seed)
    q = np.mean([gap_profile(gaussian_reference(X_test, rng), k_max, n_neighbors, seed)
                 for _ in range(N_REFERENCES)], axis=0)
    reference[1:k_max] = q[1:]
    excess = float(np.max(p[1:]) - np.max(q[1:]))
    if excess < MIN_EXCESS:
        warnings.warn(
            f"n_clusters='auto' chose {k_hat}, but the data show no clear cluster structure:"
            f" their largest relative eigengap, {np.max(p[1:]):.2f}, is no larger than that of"
            f" a Gaussian with the same covariance ({np.max(q[1:]):.2f}). There may be one"
            " cluster, or classes that touch; give n_clusters if you know it.",
            NoClearStructureWarning, stacklevel=2,
        )
    return NClustersSelection(k_hat, scores, reference, excess)
