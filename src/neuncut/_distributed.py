"""Data-parallel training across processes with ``torch.distributed`` (DDP).

When ``fit`` runs inside an initialized process group (``torchrun`` plus
``torch.distributed.init_process_group``, or ``neuncut fit`` started by ``torchrun``, which
initializes it itself), every process must call ``fit`` with the same data and parameters:

* rank 0 computes the warm start and the penalty; its network, ``sigma_`` and ``penalty_`` are
  broadcast to the others;
* each epoch is one shuffled pass over the training rows cut into minibatches, and each
  process trains on its own share of them (rank r takes batches r, r + world, ...), building
  its own batch graphs; ``DistributedDataParallel`` averages the gradients, so every process
  holds the same network after every step;
* a non-finite loss on any process is seen by all (an all-reduce) and handled by all alike;
* the rows are labelled in one slice per process and gathered, so every process ends with
  the same ``labels_``.

CPU processes use the ``gloo`` backend; CUDA ones ``nccl``, one GPU per local rank.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "all_finite",
    "broadcast_module",
    "broadcast_values",
    "gather_rows",
    "init_from_env",
    "local_device",
    "map_row_slices",
    "on_rank_zero",
    "rank_and_world",
    "row_slice",
    "wrap",
]

T = TypeVar("T")


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside an initialized process group.

    Examples
    --------
    >>> rank_and_world()
    (0, 1)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_env(device: str = "auto") -> bool:
    """Initialize the default process group from ``torchrun``'s environment, if launched by it.

    Returns True when this call initialized a group of more than one process (the caller
    should then ``dist.destroy_process_group()`` at the end), False otherwise.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world < 2 or not dist.is_available() or dist.is_initialized():
        return False
    use_cuda = device != "cpu" and torch.cuda.is_available()
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return True


def local_device(device: torch.device) -> torch.device:
    """The CUDA device of this process's local rank when ``device`` is CUDA, else ``device``."""
    if device.type == "cuda" and rank_and_world()[1] > 1:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def broadcast_values(*values: Any) -> list[Any]:
    """The values of rank 0, on every process (picklable Python objects)."""
    objects = list(values)
    dist.broadcast_object_list(objects, src=0)
    return objects


@torch.no_grad()
def broadcast_module(module: nn.Module) -> None:
    """Overwrite every parameter and buffer of ``module`` with rank 0's."""
    for tensor in module.state_dict().values():
        dist.broadcast(tensor, src=0)


def wrap(network: nn.Module) -> nn.Module:
    """``network`` in DistributedDataParallel when in a process group of several, else as is."""
    if rank_and_world()[1] < 2:
        return network
    device = next(network.parameters()).device
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(network, device_ids=device_ids)


def all_finite(loss: torch.Tensor) -> bool:
    """Whether ``loss`` is finite on every process (one all-reduce when distributed)."""
    flag = torch.isfinite(loss.detach()).all().to(torch.int32).reshape(1)
    if rank_and_world()[1] > 1:
        if dist.get_backend() == "nccl":
            flag = flag.cuda()
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def gather_rows(part: np.ndarray, n_total: int) -> np.ndarray:
    """Concatenate, in rank order, the 1-D integer arrays each process holds (``n_total`` in
    all); every process gets the whole array."""
    _, world = rank_and_world()
    size = -(-n_total // world)  # ceil: each rank's slice is padded to this length
    padded = torch.zeros(size, dtype=torch.int64)
    padded[: part.shape[0]] = torch.from_numpy(np.asarray(part, dtype=np.int64))
    if dist.get_backend() == "nccl":
        padded = padded.cuda()
    gathered = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    bounds = [min(r * size, n_total) for r in range(world + 1)]
    return np.concatenate(
        [g[: bounds[r + 1] - bounds[r]].cpu().numpy() for r, g in enumerate(gathered)]
    )


def row_slice(n_rows: int) -> slice:
    """The rows this process labels: consecutive slices of ``ceil(n_rows / world)``."""
    rank, world = rank_and_world()
    size = -(-n_rows // world)
    return slice(min(rank * size, n_rows), min((rank + 1) * size, n_rows))


def on_rank_zero(
    compute: Callable[[], T],
    *,
    module: nn.Module | None = None,
    generator: torch.Generator | None = None,
) -> T:
    """``compute()`` on rank 0 only; its result, ``module`` and ``generator`` go to every process.

    Outside a process group of several this is ``compute()``. Inside one, the other ranks wait,
    then receive rank 0's picklable result, the generator state and every tensor of
    ``module``, so that all processes continue from the same state.

    Parameters
    ----------
    compute : callable
        Called without arguments on rank 0; it may change ``module`` and draw from
        ``generator``.
    module : nn.Module, optional
    generator : torch.Generator, optional

    Returns
    -------
    result : rank 0's return value of ``compute``
    """
    rank, world = rank_and_world()
    if world < 2:
        return compute()
    result = compute() if rank == 0 else None
    state = None if generator is None else generator.get_state()
    result, state = broadcast_values(result, state)
    if generator is not None:
        generator.set_state(state)
    if module is not None:
        broadcast_module(module)
    return result


def map_row_slices(fn: Callable[[Any], np.ndarray], X: Any) -> np.ndarray:
    """``fn(X)`` for a 1-D integer result per row; in a process group each process computes
    its slice of rows (:func:`row_slice`) and all get the gathered whole.

    Parameters
    ----------
    fn : callable
        Rows -> one integer per row.
    X : array-like of shape (n_rows, ...)

    Returns
    -------
    values : ndarray of shape (n_rows,)
    """
    if rank_and_world()[1] < 2:
        return fn(X)
    return gather_rows(fn(X[row_slice(X.shape[0])]), X.shape[0])
