"""Torch's intra-op threads for the fit's stages made of many small ops.

Torch's threads meet at the end of every parallel op. When another process holds one of the
cores, a thread is descheduled for a time slice and its partner waits: ops of microseconds
take milliseconds. The stages made of thousands of small ops (the neighbour-embedding layout,
the distillation's 256-point steps) therefore run on one thread, which costs little on an
idle machine and keeps them at their idle speed beside a busy process (measurements in
``benchmarks/README.md``, "Threads under load").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["torch_threads"]


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
