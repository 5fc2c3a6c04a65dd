"""The representation stage of ``fit``: whether to learn an encoder, and learning it.

With a learned representation (:mod:`neuncut._encoder`) every later stage of the fit (the
choice of k, the warm start, the penalty, Ncut training) works on the codes of the training
rows, and the fitted network is the encoder followed by the head
(:class:`neuncut._network.EncodedNetwork`). This module wires the autoencoder's training
into the fit: the decision, the checkpoint of every epoch and its resumption, rank 0's
training broadcast to a process group, the time it takes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checkpoint import Checkpoint, FitCheckpoint
from ._distributed import on_rank_zero
from ._encoder import (
    AutoEncoder,
    Encoder,
    EncoderLog,
    check_encoder_layer_sizes,
    encode,
    learns_representation,
    train_autoencoder,
)
from ._network import EncodedNetwork, MembershipNetwork
from ._timing import timed

__all__ = ["Representation", "learn_representation"]

logger = logging.getLogger(__name__)


@dataclass
class Representation:
    """The fit's representation: its encoder (None: the rows themselves) and its training.

    Attributes
    ----------
    encoder : Encoder or None
    log : EncoderLog or None
        The autoencoder's per-epoch reconstruction loss.
    timings : dict of str to float
        ``{"encoder": seconds}`` when an encoder was trained in this fit.
    """

    encoder: Encoder | None = None
    log: EncoderLog | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def codes(self, X: torch.Tensor) -> torch.Tensor:
        """What the later stages see of the rows X: their codes, or X itself."""
        return X if self.encoder is None else encode(self.encoder.eval(), X)

    def network(self, head: MembershipNetwork) -> nn.Module:
        """The membership network: the encoder followed by ``head``, or ``head`` alone."""
        return head if self.encoder is None else EncodedNetwork(self.encoder, head)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """The encoder's widths, () without one (the fitted ``encoder_layer_sizes_``)."""
        if self.encoder is None:
            return ()
        return tuple(m.out_features for m in self.encoder.layers if isinstance(m, nn.Linear))


def learn_representation(
    estimator: Any,
    Xt: torch.Tensor,
    np_rng: np.random.Generator,
    torch_gen: torch.Generator,
    resumed: FitCheckpoint,
    train_indices: np.ndarray,
) -> Representation:
    """Train the encoder of a fit on its training rows Xt, when the fit learns one.

    Parameters
    ----------
    estimator : NeuNcut
        Reads ``representation``, ``encoder_layer_sizes``, ``encoder_max_epochs``,
        ``verbose``.
    Xt : Tensor of shape (n, n_features)
        The training rows.
    np_rng, torch_gen : generators
        The fit's. The autoencoder draws its weights and batches from ``torch_gen`` only;
        a fit resumed inside the autoencoder's training restores both generators.
    resumed : FitCheckpoint
        A fit resumed from the warm start or later takes the encoder's weights from it; one
        resumed inside the autoencoder's training continues that training.
    train_indices : ndarray of int
        Stored in the checkpoints.

    Returns
    -------
    Representation
    """
    if not learns_representation(estimator.representation, *Xt.shape):
        return Representation()
    sizes = check_encoder_layer_sizes(estimator.encoder_layer_sizes)
    autoencoder = AutoEncoder(Xt.shape[1], sizes, generator=torch_gen).to(Xt.device)
    if isinstance(resumed.saved, Checkpoint):  # past the autoencoder: weights in the checkpoint
        saved = resumed.saved.network
        autoencoder.encoder.load_state_dict(
            {k.removeprefix("encoder."): v for k, v in saved.items() if k.startswith("encoder.")}
        )
        return Representation(autoencoder.encoder.eval(), resumed.saved.encoder_log)
    timings: dict[str, float] = {}
    with timed(timings, "encoder"):
        autoencoder.encoder.set_standardization(Xt)
        state, resume = resumed.encoder_state, None
        if state is not None:
            autoencoder.load_state_dict(state.network)
            torch_gen.set_state(state.generator)
            np_rng.bit_generator.state = state.rng_state
            resume = (state.optimizer, state.scheduler, state.log)
        write = resumed.encoder_writer(autoencoder, torch_gen,
                                       dict(np_rng.bit_generator.state), train_indices)
        if estimator.verbose:
            logger.info("learning the representation: autoencoder %s on %d rows",
                        (Xt.shape[1], *sizes), Xt.shape[0])
        log = on_rank_zero(
            lambda: train_autoencoder(
                autoencoder, Xt, max_epochs=estimator.encoder_max_epochs,
                generator=torch_gen, verbose=estimator.verbose, resume=resume,
                on_epoch_end=write,
            ),
            module=autoencoder, generator=torch_gen,
        )
    if estimator.verbose:
        logger.info("autoencoder: %d epochs, loss %.4g, %.1f s", log.n_iter,
                    log.loss[-1] if log.loss else float("nan"), timings["encoder"])
    return Representation(autoencoder.encoder.eval(), log, timings)
