"""Input validation of the estimator: parameters, the data to fit, the rows to predict.

Errors name the parameter, its value and the rule (``"init_size=3 should be >=
n_clusters=5."``), or say what to do with data the estimator cannot take.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._encoder import check_encoder_layer_sizes
from ._network import as_network_input, check_hidden_layer_sizes
from ._streaming import open_rows
from ._warm_start import uses_warm_start

__all__ = ["PARAMETER_CONSTRAINTS", "check_fit_input", "check_rows", "training_rows"]

# What ``NeuNcut._validate_params`` checks (scikit-learn's declarative parameter validation).
PARAMETER_CONSTRAINTS: dict = {
    "n_clusters": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "max_clusters": [Interval(Integral, 2, None, closed="left")],
    "affinity": [StrOptions({"knn", "rbf"}), callable],
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    "sigma": [Interval(Real, 0, None, closed="neither"), None],
    "penalty": [Interval(Real, 0, None, closed="left"), None],
    "hidden_layer_sizes": ["array-like", StrOptions({"auto"})],
    "batch_size": [Interval(Integral, 2, None, closed="left")],
    "max_epochs": [Interval(Integral, 0, None, closed="left")],
    "tol": [Interval(Real, 0, 1, closed="both"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "init": [StrOptions({"auto", "spectral", "genie", "embedding", "kmeans", "random"})],
    "init_size": [Interval(Integral, 2, None, closed="left")],
    "normalize_rows": ["boolean"],
    "representation": [StrOptions({"auto", "autoencoder", "none"})],
    "encoder_layer_sizes": ["array-like"],
    "encoder_max_epochs": [Interval(Integral, 1, None, closed="left")],
    "train_size": [
        Interval(Integral, 1, None, closed="left"),
        Interval(Real, 0, 1, closed="right"),
        None,
    ],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def check_fit_input(
    estimator: Any, X: Any
) -> tuple[np.ndarray, tuple[int, ...] | str, bool]:
    """Validate the parameters of ``estimator`` and the X given to ``fit``.

    Parameters
    ----------
    estimator : NeuNcut
    X : array-like, np.memmap or path of a .npy file

    Returns
    -------
    X : ndarray or np.memmap
        Validated in memory; a memory map is validated when its rows are read.
    hidden : tuple of int or "auto"
        The hidden layer sizes.
    in_memory : bool
        Whether X was given in memory (not a memory map or a path).
    """
    estimator._validate_params()
    hidden = check_hidden_layer_sizes(estimator.hidden_layer_sizes)
    check_encoder_layer_sizes(estimator.encoder_layer_sizes)
    # With n_clusters="auto" the choice is capped by the data (neuncut.n_clusters).
    k = 1 if estimator.n_clusters == "auto" else estimator.n_clusters
    if uses_warm_start(estimator.init, estimator.penalty) and estimator.init_size < k:
        raise ValueError(f"init_size={estimator.init_size} should be >= n_clusters={k}.")
    if isinstance(X, Iterator):
        raise TypeError(
            "fit needs random access to the rows of X: give an array, a np.memmap or the"
            " path of a .npy file, not an iterator (predict accepts iterators)."
        )
    in_memory = not isinstance(X, (str, os.PathLike, np.memmap))
    X = check_rows(estimator, X, reset=True) if in_memory else open_rows(X)
    if X.shape[0] < k:
        raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={k}.")
    return X, hidden, in_memory


def check_rows(estimator: BaseEstimator, X: Any, *, reset: bool) -> np.ndarray:
    """Rows as the network takes them: validated by scikit-learn, float32, row-normalized
    if ``estimator.normalize_rows``.

    Parameters
    ----------
    estimator : NeuNcut
    X : array-like or torch.Tensor
    reset : bool
        True in ``fit`` (records ``n_features_in_``), False when predicting (checks it).

    Returns
    -------
    X : ndarray of float32
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    try:
        X = validate_data(
            estimator, X, reset=reset, dtype=[np.float32, np.float64], ensure_min_samples=1
        )
    except ValueError as err:
        if "could not convert string to float" not in str(err):
            raise
        raise ValueError(
            f"X contains values that are not numbers ({err}). NeuNcut clusters numeric"
            " data: encode categorical columns first (e.g. sklearn.preprocessing."
            "OneHotEncoder) or drop them."
        ) from None
    return as_network_input(X, normalize_rows=estimator.normalize_rows)


def training_rows(
    estimator: BaseEstimator, X: np.ndarray, indices: np.ndarray, in_memory: bool
) -> np.ndarray:
    """The rows ``fit`` trains on; a memory map is read (and validated) at those rows only.

    Parameters
    ----------
    estimator : NeuNcut
    X : ndarray or np.memmap
        As returned by :func:`check_fit_input`.
    indices : ndarray of int
    in_memory : bool
        Whether X was validated in memory already.

    Returns
    -------
    rows : ndarray of float32
    """
    return X[indices] if in_memory else check_rows(estimator, X[indices], reset=True)
