"""Training checkpoints: a killed ``fit`` resumes where it stopped and ends with the same model.

A checkpoint is a neuncut model file (:func:`neuncut._io.save_tensors`: safetensors plus a JSON
header, checksummed, written atomically, never unpickled) holding everything the fit needs to
continue bit for bit. During the autoencoder's training (a learned representation) it is an
:class:`EncoderCheckpoint`: the autoencoder's weights, Adam's state, the generators and the
per-epoch log. From the warm start on it is a :class:`Checkpoint`: the network's weights
(the encoder's included), Adam's moments, the learning-rate schedule, the torch generator
that draws the minibatches, the per-epoch logs, the indices of the training subset and the
fitted ``sigma_``, ``penalty_`` and ``n_clusters_``. It is keyed by a fingerprint of the
data and the parameters, so a checkpoint is never resumed on anything else.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._adam import CosineAdam
from ._choose_k import NClustersChoice
from ._distributed import rank_and_world
from ._encoder import EncoderLog
from ._files import sha256_hex
from ._io import load_tensors, save_tensors
from ._training import TrainingLog
from ._warm_start import Initialization
from .exceptions import ModelFileError

logger = logging.getLogger(__name__)

__all__ = [
    "Checkpoint",
    "EncoderCheckpoint",
    "FitCheckpoint",
    "fingerprint",
    "fingerprint_params",
    "read_checkpoint",
    "write_checkpoint",
]

_KIND = "NeuNcutCheckpoint"
_ENCODER_STAGE = "encoder"


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


@dataclass
class Checkpoint:
    """The state of a fit between two epochs of Ncut training (see the module docstring)."""

    network: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    generator: torch.Tensor
    log: TrainingLog
    train_indices: np.ndarray
    sigma: float | None
    penalty: float
    timings: dict[str, float]
    init_ncut: dict[str, float] = field(default_factory=dict)
    n_clusters: NClustersChoice | None = None
    encoder_log: EncoderLog | None = None


@dataclass
class EncoderCheckpoint:
    """The state of a fit between two epochs of the autoencoder's training.

    ``rng_state`` is the numpy generator's state when the autoencoder's training began
    (it draws nothing, so the stages after it continue from that state).
    """

    network: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    generator: torch.Tensor
    rng_state: dict[str, Any]
    log: EncoderLog
    train_indices: np.ndarray


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


def write_checkpoint(
    path: str | os.PathLike[str], key: str, ckpt: Checkpoint | EncoderCheckpoint
) -> None:
    """Write ``ckpt`` to ``path`` atomically, under the fingerprint ``key``."""
    opt_tensors, opt_meta = _flatten_optimizer(ckpt.optimizer)
    tensors = {f"network.{k}": v for k, v in ckpt.network.items()}
    tensors.update(opt_tensors)
    tensors["generator"] = ckpt.generator
    tensors["train_indices"] = torch.from_numpy(np.asarray(ckpt.train_indices, dtype=np.int64))
    header: dict[str, Any] = {
        "estimator": _KIND,
        "fingerprint": key,
        "optimizer": opt_meta,
        "scheduler": ckpt.scheduler,
        "log": asdict(ckpt.log),
    }
    if isinstance(ckpt, EncoderCheckpoint):
        header.update(stage=_ENCODER_STAGE, rng_state=ckpt.rng_state)
    else:
        header.update(
            timings=ckpt.timings, sigma=ckpt.sigma, penalty=ckpt.penalty, init_ncut=ckpt.init_ncut,
            n_clusters=None if ckpt.n_clusters is None else ckpt.n_clusters.to_json(),
            encoder_log=None if ckpt.encoder_log is None else asdict(ckpt.encoder_log),
        )
    save_tensors(path, tensors, header)


def read_checkpoint(
    path: str | os.PathLike[str], key: str
) -> Checkpoint | EncoderCheckpoint | None:
    """The checkpoint at ``path``, None when there is none; an error when it is not for ``key``.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist (checked before any work is done).
    ModelFileError
        If the file is damaged, is not a checkpoint, or was written for other data or
        parameters (its fingerprint differs from ``key``).
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
    if header.get("fingerprint") != key:
        raise ModelFileError(
            f"{where} was written by a fit on other data or with other parameters; delete it"
            " to start afresh, or pass another path"
        )
    common = dict(
        network={
            k.removeprefix("network."): v for k, v in tensors.items() if k.startswith("network.")
        },
        optimizer=_unflatten_optimizer(tensors, header["optimizer"]),
        scheduler=header["scheduler"],
        generator=tensors["generator"],
        train_indices=tensors["train_indices"].numpy(),
    )
    if header.get("stage") == _ENCODER_STAGE:
        return EncoderCheckpoint(**common, rng_state=header["rng_state"],
                                 log=EncoderLog(**header["log"]))
    encoder_log = header.get("encoder_log")
    return Checkpoint(
        **common,
        log=TrainingLog(**header["log"]),
        timings=dict(header["timings"]),
        sigma=header["sigma"],
        penalty=float(header["penalty"]),
        init_ncut=dict(header.get("init_ncut", {})),
        n_clusters=NClustersChoice.from_json(header.get("n_clusters")),
        encoder_log=None if encoder_log is None else EncoderLog(**encoder_log),
    )


