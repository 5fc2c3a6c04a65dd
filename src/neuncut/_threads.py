"""Threads for the fit's stages made of many small ops: torch's, and BLAS / OpenMP's.

Torch's threads meet at the end of every parallel op. When another process holds one of the
cores, a thread is descheduled for a time slice and its partner waits: ops of microseconds
take milliseconds. The stages made of thousands of small ops (the neighbour-embedding layout,
the distillation's 256-point steps) therefore run on one thread, which costs little on an
idle machine and keeps them at their idle speed beside a busy process (decision D17).

The same holds for the native thread pools of scikit-learn and scipy (OpenMP, OpenBLAS), which
on small problems lose even on an idle machine: the warm start's eigensolvers and its k-means
on low-dimensional embeddings run on one native thread (:func:`native_threads`,
threadpoolctl); the kNN search, a large matrix product, keeps the default (decision D18).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from threadpoolctl import ThreadpoolController

__all__ = ["native_threads", "torch_threads"]


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch ops on ``n`` threads inside the block, then restore the setting.

    Parameters
    ----------
    n : int

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The native thread pools of this process, found at the first call and kept.

    threadpoolctl finds them by scanning the process's shared libraries each time a
    ``threadpool_limits`` is entered, which a small fit did dozens of times, most of them in
    the layout's early stop (decision D18). ``import neuncut`` has loaded
    every pool a fit uses (numpy's and scipy's OpenBLAS, torch's and scikit-learn's OpenMP);
    one that another library loads later is not limited (scikit-learn keeps its controller
    the same way).
    """
    return ThreadpoolController()


@contextmanager
def native_threads(n: int) -> Iterator[None]:
    """Run BLAS and OpenMP code (scipy, scikit-learn) on ``n`` threads inside the block.

    Parameters
    ----------
    n : int

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with native_threads(1):
    ...     {pool["num_threads"] for pool in threadpool_info()} <= {1}
    True
    """
    with _thread_pools().limit(limits=n):
        yield
