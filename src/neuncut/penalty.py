"""Label-free choice of the orthogonality weight gamma (``NeuNcut(penalty=None)``)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ._batches import iter_batches
from .affinity import AffinityFn
from .loss import merge_gains, ncut_loss, trivial_ortho

__all__ = ["select_penalty", "trivial_penalty"]


@torch.no_grad()
def select_penalty(
    X: torch.Tensor,
    labels: torch.Tensor,
    affinity: AffinityFn,
    *,
    batch_size: int,
    n_clusters: int,
    generator: torch.Generator,
    n_batches: int = 4,
    safety: float = 2.0,
) -> float:
    r"""Label-free choice of the orthogonality weight :math:`\gamma` (``penalty=None``).

    ``labels`` is a reference partition of ``X`` computed without labels (the warm start's
    spectral or k-means clusters). On a batch graph, merging its clusters a and b lowers the
    cut by :math:`\Delta_{ab}` (:func:`neuncut.loss.merge_gains`) and raises the
    orthogonality term by exactly :math:`1/k`; collapsing everything into a trivial solution
    lowers the cut by :math:`c = \mathrm{Ncut}` of the partition and raises the orthogonality
    term by :math:`\sqrt{k-1}/k`. The partition is therefore stable against both moves iff

    .. math::

        \gamma > \gamma_0 = 2k \,\max\Big(\max_{a,b} \Delta_{ab},\;
        \frac{c}{\sqrt{k-1}}\Big).

    Every hard partition has :math:`\mathrm{cut} \le k`, so no hard partition, however poor,
    scores worse than a trivial solution once

    .. math::

        \gamma \ge \gamma_{\mathrm{triv}} = \frac{2k^2}{\sqrt{k-1}}
        \quad (66.7 \text{ for } k = 10,\ 8 \text{ for } k = 2).

    We take :math:`\gamma = \max(\mathrm{safety}\cdot\bar\gamma_0,\ \gamma_{\mathrm{triv}})`,
    with :math:`\bar\gamma_0` the mean of :math:`\gamma_0` over ``n_batches`` batches (1 for
    ``k = 1``, where the term is always 0). Why the worst-case bound as well: batch graphs are
    coarser than the warm start's graph (a 10-NN graph inside a 10 % batch is like a 100-NN
    graph of the whole set), and with :math:`\gamma = 2\bar\gamma_0` alone training drifted to
    the coarser graph's cut and lost accuracy, while the worst-case bound kept and sharpened
    the warm start (decision D15).
    Nothing here reads ground-truth labels.

    Parameters
    ----------
    X : Tensor of shape (n, n_features)
        The reference rows (the warm start's subsample).
    labels : LongTensor of shape (n,)
        Their reference partition, in [0, n_clusters).
    affinity : callable
        Batch-graph builder, (B, n_features) -> (B, B).
    batch_size : int
        Rows per batch graph.
    n_clusters : int
    generator : torch.Generator
        Draws the batches.
    n_batches : int, default=4
        Batches averaged.
    safety : float, default=2.0
        Factor on the stability bound.

    Returns
    -------
    gamma : float

    Examples
    --------
    >>> import torch
    >>> from neuncut.affinity import self_tuning_knn_affinity
    >>> X = torch.cat([torch.randn(50, 2), torch.randn(50, 2) + 20.0])
    >>> labels = torch.arange(100) // 50
    >>> select_penalty(X, labels, lambda x: self_tuning_knn_affinity(x, 5), batch_size=100,
    ...                n_clusters=2, generator=torch.Generator().manual_seed(0))
    8.0
    """
    k = n_clusters
    if k < 2:
        return 1.0
    gammas = []
    for b, idx in enumerate(iter_batches(X.shape[0], batch_size, generator)):
        if b >= n_batches:
            break
        W = affinity(X[idx])
        Y = nn.functional.one_hot(labels[idx], k).to(W.dtype)  # (B, k)
        cut = float(ncut_loss(Y, W).cut)
        worst_merge = float(merge_gains(W, labels[idx], k).max())
        gammas.append(2 * k * max(worst_merge, cut / math.sqrt(k - 1)))
    return max(safety * float(np.mean(gammas)), trivial_penalty(k))


def trivial_penalty(n_clusters: int) -> float:
    r"""The smallest :math:`\gamma` at which no hard partition loses to a trivial solution.

    A hard partition has :math:`\mathrm{cut} \le k` and ``ortho = 0``; a trivial solution
    (one cluster, or uniform memberships) has ``cut = 0`` and ``ortho = \sqrt{k-1}/k``
    (:func:`neuncut.loss.trivial_ortho`). So :math:`\gamma/2 \cdot \sqrt{k-1}/k \ge k`
    iff :math:`\gamma \ge 2k^2/\sqrt{k-1}`.

    Parameters
    ----------
    n_clusters : int, >= 2

    Returns
    -------
    gamma : float

    Examples
    --------
    >>> round(trivial_penalty(10), 2)
    66.67
    """
    return 2.0 * n_clusters / trivial_ortho(n_clusters)
