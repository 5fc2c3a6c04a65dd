"""Warnings raised by neuncut (errors are the standard ValueError, TypeError, RuntimeError,
and :class:`neuncut.io.ModelFileError` for damaged files)."""

from __future__ import annotations

__all__ = ["DegenerateGraphWarning", "EmptyClusterWarning"]


class DegenerateGraphWarning(UserWarning):
    """A batch graph has isolated points, or more connected components than clusters.

    Examples
    --------
    >>> issubclass(DegenerateGraphWarning, UserWarning)
    True
    """


class EmptyClusterWarning(UserWarning):
    """A fit left some of the ``n_clusters`` clusters without any point.

    Examples
    --------
    >>> issubclass(EmptyClusterWarning, UserWarning)
    True
    """
