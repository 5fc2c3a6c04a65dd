"""Figures outside pyplot: an Agg canvas per figure, and the cluster colours of every plot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INSTALL_HINT = "matplotlib is not installed (pip install 'neuncut[plot]')"


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A Figure with an Agg canvas, outside pyplot; ImportError naming the extra otherwise."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Any, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def cluster_colors(n_clusters: int) -> np.ndarray:
    """RGBA colours (n_clusters, 4): tab10, tab20, or evenly spaced hues beyond 20."""
    from matplotlib import colormaps

    if n_clusters <= 20:
        cmap = colormaps["tab10" if n_clusters <= 10 else "tab20"]
        return np.asarray(cmap(np.arange(n_clusters)))
    return np.asarray(colormaps["hsv"](np.arange(n_clusters) / n_clusters))
