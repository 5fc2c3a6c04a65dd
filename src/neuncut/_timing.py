"""Wall-clock time of the stages of ``fit``, for the fitted attribute ``timings_``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["timed"]


@contextmanager
def timed(timings: dict[str, float] | None, stage: str) -> Iterator[None]:
    """Add the wall-clock seconds of the block to ``timings[stage]`` (nothing if None).

    Parameters
    ----------
    timings : dict of str to float, or None
    stage : str

    Examples
    --------
    >>> timings = {}
    >>> with timed(timings, "wait"):
    ...     pass
    >>> list(timings), timings["wait"] >= 0.0
    (['wait'], True)
    """
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
