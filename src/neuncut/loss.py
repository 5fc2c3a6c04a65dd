"""The relaxed normalized-cut loss of Neural Normalized Cut.

He, Zhang, Li, Qi, Xiao, Guo. "Neural Normalized Cut: A Differential and Generalizable
Approach for Spectral Clustering", Pattern Recognition 2025 (111545), arXiv:2503.09260.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse
import torch

__all__ = ["NcutTerms", "merge_gains", "ncut_loss", "normalized_cut", "trivial_ortho"]


class NcutTerms(NamedTuple):
    """The two terms of the loss; the training objective is ``cut + penalty / 2 * ortho``."""

    cut: torch.Tensor
    ortho: torch.Tensor


def ncut_loss(P: torch.Tensor, W: torch.Tensor, *, eps: float = 1e-12) -> NcutTerms:
    r"""Relaxed normalized cut of soft memberships ``P`` on the graph ``W``.

    With degrees :math:`d = W\mathbf{1}`, :math:`L = D - W`, soft volumes
    :math:`\mathrm{vol}_j = \sum_i d_i P_{ij}` and
    :math:`H = P\,\mathrm{diag}(\mathrm{vol})^{-1/2}`:

    .. math::

        \mathrm{cut} = \mathrm{tr}(H^\top L H)
                     = \sum_j \Big(\sum_i d_i H_{ij}^2 - H_j^\top W H_j\Big),
        \qquad
        \mathrm{ortho} = \frac{1}{k}\,\big\| H^\top D H - I \big\|_F .

    For a hard partition, ``cut`` equals the normalized cut
    :math:`\sum_j \mathrm{cut}(A_j, \bar A_j) / \mathrm{vol}(A_j)` (so :math:`0 \le
    \mathrm{cut} \le k`) and ``ortho`` is 0. The trivial solutions (every point in one
    cluster, or uniform memberships) have ``cut = 0`` but ``ortho = \sqrt{k-1}/k``; that is
    what the orthogonality term is for. The Frobenius norm is not squared, as in the
    authors' code. ``D`` is never formed: ``d[:, None] * H`` costs O(Bk). Memory is
    O(B^2 + Bk).

    Parameters
    ----------
    P : Tensor of shape (B, k)
        Soft memberships, rows on the simplex.
    W : Tensor of shape (B, B)
        Symmetric non-negative affinity.
    eps : float, default=1e-12
        Floor on the volumes (an empty cluster contributes 0 to ``cut``).

    Returns
    -------
    NcutTerms
        ``cut`` and ``ortho``, scalar tensors.

    Examples
    --------
    Two triangles joined by one edge, split into its two triangles:

    >>> import torch
    >>> W = torch.zeros(6, 6)
    >>> for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
    ...     W[i, j] = W[j, i] = 1.0
    >>> P = torch.tensor([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3)
    >>> terms = ncut_loss(P, W)
    >>> round(float(terms.cut), 4), round(float(terms.ortho), 4)  # 1/7 + 1/7
    (0.2857, 0.0)
    """
    k = P.shape[1]
    d = W.sum(dim=1)  # (B,)
    vol = d @ P  # (k,)
    H = P * vol.clamp_min(eps).rsqrt()  # (B, k)
    dH = d[:, None] * H  # (B, k), D H without forming D
    cut = (dH * H).sum() - (H * (W @ H)).sum()
    gram = H.T @ dH  # (k, k), H^T D H
    eye = torch.eye(k, dtype=P.dtype, device=P.device)
    ortho = _frobenius(gram - eye) / k
    return NcutTerms(cut=cut, ortho=ortho)


def _frobenius(A: torch.Tensor) -> torch.Tensor:
    """Frobenius norm whose gradient at A = 0 is 0 instead of NaN."""
    sq = A.square().sum()
    return torch.where(sq > 0, sq.clamp_min(1e-30).sqrt(), sq)


def normalized_cut(A: scipy.sparse.spmatrix, labels: np.ndarray, n_clusters: int) -> float:
    r"""Normalized cut of a hard partition of a sparse graph (the ``cut`` term for one-hot P).

    :math:`\sum_c \mathrm{cut}(C, \bar C) / \mathrm{vol}(C)`, with
    :math:`\mathrm{vol}(C) = \sum_{i \in C} d_i` and
    :math:`\mathrm{cut}(C, \bar C) = \mathrm{vol}(C) - \sum_{i, j \in C} A_{ij}`. Empty
    clusters add 0; the value lies in [0, n_clusters]. It equals the ``cut`` term of
    :func:`ncut_loss` for one-hot memberships on the same graph, computed on a scipy sparse
    matrix of any size instead of a dense batch.

    Parameters
    ----------
    A : sparse matrix of shape (n, n)
        Symmetric non-negative affinity.
    labels : ndarray of shape (n,), int in [0, n_clusters)
    n_clusters : int

    Returns
    -------
    ncut : float

    Examples
    --------
    >>> import numpy as np, scipy.sparse
    >>> A = scipy.sparse.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float))
    >>> normalized_cut(A, np.array([0, 0, 1]), 2)  # cut 1; volumes 3 and 1
    1.3333333333333333
    """
    n = labels.shape[0]
    H = scipy.sparse.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, n_clusters))
    degree = np.asarray(A.sum(axis=1)).ravel()
    vol = H.T @ degree  # (k,)
    within = (H.T @ (A @ H)).diagonal()  # (k,)
    filled = vol > 0
    return float(((vol[filled] - within[filled]) / vol[filled]).sum())


def merge_gains(W: torch.Tensor, labels: torch.Tensor, n_clusters: int) -> torch.Tensor:
    r"""Decrease of the normalized cut when two clusters of a hard partition are merged.

    With the one-hot labels :math:`Y`, :math:`C = Y^\top W Y` (weights between clusters),
    volumes :math:`v_a = \sum_b C_{ab}` and :math:`\mathrm{cut}_a = v_a - C_{aa}`:

    .. math::

        \Delta_{ab} = \frac{\mathrm{cut}_a}{v_a} + \frac{\mathrm{cut}_b}{v_b}
                    - \frac{\mathrm{cut}_a + \mathrm{cut}_b - 2C_{ab}}{v_a + v_b}.

    Merging a and b leaves one cluster empty, which raises ``ortho`` by exactly
    :math:`1/k`, so the merge lowers the loss ``cut + (gamma/2) ortho`` iff
    :math:`\gamma < 2k\,\Delta_{ab}`. Empty clusters get 0.

    Parameters
    ----------
    W : Tensor of shape (B, B)
    labels : Tensor of shape (B,), int
    n_clusters : int

    Returns
    -------
    gains : Tensor of shape (n_clusters, n_clusters)
        Symmetric, zero on the diagonal.

    Examples
    --------
    >>> import torch
    >>> W = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    >>> merge_gains(W, torch.tensor([0, 0, 1]), 2)
    tensor([[0.0000, 0.7000],
            [0.7000, 0.0000]])
    """
    Y = torch.nn.functional.one_hot(labels, n_clusters).to(W.dtype)  # (B, k)
    C = Y.T @ (W @ Y)  # (k, k)
    vol = C.sum(dim=1)  # (k,)
    cut = vol - C.diagonal()
    ratio = torch.where(vol > 0, cut / vol.clamp_min(1e-30), torch.zeros_like(vol))
    pair_vol = vol[:, None] + vol[None, :]
    merged = (cut[:, None] + cut[None, :] - 2.0 * C) / pair_vol.clamp_min(1e-30)
    gains = ratio[:, None] + ratio[None, :] - merged
    present = (vol[:, None] > 0) & (vol[None, :] > 0)
    gains = torch.where(present, gains, torch.zeros_like(gains))
    gains.fill_diagonal_(0.0)
    return gains


def trivial_ortho(n_clusters: int) -> float:
    r"""``ortho`` of the trivial solutions (one cluster, or uniform P): :math:`\sqrt{k-1}/k`.

    Parameters
    ----------
    n_clusters : int, >= 1

    Returns
    -------
    ortho : float

    Examples
    --------
    >>> trivial_ortho(10)
    0.3
    """
    return math.sqrt(n_clusters - 1) / n_clusters
