"""Scores of the development suite: normalized clustering accuracy (NCA), ARI and NMI.

Pure functions of two label vectors; points whose reference label is -1 are not scored.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment

#: Reference label of points that are not scored (noise, outliers).
NOT_SCORED = -1


def normalized_clustering_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Normalized clustering accuracy: mean recall under the best matching, chance at 0.

    Following Gagolewski ("A framework for benchmarking clustering algorithms", SoftwareX
    2022): with ``C[i, j]`` the number of points of reference cluster ``i`` (of ``n_i``) put in
    predicted cluster ``j``, the predicted clusters are matched one-to-one to the reference
    ones so as to maximize the mean recall (Hungarian algorithm on the ``k x k'`` matrix
    ``C[i, j] / n_i``; ``k'`` may be larger or smaller than ``k``, and a reference cluster left
    unmatched has recall 0). Then

    ``NCA = (mean_recall - 1 / k) / (1 - 1 / k)``,

    1 for a perfect partition, 0 for all points in one cluster; it can be negative.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference labels (at least two distinct values).
    y_pred : array-like of shape (n_samples,)
        Predicted cluster labels.

    Returns
    -------
    float
        NCA, at most 1.

    Examples
    --------
    >>> normalized_clustering_accuracy([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 4, 4])
    1.0
    >>> normalized_clustering_accuracy([0, 0, 1, 1, 2, 2], [7, 7, 7, 7, 7, 7])
    0.0
    >>> normalized_clustering_accuracy([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1])  # recalls 3/4, 1
    0.75
    """
    t_ids, t = np.unique(np.asarray(y_true), return_inverse=True)
    p_ids, p = np.unique(np.asarray(y_pred), return_inverse=True)
    k = len(t_ids)
    if k < 2:
        raise ValueError(f"NCA needs at least 2 reference clusters, got k={k}.")
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred differ in length: {len(t)} and {len(p)}.")
    counts = np.zeros((k, len(p_ids)))  # (k, k')
    np.add.at(counts, (t.ravel(), p.ravel()), 1)
    recall = counts / counts.sum(axis=1, keepdims=True)  # (k, k'), rows sum to 1
    rows, cols = linear_sum_assignment(recall, maximize=True)
    mean_recall = recall[rows, cols].sum() / k
    return float((mean_recall - 1 / k) / (1 - 1 / k))


def noise_as_cluster(labels: ArrayLike) -> np.ndarray:
    """``labels`` with -1 (a method's noise) turned into one more cluster of its own.

    >>> noise_as_cluster([0, -1, 1, -1]).tolist()
    [0, 2, 1, 2]
    """
    out = np.asarray(labels).copy()
    out[out == -1] = out.max() + 1
    return out


def score(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float | int]:
    """NCA, ARI and NMI of ``y_pred`` on the points whose reference label is not -1.

    >>> score([0, 0, 1, 1, -1], [1, 1, 0, 0, 0])
    {'nca': 1.0, 'ari': 1.0, 'nmi': 1.0, 'n_scored': 4}
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    keep = y_true != NOT_SCORED
    t, p = y_true[keep], y_pred[keep]
    return {
        "nca": normalized_clustering_accuracy(t, p),
        "ari": float(adjusted_rand_score(t, p)),
        "nmi": float(normalized_mutual_info_score(t, p)),
        "n_scored": int(keep.sum()),
    }
