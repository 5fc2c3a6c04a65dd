"""A neighbour embedding of the warm-start subsample: a second, better-separated view of X.

Spectral clustering minimizes a *relaxation* of the normalized cut, and on image features its
partition is often not the lowest-Ncut one: on 20 000 MNIST scattering points the spectral
partition of the self-tuning 10-NN graph has Ncut 0.52 - 0.58 and ACC 0.81 - 0.92 by subsample,
while k-means on a neighbour embedding of the same points (below) finds partitions of Ncut
0.49 - 0.52 *on that same graph*, at ACC 0.94 - 0.96. The embedding pulls every point towards its
nearest neighbours and pushes it from random points, so clusters that the kNN graph joins by a
few edges come apart and compact clusters become round: the shape k-means finds.

The graph and the layout follow UMAP (McInnes, Healy, Melville, "UMAP: Uniform Manifold
Approximation and Projection for Dimension Reduction", arXiv:1802.03426, 2018), written here in
numpy and torch for one purpose: a partition candidate for :func:`neuncut.partition.
initial_partition`, never a visualization.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import scipy.sparse
import torch
from sklearn.neighbors import NearestNeighbors

from .spectral import spectral_embedding

__all__ = ["fuzzy_knn_graph", "neighbor_embedding"]

# q(d) = 1 / (1 + a d^(2b)) fitted to UMAP's curve with min_dist=0, spread=1: the tightest
# clusters, which is what k-means on the embedding needs.
_A, _B = 1.929, 0.7915
_N_NEGATIVE = 5  # random points pushed away per attracted edge (UMAP's negative_sample_rate)
_CLIP = 4.0  # per-coordinate bound on one edge's gradient (UMAP's)
_N_CHUNKS = 20  # updates per epoch. One synchronous update per epoch (all edges at once from
# stale positions) gave ACC 0.83 on MNIST scattering; 20 gave 0.94 and 100 no better.
_BISECTION_STEPS = 64


def fuzzy_knn_graph(X: np.ndarray, n_neighbors: int) -> scipy.sparse.csr_matrix:
    r"""UMAP's fuzzy kNN graph: local, density-adaptive memberships joined by fuzzy union.

    For each point i with neighbour distances :math:`d_{ij}` (j among its ``n_neighbors``
    nearest), :math:`\rho_i = \min_j d_{ij}` and :math:`s_i > 0` solves
    :math:`\sum_j \exp(-(d_{ij} - \rho_i) / s_i) = \log_2(\text{n\_neighbors})` (bisection);
    :math:`P_{ij} = \exp(-(d_{ij} - \rho_i) / s_i)` and :math:`W = P + P^\top - P \circ P^\top`.
    Every point's nearest neighbour has membership 1, so no point is isolated, whatever the
    local density.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    n_neighbors : int

    Returns
    -------
    W : csr_matrix of shape (n, n), symmetric, entries in (0, 1], zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> W = fuzzy_knn_graph(np.array([[0.0], [1.0], [3.0], [7.0]]), 2)
    >>> bool(abs(W - W.T).max() == 0), float(W.max())
    (True, 1.0)
    """
    n = X.shape[0]
    k = max(1, min(n_neighbors, n - 1))
    dist, ind = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    # the first column is the point itself, except among duplicates: drop the self column
    # where it is found, else the last one
    self_col = np.where((ind == np.arange(n)[:, None]).any(axis=1),
                        (ind == np.arange(n)[:, None]).argmax(axis=1), k)
    keep = np.ones_like(ind, dtype=bool)
    keep[np.arange(n), self_col] = False
    dist = dist[keep].reshape(n, k).astype(np.float64)
    ind = ind[keep].reshape(n, k)
    excess = np.maximum(dist - dist[:, :1], 0.0)
    target = np.log2(k) if k > 1 else 1.0
    lo, hi = np.zeros((n, 1)), np.full((n, 1), np.inf)
    s = np.ones((n, 1))
    for _ in range(_BISECTION_STEPS):
        too_big = np.exp(-excess / s).sum(axis=1, keepdims=True) > target
        hi = np.where(too_big, s, hi)
        lo = np.where(too_big, lo, s)
        s = np.where(np.isinf(hi), 2.0 * s, 0.5 * (lo + hi))
    P = scipy.sparse.csr_matrix(
        (np.exp(-excess / s).ravel(), (np.repeat(np.arange(n), k), ind.ravel())), shape=(n, n)
    )
    W = (P + P.T - P.multiply(P.T)).tocsr()
    W.setdiag(0.0)
    W.eliminate_zeros()
    return W


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run torch ops on ``n`` threads inside the block, then restore the setting.

    The layout is thousands of small ops; on a machine whose cores are busy with another
    process, two OpenMP threads per op wait on each other (measured: 200 epochs in 260 s with
    two threads against 8 s with one, both under load; 10 s either way on an idle machine).
    """
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def neighbor_embedding(
    W: scipy.sparse.spmatrix, n_components: int, *, n_epochs: int, rng: np.random.Generator
) -> np.ndarray:
    r"""Layout of the graph W in ``n_components`` dimensions by UMAP's cross-entropy.

    Minimizes, by SGD with negative sampling,

    .. math::
        \sum_{ij} W_{ij} \left[-\log q_{ij}\right]
        + \sum_{i,\, r \text{ random}} -\log(1 - q_{ir}),
        \qquad q_{ij} = \frac{1}{1 + a \|z_i - z_j\|^{2b}},

    with a = 1.929, b = 0.7915. Every epoch samples each edge with probability
    :math:`W_{ij} / \max W`, attracts its two ends, pushes its head away from 5 random points,
    clips each coordinate of every edge's step to [-4, 4], and takes 20 synchronous steps with a
    learning rate decaying linearly from 1 to 0. Starts from the spectral embedding of W
    (:func:`neuncut.spectral.spectral_embedding`), centred and scaled to a maximum of 10.

    Parameters
    ----------
    W : sparse matrix of shape (n, n)
        Symmetric non-negative graph, e.g. :func:`fuzzy_knn_graph`.
    n_components : int
    n_epochs : int
    rng : numpy Generator
        The one source of randomness (spectral start, edge and negative sampling).

    Returns
    -------
    Z : ndarray of shape (n, n_components), float32.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(50, 5)), rng.normal(size=(50, 5)) + 4]
    >>> Z = neighbor_embedding(fuzzy_knn_graph(X, 10), 2, n_epochs=50, rng=rng)
    >>> gap = np.linalg.norm(Z[:50].mean(0) - Z[50:].mean(0))
    >>> bool(gap > 3 * max(Z[:50].std(0).max(), Z[50:].std(0).max()))
    True
    """
    U = spectral_embedding(W, n_components, seed=int(rng.integers(2**31 - 1)))
    U = U - U.mean(axis=0)
    U *= 10.0 / max(float(np.abs(U).max()), np.finfo(np.float64).tiny)
    C = scipy.sparse.coo_matrix(W)
    head = torch.from_numpy(C.row.astype(np.int64))
    tail = torch.from_numpy(C.col.astype(np.int64))
    prob = torch.from_numpy((C.data / max(float(C.data.max()), 1e-300)).astype(np.float32))
    gen = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
    with _torch_threads(1):
        Z = torch.from_numpy(U.astype(np.float32))
        for epoch in range(n_epochs):
            lr = 1.0 - epoch / n_epochs
            sampled = torch.rand(prob.shape[0], generator=gen) < prob
            hs, ts = head[sampled], tail[sampled]
            for chunk in torch.randperm(hs.shape[0], generator=gen).chunk(_N_CHUNKS):
                _sgd_step(Z, hs[chunk], ts[chunk], lr, gen)
    return Z.numpy()


