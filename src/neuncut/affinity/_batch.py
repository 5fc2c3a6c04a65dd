"""Batch graphs: dense affinities inside one minibatch, and how the estimator picks one.

See :mod:`neuncut.affinity` for the conventions (unit self-loops, O(B^2) memory).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch

__all__ = [
    "AffinityFactory",
    "AffinityFn",
    "choose_sigma",
    "graph_factory",
    "make_affinity",
    "median_heuristic_sigma",
    "power_of_two_scale",
    "rbf_affinity",
    "self_tuning_knn_affinity",
    "squared_distances",
]

AffinityFn = Callable[[torch.Tensor], torch.Tensor]
"""A batch-graph builder: points (B, n_features) to a symmetric affinity (B, B)."""
AffinityFactory = Callable[[float | None], AffinityFn]
"""``sigma -> batch-graph builder``: the graph is known only once sigma is chosen."""

# Relative floor for local scales and squared distances: duplicates (distance 0) must not
# produce 0/0 in the kernel.
_TINY = 1e-12


def squared_distances(X: torch.Tensor) -> torch.Tensor:
    r"""Pairwise squared Euclidean distances, :math:`D_{ij} = \|x_i - x_j\|^2`.

    Parameters
    ----------
    X : Tensor of shape (B, n_features)

    Returns
    -------
    D : Tensor of shape (B, B)
        Non-negative, exactly zero on the diagonal.

    Examples
    --------
    >>> import torch
    >>> squared_distances(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
    tensor([[ 0., 25.],
            [25.,  0.]])
    """
    # The matrix-product expansion ||a||^2 + ||b||^2 - 2 a.b is O(B^2) memory and fast, but
    # its rounding error grows with ||x||^2: centering first (distances are translation
    # invariant) keeps it relative to the batch's spread, not to its offset from the origin
    # (float32 data at 1000 + N(0, 1): errors of 1.6 on distances of ~10 without it). The
    # expansion can round slightly below zero, hence the clamp, and is not exactly symmetric,
    # hence the average with the transpose.
    Xc = X - X.mean(dim=0, keepdim=True)
    D = torch.cdist(Xc, Xc, compute_mode="use_mm_for_euclid_dist").square().clamp_min_(0.0)
    D = 0.5 * (D + D.T)
    D.fill_diagonal_(0.0)  # (B, B)
    return D


def median_heuristic_sigma(X: torch.Tensor) -> float:
    r"""Gaussian width from the median distance, :math:`\sigma^2 = \mathrm{median}_{i<j} D_{ij}/2`.

    With this width the kernel :math:`\exp(-D_{ij} / 2\sigma^2)` equals :math:`e^{-1}` at the
    median distance, so half of all pairs get an affinity above 0.37.

    Parameters
    ----------
    X : Tensor of shape (B, n_features)

    Returns
    -------
    sigma : float
        Positive; 1.0 when all points coincide.

    Examples
    --------
    >>> import torch
    >>> median_heuristic_sigma(torch.tensor([[0.0], [2.0]]))
    1.4142135623730951
    """
    s = power_of_two_scale(X)
    D = squared_distances(X / s)
    iu = torch.triu_indices(D.shape[0], D.shape[0], offset=1)
    med = float(D[iu[0], iu[1]].median()) if iu.shape[1] else 0.0
    return math.sqrt(med / 2.0) * s if med > 0 else 1.0


def rbf_affinity(X: torch.Tensor, sigma: float) -> torch.Tensor:
    r"""Dense Gaussian affinity, :math:`W_{ij} = \exp(-\|x_i - x_j\|^2 / 2\sigma^2)`.

    The paper's graph. The exponent is never positive, so the kernel cannot overflow; the
    unit diagonal keeps every degree >= 1 even if all off-diagonal entries underflow.

    Parameters
    ----------
    X : Tensor of shape (B, n_features)
    sigma : float
        Kernel width, > 0.

    Returns
    -------
    W : Tensor of shape (B, B)

    Examples
    --------
    >>> import torch
    >>> W = rbf_affinity(torch.tensor([[0.0], [1.0]]), sigma=1.0)
    >>> round(float(W[0, 1]), 4), float(W[0, 0])
    (0.6065, 1.0)
    """
    if not sigma > 0:
        raise ValueError(f"sigma={sigma!r} should be > 0.")
    return torch.exp(-squared_distances(X) / (2.0 * sigma * sigma))


def self_tuning_knn_affinity(X: torch.Tensor, n_neighbors: int) -> torch.Tensor:
    r"""Symmetric k-nearest-neighbour graph with self-tuning local scales (Zelnik-Manor & Perona).

    .. math::

        \sigma_i = \|x_i - x_{(k)}\|, \qquad
        W_{ij} = \exp\!\left(-\frac{\|x_i - x_j\|^2}{\sigma_i \sigma_j}\right)
        \ \text{if } j \in \mathrm{kNN}(i) \text{ or } i \in \mathrm{kNN}(j), \text{ else } 0,

    where :math:`x_{(k)}` is the k-th nearest other point in the batch. The graph is the union
    of the directed kNN relations (``max(W, W.T)``), with ``W_ii = 1``. The local scale makes
    the graph invariant to a global rescaling of X and adapts it to regions of different
    density.

    Parameters
    ----------
    X : Tensor of shape (B, n_features)
    n_neighbors : int
        Neighbours per point, >= 1; clipped to B - 1.

    Returns
    -------
    W : Tensor of shape (B, B)

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    >>> W = self_tuning_knn_affinity(X, n_neighbors=1)
    >>> (W > 0).int()
    tensor([[1, 1, 0, 0],
            [1, 1, 0, 0],
            [0, 0, 1, 1],
            [0, 0, 1, 1]], dtype=torch.int32)
    """
    B = X.shape[0]
    if n_neighbors < 1:
        raise ValueError(f"n_neighbors={n_neighbors!r} should be >= 1.")
    k = min(n_neighbors, B - 1)
    if k < 1:
        return torch.ones((B, B), dtype=X.dtype, device=X.device)
    D = squared_distances(X)  # (B, B)
    D.fill_diagonal_(float("inf"))  # a point is not its own neighbour
    knn_d, knn_idx = torch.topk(D, k, dim=1, largest=False)  # (B, k)
    scale = knn_d[:, -1].sqrt()  # (B,) distance to the k-th neighbour
    floor = _TINY * max(float(scale.max()), _TINY)
    scale = scale.clamp_min(floor)
    # The product of two floored scales can underflow to 0 (1e-24^2 in float32): clamp it to
    # the smallest normal number so that a duplicate (distance 0) gets exp(-0) = 1, not 0/0.
    denom = (scale[:, None] * scale[knn_idx]).clamp_min(torch.finfo(X.dtype).tiny)  # (B, k)
    w = torch.exp(-knn_d / denom)  # (B, k)
    W = torch.zeros_like(D)
    W.scatter_(1, knn_idx, w)
    W = torch.maximum(W, W.T)
    W.fill_diagonal_(1.0)
    return W


def power_of_two_scale(X: torch.Tensor) -> float:
    """The power of two nearest to max|X| (1 for an all-zero or empty X).

    Parameters
    ----------
    X : Tensor

    Returns
    -------
    scale : float

    Examples
    --------
    >>> import torch
    >>> power_of_two_scale(torch.tensor([[3.0, -1000.0]]))
    1024.0
    """
    peak = float(X.abs().max()) if X.numel() else 0.0
    return 2.0 ** round(math.log2(peak)) if peak > 0 else 1.0


def make_affinity(
    affinity: str | AffinityFn,
    *,
    n_neighbors: int,
    sigma: float | None,
    scale: float = 1.0,
) -> AffinityFn:
    """The batch-graph builder named by ``affinity`` ("knn", "rbf" or a callable, returned as is).

    Built-in graphs see the batch divided by ``scale`` (a power of two, see
    :func:`power_of_two_scale`): exact in floating point, no change to the kNN graph nor to a
    Gaussian whose width is divided alike, and squared distances of data in the 1e30 range
    do not overflow.

    Parameters
    ----------
    affinity : {"knn", "rbf"} or callable
    n_neighbors : int
        Neighbours of the ``"knn"`` graph.
    sigma : float or None
        Width of the ``"rbf"`` kernel (required for it).
    scale : float, default=1.0
        Power of two that divides every batch first.

    Returns
    -------
    build : callable
        Batch (B, n_features) -> affinity (B, B).

    Examples
    --------
    >>> import torch
    >>> W = make_affinity("rbf", n_neighbors=10, sigma=1.0, scale=4.0)(torch.tensor([[0.0], [1.0]]))
    >>> round(float(W[0, 1]), 4)
    0.6065
    """
    if callable(affinity):
        return affinity
    if affinity == "knn":
        knn = partial(self_tuning_knn_affinity, n_neighbors=n_neighbors)
        return lambda xb: knn(xb / scale)
    if sigma is None:
        raise ValueError("sigma=None: the 'rbf' affinity needs a width.")
    sigma_scaled = sigma / scale
    return lambda xb: rbf_affinity(xb / scale, sigma_scaled)


def graph_factory(
    affinity: str | AffinityFn, n_neighbors: int, X: torch.Tensor
) -> AffinityFactory:
    """``sigma -> batch-graph builder`` for data like X: :func:`make_affinity` with the scale
    of X (:func:`power_of_two_scale`).

    Parameters
    ----------
    affinity : {"knn", "rbf"} or callable
    n_neighbors : int
    X : Tensor of shape (n, n_features)
        The training rows, whose largest magnitude sets the scale.

    Returns
    -------
    factory : callable
        ``factory(sigma)`` is the batch-graph builder (sigma is None unless ``"rbf"``).

    Examples
    --------
    >>> import torch
    >>> build = graph_factory("knn", 1, torch.tensor([[0.0], [1.0], [9.0]]))(None)
    >>> (build(torch.tensor([[0.0], [1.0], [9.0]])) > 0).sum().item()
    7
    """
    scale = power_of_two_scale(X)
    return lambda sigma: make_affinity(affinity, n_neighbors=n_neighbors, sigma=sigma,
                                       scale=scale)


def choose_sigma(
    affinity: object,
    sigma: float | None,
    X: torch.Tensor,
    *,
    sample_size: int,
    generator: torch.Generator,
) -> float | None:
    """Width of the ``"rbf"`` kernel: ``sigma`` if given, else the median heuristic on a
    random sample of ``sample_size`` rows of X; None for any other affinity.

    Parameters
    ----------
    affinity : str or callable
        The estimator's ``affinity``.
    sigma : float or None
        The estimator's ``sigma``.
    X : Tensor of shape (n, n_features)
    sample_size : int
        Rows of the median heuristic's sample.
    generator : torch.Generator
        Draws the sample.

    Returns
    -------
    sigma : float or None

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[0.0], [2.0]])
    >>> choose_sigma("rbf", None, X, sample_size=2, generator=torch.Generator())
    1.4142135623730951
    >>> choose_sigma("knn", None, X, sample_size=2, generator=torch.Generator()) is None
    True
    """
    if affinity != "rbf":
        return None
    if sigma is not None:
        return float(sigma)
    idx = torch.randperm(X.shape[0], generator=generator)[:sample_size]
    return median_heuristic_sigma(X[idx])
