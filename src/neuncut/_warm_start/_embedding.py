"""A neighbour embedding of the warm-start subsample: a second, better-separated view of X.

Spectral clustering minimizes a *relaxation* of the normalized cut, and on image features its
partition is often not the lowest-Ncut one; k-means on a neighbour embedding of the same points
often finds partitions of lower Ncut *on the same graph* (decision D9). The
embedding pulls every point towards its nearest neighbours and pushes it from random points,
so clusters that the kNN graph joins by a few edges come apart and compact clusters become
round: the shape k-means finds.

The layout follows UMAP (McInnes, Healy, Melville, "UMAP: Uniform Manifold Approximation and
Projection for Dimension Reduction", arXiv:1802.03426, 2018), written here in numpy and torch
for one purpose, a partition candidate, never a visualization: umap-learn pulls in numba,
whose compilation costs tens of seconds in every fresh process (decision D20).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse
import torch

from .._threads import torch_threads
from ..affinity import spectral_embedding

__all__ = ["CHECK_EVERY", "neighbor_embedding"]

# q(d) = 1 / (1 + a d^(2b)) fitted to UMAP's curve with min_dist=0, spread=1: the tightest
# clusters, which is what k-means on the embedding needs.
_A, _B = 1.929, 0.7915
# The step's constants as float32 scalars (on the CPU: torch reads a 0-dim CPU tensor as a
# scalar on any device).
_C_ATTRACT, _C_REPEL, _C_A, _C_ONE, _C_EPS = (
    torch.tensor(v, dtype=torch.float32) for v in (-2.0 * _A * _B, 2.0 * _B, _A, 1.0, 1e-3)
)
# Random points pushed away per attracted edge (UMAP's negative_sample_rate; decision D11).
_N_NEGATIVE = 5
_CLIP = 4.0  # per-coordinate bound on one edge's gradient (UMAP's)
# Synchronous updates per epoch: one (all edges at once from stale positions) separates
# clusters far worse than 20; 100 is no better than 20 (decision D11).
_N_CHUNKS = 20
# The layout is shown to ``settled`` every this many epochs.
CHECK_EVERY = 25


def neighbor_embedding(
    W: scipy.sparse.spmatrix,
    n_components: int,
    *,
    n_epochs: int,
    rng: np.random.Generator,
    device: str | torch.device = "cpu",
    settled: Callable[[np.ndarray], bool] | None = None,
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
    (:func:`spectral_embedding`), centred and scaled to a maximum of 10. With ``settled``,
    stops at the first of its checks (every 25 epochs) that returns True: a label-free early
    stop, whose learning rate has not decayed to 0.

    Parameters
    ----------
    W : sparse matrix of shape (n, n)
        Symmetric non-negative graph, e.g. :func:`neuncut.affinity.fuzzy_knn_graph`.
    n_components : int
    n_epochs : int
    rng : numpy Generator
        The one source of randomness (spectral start, edge and negative sampling).
    device : str or torch.device, default="cpu"
        Where the layout runs (the fit's device: ``"cuda"`` runs it on the GPU, with the
        GPU's generator, so its draws differ from the CPU's).
    settled : callable, optional
        Called with the layout so far (ndarray of shape (n, n_components)) after every
        ``CHECK_EVERY`` epochs; True ends the layout there. It must not draw from ``rng``.

    Returns
    -------
    Z : ndarray of shape (n, n_components), float32.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(50, 5)), rng.normal(size=(50, 5)) + 4]
    >>> from neuncut.affinity import fuzzy_knn_graph
    >>> Z = neighbor_embedding(fuzzy_knn_graph(X, 10), 2, n_epochs=50, rng=rng)
    >>> gap = np.linalg.norm(Z[:50].mean(0) - Z[50:].mean(0))
    >>> bool(gap > 3 * max(Z[:50].std(0).max(), Z[50:].std(0).max()))
    True
    """
    U = spectral_embedding(W, n_components, seed=int(rng.integers(2**31 - 1)))
    U = U - U.mean(axis=0)
    peak = float(np.abs(U).max())
    if peak > 1e-150:  # all points coincide (a constant embedding): nothing to scale
        U *= 10.0 / peak
    C = scipy.sparse.coo_matrix(W)
    head = torch.from_numpy(C.row.astype(np.int64)).to(device)
    tail = torch.from_numpy(C.col.astype(np.int64)).to(device)
    prob = torch.from_numpy((C.data / max(float(C.data.max()), 1e-300)).astype(np.float32))
    prob = prob.to(device)
    gen = torch.Generator(device=device).manual_seed(int(rng.integers(2**63 - 1)))
    # Inference mode: no autograd bookkeeping on any of the thousands of small ops, the same
    # numbers, less time per epoch at small n (decision D20).
    with torch_threads(1), torch.inference_mode():
        # Row-major: the eigenvectors come column-major from LAPACK, and gathering rows of a
        # column-major Z made index_select several times slower (decision D20).
        Z = torch.from_numpy(np.ascontiguousarray(U, dtype=np.float32)).to(device)
        for epoch in range(n_epochs):
            lr = 1.0 - epoch / n_epochs
            sampled = torch.rand(prob.shape[0], generator=gen, device=device) < prob
            # The sampled edges in a random order: head[sampled][order], by one gather per
            # end (the same values, faster than boolean masks and reorderings; decision D20).
            edges = sampled.nonzero().view(-1)
            order = torch.randperm(edges.shape[0], generator=gen, device=device)
            edges = edges.index_select(0, order)
            hs, ts = head.index_select(0, edges), tail.index_select(0, edges)
            runs = _runs(hs.shape[0], _N_CHUNKS)
            # The epoch's steps laid out once: step i's pairs are its run of edges, then
            # their heads each paired with _N_NEGATIVE random points, all drawn in one call
            # (the numbers that one call per step drew, on CPU). Slicing this per step gives
            # the same steps as gathering per step, with a third fewer small torch ops.
            q = _N_NEGATIVE
            hn = hs.repeat_interleave(q)
            rn = torch.randint(0, Z.shape[0], hn.shape, generator=gen, device=device)
            if runs:  # always, unless W has no edge
                heads = torch.cat([x for a, b in runs for x in (hs[a:b], hn[q * a:q * b])])
                others = torch.cat([x for a, b in runs for x in (ts[a:b], rn[q * a:q * b])])
            for a, b in runs:
                span = slice((q + 1) * a, (q + 1) * b)
                _sgd_step(Z, heads[span], others[span], b - a, lr)
            if settled is not None and (epoch + 1) % CHECK_EVERY == 0 and epoch + 1 < n_epochs:
                if settled(Z.cpu().numpy()):
                    break
    return Z.cpu().numpy()


