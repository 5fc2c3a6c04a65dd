"""Training checkpoints: a killed ``fit`` resumes where it stopped and ends with the same model.

A checkpoint is a neuncut model file (:func:`neuncut.io.save_tensors`: safetensors plus a JSON
header, checksummed, written atomically, never unpickled) holding everything Ncut training
needs to continue bit for bit: the network's weights, Adam's moments, the learning-rate
schedule, the torch generator that draws the minibatches, the per-epoch log, the indices of
the training subset and the fitted ``sigma_`` and ``penalty_``. It is keyed by a fingerprint
of the data and the parameters, so a checkpoint is never resumed on anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .io import ModelFileError, load_tensors, save_tensors
from .training import TrainingLog

__all__ = [
    "Checkpoint",
    "CheckpointWriter",
    "fingerprint",
    "fingerprint_params",
    "read_checkpoint",
    "write_checkpoint",
]

_KIND = "NeuNcutCheckpoint"


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
    h = hashlib.sha256()
    X = np.ascontiguousarray(X)
    h.update(json.dumps([list(X.shape), str(X.dtype)]).encode())
    h.update(memoryview(X).cast("B"))
    h.update(json.dumps(params, sort_keys=True, default=repr).encode())
    return h.hexdigest()


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
    tensors["train_indices"] = torch.from_numpy(np.asarray(ckpt.train_indices, dtype=np.int64))
    header = {
        "estimator": _KIND,
        "fingerprint": key,
        "optimizer": opt_meta,
        "scheduler": ckpt.scheduler,
        "log": asdict(ckpt.log),
        "sigma": ckpt.sigma,
        "penalty": ckpt.penalty,
        "timings": ckpt.timings,
        "init_ncut": ckpt.init_ncut,
    }
    save_tensors(path, tensors, header)


def read_checkpoint(path: str | os.PathLike[str], key: str) -> Checkpoint | None:
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
    return Checkpoint(
        network={
            k.removeprefix("network."): v for k, v in tensors.items() if k.startswith("network.")
        },
        optimizer=_unflatten_optimizer(tensors, header["optimizer"]),
        scheduler=header["scheduler"],
        generator=tensors["generator"],
        log=TrainingLog(**header["log"]),
        train_indices=tensors["train_indices"].numpy(),
        sigma=header["sigma"],
        penalty=float(header["penalty"]),
        timings=dict(header["timings"]),
        init_ncut=dict(header.get("init_ncut", {})),
    )


class CheckpointWriter:
    """``on_epoch_end`` callback of :func:`neuncut.training.train_ncut` that writes checkpoints.

    Parameters
    ----------
    path : str or os.PathLike
    key : str
        The fit's :func:`fingerprint`.
    network : nn.Module
        The network being trained.
    generator : torch.Generator
        The generator that draws the minibatches.
    train_indices : ndarray
        Rows of X trained on.
    sigma, penalty : float
        Fitted ``sigma_`` and ``penalty_``.
    timings : dict
        Stage times so far.
    init_ncut : dict
        Fitted ``init_ncut_``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        key: str,
        network: nn.Module,
        generator: torch.Generator,
        train_indices: np.ndarray,
        *,
        sigma: float | None,
        penalty: float,
        timings: dict[str, float],
        init_ncut: dict[str, float] | None = None,
    ) -> None:
        self.path, self.key, self.network, self.generator = path, key, network, generator
        self.train_indices, self.sigma, self.penalty = train_indices, sigma, penalty
        self.timings, self.init_ncut = timings, dict(init_ncut or {})

    def __call__(self, optimizer: torch.optim.Optimizer, scheduler: Any, log: TrainingLog) -> None:
        state = {k: v.detach() for k, v in self.network.state_dict().items()}
        write_checkpoint(self.path, self.key, Checkpoint(
            network=state, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
            generator=self.generator.get_state(), log=log, train_indices=self.train_indices,
            sigma=self.sigma, penalty=self.penalty, timings=dict(self.timings),
            init_ncut=self.init_ncut,
        ))
