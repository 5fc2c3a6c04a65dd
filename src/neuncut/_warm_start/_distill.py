"""Distillation: teach the membership network a hard partition by cross-entropy."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._batches import iter_batches, n_batches_per_epoch
from .._threads import torch_threads
from .._training import cosine_adam, finite_state

__all__ = ["distill", "distill_partition"]

# At most this many cross-entropy steps: fewer leave the memberships of long chains soft, and
# Ncut training then trades the cut for orthogonality (benchmarks/README.md).
_DISTILL_STEPS = 3000
# ... and at most this many epochs: below 3 000 points the step budget made every point seen
# thousands of times (2 500 epochs at 300 points), memorizing the labels of noise and of
# boundary points where clusters overlap, for seconds.
_DISTILL_EPOCHS = 250
# ... stopping after the first epoch whose mean cross-entropy is below this (mean probability
# of the taught cluster about 0.99), so easy partitions take far fewer steps.
_DISTILL_TOL = 0.01
_DISTILL_BATCH = 256
_DISTILL_LR = 1e-3


def distill(
    network: nn.Module,
    X: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
    tol: float = 0.0,
) -> None:
    """Fit ``network`` to hard ``labels`` by cross-entropy, in place.

    At most ``epochs`` epochs of Adam (cosine-annealed learning rate); stops after the first
    epoch whose mean cross-entropy is below ``tol`` (the memberships are then near one-hot,
    which Ncut training needs to keep them).

    Parameters
    ----------
    network : nn.Module
    X : Tensor of shape (n, n_features)
    labels : LongTensor of shape (n,)
    epochs, batch_size : int
    lr : float
        Adam's initial learning rate.
    generator : torch.Generator
        Draws the batches.
    tol : float, default=0.0
        Early stop on the epoch's mean cross-entropy.

    Raises
    ------
    RuntimeError
        If the weights became non-finite.
    """
    n_batches = n_batches_per_epoch(X.shape[0], batch_size)
    opt, sched = cosine_adam(network, lr, 0.0, epochs * n_batches)
    network.train()
    for _ in range(epochs):
        total = 0.0
        for idx in iter_batches(X.shape[0], batch_size, generator):
            loss = nn.functional.cross_entropy(network(X[idx]), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        if total / n_batches < tol:
            break
    if not finite_state(torch.zeros(()), network):
        raise RuntimeError(
            "the warm start diverged: distilling the initial partition left non-finite"
            " weights. Check X for extreme values."
        )


def distill_partition(
    network: nn.Module, X: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
) -> None:
    """:func:`distill` with the warm start's budget: at most ``_DISTILL_STEPS`` steps of
    ``_DISTILL_BATCH`` points, fewer once an epoch's mean loss is below ``_DISTILL_TOL``.

    Parameters
    ----------
    network : nn.Module
    X : Tensor of shape (n, n_features)
    labels : LongTensor of shape (n,)
    generator : torch.Generator
    """
    n_batches = n_batches_per_epoch(X.shape[0], _DISTILL_BATCH)
    # One thread: thousands of small ops (neuncut._threads); beside a busy process two
    # threads took 2.3 times as long as one (benchmarks/README.md, "Threads under load").
    with torch_threads(1):
        distill(
            network, X, labels, epochs=min(math.ceil(_DISTILL_STEPS / n_batches), _DISTILL_EPOCHS),
            batch_size=_DISTILL_BATCH, lr=_DISTILL_LR, generator=generator, tol=_DISTILL_TOL,
        )
