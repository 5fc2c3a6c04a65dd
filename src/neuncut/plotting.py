"""Pictures of a fitted model (optional: needs matplotlib, ``pip install 'neuncut[plot]'``).

Five figures, each a function of a fitted :class:`~neuncut.NeuNcut` and the data:

* :func:`plot_training`: the per-epoch cut and orthogonality terms and the loss they make
  with the weight :math:`\\gamma` (``penalty_``);
* :func:`plot_cluster_montage`: for image data, the most and least confident members of
  every cluster, one row per cluster;
* :func:`plot_decision_regions`: for 2-D data, the cluster of every point of the plane;
* :func:`plot_n_clusters`: with ``n_clusters="auto"``, the criterion against k, the choice
  marked;
* :func:`plot_confusion_matrix`: clusters against ground-truth classes, when there are any
  (the only figure that reads labels; it evaluates, it never chooses anything).

They never touch pyplot's global state: each returns a :class:`matplotlib.figure.Figure`
with an Agg canvas (``fig.savefig("x.png")`` writes it), or draws into the ``ax`` given,
e.g. one from ``matplotlib.pyplot.subplots()`` in a notebook. :func:`save_figures` writes
every applicable picture of a run into a folder (used by ``neuncut run``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils import check_random_state

from ._confusion import plot_confusion_matrix
from ._figure import cluster_colors, figure_and_axes, new_figure
from ._n_clusters_plot import plot_n_clusters

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ._estimator import NeuNcut

__all__ = [
    "plot_cluster_montage",
    "plot_confusion_matrix",
    "plot_decision_regions",
    "plot_n_clusters",
    "plot_training",
    "save_figures",
]

logger = logging.getLogger(__name__)

# Clusters drawn by save_figures' montage; beyond that the picture gets too tall to read.
_MAX_MONTAGE_ROWS = 40


# ------------------------------------------------------------------------------- helpers
def _like_fit_input(model: NeuNcut, A: np.ndarray) -> Any:
    """A as a DataFrame with the fitted column names when the model was fitted on one."""
    if not hasattr(model, "feature_names_in_"):
        return A
    import pandas as pd

    return pd.DataFrame(A, columns=model.feature_names_in_)


# ------------------------------------------------------------------------------ training
def plot_training(model: NeuNcut, *, fig: Figure | None = None) -> Figure:
    r"""Per-epoch training curves: the cut term, the orthogonality term and the loss.

    Three panels, each on its own scale: ``cut`` (the relaxed normalized cut, between 0 and
    k), ``ortho`` (0 for hard memberships with balanced volumes) and the loss
    :math:`\mathrm{cut} + \gamma/2 \cdot \mathrm{ortho}` that training minimizes.
    :math:`\gamma` (``penalty_``) is constant during training; the right-hand scale of the
    ``ortho`` panel reads the curve as :math:`\gamma/2 \cdot \mathrm{ortho}`, what the
    term adds to the loss. Every value is a mean over the epoch's minibatches
    (``cut_curve_``, ``ortho_curve_``, ``loss_curve_``).

    Parameters
    ----------
    model : NeuNcut
        Fitted with ``max_epochs >= 1``.
    fig : matplotlib.figure.Figure, optional
        Draw into this (empty) figure instead of a new one.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The three panels are ``fig.axes[:3]`` (cut, ortho, loss).

    Raises
    ------
    ValueError
        If the model ran no epoch of Ncut training.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from neuncut import NeuNcut
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> model = NeuNcut(3, max_epochs=3, hidden_layer_sizes=(16,), random_state=0).fit(X)
    >>> fig = plot_training(model)
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['cut (relaxed normalized cut)', 'ortho = ‖HᵀDH − I‖ / k', 'loss = cut + γ/2 · ortho']
    """
    if not getattr(model, "loss_curve_", None):
        raise ValueError("no training curves to draw: the model ran max_epochs=0 epochs.")
    if fig is None:
        fig = new_figure((11, 3.2))
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(model.loss_curve_) + 1)
    gamma = float(model.penalty_)
    ortho = np.asarray(model.ortho_curve_, dtype=float)
    cut_ax, ortho_ax, loss_ax = fig.subplots(1, 3)
    cut_ax.plot(epochs, model.cut_curve_, "o-", ms=3, color="C0")
    cut_ax.set_title("cut (relaxed normalized cut)", fontsize=9)
    ortho_ax.plot(epochs, ortho, "o-", ms=3, color="C1")
    ortho_ax.set_title("ortho = ‖HᵀDH − I‖ / k", fontsize=9)
    # gamma is constant: gamma/2 * ortho, what ortho adds to the loss, is a second scale
    if gamma > 0:
        weighted = ortho_ax.secondary_yaxis(
            "right", functions=(lambda o: gamma / 2 * o, lambda v: 2 / gamma * v)
        )
        weighted.set_ylabel(f"γ/2 · ortho   (γ = penalty_ = {gamma:.3g})", fontsize=8)
    loss_ax.plot(epochs, model.loss_curve_, "o-", ms=3, color="k")
    loss_ax.set_title("loss = cut + γ/2 · ortho", fontsize=9)
    for ax in (cut_ax, ortho_ax, loss_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle(f"NeuNcut training: {len(epochs)} epochs, {model.n_steps_} minibatch steps",
                 fontsize=10)
    return fig


# ------------------------------------------------------------------------------- montage
def _montage_rows(
    confidence: np.ndarray, labels: np.ndarray, clusters: Sequence[int], n_images: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per cluster: its ``n_images`` most confident members, then its least confident ones.

    Both lists are in decreasing confidence and never overlap (a cluster with fewer than
    ``2 * n_images`` members shows each member once).
    """
    rows = []
    for c in clusters:
        members = np.flatnonzero(labels == c)
        order = members[np.argsort(-confidence[members], kind="stable")]
        most = order[:n_images]
        rows.append((most, order[max(most.size, order.size - n_images) :]))
    return rows


