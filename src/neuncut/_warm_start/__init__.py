"""The warm start: everything ``fit`` settles before Ncut training.

:func:`initialize` chooses ``sigma`` (for the ``"rbf"`` graph), standardizes the network's
input, checks one batch graph, partitions a subsample without labels
(:mod:`._candidates`: spectral clustering and k-means on a neighbour embedding, the lower
normalized cut wins), distils that partition into the network (:mod:`._distill`) and
selects the penalty (:func:`neuncut.penalty.select_penalty`). The estimator stores what
comes back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans

from .._diagnostics import check_batch_graph
from .._network import MembershipNetwork
from .._timing import timed
from ..affinity import choose_sigma, graph_factory, power_of_two_scale
from ..penalty import select_penalty
from ._candidates import CANDIDATES, initial_partition
from ._distill import distill_partition

__all__ = [
    "CANDIDATES", "Initialization", "WarmStart", "initialize", "reference_rows", "uses_warm_start",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarmStart:
    """The estimator's parameters that the warm start reads (see :class:`neuncut.NeuNcut`)."""

    n_clusters: int
    init: str
    init_size: int
    n_neighbors: int
    affinity: str | Callable[[torch.Tensor], torch.Tensor]
    sigma: float | None
    penalty: float | None
    batch_size: int
    verbose: int = 0

    @classmethod
    def of(cls, estimator: Any, **overrides: Any) -> WarmStart:
        """The settings of a NeuNcut estimator, with ``overrides`` (the chosen n_clusters)."""
        values = {name: getattr(estimator, name) for name in cls.__dataclass_fields__}
        return cls(**{**values, **overrides})


@dataclass
class Initialization:
    """What :func:`initialize` fitted: ``sigma_``, ``penalty_``, ``init_ncut_``, its time."""

    sigma: float | None
    penalty: float
    init_ncut: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def initialize(
    settings: WarmStart,
    network: MembershipNetwork,
    Xt: torch.Tensor,
    np_rng: np.random.Generator,
    torch_gen: torch.Generator,
) -> Initialization:
    """Set the input standardization and the warm start of ``network``; fit sigma and gamma.

    Parameters
    ----------
    settings : WarmStart
    network : MembershipNetwork
        Trained in place (standardization and distilled warm start).
    Xt : tensor of shape (n, n_features)
        The training rows.
    np_rng, torch_gen : generators
        The fit's (:func:`neuncut._batches.make_generators`).

    Returns
    -------
    Initialization
    """
    t0 = time.perf_counter()
    s = settings
    timings: dict[str, float] = {}
    with timed(timings, "init/graph_check"):
        sigma = choose_sigma(s.affinity, s.sigma, Xt, sample_size=s.batch_size,
                             generator=torch_gen)
        network.set_standardization(Xt)
        affinity = graph_factory(s.affinity, s.n_neighbors, Xt)(sigma)
        # A copy of the generator: the check must not change the batches training draws.
        check_batch_graph(
            Xt, affinity, batch_size=s.batch_size, n_clusters=s.n_clusters,
            generator=torch.Generator().set_state(torch_gen.get_state()),
        )
    ref_X: torch.Tensor | None = None
    ref_labels: torch.Tensor | None = None
    init_ncut: dict[str, float] = {}
    if uses_warm_start(s.init, s.penalty):
        if s.verbose:
            n_ref = min(s.init_size, Xt.shape[0])
            logger.info("warm start: %s partition of %d points", s.init, n_ref)
        ref_X, ref_labels, init_ncut = reference_partition(Xt, s, np_rng, timings=timings)
        if s.init != "random":
            with timed(timings, "init/distill"):
                distill_partition(network, ref_X, ref_labels, torch_gen)
    if s.penalty is None:
        assert ref_X is not None and ref_labels is not None  # uses_warm_start is True
        with timed(timings, "init/penalty"):
            penalty = select_penalty(
                ref_X, ref_labels, affinity, batch_size=s.batch_size, n_clusters=s.n_clusters,
                generator=torch_gen,
            )
    else:
        penalty = float(s.penalty)
    timings = {"init": time.perf_counter() - t0, **timings}
    if s.verbose:
        logger.info("warm start took %.1f s; candidates' Ncut %s; penalty %.4g",
                    timings["init"], init_ncut, penalty)
    return Initialization(sigma, penalty, init_ncut, timings)


def reference_partition(
    X: torch.Tensor,
    settings: WarmStart,
    rng: np.random.Generator,
    *,
    timings: dict[str, float] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """A label-free partition of ``init_size`` rows of X: the warm start's reference.

    ``init="auto"``: the lowest-Ncut of the spectral, Genie and embedding partitions
    (:func:`._candidates.initial_partition`); ``"spectral"``, ``"genie"`` or
    ``"embedding"``: that candidate alone; ``"kmeans"`` and ``"random"``: k-means with 3
    inits (for ``"random"`` nothing is distilled, the partition only serves the penalty).

    Parameters
    ----------
    X : Tensor of shape (n, n_features)
    settings : WarmStart
    rng : numpy Generator
    timings : dict, optional
        Receives the seconds of the partition's stages (``"init/knn"``, ...).

    Returns
    -------
    X_ref : Tensor of shape (n_ref, n_features)
        The subsample, rows in their order in X.
    labels : LongTensor of shape (n_ref,)
    ncuts : dict
        Normalized cut of each candidate on the subsample's kNN graph (empty for
        ``"kmeans"`` and ``"random"``).
    """
    X_ref = reference_rows(X, settings.init_size, rng)
    X_np = X_ref.cpu().numpy()
    ncuts: dict[str, float] = {}
    k = settings.n_clusters
    if settings.init in ("auto", *CANDIDATES):
        candidates = CANDIDATES if settings.init == "auto" else (settings.init,)
        labels, ncuts = initial_partition(X_np, k, settings.n_neighbors, rng, candidates,
                                          timings=timings, device=X.device)
    else:
        seed = int(rng.integers(2**31 - 1))
        # Divided by a power of two (exact: the same partition), so that the squared
        # distances of data near the float32 limit (|x| ~ 1e30) do not overflow.
        X_np = X_np / np.float32(power_of_two_scale(X_ref))
        with timed(timings, "init/kmeans"):
            labels = KMeans(k, n_init=3, random_state=seed).fit_predict(X_np)
    return X_ref, torch.from_numpy(labels.astype(np.int64)).to(X.device), ncuts


def reference_rows(X: torch.Tensor, init_size: int, rng: np.random.Generator) -> torch.Tensor:
    """``min(init_size, n)`` rows of X drawn without replacement, in their order in X.

    The subsample of the warm start, and of ``n_clusters="auto"``'s choice.

    Parameters
    ----------
    X : Tensor of shape (n, n_features)
    init_size : int
    rng : numpy Generator

    Returns
    -------
    X_ref : Tensor of shape (min(init_size, n), n_features), on X's device
    """
    n_ref = min(init_size, X.shape[0])
    idx = torch.from_numpy(np.sort(rng.choice(X.shape[0], n_ref, replace=False)))
    return X[idx.to(X.device)]


def uses_warm_start(init: str, penalty: float | None) -> bool:
    """Whether fit computes a reference partition (to distill, or to choose the penalty).

    Parameters
    ----------
    init : str
    penalty : float or None

    Returns
    -------
    bool
    """
    return not (init == "random" and penalty is not None)