def _runs(n: int, n_runs: int) -> list[tuple[int, int]]:
    """The (start, stop) bounds of ``torch.arange(n).chunk(n_runs)``: runs of
    ``ceil(n / n_runs)`` items, the last shorter, none empty (fewer runs if n is small).

    >>> _runs(10, 4)
    [(0, 3), (3, 6), (6, 9), (9, 10)]
    >>> _runs(2, 4)
    [(0, 1), (1, 2)]
    """
    size = -(-n // n_runs) if n else 1
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _sgd_step(
    Z: torch.Tensor, heads: torch.Tensor, others: torch.Tensor, m: int, lr: float
) -> None:
    r"""One synchronous step on the pairs (heads, others), in place: the first ``m`` pairs
    are edges, attracted; the rest are negatives (a head and a random point), repelled.

    Attraction along an edge: :math:`\partial(-\log q)/\partial z_h
    = \frac{2ab\, d^{2(b-1)}}{1 + a d^{2b}} (z_h - z_t)`; repulsion from a random r:
    :math:`\partial(-\log(1-q))/\partial z_h = -\frac{2b}{(\epsilon + d^2)(1 + a d^{2b})}
    (z_h - z_r)` with :math:`\epsilon = 10^{-3}` (UMAP's). Every step is computed from the
    positions before the step; edges and negatives share one gather and one scatter (the
    step is a few dozen torch ops whatever its size, so their count sets the layout's time
    at small n).
    """
    # index_select, not Z[heads]: the same values, faster on CPU (decision D20)
    diff = Z.index_select(0, heads) - Z.index_select(0, others)
    d2 = (diff * diff).sum(dim=1, keepdim=True)
    near, far = d2[:m].clamp_min(1e-12), d2[m:]
    near_b = near.pow(_B)
    # attract = -2ab near_b / (near (1 + a near_b)), repel = 2b / ((eps + far)(1 + a far^b)):
    # the operations of those expressions in their order (``2b / x`` is torch's
    # ``x.reciprocal() * 2b``), in place, with the constants as float32 tensors, which spares
    # each product a conversion of a Python float; the same numbers, less layout time at small
    # n (decision D20).
    attract = near_b.mul(_C_ATTRACT).div_(near_b.mul(_C_A).add_(_C_ONE).mul_(near))
    repel = far.pow(_B).mul_(_C_A).add_(_C_ONE).mul_(far.add(_C_EPS)).reciprocal_()
    repel.mul_(_C_REPEL)
    # The per-pair factor expanded to diff's shape before the product: the same products,
    # faster than broadcasting a column (decision D20).
    factor = torch.cat((attract, repel)).expand(-1, diff.shape[1]).contiguous()
    grad = factor.mul_(diff).clamp_(-_CLIP, _CLIP)
    # Coincident points (d2 = 0, so diff = 0 and the step above is 0): no attraction, and a
    # repulsion of the clip value, as UMAP. Filling only those rows gives the same numbers
    # as a torch.where over all rows or a masked fill, in less time (decision D20).
    coincide = torch.nonzero(far.view(-1) == 0).view(-1)
    if coincide.numel():
        coincide += m
        # ... but a head drawn as its own negative is skipped, as in UMAP (its step is 0):
        # the clip value there kicked a point by 4 * lr in every coordinate, always the same
        # way, most often on small data (five negatives per edge, a 1 / n chance each;
        # decision D21).
        coincide = coincide[heads[coincide] != others[coincide]]
        grad.index_fill_(0, coincide, _CLIP)
    grad.mul_(lr)
    # index_put_ with accumulate: the sums of index_add_, in the same order, faster; the
    # tails' share negated, not index_add_'s alpha=-1.0, which leaves its fast path
    # (decision D20).
    Z.index_put_((heads,), grad, accumulate=True)
    Z.index_put_((others[:m],), grad[:m].neg(), accumulate=True)
