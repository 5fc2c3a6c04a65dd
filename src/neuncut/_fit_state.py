"""The state of one ``fit``: what each of its stages has settled so far.

A fit runs its stages in order: the training subset, the representation (the autoencoder's
log), the number of clusters, the warm start, Ncut training. :class:`FitState` is the one
record of what they settled; a stage not reached yet is None. ``fit`` fills it in, the fitted
attributes are read from it, and a checkpoint (:mod:`neuncut._checkpoint`) stores it as it
is, with the tensors of the stage that was running, so that a resumed fit skips the stages
already settled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._choose_k import NClustersChoice
from ._encoder import EncoderLog
from ._training import TrainingLog
from ._warm_start import Initialization

__all__ = ["FitState"]


@dataclass
class FitState:
    """What the stages of one fit have settled; None where a stage has not run (yet).

    Attributes
    ----------
    train_indices : ndarray of int
        The rows of X the fit trains on.
    encoder_log : EncoderLog or None
        The autoencoder's training; None without a learned representation (or before it).
    n_clusters : NClustersChoice or None
    init : Initialization or None
        The warm start's fitted ``sigma``, ``penalty`` and candidates' cuts.
    training_log : TrainingLog or None
        Ncut training's per-epoch log.

    Examples
    --------
    >>> state = FitState(np.arange(3), n_clusters=NClustersChoice(2))
    >>> FitState.from_json(state.to_json(), np.arange(3)) == state
    True
    """

    train_indices: np.ndarray
    encoder_log: EncoderLog | None = None
    n_clusters: NClustersChoice | None = None
    init: Initialization | None = None
    training_log: TrainingLog | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FitState):
            return NotImplemented
        return (np.array_equal(self.train_indices, other.train_indices)
                and self.to_json() == other.to_json())

    @property
    def timings(self) -> dict[str, float]:
        """Seconds of the stages settled so far, by stage (the fit's ``timings_``)."""
        timings: dict[str, float] = {}
        if self.init is not None:
            timings.update(self.init.timings)
        if self.encoder_log is not None:
            timings["encoder"] = self.encoder_log.seconds
        if self.n_clusters is not None:
            timings.update(self.n_clusters.timings)
        return timings

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of everything but ``train_indices`` (a checkpoint's header)."""
        return {
            "encoder_log": None if self.encoder_log is None else asdict(self.encoder_log),
            "n_clusters": None if self.n_clusters is None else self.n_clusters.to_json(),
            "init": None if self.init is None else asdict(self.init),
            "training_log": None if self.training_log is None else asdict(self.training_log),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any], train_indices: np.ndarray) -> FitState:
        """The inverse of :meth:`to_json`."""
        def parse(key: str, kind: Any) -> Any:
            return None if value[key] is None else kind(**value[key])

        return cls(
            train_indices=train_indices,
            encoder_log=parse("encoder_log", EncoderLog),
            n_clusters=NClustersChoice.from_json(value["n_clusters"]),
            init=parse("init", Initialization),
            training_log=parse("training_log", TrainingLog),
        )
