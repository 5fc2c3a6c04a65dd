"""Training checkpoints: a killed ``fit`` resumes where it stopped and ends with the same model.

A checkpoint is a neuncut model file (:func:`neuncut._io.save_tensors`: safetensors plus a JSON
header, checksummed, written atomically, never unpickled). It holds the fit's
:class:`neuncut._fit_state.FitState` as it is (the training subset and what every settled
stage decided) and the tensors of the stage that was running, everything the fit needs to
continue bit for bit: during the autoencoder's training (stage ``"encoder"``) the
autoencoder's weights, Adam's state, the torch generator and the numpy generator's state at
the autoencoder's start; from the warm start on (stage ``"training"``) the network's weights
(the encoder's included), Adam's moments, the learning-rate schedule and the torch generator
that draws the minibatches. It is keyed by a fingerprint of the data and the parameters, so
a checkpoint is never resumed on anything else.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._adam import CosineAdam
from ._distributed import rank_and_world
from ._encoder import EncoderLog
from ._files import sha256_hex
from ._fit_state import FitState
from ._io import load_tensors, save_tensors
from ._training import TrainingLog
from .exceptions import ModelFileError

logger = logging.getLogger(__name__)

__all__ = [
    "Checkpoint",
    "FitCheckpoint",
    "fingerprint",
    "fingerprint_params",
    "read_checkpoint",
    "write_checkpoint",
]

_KIND = "NeuNcutCheckpoint"
#: The layout of the header; a checkpoint of another layout is refused, not misread.
_FORMAT = 3


def fingerprint(X: np.ndarray, params: dict[str, Any]) -> str:
    """sha256 hex digest of X (shape, dtype, bytes) and the JSON of ``params``.

    Two fits share a fingerprint iff they see the same data and the same parameters, so a
    checkpoint written by one can be resumed by the other.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((3, 2), dtype=np.float32)
    >>> fingerprint(X, {"k": 2}) == fingerprint(X.copy(), {"k": 2})
    True
    >>> fingerprint(X, {"k": 2}) == fingerprint(X, {"k": 3})
    False
    """

    X = np.ascontiguousarray(X)
    return sha256_hex([list(X.shape), str(X.dtype)], X, params)


def fingerprint_params(params: dict[str, Any]) -> dict[str, Any]:
    """The estimator parameters that determine a fit, as JSON-able values.

    ``verbose`` and ``device`` change no result and are dropped; a callable affinity is
    named by its qualified name; a RandomState instance by its type (the checkpoint holds
    the generator state itself).

    Examples
    --------
    >>> fingerprint_params({"n_clusters": 3, "hidden_layer_sizes": (8,), "affinity": "knn",
    ...                     "random_state": 0, "verbose": 2, "device": "cpu"})
    {'n_clusters': 3, 'hidden_layer_sizes': [8], 'affinity': 'knn', 'random_state': 0}
    """
    params = {k: v for k, v in params.items() if k not in ("verbose", "device")}
    params["hidden_layer_sizes"] = np.atleast_1d(params["hidden_layer_sizes"]).tolist()
    if callable(params["affinity"]):
        params["affinity"] = getattr(params["affinity"], "__qualname__", "callable")
    if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
        params["random_state"] = "RandomState"
    return params


ENCODER_STAGE, TRAINING_STAGE = "encoder", "training"


@dataclass
class Checkpoint:
    """A fit between two epochs of its ``stage``: its state and that stage's tensors.

    Attributes
    ----------
    state : FitState
    stage : {"encoder", "training"}
        The autoencoder's training, or the warm start and Ncut training.
    network : dict of str to Tensor
        The autoencoder's weights (encoder stage) or the membership network's.
    optimizer, scheduler : dict
        Adam's state and its learning-rate schedule.
    generator : Tensor
        The torch generator's state.
    rng_state : dict or None
        Encoder stage: the numpy generator's state when the autoencoder's training began (it
        draws nothing, so the stages after it continue from that state).
    encoder : dict of str to Tensor or None
        Training stage with a learned representation: the encoder as the autoencoder left it,
        whose codes the batch graphs are built on (the network's own encoder is trained on).
    """

    state: FitState
    stage: str
    network: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    generator: torch.Tensor
    rng_state: dict[str, Any] | None = None
    encoder: dict[str, torch.Tensor] | None = None


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer ``state_dict`` into its tensors and a JSON-able remainder."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param, values in state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{param}.{name}"] = value
            else:
                scalars.setdefault(str(param), {})[name] = value
    return tensors, {"scalars": scalars, "param_groups": state["param_groups"]}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    """Inverse of :func:`_flatten_optimizer`."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            param, name = key.removeprefix("optimizer.").split(".", 1)
            state.setdefault(int(param), {})[name] = value
    for param, values in meta["scalars"].items():
        state.setdefault(int(param), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def write_checkpoint(path: str | os.PathLike[str], key: str, ckpt: Checkpoint) -> None:
    """Write ``ckpt`` to ``path`` atomically, under the fingerprint ``key``."""
    opt_tensors, opt_meta = _flatten_optimizer(ckpt.optimizer)
    tensors = {f"network.{k}": v for k, v in ckpt.network.items()}
    tensors.update(opt_tensors)
    tensors["generator"] = ckpt.generator
    tensors.update({f"encoder.{k}": v for k, v in (ckpt.encoder or {}).items()})
    tensors["train_indices"] = torch.from_numpy(
        np.asarray(ckpt.state.train_indices, dtype=np.int64))
    header: dict[str, Any] = {
        "estimator": _KIND,
        "format": _FORMAT,
        "fingerprint": key,
        "stage": ckpt.stage,
        "state": ckpt.state.to_json(),
        "optimizer": opt_meta,
        "scheduler": ckpt.scheduler,
        "rng_state": ckpt.rng_state,
    }
    save_tensors(path, tensors, header)


def read_checkpoint(path: str | os.PathLike[str], key: str) -> Checkpoint | None:
    """The checkpoint at ``path``, None when there is none; an error when it is not for ``key``.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist (checked before any work is done).
    ModelFileError
        If the file is damaged, is not a checkpoint, was written by a version of neuncut with
        another checkpoint layout, or for other data or parameters (its fingerprint differs
        from ``key``).
    """
    path = Path(path)
    where = f"checkpoint={str(path)!r}"
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{where}: its directory does not exist")
    if not path.exists():
        return None
    try:
        tensors, header = load_tensors(path)
    except ModelFileError as err:
        raise ModelFileError(f"{where}: {err}") from None
    if header.get("estimator") != _KIND:
        raise ModelFileError(f"{where} is a neuncut file but not a training checkpoint")
    if header.get("format") != _FORMAT:
        raise ModelFileError(
            f"{where} has checkpoint layout {header.get('format', 1)}, this version of neuncut"
            f" reads layout {_FORMAT}; delete it to start afresh"
        )
    if header.get("fingerprint") != key:
        raise ModelFileError(
            f"{where} was written by a fit on other data or with other parameters; delete it"
            " to start afresh, or pass another path"
        )
    return Checkpoint(
        state=FitState.from_json(header["state"], tensors["train_indices"].numpy()),
        stage=header["stage"],
        network={
            k.removeprefix("network."): v for k, v in tensors.items() if k.startswith("network.")
        },
        optimizer=_unflatten_optimizer(tensors, header["optimizer"]),
        scheduler=header["scheduler"],
        generator=tensors["generator"],
        rng_state=header["rng_state"],
        encoder={k.removeprefix("encoder."): v for k, v in tensors.items()
                 if k.startswith("encoder.")} or None,
    )


class FitCheckpoint:
    """The checkpoint of one ``fit``: where it is written, and the state it resumes from.

    ``FitCheckpoint.open(None, ...)`` is the fit without a checkpoint: nothing is read,
    written or deleted. Each training loop gets its writer (:meth:`encoder_writer`,
    :meth:`training_writer`): a callback that stores the fit's state and the loop's tensors
    after every epoch.

    Parameters
    ----------
    path : str, os.PathLike or None
    key : str
        The fit's :func:`fingerprint`.
    saved : Checkpoint or None
        The checkpoint found at ``path`` when the fit started, None for a fresh start.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        key: str = "",
        saved: Checkpoint | None = None,
    ) -> None:
        self.path, self.key, self.saved = path, key, saved

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None, X: np.ndarray, params: dict[str, Any]
    ) -> FitCheckpoint:
        """Read the checkpoint of the fit of ``X`` with the estimator ``params``, if any.

        Raises
        ------
        ValueError
            Inside a ``torch.distributed`` process group (not supported yet).
        FileNotFoundError, ModelFileError
            See :func:`read_checkpoint`.
        """
        if path is None:
            return cls(None)
        if rank_and_world()[1] > 1:
            raise ValueError(
                f"checkpoint={str(path)!r} cannot be used in a torch.distributed process"
                " group (yet): train without checkpoint, or in one process."
            )
        key = fingerprint(X, fingerprint_params(params))
        return cls(path, key, read_checkpoint(path, key))

    def state(self, start: Callable[[], FitState]) -> FitState:
        """The saved fit's state, or ``start()`` (a fresh one) when there is none."""
        return start() if self.saved is None else self.saved.state

    def saved_stage(self, stage: str) -> Checkpoint | None:
        """The saved checkpoint if it was written during ``stage``, else None."""
        return self.saved if self.saved is not None and self.saved.stage == stage else None

    def restore(
        self,
        module: nn.Module,
        generators: tuple[torch.Generator, np.random.Generator],
        stage: str,
        verbose: int = 0,
    ) -> tuple[dict, dict, Any] | None:
        """Load ``stage``'s saved weights and generators; its (optimizer, schedule, log).

        None, and nothing loaded, when the fit was not killed during ``stage``. The log is
        the stage's in the saved state: ``encoder_log`` or ``training_log``.
        """
        saved = self.saved_stage(stage)
        if saved is None:
            return None
        if verbose:
            logger.info("resuming the %s stage from %s", stage, self.path)
        module.load_state_dict(saved.network)
        generators[0].set_state(saved.generator)
        if saved.rng_state is not None:
            generators[1].bit_generator.state = saved.rng_state
        log = saved.state.encoder_log if stage == ENCODER_STAGE else saved.state.training_log
        return saved.optimizer, saved.scheduler, log

    def encoder_writer(
        self,
        autoencoder: nn.Module,
        generator: torch.Generator,
        rng_state: dict[str, Any],
        state: FitState,
    ) -> Callable[[CosineAdam, EncoderLog], None] | None:
        """The ``on_epoch_end`` callback of :func:`neuncut._encoder.train_autoencoder`, or
        None without a checkpoint path."""
        return self._writer(ENCODER_STAGE, autoencoder, generator, state, "encoder_log",
                            rng_state)

    def training_writer(
        self,
        network: nn.Module,
        generator: torch.Generator,
        state: FitState,
        encoder: dict[str, torch.Tensor] | None = None,
    ) -> Callable[[CosineAdam, TrainingLog], None] | None:
        """The ``on_epoch_end`` callback of :func:`neuncut._training.train_ncut`, or None
        without a checkpoint path; ``encoder``: the weights the graphs' codes come from."""
        return self._writer(TRAINING_STAGE, network, generator, state, "training_log",
                            encoder=encoder)

    def _writer(
        self, stage: str, module: nn.Module, generator: torch.Generator, state: FitState,
        log_field: str, rng_state: dict[str, Any] | None = None,
        encoder: dict[str, torch.Tensor] | None = None,
    ) -> Callable[[CosineAdam, Any], None] | None:
        """A callback ``(optimizer, log)`` that records ``log`` as ``state.<log_field>`` and
        writes the checkpoint of ``stage``."""
        if self.path is None:
            return None
        path, key = self.path, self.key

        def write(optimizer: CosineAdam, log: Any) -> None:
            setattr(state, log_field, log)
            write_checkpoint(path, key, Checkpoint(
                state=state, stage=stage,
                network={k: v.detach() for k, v in module.state_dict().items()},
                optimizer=optimizer.state_dict(), scheduler=optimizer.schedule_state_dict(),
                generator=generator.get_state(), rng_state=rng_state, encoder=encoder,
            ))

        return write

    def finish(self) -> None:
        """Delete the checkpoint file: the fit succeeded."""
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
