"""Optimisation of the membership network: batch sampling, distillation, Ncut training."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .loss import merge_gains, ncut_loss

__all__ = [
    "TrainingLog",
    "distill",
    "iter_batches",
    "select_penalty",
    "train_ncut",
]

logger = logging.getLogger(__name__)

AffinityFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class TrainingLog:
    """Per-epoch means of the loss terms, and counts of passes and steps."""

    loss: list[float] = field(default_factory=list)
    cut: list[float] = field(default_factory=list)
    ortho: list[float] = field(default_factory=list)
    n_iter: int = 0
    n_steps: int = 0


def iter_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Indices of one shuffled pass over ``range(n)`` in ``ceil(n / batch_size)`` batches.

    The batches differ in size by at most one, so no batch is a tiny remainder whose graph
    would be meaningless.

    Examples
    --------
    >>> import torch
    >>> [len(b) for b in iter_batches(10, 4, torch.Generator().manual_seed(0))]
    [4, 3, 3]
    """
    perm = torch.randperm(n, generator=generator)
    yield from torch.tensor_split(perm, max(1, math.ceil(n / batch_size)))


def _cosine_adam(
    network: nn.Module, lr: float, weight_decay: float, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    opt = torch.optim.Adam(network.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total_steps))
    return opt, sched


def distill(
    network: nn.Module,
    X: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
) -> None:
    """Fit ``network`` to hard ``labels`` by cross-entropy (the spectral warm start)."""
    n_batches = max(1, math.ceil(X.shape[0] / batch_size))
    opt, sched = _cosine_adam(network, lr, 0.0, epochs * n_batches)
    network.train()
    for _ in range(epochs):
        for idx in iter_batches(X.shape[0], batch_size, generator):
            loss = nn.functional.cross_entropy(network(X[idx]), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()


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

    We take :math:`\gamma = \mathrm{safety}\cdot\bar\gamma_0`, with :math:`\bar\gamma_0`
    the mean of :math:`\gamma_0` over ``n_batches`` batches, floored at 1. A larger
    :math:`\gamma` also protects the partition but stiffens optimisation (memberships are
    pushed to one-hot before the cut can move them); the smallest protective value keeps
    the cut in charge. Nothing here reads ground-truth labels.

    Examples
    --------
    >>> import torch
    >>> from neuncut.affinity import self_tuning_knn_affinity
    >>> X = torch.cat([torch.randn(50, 2), torch.randn(50, 2) + 20.0])
    >>> labels = torch.arange(100) // 50
    >>> select_penalty(X, labels, lambda x: self_tuning_knn_affinity(x, 5), batch_size=100,
    ...                n_clusters=2, generator=torch.Generator().manual_seed(0))
    1.0
    """
    k = n_clusters
    gammas = []
    for b, idx in enumerate(iter_batches(X.shape[0], batch_size, generator)):
        if b >= n_batches:
            break
        W = affinity(X[idx])
        Y = nn.functional.one_hot(labels[idx], k).to(W.dtype)  # (B, k)
        cut = float(ncut_loss(Y, W).cut)
        worst_merge = float(merge_gains(W, labels[idx], k).max())
        gammas.append(2 * k * max(worst_merge, cut / math.sqrt(max(k - 1, 1))))
    return max(1.0, safety * float(np.mean(gammas)))


def train_ncut(
    network: nn.Module,
    X: torch.Tensor,
    affinity: AffinityFn,
    *,
    penalty: float,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    generator: torch.Generator,
    verbose: int = 0,
) -> TrainingLog:
    """Minibatch Adam on ``cut + penalty / 2 * ortho``, cosine-annealed learning rate.

    Each step draws a batch, builds its graph with ``affinity`` and takes one step on the
    relaxed normalized cut of ``softmax(network(X_batch))``.
    """
    log = TrainingLog()
    n_batches = max(1, math.ceil(X.shape[0] / batch_size))
    opt, sched = _cosine_adam(network, lr, weight_decay, epochs * n_batches)
    network.train()
    bar = tqdm(range(epochs), desc="NeuNcut", disable=verbose < 1, leave=False)
    for epoch in bar:
        sums = np.zeros(3)
        for idx in iter_batches(X.shape[0], batch_size, generator):
            xb = X[idx]
            with torch.no_grad():
                W = affinity(xb)
            terms = ncut_loss(torch.softmax(network(xb), dim=1), W)
            loss = terms.cut + 0.5 * penalty * terms.ortho
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            sums += [float(loss.detach()), float(terms.cut.detach()), float(terms.ortho.detach())]
            log.n_steps += 1
        means = sums / n_batches
        log.loss.append(means[0])
        log.cut.append(means[1])
        log.ortho.append(means[2])
        log.n_iter = epoch + 1
        bar.set_postfix(cut=f"{means[1]:.4f}", ortho=f"{means[2]:.4f}", gamma=f"{penalty:.3g}")
        if verbose >= 2:
            logger.info("epoch %d: loss %.5f cut %.5f ortho %.5f", epoch + 1, *means)
    return log