class FitCheckpoint:
    """The checkpoint of one ``fit``: where it is written, and the state it resumes from.

    ``FitCheckpoint.open(None, ...)`` is the fit without a checkpoint: nothing is read,
    written or deleted.

    Parameters
    ----------
    path : str, os.PathLike or None
    key : str
        The fit's :func:`fingerprint`.
    saved : Checkpoint, EncoderCheckpoint or None
        The state found at ``path`` when the fit started, None for a fresh start.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        key: str = "",
        saved: Checkpoint | EncoderCheckpoint | None = None,
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

    @property
    def resuming(self) -> bool:
        """Whether the fit continues a killed one from its warm start or Ncut training."""
        return isinstance(self.saved, Checkpoint)

    @property
    def encoder_state(self) -> EncoderCheckpoint | None:
        """The autoencoder's state when the fit was killed during its training, else None."""
        return self.saved if isinstance(self.saved, EncoderCheckpoint) else None

    def encoder_writer(
        self,
        autoencoder: nn.Module,
        generator: torch.Generator,
        rng_state: dict[str, Any],
        train_indices: np.ndarray,
    ) -> Callable[[CosineAdam, EncoderLog], None] | None:
        """The ``on_epoch_end`` callback of :func:`neuncut._encoder.train_autoencoder` that
        writes the state after every epoch, or None without a checkpoint path."""
        if self.path is None:
            return None
        path, key = self.path, self.key

        def write(optimizer: CosineAdam, log: EncoderLog) -> None:
            write_checkpoint(path, key, EncoderCheckpoint(
                network={k: v.detach() for k, v in autoencoder.state_dict().items()},
                optimizer=optimizer.state_dict(), scheduler=optimizer.schedule_state_dict(),
                generator=generator.get_state(), rng_state=rng_state, log=log,
                train_indices=train_indices,
            ))

        return write

    def restore(
        self, network: nn.Module, generator: torch.Generator, verbose: int = 0
    ) -> Initialization:
        """Load the saved network weights and batch generator; the fitted warm-start values."""
        assert isinstance(self.saved, Checkpoint)
        if verbose:
            logger.info("resuming from %s after epoch %d", self.path, self.saved.log.n_iter)
        network.load_state_dict(self.saved.network)
        generator.set_state(self.saved.generator)
        s = self.saved
        return Initialization(s.sigma, s.penalty, s.init_ncut, s.timings)

    @property
    def training_state(self) -> tuple[dict, dict, TrainingLog] | None:
        """(optimizer, scheduler, log) to resume Ncut training from, or None."""
        if not isinstance(self.saved, Checkpoint):
            return None
        return self.saved.optimizer, self.saved.scheduler, self.saved.log

    def writer(
        self,
        network: nn.Module,
        generator: torch.Generator,
        train_indices: np.ndarray,
        init: Initialization,
        choice: NClustersChoice | None = None,
        encoder_log: EncoderLog | None = None,
    ) -> Callable[[CosineAdam, TrainingLog], None] | None:
        """The ``on_epoch_end`` callback of :func:`neuncut._training.train_ncut` that writes
        the state after every epoch, or None without a checkpoint path."""
        if self.path is None:
            return None
        path, key, init_ncut = self.path, self.key, dict(init.init_ncut)

        def write(optimizer: CosineAdam, log: TrainingLog) -> None:
            state = {k: v.detach() for k, v in network.state_dict().items()}
            write_checkpoint(path, key, Checkpoint(
                network=state, optimizer=optimizer.state_dict(),
                scheduler=optimizer.schedule_state_dict(), generator=generator.get_state(),
                log=log,
                train_indices=train_indices, sigma=init.sigma, penalty=init.penalty,
                timings=dict(init.timings), init_ncut=init_ncut, n_clusters=choice,
                encoder_log=encoder_log,
            ))

        return write

    def finish(self) -> None:
        """Delete the checkpoint file: the fit succeeded."""
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
