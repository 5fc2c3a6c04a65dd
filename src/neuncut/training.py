"""Optimisation of the membership network: batch sampling, distillation, Ncut training."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from torch import nn
from tqdm.auto import tqdm

from .distributed import all_finite, rank_and_world, wrap
from .loss import ncut_loss
from .partition import CANDIDATES, initial_partition

__all__ = [
    "TrainingLog",
    "draw_subset",
    "make_generators",
    "objective",
    "distill",
    "warm_start",
    "iter_batches",
    "n_batches_per_epoch",
    "train_ncut",
]

logger = logging.getLogger(__name__)

AffinityFn = Callable[[torch.Tensor], torch.Tensor]

# Warm start: cross-entropy steps, batch size and learning rate used to distill the initial
# partition into the network. Measured: 80 steps leave two moons at ARI 0.61 against the
# spectral partition's 1.0; 800 steps reach 1.0 (blobs: 0.71 -> 0.87 = the partition's).
# 1000 steps left three spirals at ARI 0.985 with soft memberships (mean max probability low,
# ortho 0.23 at the first epoch), and Ncut training then traded the cut for orthogonality and
# fell to ARI 0.12; 3000 steps give 0.999 with mean max probability 0.998, kept by training.
_DISTILL_STEPS = 3000
# ... at most: distillation stops after the first epoch whose mean cross-entropy is below this
# (mean probability of the taught cluster ~0.99), so easy partitions take far fewer steps.
# Two moons (1000 points): warm start 9 s -> 3 s; one boundary point of 1000 is lost (ARI
# 0.996; 1.0 with 0.003).
_DISTILL_TOL = 0.01
_DISTILL_BATCH = 256
_DISTILL_LR = 1e-3

# Non-finite loss or weights: restore the state at the start of the epoch and halve the step,
# at most this many times in a fit, then stop with an error.
_MAX_RECOVERIES = 8


@dataclass
class TrainingLog:
    """Per-epoch means of the loss terms; counts of passes, steps and recoveries.

    ``n_recoveries`` counts the times a non-finite loss or weight was met, the state of the
    start of the epoch restored and the learning rate halved.
    """

    loss: list[float] = field(default_factory=list)
    cut: list[float] = field(default_factory=list)
    ortho: list[float] = field(default_factory=list)
    n_iter: int = 0
    n_steps: int = 0
    n_recoveries: int = 0


def make_generators(random_state: object) -> tuple[np.random.Generator, torch.Generator]:
    """One numpy and one torch Generator, both derived from ``random_state``.

    ``random_state`` is anything :func:`sklearn.utils.check_random_state` takes; an int
    gives the same pair every time.

    Examples
    --------
    >>> a, _ = make_generators(0)
    >>> b, _ = make_generators(0)
    >>> int(a.integers(1000)) == int(b.integers(1000))
    True
    """
    seed = int(check_random_state(random_state).randint(2**31 - 1))
    return np.random.default_rng(seed), torch.Generator().manual_seed(seed)


def draw_subset(
    n_samples: int, train_size: float | None, n_clusters: int, rng: np.random.Generator
) -> np.ndarray:
    """Sorted indices of the training subset: all rows, ``train_size`` rows, or a fraction.

    Examples
    --------
    >>> import numpy as np
    >>> draw_subset(10, 0.5, 2, np.random.default_rng(0)).size
    5
    """
    if train_size is None:
        return np.arange(n_samples)
    if isinstance(train_size, Integral):
        n_train = int(train_size)
    else:
        n_train = math.ceil(float(train_size) * n_samples)
    if n_train > n_samples:
        raise ValueError(f"train_size={train_size} should be <= n_samples={n_samples}.")
    if n_train < n_clusters:
        raise ValueError(
            f"train_size={train_size} gives {n_train} training samples, which should"
            f" be >= n_clusters={n_clusters}."
        )
    return np.sort(rng.choice(n_samples, n_train, replace=False))


def iter_batches(
    n: int, batch_size: int, generator: torch.Generator, *, rank: int = 0, world: int = 1
) -> Iterator[torch.Tensor]:
    """Indices of one shuffled pass over ``range(n)`` in ``ceil(n / batch_size)`` batches.

    The batches differ in size by at most one, so no batch is a tiny remainder whose graph
    would be meaningless. With ``world`` processes (same ``generator`` state in each), the
    number of batches is rounded up to a multiple of ``world`` and process ``rank`` gets
    batches ``rank, rank + world, ...``: disjoint shares of the same pass.

    Examples
    --------
    >>> import torch
    >>> [len(b) for b in iter_batches(10, 4, torch.Generator().manual_seed(0))]
    [4, 3, 3]
    >>> [len(b) for b in iter_batches(10, 4, torch.Generator(), rank=1, world=2)]
    [3, 2]
    """
    perm = torch.randperm(n, generator=generator)
    n_batches = n_batches_per_epoch(n, batch_size, world) * world
    yield from torch.tensor_split(perm, n_batches)[rank::world]


def n_batches_per_epoch(n: int, batch_size: int, world: int = 1) -> int:
    """Batches one process takes per pass over ``n`` rows (see :func:`iter_batches`).

    Examples
    --------
    >>> n_batches_per_epoch(10, 4), n_batches_per_epoch(10, 4, world=2)
    (3, 2)
    """
    return math.ceil(max(1, math.ceil(n / batch_size)) / world)


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
    tol: float = 0.0,
) -> None:
    """Fit ``network`` to hard ``labels`` by cross-entropy (the warm start).

    At most ``epochs`` epochs; stops after the first whose mean cross-entropy is below
    ``tol`` (the memberships are then near one-hot, which Ncut training needs to keep them).
    """
    n_batches = max(1, math.ceil(X.shape[0] / batch_size))
    opt, sched = _cosine_adam(network, lr, 0.0, epochs * n_batches)
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
    if not _all_finite(torch.zeros(()), network):
        raise RuntimeError(
            "the warm start diverged: distilling the initial partition left non-finite"
            " weights. Check X for extreme values."
        )


def warm_start(
    network: nn.Module,
    X: torch.Tensor,
    *,
    init: str,
    n_clusters: int,
    n_neighbors: int,
    init_size: int,
    rng: np.random.Generator,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """Partition ``init_size`` points of X without labels and distill it into ``network``.

    ``init="auto"``: the lower-Ncut of the spectral and the embedding partitions
    (:func:`neuncut.partition.initial_partition`); ``"spectral"`` or ``"embedding"``: that
    candidate alone; ``"kmeans"``: k-means (3 inits); ``"random"``: k-means too, but nothing is
    distilled (the partition only serves :func:`select_penalty`). Distillation is at most
    ``_DISTILL_STEPS`` cross-entropy steps, fewer once the epoch's mean loss is below
    ``_DISTILL_TOL``.

    Returns
    -------
    X_ref, labels : the subsample and its partition, the reference for :func:`select_penalty`.
    ncuts : dict
        Normalized cut of each candidate partition on the subsample's kNN graph (empty for
        ``"kmeans"`` and ``"random"``).
    """
    n_ref = min(init_size, X.shape[0])
    idx = torch.from_numpy(np.sort(rng.choice(X.shape[0], n_ref, replace=False)))
    X_ref = X[idx.to(X.device)]
    X_np = X_ref.cpu().numpy()
    ncuts: dict[str, float] = {}
    if init in ("auto", *CANDIDATES):
        candidates = CANDIDATES if init == "auto" else (init,)
        labels, ncuts = initial_partition(X_np, n_clusters, n_neighbors, rng, candidates)
    else:
        seed = int(rng.integers(2**31 - 1))
        labels = KMeans(n_clusters, n_init=3, random_state=seed).fit_predict(X_np)
    labels_t = torch.from_numpy(labels.astype(np.int64)).to(X.device)
    if init != "random":
        n_batches = math.ceil(n_ref / _DISTILL_BATCH)
        distill(
            network, X_ref, labels_t, epochs=math.ceil(_DISTILL_STEPS / n_batches),
            batch_size=_DISTILL_BATCH, lr=_DISTILL_LR, generator=generator, tol=_DISTILL_TOL,
        )
    return X_ref, labels_t, ncuts


@dataclass
class _GoodState:
    """Copies of the network and optimizer state to fall back on after a non-finite step."""

    network: dict
    optimizer: dict

    @classmethod
    def take(cls, network: nn.Module, opt: torch.optim.Optimizer) -> _GoodState:
        return cls(copy.deepcopy(network.state_dict()), copy.deepcopy(opt.state_dict()))


def _all_finite(loss: torch.Tensor, network: nn.Module) -> bool:
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
    verbose: int = 0,
    resume: tuple[dict, dict, TrainingLog] | None = None,
    on_epoch_end: Callable[[torch.optim.Optimizer, object, TrainingLog], None] | None = None,
) -> TrainingLog:
    """Minibatch Adam on ``cut + penalty / 2 * ortho``, cosine-annealed learning rate.

    Each step draws a batch, builds its graph with ``affinity`` and takes one step on the
    relaxed normalized cut of ``softmax(network(X_batch))``.

    Numerical safety: when the loss or a weight becomes non-finite, the network and Adam
    are restored to the start of the epoch and the learning rate is halved; after
    ``_MAX_RECOVERIES`` such events training stops with a RuntimeError, so a network that
    predicts NaN is never returned.

    Parameters
    ----------
    resume : (optimizer state, scheduler state, log), optional
        Continue a run from the end of epoch ``log.n_iter`` (the network and ``generator``
        must hold that epoch's state too; see :mod:`neuncut.checkpoint`).
    on_epoch_end : callable, optional
        Called as ``on_epoch_end(optimizer, scheduler, log)`` before the first epoch and
        after each one (to write checkpoints).
    """
    log = TrainingLog()
    rank, world = rank_and_world()
    n_batches = n_batches_per_epoch(X.shape[0], batch_size, world)
    opt, sched = _cosine_adam(network, lr, weight_decay, epochs * n_batches)
    model = wrap(network)  # DistributedDataParallel in a process group, else the network
    if resume is not None:
        opt.load_state_dict(resume[0])
        sched.load_state_dict(resume[1])
        log = resume[2]
    elif on_epoch_end is not None:
        on_epoch_end(opt, sched, log)
    network.train()
    bar = tqdm(range(log.n_iter, epochs), desc="NeuNcut", disable=verbose < 1, leave=False)
    for epoch in bar:
        good = _GoodState.take(network, opt)
        sums, n_summed = np.zeros(3), 0
        for idx in iter_batches(X.shape[0], batch_size, generator, rank=rank, world=world):
            xb = X[idx]
            with torch.no_grad():
                W = affinity(xb)
            terms = ncut_loss(torch.softmax(model(xb), dim=1), W)
            loss = terms.cut + 0.5 * penalty * terms.ortho
            if all_finite(loss):  # on every process, so that all skip the step alike
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
            log.n_steps += 1
            if not _all_finite(loss, network):
                good = _recover(network, opt, sched, good, log, lr)
                continue
            sums += [float(loss.detach()), float(terms.cut.detach()), float(terms.ortho.detach())]
            n_summed += 1
        means = sums / max(n_summed, 1)
        log.loss.append(means[0])
        log.cut.append(means[1])
        log.ortho.append(means[2])
        log.n_iter = epoch + 1
        bar.set_postfix(cut=f"{means[1]:.4f}", ortho=f"{means[2]:.4f}", gamma=f"{penalty:.3g}")
        if verbose >= 2:
            logger.info("epoch %d: loss %.5f cut %.5f ortho %.5f", epoch + 1, *means)
        if on_epoch_end is not None:
            on_epoch_end(opt, sched, log)
    return log


def _recover(
    network: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler,
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
    opt.load_state_dict(good.optimizer)
    for group in opt.param_groups:
        group["lr"] *= 0.5
    sched.base_lrs = [base * 0.5 for base in sched.base_lrs]
    return _GoodState.take(network, opt)


@torch.no_grad()
def objective(
    P: torch.Tensor, X: torch.Tensor, affinity: AffinityFn, *, penalty: float, batch_size: int
) -> float:
    """Mean of ``cut + penalty / 2 * ortho`` over consecutive batches of rows of X.

    The training objective measured on given memberships P (n, k) of X (n, n_features),
    batches of ``batch_size`` rows in their given order (no randomness).

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
    n_batches = max(1, math.ceil(X.shape[0] / batch_size))
    losses = []
    for idx in torch.tensor_split(torch.arange(X.shape[0]), n_batches):
        terms = ncut_loss(P[idx], affinity(X[idx]))
        losses.append(float(terms.cut + 0.5 * penalty * terms.ortho))
    return float(np.mean(losses))