def plot_cluster_montage(
    model: NeuNcut,
    X: Any,
    image_shape: tuple[int, int],
    *,
    n_images: int = 6,
    clusters: Sequence[int] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Montage of the most and least confident members of each cluster (image data).

    One row per cluster: on the left its ``n_images`` members of highest confidence, on the
    right, after a gap, its ``n_images`` members of lowest confidence, confidence decreasing
    from left to right. A point's cluster and confidence are the argmax and the max of
    :meth:`NeuNcut.predict_proba`. The row label gives the cluster, its size and the
    confidence range shown. Confident members show what a cluster is; its least confident
    ones show what it borders on.

    Parameters
    ----------
    model : NeuNcut
        Fitted.
    X : array-like of shape (n_samples, height * width)
        Images, one flattened per row.
    image_shape : tuple of (int, int)
        ``(height, width)`` of an image.
    n_images : int, default=6
        Images on each side of a row.
    clusters : sequence of int, optional
        The clusters to draw, in this order (default: all).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from neuncut import NeuNcut
    >>> X = load_digits().data[:300]
    >>> model = NeuNcut(5, max_epochs=1, hidden_layer_sizes=(16,), random_state=0).fit(X)
    >>> fig = plot_cluster_montage(model, X, (8, 8), n_images=4)
    >>> fig.axes[0].images[0].get_array().shape  # 5 rows of 8x8 images, 4 + gap + 4 columns
    (46, 82)
    """
    X_arr = np.asarray(X, dtype=np.float64)
    h, w = (int(s) for s in image_shape)
    if X_arr.ndim != 2 or X_arr.shape[1] != h * w:
        raise ValueError(
            f"image_shape={tuple(image_shape)} needs {h * w} features per row, "
            f"got X of shape {X_arr.shape}."
        )
    if n_images < 1:
        raise ValueError(f"n_images={n_images} should be >= 1.")
    P = model.predict_proba(X)
    labels, confidence = P.argmax(axis=1), P.max(axis=1)
    clusters = list(range(model.n_clusters_)) if clusters is None else [int(c) for c in clusters]
    rows = _montage_rows(confidence, labels, clusters, n_images)

    cols = 2 * n_images + 1  # the middle column stays blank
    canvas = np.full((len(rows) * (h + 1) + 1, cols * (w + 1) + 1), np.nan)
    ticks = []
    for r, (c, (most, least)) in enumerate(zip(clusters, rows, strict=True)):
        slots = [*enumerate(most), *enumerate(least, start=cols - least.size)]
        for j, i in slots:
            top, left = 1 + r * (h + 1), 1 + j * (w + 1)
            canvas[top : top + h, left : left + w] = X_arr[i].reshape(h, w)
        size = int((labels == c).sum())
        shown = np.concatenate([most, least])
        span = f", p {confidence[shown].max():.2f}–{confidence[shown].min():.2f}" if size else ""
        ticks.append(f"cluster {c}: {size}{span}")

    cell = 0.55  # inches per image row
    fig, ax = figure_and_axes(ax, (2.6 + cols * cell * (w + 1) / (h + 1), 0.9 + len(rows) * cell))
    from matplotlib import colormaps

    # aspect "auto": the figure's shape already follows the canvas', and an equal aspect
    # makes the constrained layout clip the row labels
    ax.imshow(canvas, cmap=colormaps["gray_r"].with_extremes(bad="0.8"),
              interpolation="nearest", aspect="auto")
    ax.set_yticks([r * (h + 1) + (h + 1) / 2 for r in range(len(rows))], ticks, fontsize=8)
    ax.set_xticks([(n_images * (w + 1)) / 2, (cols - n_images / 2) * (w + 1)],
                  ["most confident", "least confident"], fontsize=8)
    ax.xaxis.set_ticks_position("top")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig


# ---------------------------------------------------------------------- decision regions
def plot_decision_regions(
    model: NeuNcut,
    X: Any,
    *,
    resolution: int = 200,
    max_points: int = 5000,
    random_state: Any = 0,
    ax: Axes | None = None,
) -> Figure:
    """Cluster of every point of the plane (2-D data), with the data on top.

    The plane around X is cut into a ``resolution x resolution`` grid whose points are
    labelled by :meth:`NeuNcut.predict_proba`: the colour is the cluster, the opacity grows
    with the confidence (max membership), so boundaries show as pale bands. At most
    ``max_points`` points of X, drawn at random, are scattered on top in the colour of their
    cluster.

    Parameters
    ----------
    model : NeuNcut
        Fitted on 2-D data.
    X : array-like of shape (n_samples, 2)
    resolution : int, default=200
        Grid points per axis.
    max_points : int, default=5000
        Points of X drawn at most.
    random_state : int, RandomState instance or None, default=0
        Which points are drawn when X has more than ``max_points``.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from neuncut import NeuNcut
    >>> X, _ = make_moons(200, noise=0.05, random_state=0)
    >>> model = NeuNcut(2, max_epochs=2, hidden_layer_sizes=(16,), random_state=0).fit(X)
    >>> ax = plot_decision_regions(model, X, resolution=50).axes[0]
    >>> ax.images[0].get_array().shape, len(ax.collections)
    ((50, 50, 4), 1)
    """
    X_arr = np.asarray(X, dtype=np.float64)
    if X_arr.ndim != 2 or X_arr.shape[1] != 2 or model.n_features_in_ != 2:
        raise ValueError(
            f"decision regions need 2-D data and a model fitted on it; got X of shape "
            f"{X_arr.shape} and a model with n_features_in_={model.n_features_in_}."
        )
    if resolution < 2:
        raise ValueError(f"resolution={resolution} should be >= 2.")
    lo, hi = X_arr.min(axis=0), X_arr.max(axis=0)
    pad = np.where(hi > lo, 0.05 * (hi - lo), 1.0)
    gx, gy = (np.linspace(lo[d] - pad[d], hi[d] + pad[d], resolution) for d in range(2))
    grid = np.column_stack([a.ravel() for a in np.meshgrid(gx, gy)])  # (resolution**2, 2)
    P = model.predict_proba(_like_fit_input(model, grid))
    k = model.n_clusters_
    colors = cluster_colors(k)
    rgba = colors[P.argmax(axis=1)].copy()
    sharpness = (P.max(axis=1) - 1 / k) / (1 - 1 / k) if k > 1 else np.ones(len(P))
    rgba[:, 3] = 0.1 + 0.5 * sharpness

    fig, ax = figure_and_axes(ax, (5.5, 5))
    ax.imshow(rgba.reshape(resolution, resolution, 4), origin="lower", aspect="auto",
              extent=(gx[0], gx[-1], gy[0], gy[-1]), interpolation="nearest")
    rng = check_random_state(random_state)
    shown = np.arange(len(X_arr))
    if shown.size > max_points:
        shown = np.sort(rng.choice(shown.size, max_points, replace=False))
    point_labels = model.predict(_like_fit_input(model, X_arr[shown]))
    ax.scatter(X_arr[shown, 0], X_arr[shown, 1], c=colors[point_labels], s=6,
               edgecolors="none")
    ax.set_title(f"NeuNcut: {k} clusters, decision regions\n(paler = less confident)",
                 fontsize=9)
    return fig


def save_figures(out: Path, ds: Any, labels: np.ndarray, model: NeuNcut, seed: int) -> list[str]:
    """Write every applicable picture of a clustered data set into the folder ``out``.

    ``training.png`` (:func:`plot_training`) when training ran; ``n_clusters.png``
    (:func:`plot_n_clusters`) when ``n_clusters="auto"`` chose k; ``clusters.png``
    (:func:`plot_cluster_montage`) for images; ``regions.png``
    (:func:`plot_decision_regions`) for 2-D data; ``confusion.png``
    (:func:`plot_confusion_matrix`) when ``ds.target`` is given.

    Parameters
    ----------
    out : Path
        Existing folder.
    ds : neuncut.datasets.Dataset
        The data clustered: ``data``, ``target`` (may be None) and ``image_shape``.
    labels : ndarray of shape (n_samples,)
        The clusters of ``ds.data`` (``model.predict(ds.data)``).
    model : NeuNcut
        Fitted.
    seed : int
        Which points are drawn on the decision regions of a large 2-D data set.

    Returns
    -------
    written : list of str
        The file names written; empty without matplotlib (a warning is logged).
    """
    try:
        new_figure((1, 1))
    except ImportError as exc:
        logger.warning("warning: %s, so no figures were drawn", exc)
        return []
    out = Path(out)
    jobs: list[tuple[str, Any]] = []
    if getattr(model, "loss_curve_", None):
        jobs.append(("training.png", lambda: plot_training(model)))
    if getattr(model, "n_clusters_scores_", None) is not None:
        jobs.append(("n_clusters.png", lambda: plot_n_clusters(model)))
    if ds.image_shape is not None:
        shown = range(min(model.n_clusters_, _MAX_MONTAGE_ROWS))
        jobs.append(("clusters.png",
                     lambda: plot_cluster_montage(model, ds.data, ds.image_shape, clusters=shown)))
    elif ds.data.shape[1] == 2:
        jobs.append(("regions.png",
                     lambda: plot_decision_regions(model, ds.data, random_state=seed)))
    if getattr(ds, "target", None) is not None:
        jobs.append(("confusion.png", lambda: plot_confusion_matrix(ds.target, labels)))
    written = []
    for filename, draw in jobs:
        draw().savefig(out / filename, dpi=100)
        written.append(filename)
    logger.debug("figures written to %s: %s", out, ", ".join(written))
    return written
