"""The confusion matrix of a clustering against ground-truth classes (matplotlib, extra
``plot``): the only picture that reads labels; it evaluates, it never chooses anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics.cluster import contingency_matrix

from ._figure import figure_and_axes
from .metrics import clustering_accuracy

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_confusion_matrix"]


def _matched_cluster_order(counts: np.ndarray) -> np.ndarray:
    """Order of the columns of ``counts`` (classes x clusters): matched clusters by class.

    The matching is the one of :func:`neuncut.metrics.clustering_accuracy` (Hungarian
    algorithm, maximum total agreement). Unmatched clusters follow, each next to its
    majority class, the larger first.
    """
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(counts, maximize=True)  # rows come sorted
    rest = np.setdiff1d(np.arange(counts.shape[1]), cols)
    rest = rest[np.lexsort((-counts[:, rest].sum(axis=0), counts[:, rest].argmax(axis=0)))]
    return np.concatenate([cols, rest]).astype(np.intp)


def plot_confusion_matrix(y_true: Any, labels: Any, *, ax: Axes | None = None) -> Figure:
    """Counts of every (true class, cluster) pair, clusters matched to classes.

    Rows are the true classes, columns the clusters, reordered by the Hungarian matching of
    :func:`neuncut.metrics.clustering_accuracy`: each matched cluster in the order of its
    class, the unmatched ones last. With as many clusters as classes the matched pairs form
    the diagonal, whose sum divided by the number of points is the accuracy in the title.
    A cell's shade is the share of its row (its class) in that cluster; a class split in
    two shows as a row with two dark cells, two merged classes as a column with two.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    labels : array-like of shape (n_samples,)
        Cluster labels.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_confusion_matrix([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 3, 4])
    >>> fig.axes[0].images[0].get_array().shape
    (3, 3)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]  # cluster ids, matched order
    ['5', '3', '4']
    """
    acc = clustering_accuracy(y_true, labels)  # validates both
    t, p = np.asarray(y_true), np.asarray(labels)
    classes, clusters = np.unique(t), np.unique(p)
    counts = contingency_matrix(t, p)  # (n_classes, n_clusters), both sorted
    order = _matched_cluster_order(counts)
    counts = counts[:, order]
    share = counts / counts.sum(axis=1, keepdims=True)

    n_rows, n_cols = counts.shape
    fig, ax = figure_and_axes(ax, (min(2 + 0.5 * n_cols, 16), min(1.5 + 0.45 * n_rows, 14)))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    if counts.size <= 900:
        for (i, j), value in np.ndenumerate(counts):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(n_cols), [str(c) for c in clusters[order]], fontsize=8)
    ax.set_yticks(range(n_rows), [str(c) for c in classes], fontsize=8)
    ax.set_xlabel("cluster (matched to the classes)")
    ax.set_ylabel("true class")
    ax.set_title(f"clusters against classes: ACC {acc:.3f}", fontsize=9)
    return fig


# ----------------------------------------------------------------------- all for a run
