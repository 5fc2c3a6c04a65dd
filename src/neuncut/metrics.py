"""Clustering quality metrics: accuracy under the best label matching, NMI and ARI.

Cluster ids are arbitrary, so a predicted partition is scored after matching its
clusters one-to-one to the true classes (the Hungarian algorithm on the
contingency matrix), as is customary in the clustering literature.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

__all__ = ["clustering_accuracy", "evaluate"]


def _check_labels(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate two label vectors and return them as 1-D arrays."""
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        a = np.asarray(y)
        if a.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of labels, got shape {a.shape}")
        if a.size == 0:
            raise ValueError(f"{name} must not be empty, got 0 labels")
        arrays.append(a)
    t, p = arrays
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}"
        )
    return t, p


def clustering_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Accuracy of a clustering under the best one-to-one matching of clusters to classes.

    The predicted clusters are matched to the true classes by maximising the
    number of agreeing samples over all one-to-one matchings (Hungarian
    algorithm on the contingency matrix). When the numbers of clusters differ,
    the surplus clusters or classes stay unmatched and their samples count as
    errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels; any hashable, sortable values (not necessarily 0..k-1).
    y_pred : array-like of shape (n_samples,)
        Predicted cluster labels, same conventions.

    Returns
    -------
    float
        Fraction of samples in ``(0, 1]`` whose matched cluster equals their class.

    Raises
    ------
    ValueError
        If an input is not 1-D, is empty, or the lengths differ.

    Examples
    --------
    >>> clustering_accuracy([0, 0, 1, 1], [7, 7, 3, 3])
    1.0
    >>> clustering_accuracy([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0])  # 5 of 6 matched
    0.8333333333333334
    """
    t, p = _check_labels(y_true, y_pred)
    counts = contingency_matrix(t, p)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / t.shape[0])


def evaluate(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """Accuracy, normalised mutual information and adjusted Rand index of a clustering.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_pred : array-like of shape (n_samples,)
        Predicted cluster labels.

    Returns
    -------
    dict of str to float
        ``{"acc": ..., "nmi": ..., "ari": ...}`` as plain Python floats: ``acc`` is
        :func:`clustering_accuracy`, ``nmi`` is the normalised mutual information
        with the geometric-mean normalisation, ``ari`` the adjusted Rand index.

    Raises
    ------
    ValueError
        If an input is not 1-D, is empty, or the lengths differ.

    Examples
    --------
    >>> scores = evaluate([0, 0, 1, 1], [1, 1, 0, 0])
    >>> sorted(scores.items())
    [('acc', 1.0), ('ari', 1.0), ('nmi', 1.0)]
    """
    t, p = _check_labels(y_true, y_pred)
    return {
        "acc": clustering_accuracy(t, p),
        "nmi": float(normalized_mutual_info_score(t, p, average_method="geometric")),
        "ari": float(adjusted_rand_score(t, p)),
    }
