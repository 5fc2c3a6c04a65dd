"""The picture of ``n_clusters="auto"``'s choice: the criterion against k, the choice marked
(matplotlib, extra ``plot``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._figure import figure_and_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_n_clusters"]


def plot_n_clusters(model: Any, *, ax: Axes | None = None) -> Figure:
    """The criterion of ``n_clusters="auto"`` for every k tried, the chosen k marked.

    Bars are the data's mean relative eigengaps ``n_clusters_scores_["gap"]``
    (:mod:`neuncut.n_clusters`), the chosen ``n_clusters_`` in another colour; the line is
    the same profile of a Gaussian with the data's mean and covariance
    (``n_clusters_scores_["gaussian_gap"]``). When no bar rises clearly above the line,
    the data show no clear cluster structure: the choice is a guess, and ``fit`` warned
    (:class:`~neuncut.exceptions.NoClearStructureWarning`). k with no score (beyond what
    the data allowed) are left empty.

    Parameters
    ----------
    model : NeuNcut
        Fitted with ``n_clusters="auto"``.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the model was fitted with a given ``n_clusters`` (nothing was chosen).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from neuncut import NeuNcut
    >>> X, _ = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    >>> model = NeuNcut("auto", max_clusters=8, max_epochs=1, hidden_layer_sizes=(8,),
    ...                 init="kmeans", random_state=0).fit(X)
    >>> fig = plot_n_clusters(model)
    >>> fig.axes[0].get_title()
    "n_clusters='auto' chose 3"
    """
    scores = getattr(model, "n_clusters_scores_", None)
    if scores is None:
        raise ValueError(
            "no choice of n_clusters to draw: the model was fitted with "
            f"n_clusters={getattr(model, 'n_clusters', None)!r}, not 'auto'."
        )
    gap = np.asarray(scores["gap"], dtype=float)
    reference = np.asarray(scores["gaussian_gap"], dtype=float)
    ks = np.arange(1, gap.size + 1)
    chosen = int(model.n_clusters_)
    fig, ax = figure_and_axes(ax, (min(3 + 0.3 * gap.size, 10), 3.2))
    colors = np.where(ks == chosen, "C3", "C0")
    shown = np.isfinite(gap)
    ax.bar(ks[shown], gap[shown], color=colors[shown], width=0.7, label="data")
    ax.plot(ks, reference, "k.--", lw=1, label="Gaussian of the same covariance")
    ax.set_xticks(ks)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("relative eigengap")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"n_clusters='auto' chose {chosen}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return fig
