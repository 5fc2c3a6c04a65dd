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
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._adam import CosineAdam
from ._checkpoint import ENCODER_STAGE, TRAINING_STAGE, FitCheckpoint
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
from ._fit_state import FitState
from ._network import EncodedNetwork, MembershipNetwork

__all__ = ["Representation", "learn_representation"]

logger = logging.getLogger(__name__)


@dataclass
class Representation:
    """The fit's representation: its encoder, or None for the rows themselves.

    Attributes
    ----------
    encoder : Encoder or None
        The membership network's encoder (Ncut training goes on training it).
    initial : dict of str to Tensor or None
        A copy of the encoder's weights as the autoencoder left them: the codes of the
        batch graphs, and what a checkpoint stores to rebuild them.
    """

    encoder: Encoder | None = None
    initial: dict[str, torch.Tensor] | None = None

    @classmethod
    def of(cls, encoder: Encoder) -> Representation:
        """The representation of ``encoder`` in eval mode, its weights copied as they are."""
        return cls(encoder.eval(), {k: v.detach().clone() for k, v in encoder.state_dict().items()})

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
    run: FitCheckpoint,
    state: FitState,
) -> Representation:
    """Train the encoder of a fit on its training rows Xt, when the fit learns one.

    Records the autoencoder's training in ``state.encoder_log``.

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
    run : FitCheckpoint
        A fit resumed from the warm start or later takes the encoder's weights from it; one
        resumed inside the autoencoder's training continues that training.
    state : FitState
        The fit's state.

    Returns
    -------
    Representation
    """
    if not learns_representation(estimator.representation, *Xt.shape):
        return Representation()
    sizes = check_encoder_layer_sizes(estimator.encoder_layer_sizes)
    autoencoder = AutoEncoder(Xt.shape[1], sizes, generator=torch_gen).to(Xt.device)
    past = run.saved_stage(TRAINING_STAGE)
    if past is not None:  # past the autoencoder: its encoder is stored beside the network
        assert past.encoder is not None
        autoencoder.encoder.load_state_dict(past.encoder)
        return Representation.of(autoencoder.encoder)
    t0 = time.perf_counter()
    autoencoder.encoder.set_standardization(Xt)
    resume = run.restore(autoencoder, (torch_gen, np_rng), ENCODER_STAGE, estimator.verbose)
    seconds = 0.0 if state.encoder_log is None else state.encoder_log.seconds
    write = run.encoder_writer(autoencoder, torch_gen, dict(np_rng.bit_generator.state), state)

    def on_epoch_end(optimizer: CosineAdam, log: EncoderLog) -> None:
        log.seconds = seconds + time.perf_counter() - t0
        if write is not None:
            write(optimizer, log)

    if estimator.verbose:
        logger.info("learning the representation: autoencoder %s on %d rows",
                    (Xt.shape[1], *sizes), Xt.shape[0])
    log = on_rank_zero(
        lambda: train_autoencoder(
            autoencoder, Xt, max_epochs=estimator.encoder_max_epochs,
            generator=torch_gen, verbose=estimator.verbose, resume=resume,
            on_epoch_end=on_epoch_end,
        ),
        module=autoencoder, generator=torch_gen,
    )
    log.seconds = seconds + time.perf_counter() - t0
    state.encoder_log = log
    if estimator.verbose:
        logger.info("autoencoder: %d epochs, loss %.4g, %.1f s", log.n_iter,
                    log.loss[-1] if log.loss else float("nan"), log.seconds)
    return Representation.of(autoencoder.encoder)
