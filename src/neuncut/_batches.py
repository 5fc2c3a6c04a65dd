"""Randomness and sampling: the fit's generators, the training subset, shuffled minibatches.

Every random draw of a fit comes from the two generators of :func:`make_generators`, passed
down explicitly (no global seed is ever set), so the same ``random_state`` gives the same
labels on the same machine.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["draw_subset", "iter_batches", "make_generators", "n_batches_per_epoch"]


def make_generators(random_state: object) -> tuple[np.random.Generator, torch.Generator]:
    """One numpy and one torch Generator, both derived from ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Anything :func:`sklearn.utils.check_random_state` takes; an int gives the same pair
        every time.

    Returns
    -------
    np_rng : numpy.random.Generator
    torch_gen : torch.Generator

    Examples
    --------
    >>> a, _ = make_generators(0)
    >>> b, _ = make_generators(0)
    >>> int(a.integers(1000)) == int(b.integers(1000))
    True
    """
    seed = int(check_random_state(random_state).randint(2**31 - 1))
    return np.random.default_rng(seed), torch.Generator().manual_seed(seed)


def draw_subset(
    n_samples: int, train_size: float | None, n_clusters: int, rng: np.random.Generator
) -> np.ndarray:
    """Sorted indices of the training subset: all rows, ``train_size`` rows, or a fraction.

    Parameters
    ----------
    n_samples : int
        Rows of X.
    train_size : int, float in (0, 1] or None
        None keeps every row; an int that many rows; a float that fraction, rounded up.
    n_clusters : int
        The subset must hold at least this many rows.
    rng : numpy Generator

    Returns
    -------
    indices : ndarray of int, sorted

    Examples
    --------
    >>> import numpy as np
    >>> draw_subset(10, 0.5, 2, np.random.default_rng(0)).size
    5
    """
    if train_size is None:
        return np.arange(n_samples)
    if isinstance(train_size, Integral):
        n_train = int(train_size)
    else:
        n_train = math.ceil(float(train_size) * n_samples)
    if n_train > n_samples:
        raise ValueError(f"train_size={train_size} should be <= n_samples={n_samples}.")
    if n_train < n_clusters:
        raise ValueError(
            f"train_size={train_size} gives {n_train} training samples, which should"
            f" be >= n_clusters={n_clusters}."
        )
    return np.sort(rng.choice(n_samples, n_train, replace=False))


def iter_batches(
    n: int, batch_size: int, generator: torch.Generator, *, rank: int = 0, world: int = 1
) -> Iterator[torch.Tensor]:
    """Indices of one shuffled pass over ``range(n)`` in ``ceil(n / batch_size)`` batches.

    The batches differ in size by at most one, so no batch is a tiny remainder whose graph
    would be meaningless. With ``world`` processes (same ``generator`` state in each), the
    number of batches is rounded up to a multiple of ``world`` and process ``rank`` gets
    batches ``rank, rank + world, ...``: disjoint shares of the same pass.

    Parameters
    ----------
    n : int
        Rows to cover.
    batch_size : int
        Largest batch.
    generator : torch.Generator
        Draws the permutation.
    rank, world : int
        This process and the number of processes sharing the pass.

    Yields
    ------
    indices : LongTensor

    Examples
    --------
    >>> import torch
    >>> [len(b) for b in iter_batches(10, 4, torch.Generator().manual_seed(0))]
    [4, 3, 3]
    >>> [len(b) for b in iter_batches(10, 4, torch.Generator(), rank=1, world=2)]
    [3, 2]
    """
    perm = torch.randperm(n, generator=generator)
    n_batches = n_batches_per_epoch(n, batch_size, world) * world
    yield from torch.tensor_split(perm, n_batches)[rank::world]


def n_batches_per_epoch(n: int, batch_size: int, world: int = 1) -> int:
    """Batches one process takes per pass over ``n`` rows (see :func:`iter_batches`).

    Parameters
    ----------
    n, batch_size, world : int

    Returns
    -------
    n_batches : int

    Examples
    --------
    >>> n_batches_per_epoch(10, 4), n_batches_per_epoch(10, 4, world=2)
    (3, 2)
    """
    return math.ceil(max(1, math.ceil(n / batch_size)) / world)
