"""Distillation: teach the membership network a hard partition by cross-entropy."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._adam import CosineAdam
from .._batches import iter_batches, n_batches_per_epoch
from .._network import hidden_widths
from .._threads import torch_threads
from .._training import finite_state

__all__ = ["distill", "distill_epochs", "distill_learning_rate", "distill_partition"]

# At most this many cross-entropy steps: fewer leave the memberships of long chains soft, and
# Ncut training then trades the cut for orthogonality (decision D4).
_DISTILL_STEPS = 3000
# ... and at most this many epochs, unless that is fewer than _DISTILL_MIN_STEPS steps: below
# 3 000 points the step budget made every point seen thousands of times (2 500 epochs at 300
# points), memorizing the labels of noise and of boundary points where clusters overlap, for
# seconds; but a small network on a hundred points needs about a thousand steps whatever the
# epochs (decision D5).
_DISTILL_EPOCHS = 250
_DISTILL_MIN_STEPS = 1000
# ... stopping after the first epoch whose mean cross-entropy is below this (mean probability
# of the taught cluster about 0.99), so easy partitions take far fewer steps (decision D4).
_DISTILL_TOL = 0.01
# ... or, once _DISTILL_MIN_STEPS are taken, after the first epoch whose mean cross-entropy is
# above _DISTILL_PLATEAU_RATIO times its value _DISTILL_PLATEAU_EPOCHS epochs before: a
# partition whose boundary runs through overlapping clusters never reaches _DISTILL_TOL, and
# the rest of the budget only memorized its boundary points; partitions that reach
# _DISTILL_TOL stop there first and distil as before (decision D6).
_DISTILL_PLATEAU_EPOCHS = 10
_DISTILL_PLATEAU_RATIO = 0.9
_DISTILL_BATCH = 256
# Adam's initial learning rate for a 512-unit network, scaled by 512 / width up to 3 times
# (distill_learning_rate; decision D7).
_DISTILL_LR = 1e-3
_DISTILL_LR_WIDTH = 512
_DISTILL_LR_MAX_FACTOR = 3.0


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
    horizon: int | None = None,
    plateau_from: int | None = None,
) -> None:
    """Fit ``network`` to hard ``labels`` by cross-entropy, in place.

    At most ``epochs`` epochs of Adam, its learning rate cosine-annealed to 0 over ``horizon``
    steps; stops after the first epoch whose mean cross-entropy is below ``tol`` (the
    memberships are then near one-hot, which Ncut training needs to keep them) or, from
    epoch ``plateau_from`` on, above 0.9 times its value 10 epochs before (a plateau).

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
    horizon : int, optional
        Steps of the cosine schedule; by default all of them (``epochs`` times the batches
        of an epoch). A longer horizon truncates the schedule: the learning rate is still
        high where the epochs end.
    plateau_from : int, optional
        The first epoch (counted from 1) at whose end a plateau may stop the distillation;
        None never stops on one.

    Raises
    ------
    RuntimeError
        If the weights became non-finite.
    """
    n_batches = n_batches_per_epoch(X.shape[0], batch_size)
    opt = CosineAdam(network.parameters(), lr, horizon or epochs * n_batches)
    network.train()
    means: list[float] = []
    for epoch in range(1, epochs + 1):
        total = 0.0
        for idx in iter_batches(X.shape[0], batch_size, generator):
            loss = nn.functional.cross_entropy(network(X[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        means.append(total / n_batches)
        if means[-1] < tol or (
            plateau_from is not None and epoch >= plateau_from
            and epoch > _DISTILL_PLATEAU_EPOCHS
            and means[-1] > _DISTILL_PLATEAU_RATIO * means[-1 - _DISTILL_PLATEAU_EPOCHS]
        ):
            break
    if not finite_state(torch.zeros(()), network):
        raise RuntimeError(
            "the warm start diverged: distilling the initial partition left non-finite"
            " weights. Check X for extreme values."
        )


def distill_epochs(n_samples: int) -> int:
    r"""The warm start's distillation budget in epochs of ``_DISTILL_BATCH`` points.

    :math:`\max(\min(\lceil 3000 / b \rceil, 250), \lceil 1000 / b \rceil)` for b batches
    per epoch: at most 3 000 steps and 250 epochs, at least 1 000 steps.

    Examples
    --------
    >>> [distill_epochs(n) for n in (100, 300, 1000, 3000, 20000)]
    [1000, 500, 250, 250, 38]
    """
    n_batches = n_batches_per_epoch(n_samples, _DISTILL_BATCH)
    capped = min(math.ceil(_DISTILL_STEPS / n_batches), _DISTILL_EPOCHS)
    return max(capped, math.ceil(_DISTILL_MIN_STEPS / n_batches))


def distill_learning_rate(network: nn.Module) -> float:
    r"""Adam's initial learning rate for distilling into ``network``.

    :math:`10^{-3} \cdot \min(512 / w, 3)` for :math:`w` the widest hidden layer (3e-3 without
    one). Adam moves every weight by about the learning rate, so a unit's pre-activation moves
    by about the learning rate times its fan-in: a narrower network takes proportionally larger
    steps for the same change (the width scaling of muP, Yang et al., arXiv:2203.03466).

    Measured (decision D7): at 1e-3, the 128-unit network of small data needed several times
    more steps than at 3e-3 for the same partitions, while at 3e-3 the 512-unit network of
    MNIST needed *more* steps than at 1e-3: too large a step for it. So 512 units keep 1e-3
    and 128 get 3e-3; widths between are interpolated by the rule, not measured.

    Examples
    --------
    >>> from neuncut._network import MembershipNetwork
    >>> [distill_learning_rate(MembershipNetwork(2, h, 3)) for h in [(512, 512), (256,), (16,)]]
    [0.001, 0.002, 0.003]
    """
    hidden = hidden_widths(network)
    factor = _DISTILL_LR_WIDTH / max(hidden) if hidden else _DISTILL_LR_MAX_FACTOR
    return _DISTILL_LR * min(factor, _DISTILL_LR_MAX_FACTOR)


def distill_partition(
    network: nn.Module, X: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
) -> None:
    """:func:`distill` with the warm start's budget (:func:`distill_epochs`, batches of 256
    points, :func:`distill_learning_rate`), fewer epochs once an epoch's mean loss is below
    ``_DISTILL_TOL`` or, after 1 000 steps, no longer falls by a tenth in 10 epochs.

    The learning rate follows the cosine schedule of the 3 000-step budget, cut off where the
    epoch cap ends it.

    Parameters
    ----------
    network : nn.Module
    X : Tensor of shape (n, n_features)
    labels : LongTensor of shape (n,)
    generator : torch.Generator
    """
    epochs = distill_epochs(X.shape[0])
    n_batches = n_batches_per_epoch(X.shape[0], _DISTILL_BATCH)
    # The schedule of the 3 000-step budget, truncated at the epoch cap: annealed over the
    # shorter budget, the learning rate fell sooner and the cross-entropy reached _DISTILL_TOL
    # later, or not before the end (decision D5). The budget never exceeds it:
    # distill_epochs is at most ceil(3 000 / b).
    horizon = math.ceil(_DISTILL_STEPS / n_batches) * n_batches
    # One thread: thousands of small ops, which two threads slow down beside a busy process
    # (neuncut._threads; decision D17).
    with torch_threads(1):
        distill(
            network, X, labels, epochs=epochs, batch_size=_DISTILL_BATCH,
            lr=distill_learning_rate(network), generator=generator, tol=_DISTILL_TOL,
            horizon=horizon, plateau_from=math.ceil(_DISTILL_MIN_STEPS / n_batches),
        )
