"""Ncut training of the membership network: minibatch Adam on the relaxed normalized cut."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._adam import CosineAdam
from ._batches import iter_batches, n_batches_per_epoch
from ._distributed import all_finite, rank_and_world, wrap
from .affinity import AffinityFn
from .loss import ncut_loss

__all__ = ["TrainingLog", "finite_state", "objective", "settled", "train_ncut"]

logger = logging.getLogger(__name__)

# Non-finite loss or weights: restore the state at the start of the epoch and halve the step,
# at most this many times in a fit, then stop with an error.
_MAX_RECOVERIES = 8
# Rows whose labels the stopping rule follows: every ceil(n / _PROBE_ROWS)-th training row.
_PROBE_ROWS = 2048


@dataclass
class TrainingLog:
    """Per-epoch means of the loss terms; counts of passes, steps and recoveries.

    ``label_changes`` is, per epoch, the fraction of the probe rows (every
    ``ceil(n / 2048)``-th training row) whose label the epoch changed. ``n_recoveries`` counts
    the times a non-finite loss or weight was met, the state of the start of the epoch
    restored and the learning rate halved.
    """

    loss: list[float] = field(default_factory=list)
    cut: list[float] = field(default_factory=list)
    ortho: list[float] = field(default_factory=list)
    label_changes: list[float] = field(default_factory=list)
    n_iter: int = 0
    n_steps: int = 0
    n_recoveries: int = 0


@dataclass
class _GoodState:
    """Copies of the network and optimizer state to fall back on after a non-finite step."""

    network: dict
    optimizer: dict

    @classmethod
    def take(cls, network: nn.Module, opt: CosineAdam) -> _GoodState:
        return cls(copy.deepcopy(network.state_dict()), copy.deepcopy(opt.state_dict()))


def finite_state(loss: torch.Tensor, network: nn.Module) -> bool:
    """Whether the loss and every parameter of the network are finite."""
    finite = [torch.isfinite(loss).all()] + [torch.isfinite(p).all() for p in network.parameters()]
    return bool(torch.stack(finite).all())


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
    tol: float | None = None,
    n_iter_no_change: int = 1,
    verbose: int = 0,
    resume: tuple[dict, dict, TrainingLog] | None = None,
    on_epoch_end: Callable[[CosineAdam, TrainingLog], None] | None = None,
    graph_rows: torch.Tensor | None = None,
) -> TrainingLog:
    """Minibatch Adam on ``cut + penalty / 2 * ortho``, cosine-annealed learning rate.

    Each step draws a batch, builds its graph with ``affinity`` (on the batch's
    ``graph_rows``, X's own rows by default) and takes one step on the relaxed normalized cut
    of ``softmax(network(X_batch))``. Training stops before
    ``epochs`` once ``n_iter_no_change`` epochs in a row each changed the label of at most a
    fraction ``tol`` of the probe rows (a fixed stride of the training rows): the
    partition has settled, and further epochs only sharpen memberships. The rule reads
    nothing but the network, so a resumed run stops where the uninterrupted one does.

    Numerical safety: when the loss or a weight becomes non-finite, the network and Adam
    are restored to the start of the epoch and the learning rate is halved; after
    ``_MAX_RECOVERIES`` such events training stops with a RuntimeError, so a network that
    predicts NaN is never returned. In a process group each process takes its share of every
    epoch's batches and the network is wrapped in DistributedDataParallel
    (:mod:`neuncut._distributed`).

    Parameters
    ----------
    network : nn.Module
        The membership network, trained in place.
    X : Tensor of shape (n, n_features)
        The training rows, on the network's device.
    affinity : callable
        Batch-graph builder, (B, n_features) -> (B, B).
    penalty : float
        The orthogonality weight gamma.
    epochs : int
        Passes over X (``max_epochs``).
    batch_size : int
        Points per batch graph.
    lr, weight_decay : float
        Adam's initial step (cosine-annealed to 0 over all steps) and L2 decay.
    generator : torch.Generator
        Draws the batches.
    tol : float or None, default=None
        Fraction of probe rows whose label may change in a settled epoch; None never stops
        before ``epochs``.
    n_iter_no_change : int, default=1
        Settled epochs in a row that stop training.
    verbose : int, default=0
        1 shows a progress bar, 2 also logs every epoch's means.
    resume : (optimizer state, schedule state, log), optional
        Continue a run from the end of epoch ``log.n_iter`` (the network and ``generator``
        must hold that epoch's state too; see :mod:`neuncut._checkpoint`): the states of
        :meth:`CosineAdam.state_dict` and :meth:`CosineAdam.schedule_state_dict`.
    on_epoch_end : callable, optional
        Called as ``on_epoch_end(optimizer, log)`` with the :class:`CosineAdam` before the
        first epoch and after each one (to write checkpoints).
    graph_rows : Tensor of shape (n, d), optional
        What the batch graphs are built on, row for row with X: with a learned
        representation, the codes of the encoder the autoencoder left, while the network
        (encoder + head, trained together) reads the raw rows X.

    Returns
    -------
    log : TrainingLog
    """
    log = TrainingLog()
    rank, world = rank_and_world()
    n_batches = n_batches_per_epoch(X.shape[0], batch_size, world)
    opt = CosineAdam(network.parameters(), lr, epochs * n_batches, weight_decay=weight_decay)
    model = wrap(network)  # DistributedDataParallel in a process group, else the network
    if resume is not None:
        opt.load_state_dict(resume[0], resume[1])
        log = resume[2]
    elif on_epoch_end is not None:
        on_epoch_end(opt, log)
    network.train()
    probe = X[:: -(-X.shape[0] // _PROBE_ROWS)]
    probe_labels = _labels(network, probe)
    bar = tqdm(range(log.n_iter, epochs), desc="NeuNcut", disable=verbose < 1, leave=False)
    for epoch in bar:
        if settled(log.label_changes, tol, n_iter_no_change):
            if verbose:
                logger.info("stopped after epoch %d: %d epochs changed at most %.3g of the"
                            " labels", log.n_iter, n_iter_no_change, tol)
            break
        good = _GoodState.take(network, opt)
        sums, n_summed = np.zeros(3), 0
        for idx in iter_batches(X.shape[0], batch_size, generator, rank=rank, world=world):
            xb = X[idx]
            with torch.no_grad():
                W = affinity(xb if graph_rows is None else graph_rows[idx])
            terms = ncut_loss(torch.softmax(model(xb), dim=1), W)
            loss = terms.cut + 0.5 * penalty * terms.ortho
            if all_finite(loss):  # on every process, so that all skip the step alike
                opt.zero_grad()
                loss.backward()
                opt.step()
            log.n_steps += 1
            if not finite_state(loss, network):
                good = _recover(network, opt, good, log, lr)
                continue
            sums += [float(loss.detach()), float(terms.cut.detach()), float(terms.ortho.detach())]
            n_summed += 1
        means = sums / max(n_summed, 1)
        new_labels = _labels(network, probe)
        log.label_changes.append(float((new_labels != probe_labels).float().mean()))
        probe_labels = new_labels
        log.loss.append(means[0])
        log.cut.append(means[1])
        log.ortho.append(means[2])
        log.n_iter = epoch + 1
        bar.set_postfix(cut=f"{means[1]:.4f}", ortho=f"{means[2]:.4f}", gamma=f"{penalty:.3g}")
        if verbose >= 2:
            logger.info("epoch %d: loss %.5f cut %.5f ortho %.5f", epoch + 1, *means)
        if on_epoch_end is not None:
            on_epoch_end(opt, log)
    return log


def settled(label_changes: list[float], tol: float | None, n_iter_no_change: int) -> bool:
    """Whether the last ``n_iter_no_change`` epochs each changed at most ``tol`` of the labels
    (never when ``tol`` is None).

    Examples
    --------
    >>> settled([0.2, 0.0005, 0.0], tol=1e-3, n_iter_no_change=2)
    True
    >>> settled([0.2, 0.0], tol=1e-3, n_iter_no_change=2)
    False
    """
    recent = label_changes[-n_iter_no_change:]
    return tol is not None and len(recent) == n_iter_no_change and max(recent) <= tol


@torch.no_grad()
def _labels(network: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The network's hard labels of the rows X."""
    return network(X).argmax(dim=1)


def _recover(
    network: nn.Module,
    opt: CosineAdam,
    good: _GoodState,
    log: TrainingLog,
    lr: float,
) -> _GoodState:
    """Restore the last good state and halve the learning rate, or raise after too many."""
    log.n_recoveries += 1
    if log.n_recoveries > _MAX_RECOVERIES:
        raise RuntimeError(
            f"Ncut training diverged: the loss or the weights became non-finite"
            f" {log.n_recoveries} times although the learning rate was halved each time"
            f" (learning_rate={lr:g} -> {lr * 0.5**_MAX_RECOVERIES:g}). Check X for extreme"
            " values, or lower learning_rate."
        )
    logger.warning(
        "non-finite loss or weights at step %d: restored the start of the epoch and halved"
        " the learning rate", log.n_steps,
    )
    network.load_state_dict(good.network)
    opt.load_state_dict(good.optimizer)  # the schedule keeps its position
    opt.halve_learning_rate()
    return _GoodState.take(network, opt)


@torch.no_grad()
def objective(
    P: torch.Tensor, X: torch.Tensor, affinity: AffinityFn, *, penalty: float, batch_size: int
) -> float:
    """Mean of ``cut + penalty / 2 * ortho`` over consecutive batches of rows of X.

    The training objective measured on given memberships P (n, k) of X (n, n_features),
    batches of ``batch_size`` rows in their given order (no randomness).

    Parameters
    ----------
    P : Tensor of shape (n, k)
    X : Tensor of shape (n, n_features)
    affinity : callable
        Batch-graph builder.
    penalty : float
    batch_size : int

    Returns
    -------
    value : float

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[0.0], [0.1], [5.0], [5.1]])
    >>> P = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> from neuncut.affinity import self_tuning_knn_affinity
    >>> value = objective(P, X, lambda x: self_tuning_knn_affinity(x, 1), penalty=10.0,
    ...                   batch_size=4)
    >>> round(value, 4)  # two perfectly separated pairs: no cut, orthogonal
    0.0
    """
    n_batches = n_batches_per_epoch(X.shape[0], batch_size)
    losses = []
    for idx in torch.tensor_split(torch.arange(X.shape[0]), n_batches):
        terms = ncut_loss(P[idx], affinity(X[idx]))
        losses.append(float(terms.cut + 0.5 * penalty * terms.ortho))
    return float(np.mean(losses))
