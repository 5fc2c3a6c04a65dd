"""Diagnostics of a fit: batch graphs that would spoil training, clusters left empty."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ._batches import iter_batches
from .affinity import AffinityFn
from .exceptions import DegenerateGraphWarning, EmptyClusterWarning

__all__ = ["GraphReport", "check_batch_graph", "graph_report", "warn_empty_clusters"]


class GraphReport(NamedTuple):
    """What :func:`graph_report` found in a batch graph."""

    valid: bool
    """Finite, non-negative and symmetric: a graph the loss is defined on."""
    n_isolated: int
    """Points with no edge to another point (zero degree without the self-loop)."""
    n_components: int
    """Connected components, isolated points included."""


def graph_report(W: torch.Tensor) -> GraphReport:
    """Check an affinity matrix W (B, B): validity, isolated points, connected components.

    Examples
    --------
    >>> import torch
    >>> W = torch.tensor([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> graph_report(W)
    GraphReport(valid=True, n_isolated=1, n_components=2)
    """
    W = W.detach().cpu()
    valid = bool(torch.isfinite(W).all() and (W >= 0).all())
    valid = valid and bool(torch.allclose(W, W.T, rtol=1e-5, atol=1e-6))
    if not valid:
        return GraphReport(False, 0, 0)
    off = W.clone()
    off.fill_diagonal_(0.0)
    n_isolated = int((off.sum(dim=1) <= 0).sum())
    n_components = connected_components(csr_matrix(off.numpy() > 0), directed=False)[0]
    return GraphReport(True, n_isolated, int(np.int64(n_components)))


@torch.no_grad()
def check_batch_graph(
    X: torch.Tensor,
    affinity: AffinityFn,
    *,
    batch_size: int,
    n_clusters: int,
    generator: torch.Generator,
) -> None:
    """Build one random batch's graph and refuse or warn about what would spoil training.

    A graph that is not finite, non-negative and symmetric (only a callable ``affinity``
    can give one) raises a ValueError. Points with no neighbour in the batch graph, or more
    connected components than ``n_clusters``, give a :class:`DegenerateGraphWarning`: the
    cut has no gradient for an isolated point, and with more components than clusters many
    partitions have a zero cut and the loss cannot tell which components to merge.

    Examples
    --------
    >>> import torch, warnings
    >>> from neuncut.affinity import rbf_affinity
    >>> X = torch.arange(6.0)[:, None]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_batch_graph(X, lambda x: rbf_affinity(x, 1e-3), batch_size=6, n_clusters=2,
    ...                       generator=torch.Generator().manual_seed(0))
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    6 of 6 points of a batch graph have no neighbour ...
    """
    idx = next(iter_batches(X.shape[0], batch_size, generator))
    report = graph_report(affinity(X[idx]))
    B = idx.numel()
    if not report.valid:
        raise ValueError(
            "affinity returned a batch graph that is not finite, non-negative and symmetric;"
            " an affinity callable must map (B, n_features) to a symmetric (B, B) tensor of"
            " finite values >= 0."
        )
    if report.n_isolated and B > 1:
        warnings.warn(
            f"{report.n_isolated} of {B} points of a batch graph have no neighbour (zero"
            " degree): the normalized cut gives them no gradient. With affinity='rbf' raise"
            " sigma, or use affinity='knn'; with few points per batch raise batch_size.",
            DegenerateGraphWarning,
            stacklevel=3,
        )
    elif report.n_components > n_clusters:
        warnings.warn(
            f"a batch graph of {B} points has {report.n_components} connected components,"
            f" more than n_clusters={n_clusters}: the normalized cut cannot tell which to"
            " merge (the spectral warm start joins the smallest to their nearest, which Ncut"
            " training may undo). Raise n_neighbors or batch_size (or sigma with"
            " affinity='rbf').",
            DegenerateGraphWarning,
            stacklevel=3,
        )


def warn_empty_clusters(labels: np.ndarray, n_clusters: int) -> None:
    """Warn (:class:`EmptyClusterWarning`) when some of the ``n_clusters`` clusters are empty.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_empty_clusters(np.array([0, 0, 2]), 3)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    only 2 of n_clusters=3 clusters received points...
    """
    n_used = int(np.count_nonzero(np.bincount(labels, minlength=n_clusters)))
    if n_used < n_clusters:
        warnings.warn(
            f"only {n_used} of n_clusters={n_clusters} clusters received points. X may have"
            " fewer distinct rows or natural groups than n_clusters; try a smaller"
            " n_clusters.",
            EmptyClusterWarning,
            stacklevel=3,
        )
