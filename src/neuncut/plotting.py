"""Figures of a fitted model (optional: needs matplotlib, ``pip install 'neuncut[plot]'``).

Functions take a ``Figure`` class, so they work with any matplotlib canvas and never touch
pyplot's global state.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from .estimator import NeuNcut

__all__ = ["cluster_figure", "save_figures", "training_figure"]

logger = logging.getLogger(__name__)

_MONTAGE_COLUMNS = 12


def save_figures(out: Path, ds: Any, labels: np.ndarray, model: NeuNcut, seed: int) -> list[str]:
    """Write ``clusters.png`` and ``training.png`` of a fitted model into the folder ``out``.

    Parameters
    ----------
    out : Path
        Existing folder.
    ds : neuncut.datasets.Dataset
        The data clustered (images are drawn when ``ds.image_shape`` is set, 2-D data as a
        scatter plot).
    labels : ndarray of shape (n_samples,)
    model : NeuNcut
        Fitted; its loss curves are drawn.
    seed : int
        Which members of each cluster are shown.

    Returns
    -------
    written : list of str
        The file names written; empty without matplotlib (a warning is logged).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        logger.warning(
            "warning: matplotlib is not installed, so no figures were drawn "
            "(pip install matplotlib)"
        )
        return []
    written = []
    for filename, fig in (
        ("clusters.png", cluster_figure(Figure, ds, labels, model, seed)),
        ("training.png", training_figure(Figure, model)),
    ):
        if fig is not None:
            FigureCanvasAgg(fig)
            fig.savefig(out / filename, dpi=100)
            written.append(filename)
    return written


def cluster_figure(figure: Any, ds: Any, labels: np.ndarray, model: NeuNcut, seed: int) -> Any:
    """Sample images per cluster (one row each), a 2-D scatter, or None."""
    k, X = model.n_clusters, ds.data
    if ds.image_shape is None and X.shape[1] != 2:
        logger.info("no cluster figure: the data are neither images nor 2-D")
        return None
    from matplotlib import colormaps

    if ds.image_shape is None:
        fig = figure(figsize=(6, 6))
        ax = fig.add_subplot()
        ax.scatter(X[:, 0], X[:, 1], c=colormaps["tab10" if k <= 10 else "tab20"](labels % 20), s=4)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"{ds.description}\n{k} clusters found by NeuNcut", fontsize=9)
        return fig

    (h, w), cols, rng = ds.image_shape, _MONTAGE_COLUMNS, np.random.default_rng(seed)
    canvas = np.full((k * (h + 1) + 1, cols * (w + 1) + 1), np.nan)
    ticks = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        for j, i in enumerate(rng.choice(members, min(cols, members.size), replace=False)):
            canvas[1 + c * (h + 1) : (c + 1) * (h + 1), 1 + j * (w + 1) : (j + 1) * (w + 1)] = X[
                i
            ].reshape(h, w)
        classes, counts = np.unique(ds.target[members], return_counts=True)
        best = (
            f", class {classes[counts.argmax()]} {counts.max() / members.size:.0%}"
            if (members.size)
            else ""
        )
        ticks.append(f"cluster {c}: {members.size}{best}")
    fig = figure(figsize=(cols * 0.6 + 2.8, k * 0.6 + 0.9))
    ax = fig.add_subplot()
    ax.imshow(
        canvas,
        cmap=colormaps["gray"].with_extremes(bad="white"),
        vmin=X.min(),
        vmax=X.max(),
        interpolation="nearest",
    )
    ax.set_yticks([c * (h + 1) + (h + 1) / 2 for c in range(k)], ticks, fontsize=8)
    ax.set_xticks([])
    ax.set_title(
        f"{ds.description}: {cols} random members per cluster\n(row: cluster, size, "
        "majority class and its share)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def training_figure(figure: Any, model: NeuNcut) -> Any:
    """Per-epoch loss, cut and orthogonality terms side by side, or None without epochs."""
    if not model.loss_curve_:
        logger.info("no training figure: no epochs were run")
        return None
    from matplotlib.ticker import MaxNLocator

    fig = figure(figsize=(11, 3.2))
    curves = (
        ("loss = cut + penalty/2 * ortho", model.loss_curve_),
        ("cut (relaxed Ncut)", model.cut_curve_),
        ("ortho", model.ortho_curve_),
    )
    for i, (title, values) in enumerate(curves, 1):
        ax = fig.add_subplot(1, 3, i)
        ax.plot(range(1, len(values) + 1), values, "o-", markersize=3)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle(f"NeuNcut training (penalty {model.penalty_:.3g})", fontsize=10)
    fig.tight_layout()
    return fig
