"""Everything ``fit`` settles before Ncut training: scale, warm start and penalty.

:func:`initialize` chooses ``sigma`` (for the ``"rbf"`` graph), standardizes the network's
input, checks a batch graph, distils the warm-start partition into the network and selects the
penalty; :func:`initialize_distributed` does it on rank 0 of a process group and hands the
result to every process. The estimator only stores what comes back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .affinity import choose_sigma
from .diagnostics import check_batch_graph
from .distributed import broadcast_module, broadcast_values
from .network import MembershipNetwork
from .penalty import select_penalty
from .training import warm_start

__all__ = ["Initialization", "initialize", "initialize_distributed", "uses_warm_start"]

logger = logging.getLogger("neuncut.estimator")

AffinityFactory = Callable[[float | None], Callable[[torch.Tensor], torch.Tensor]]


@dataclass
class Initialization:
    """What :func:`initialize` fitted: ``sigma_``, ``penalty_``, ``init_ncut_``, its time."""

    sigma: float | None
    penalty: float
    init_ncut: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def initialize(
    params: dict,
    network: MembershipNetwork,
    Xt: torch.Tensor,
    make_graph: AffinityFactory,
    np_rng: np.random.Generator,
    torch_gen: torch.Generator,
) -> Initialization:
    """Set the input standardization and the warm start of ``network``; fit sigma and gamma.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.
    network : MembershipNetwork
        Trained in place (standardization and distilled warm start).
    Xt : tensor of shape (n, n_features)
        The training rows.
    make_graph : callable
        ``make_graph(sigma)`` is the batch-graph builder for a fitted sigma.
    np_rng, torch_gen : the fit's generators (see :func:`neuncut.training.make_generators`).
    """
    t0 = time.perf_counter()
    p = params
    sigma = choose_sigma(p["affinity"], p["sigma"], Xt, sample_size=p["batch_size"],
                         generator=torch_gen)
    network.set_standardization(Xt)
    affinity = make_graph(sigma)
    # A copy of the generator: the check must not change the batches training draws.
    check_batch_graph(
        Xt, affinity, batch_size=p["batch_size"], n_clusters=p["n_clusters"],
        generator=torch.Generator().set_state(torch_gen.get_state()),
    )
    ref_X, ref_labels, init_ncut = None, None, {}
    if uses_warm_start(p["init"], p["penalty"]):
        if p["verbose"]:
            n_ref = min(p["init_size"], Xt.shape[0])
            logger.info("warm start: %s partition of %d points", p["init"], n_ref)
        ref_X, ref_labels, init_ncut = warm_start(
            network, Xt, init=p["init"], n_clusters=p["n_clusters"],
            n_neighbors=p["n_neighbors"], init_size=p["init_size"], rng=np_rng,
            generator=torch_gen,
        )
    if p["penalty"] is None:
        penalty = select_penalty(
            ref_X, ref_labels, affinity, batch_size=p["batch_size"],
            n_clusters=p["n_clusters"], generator=torch_gen,
        )
    else:
        penalty = float(p["penalty"])
    elapsed = time.perf_counter() - t0
    if p["verbose"]:
        logger.info("warm start took %.1f s; candidates' Ncut %s; penalty %.4g",
                    elapsed, init_ncut, penalty)
    return Initialization(sigma, penalty, init_ncut, {"init": elapsed})


def initialize_distributed(
    params: dict,
    network: MembershipNetwork,
    Xt: torch.Tensor,
    make_graph: AffinityFactory,
    np_rng: np.random.Generator,
    torch_gen: torch.Generator,
    rank: int,
) -> Initialization:
    """:func:`initialize` on rank 0; its network, fitted values and batch generator go to all."""
    init = Initialization(None, 0.0, {}, {"init": 0.0})
    if rank == 0:
        init = initialize(params, network, Xt, make_graph, np_rng, torch_gen)
    sigma, penalty, init_ncut, state = broadcast_values(
        init.sigma, init.penalty, init.init_ncut, torch_gen.get_state()
    )
    torch_gen.set_state(state)
    broadcast_module(network)
    return Initialization(sigma, penalty, init_ncut, init.timings)


def uses_warm_start(init: str, penalty: float | None) -> bool:
    """Whether fit computes a reference partition (to distill, or to choose the penalty)."""
    return not (init == "random" and penalty is not None)
