"""Warnings raised by neuncut, and the error of damaged model files (other errors are the
standard ValueError, TypeError and RuntimeError)."""

from __future__ import annotations

__all__ = [
    "DegenerateGraphWarning", "EmptyClusterWarning", "ModelFileError", "NoClearStructureWarning",
]


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


class NoClearStructureWarning(UserWarning):
    """``n_clusters="auto"`` found no clear number of clusters; its choice is a guess.

    Examples
    --------
    >>> issubclass(NoClearStructureWarning, UserWarning)
    True
    """


class ModelFileError(ValueError):
    """A file is not a valid neuncut model file (wrong format, corrupted, tampered or too new).

    Examples
    --------
    >>> issubclass(ModelFileError, ValueError)
    True
    """
