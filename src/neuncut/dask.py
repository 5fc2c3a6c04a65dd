"""Label a Dask array with a fitted NeuNcut, lazily, one forward pass per block.

A fitted model is a network, so labelling is embarrassingly parallel over rows: every block
of rows is labelled by the model's own :meth:`~neuncut.NeuNcut.predict`, and the result is a
lazy ``dask.array.Array`` whose blocks are exactly what ``model.predict`` gives on those rows.
The model enters the graph once, as a single key that every block task depends on, so a
distributed scheduler sends it to each worker once rather than with every chunk.

Needs the ``dask`` extra: ``pip install 'neuncut[dask]'``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._network import output_width

if TYPE_CHECKING:
    import dask.array

    from ._estimator import NeuNcut

__all__ = ["predict", "predict_proba"]

_INSTALL_HINT = "neuncut.dask needs Dask: pip install 'neuncut[dask]'"


def _import_dask() -> tuple[Any, Any]:
    """The ``dask`` and ``dask.array`` modules, or an ImportError that says what to install."""
    try:
        import dask
        import dask.array as da
    except ImportError as err:
        raise ImportError(f"{_INSTALL_HINT} ({err}).") from err
    return dask, da


def predict(model: NeuNcut, X: dask.array.Array) -> dask.array.Array:
    """Lazy cluster labels of the rows of a Dask array, block by block.

    Each block of rows is labelled by ``model.predict``, so the labels are exactly those the
    in-memory call gives on the same rows, whatever the chunking. The model enters the task
    graph once (one key, ``dask.delayed(model, pure=True)``) and every block task depends on
    it: a distributed scheduler ships it to each worker once, not once per chunk. The graph
    holds a reference to ``model``: compute before refitting it.

    Parameters
    ----------
    model : NeuNcut
        A fitted model.
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows; an array also chunked along columns is rechunked to one column
        block first (each block then holds whole rows, which costs a copy of that rechunk).
        Unknown row-chunk sizes (e.g. after boolean indexing) are fine. Values are checked by
        ``model.predict`` when the blocks are computed (non-finite values raise then).

    Returns
    -------
    labels : dask.array.Array of shape (n_samples,), int64
        Chunked like the rows of X.

    Raises
    ------
    TypeError
        X is not a Dask array (use ``model.predict`` for in-memory data).
    sklearn.exceptions.NotFittedError
        The model is not fitted.
    ValueError
        X is not 2-D, or its number of columns differs from the model's ``n_features_in_``.

    Examples
    --------
    >>> import pytest; _ = pytest.importorskip("dask")  # the examples need the dask extra
    >>> import dask.array as da
    >>> from sklearn.datasets import make_blobs
    >>> from neuncut import NeuNcut
    >>> import neuncut.dask
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> model = NeuNcut(3, max_epochs=2, hidden_layer_sizes=(16,), init_size=200,
    ...                 random_state=0).fit(X)
    >>> labels = neuncut.dask.predict(model, da.from_array(X, chunks=100))
    >>> labels.chunks
    ((100, 100, 100),)
    >>> bool((labels.compute() == model.predict(X)).all())
    True
    """
    dask, da = _import_dask()
    X = _check_input(model, X, da)
    return da.blockwise(
        _predict_block, "i", X, "ij", _model_node(model, dask), None,
        dtype=np.int64, meta=np.empty((0,), dtype=np.int64), concatenate=True,
    )


def predict_proba(model: NeuNcut, X: dask.array.Array) -> dask.array.Array:
    """Lazy soft memberships ``softmax(f(x))`` of the rows of a Dask array, block by block.

    Each block of rows is ``model.predict_proba`` of those rows; the model is shipped once,
    as in :func:`predict`.

    Parameters
    ----------
    model : NeuNcut
        A fitted model.
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows; column chunks are merged into one first (see :func:`predict`).

    Returns
    -------
    P : dask.array.Array of shape (n_samples, n_clusters), float32
        Rows chunked like X, the clusters in one block; each row sums to 1.

    Raises
    ------
    TypeError, sklearn.exceptions.NotFittedError, ValueError
        As :func:`predict`.

    Examples
    --------
    Train on a subset, then get the memberships of every row of a column-chunked array:

    >>> import pytest; _ = pytest.importorskip("dask")  # the examples need the dask extra
    >>> import numpy as np
    >>> import dask.array as da
    >>> from neuncut import NeuNcut
    >>> from neuncut.dask import predict_proba
    >>> X = da.random.default_rng(0).normal(size=(500, 2), chunks=(200, 1))
    >>> model = NeuNcut(2, max_epochs=2, hidden_layer_sizes=(8,), init_size=200,
    ...                 random_state=0).fit(X[:300].compute())
    >>> P = predict_proba(model, X)
    >>> P.shape, P.chunks
    ((500, 2), ((200, 200, 100), (2,)))
    >>> bool(np.allclose(P.sum(axis=1).compute(), 1.0))
    True
    """
    dask, da = _import_dask()
    X = _check_input(model, X, da)
    n_clusters = output_width(model.network_)
    return da.blockwise(
        _predict_proba_block, "ik", X, "ij", _model_node(model, dask), None,
        new_axes={"k": n_clusters}, dtype=np.float32,
        meta=np.empty((0, 0), dtype=np.float32), concatenate=True,
    )


def _check_input(model: NeuNcut, X: Any, da: Any) -> dask.array.Array:
    """X, validated against the fitted model, with its columns in one block."""
    if not isinstance(X, da.Array):
        raise TypeError(
            f"X should be a dask.array.Array, got {type(X).__module__}.{type(X).__qualname__};"
            " for in-memory data call model.predict(X) or model.predict_proba(X)."
        )
    check_is_fitted(model, "network_")
    if X.ndim != 2:
        raise ValueError(
            f"X should be 2-D (n_samples, n_features), got X.ndim={X.ndim} with shape {X.shape}."
        )
    if X.shape[1] != model.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features (columns), but the model was fitted on"
            f" n_features_in_={model.n_features_in_}; they should be equal."
        )
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    return X


def _model_node(model: NeuNcut, dask: Any) -> Any:
    """The model as one graph key (named by its content), a dependency of every block task."""
    return dask.delayed(model, pure=True)


def _predict_block(block: np.ndarray, model: NeuNcut) -> np.ndarray:
    """``model.predict`` of one block of rows; int64, empty for an empty block."""
    if block.shape[0] == 0:
        return np.empty((0,), dtype=np.int64)
    with _no_feature_name_warning():
        return model.predict(block).astype(np.int64, copy=False)


def _predict_proba_block(block: np.ndarray, model: NeuNcut) -> np.ndarray:
    """``model.predict_proba`` of one block of rows; float32, empty for an empty block."""
    if block.shape[0] == 0:
        return np.empty((0, output_width(model.network_)), dtype=np.float32)
    with _no_feature_name_warning():
        return model.predict_proba(block).astype(np.float32, copy=False)


@contextmanager
def _no_feature_name_warning() -> Iterator[None]:
    """Silence scikit-learn's "X does not have valid feature names": blocks have no names."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield
