"""The stages of ``NeuNcut.fit``, in order, over one :class:`neuncut._fit_state.FitState`.

The training subset, the representation, the number of clusters, the warm start (on rank 0),
Ncut training, then every row's label. A checkpoint stores the state after each epoch and a
resumed fit skips the stages it settled (:mod:`neuncut._checkpoint`); the fitted attributes
are read from the state once every stage is done.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._batches import draw_subset, make_generators
from ._checkpoint import TRAINING_STAGE, FitCheckpoint
from ._choose_k import resolve_n_clusters
from ._diagnostics import warn_empty_clusters
from ._distributed import local_device, map_row_slices, on_rank_zero
from ._fit_state import FitState
from ._network import MembershipNetwork, resolve_device, resolve_hidden_layer_sizes
from ._representation import Representation, learn_representation
from ._timing import timed
from ._training import train_ncut
from ._validation import check_fit_input, training_rows
from ._warm_start import WarmStart, initialize
from .affinity import graph_factory

__all__ = ["run_fit", "set_fitted"]

logger = logging.getLogger("neuncut._estimator")


def run_fit(est: Any, X: Any, checkpoint: str | Path | None) -> None:
    """Fit the NeuNcut estimator ``est`` on X in place (see :meth:`NeuNcut.fit`)."""
    X, hidden, in_memory = check_fit_input(est, X)
    np_rng, torch_gen = make_generators(est.random_state)
    device = local_device(resolve_device(est.device))
    run = FitCheckpoint.open(checkpoint, X, est.get_params())
    k_min = 1 if est.n_clusters == "auto" else int(est.n_clusters)
    state = run.state(lambda: FitState(draw_subset(X.shape[0], est.train_size, k_min,
                                                   np_rng)))
    Xt = torch.from_numpy(training_rows(est, X, state.train_indices, in_memory)).to(device)
    rep = learn_representation(est, Xt, np_rng, torch_gen, run, state)
    Zt = rep.codes(Xt)  # what every later stage sees of the training rows
    if state.n_clusters is None:
        state.n_clusters = resolve_n_clusters(est, Zt, np_rng)
    k = state.n_clusters.n_clusters
    est.hidden_layer_sizes_ = hidden = resolve_hidden_layer_sizes(hidden, *Zt.shape)
    head = MembershipNetwork(Zt.shape[1], hidden, k, generator=torch_gen).to(device)
    network = rep.network(head)
    resume = run.restore(network, (torch_gen, np_rng), TRAINING_STAGE, est.verbose)
    if state.init is None:
        settings = WarmStart.of(est, n_clusters=k)
        state.init = on_rank_zero(lambda: initialize(settings, head, Zt, np_rng, torch_gen),
                                  module=head, generator=torch_gen)
    init = state.init
    timings = state.timings
    # With an encoder, Ncut training trains encoder and head together on the raw rows,
    # the batch graphs staying those of the autoencoder's codes Zt (decision D23).
    encoder = rep.initial
    with timed(timings, "train"):
        state.training_log = train_ncut(
            network, Xt if encoder else Zt,
            graph_factory(est.affinity, est.n_neighbors, Zt)(init.sigma),
            penalty=init.penalty,
            epochs=est.max_epochs, batch_size=est.batch_size, lr=est.learning_rate,
            weight_decay=est.weight_decay, generator=torch_gen, tol=est.tol,
            n_iter_no_change=est.n_iter_no_change, verbose=est.verbose,
            resume=resume,
            on_epoch_end=run.training_writer(network, torch_gen, state, encoder),
            graph_rows=Zt if encoder else None,
        )
    set_fitted(est, state, rep, network.cpu().eval())
    with timed(timings, "label"):
        est.labels_ = map_row_slices(partial(est._label, in_memory=in_memory), X)
    est.timings_ = timings
    logger.log(logging.INFO if est.verbose >= 2 else logging.DEBUG, "times %s", timings)
    warn_empty_clusters(est.labels_, est.n_clusters_)
    run.finish()


def set_fitted(est: Any, state: FitState, rep: Representation, network: nn.Module) -> None:
    """The fitted attributes, read from the fit's state (all of its stages settled)."""
    assert state.n_clusters is not None and state.init is not None
    assert state.training_log is not None
    log = state.training_log
    est.encoder_layer_sizes_ = rep.layer_sizes
    est.encoder_loss_curve_ = [] if state.encoder_log is None else list(state.encoder_log.loss)
    est.n_clusters_ = state.n_clusters.n_clusters
    est.n_clusters_scores_ = state.n_clusters.scores
    est.sigma_, est.penalty_ = state.init.sigma, state.init.penalty
    est.init_ncut_ = state.init.init_ncut
    est.network_ = network
    est.loss_curve_, est.cut_curve_, est.ortho_curve_ = log.loss, log.cut, log.ortho
    est.n_iter_, est.n_steps_ = log.n_iter, log.n_steps