def _sgd_step(
    Z: torch.Tensor, h: torch.Tensor, t: torch.Tensor, lr: float, gen: torch.Generator
) -> None:
    r"""One synchronous step on edges (h, t) and ``_N_NEGATIVE`` negatives per edge, in place.

    Attraction along an edge: :math:`\partial(-\log q)/\partial z_h
    = \frac{2ab\, d^{2(b-1)}}{1 + a d^{2b}} (z_h - z_t)`; repulsion from a random r:
    :math:`\partial(-\log(1-q))/\partial z_h = -\frac{2b}{(\epsilon + d^2)(1 + a d^{2b})}
    (z_h - z_r)` with :math:`\epsilon = 10^{-3}` (UMAP's).
    """
    step = torch.zeros_like(Z)
    diff = Z[h] - Z[t]
    d2 = (diff * diff).sum(dim=1, keepdim=True)
    attract = -2.0 * _A * _B * d2.clamp_min(1e-12).pow(_B - 1.0) / (1.0 + _A * d2.pow(_B))
    grad = (torch.where(d2 > 0, attract, 0.0) * diff).clamp(-_CLIP, _CLIP) * lr
    step.index_add_(0, h, grad)
    step.index_add_(0, t, -grad)
    hn = h.repeat_interleave(_N_NEGATIVE)
    r = torch.randint(0, Z.shape[0], (hn.shape[0],), generator=gen)
    diff = Z[hn] - Z[r]
    d2 = (diff * diff).sum(dim=1, keepdim=True)
    repel = 2.0 * _B / ((1e-3 + d2) * (1.0 + _A * d2.pow(_B)))
    grad = torch.where(d2 > 0, (repel * diff).clamp(-_CLIP, _CLIP), _CLIP) * lr
    step.index_add_(0, hn, grad)
    Z += step
