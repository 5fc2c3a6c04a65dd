"""Bad input, numerical faults and invariants: every case gets a clear error or a correct,
documented result, never a NaN, a hang or a traceback from deep inside torch.

The command line's bad files are in ``tests/test_cli.py`` (``ERRORS``); model files that are
truncated, corrupted, tampered, too new or carry a pickle payload in ``tests/test_io.py``;
killed and resumed fits in ``tests/test_checkpoint.py``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from neuncut import NeuNcut
from neuncut._adam import CosineAdam
from neuncut.affinity import self_tuning_knn_affinity
from neuncut.exceptions import DegenerateGraphWarning, EmptyClusterWarning
from tests.helpers import fast_model

X_BLOBS, Y_BLOBS = make_blobs(150, centers=3, n_features=4, cluster_std=0.5, random_state=0)


def fast(**overrides: Any) -> NeuNcut:
    return fast_model(**{"n_clusters": 3, **overrides})


@pytest.fixture(scope="module")
def reference_labels() -> np.ndarray:
    """Labels of the blobs as float64, which every accepted encoding must reproduce."""
    return fast().fit(X_BLOBS).labels_


def _with(fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return fn(X_BLOBS.copy())


def _nan(X: np.ndarray) -> np.ndarray:
    X[5, 2] = np.nan
    return X


def _inf(X: np.ndarray) -> np.ndarray:
    X[7, 0] = -np.inf
    return X


# ------------------------------------------------------------------------ refused inputs
# (name, X, exception, fragment of the message)
REFUSED = [
    ("nan", _with(_nan), ValueError, "NaN"),
    ("inf", _with(_inf), ValueError, "infinity"),
    ("beyond float32", _with(lambda X: X * 1e300), ValueError, "not finite in float32"),
    ("empty", np.zeros((0, 4)), ValueError, "0 sample"),
    ("no features", np.zeros((10, 0)), ValueError, "0 feature"),
    ("one row", X_BLOBS[:1], ValueError, "n_samples=1 should be >= n_clusters=3"),
    ("fewer rows than clusters", X_BLOBS[:2], ValueError, "n_samples=2 should be >= n_clusters"),
    ("1-D", X_BLOBS[:, 0], ValueError, "Expected 2D array"),
    ("3-D", X_BLOBS.reshape(150, 2, 2), ValueError, "dim 3"),
    ("words", np.array([["a", "b"]] * 20), ValueError, "not numbers"),
    ("complex", X_BLOBS.astype(complex), ValueError, "Complex data not supported"),
    ("text column", pd.DataFrame({"a": X_BLOBS[:, 0], "b": ["x"] * 150}), ValueError,
     "not numbers"),
    ("sparse", sp.csr_matrix(X_BLOBS), TypeError, "dense data is required"),
    ("dict", {"a": 1}, (TypeError, ValueError), "."),
]


@pytest.mark.parametrize("name, X, exc, fragment", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_input(name: str, X: Any, exc: type, fragment: str) -> None:
    with pytest.raises(exc, match=fragment):
        fast().fit(X)


def test_object_array_with_none_is_nan() -> None:
    X = X_BLOBS.astype(object)
    X[0, 0] = None
    with pytest.raises(ValueError, match="NaN"):
        fast().fit(X)


# ----------------------------------------------------------------------- accepted inputs
# Encodings of the same numbers: each must give exactly the labels of the float64 array.
SAME_NUMBERS = {
    "float32": lambda X: X.astype(np.float32),
    "float16 of float16 values": None,  # compared with float32 below
    "Fortran order": np.asfortranarray,
    "object": lambda X: X.astype(object),
    "numeric strings": lambda X: X.astype(np.float32).astype(str),
    "DataFrame": lambda X: pd.DataFrame(X, columns=list("abcd")),
    "list of lists": lambda X: X.tolist(),
    "torch float64": torch.from_numpy,
    "torch float32 requiring grad": lambda X: torch.tensor(X, dtype=torch.float32,
                                                          requires_grad=True),
    "non-contiguous view": lambda X: np.repeat(X, 2, axis=1)[:, ::2],
}


@pytest.mark.parametrize("name", [n for n, f in SAME_NUMBERS.items() if f is not None])
def test_encodings_of_the_same_numbers_give_the_same_labels(name, reference_labels) -> None:
    X = SAME_NUMBERS[name](X_BLOBS.copy())
    model = fast().fit(X)
    expected = reference_labels
    if name in ("float32", "numeric strings", "torch float32 requiring grad"):
        expected = fast().fit(X_BLOBS.astype(np.float32)).labels_
    np.testing.assert_array_equal(model.labels_, expected)
    np.testing.assert_array_equal(model.predict(X), expected)


def test_float16_and_float32_of_the_same_values_agree() -> None:
    X16 = X_BLOBS.astype(np.float16)
    np.testing.assert_array_equal(fast().fit(X16).labels_,
                                  fast().fit(X16.astype(np.float32)).labels_)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.bool_])
def test_integer_and_boolean_data(dtype) -> None:
    X = np.repeat(np.eye(3, dtype=dtype), 30, axis=0)  # three distinct rows, 30 copies each
    labels = fast().fit(X).labels_
    assert adjusted_rand_score(np.repeat(np.arange(3), 30), labels) == 1.0


@pytest.mark.parametrize("affinity", ["knn", "rbf"])
@pytest.mark.parametrize(
    "name, transform",
    [
        ("scaled by 1e30", lambda X: X * 1e30),
        ("scaled by 1e-30", lambda X: X * 1e-30),
        ("shifted by 1e6", lambda X: X + 1e6),
        ("constant column", lambda X: np.c_[X, np.full(len(X), 7.0)]),
        ("duplicated rows", lambda X: np.repeat(X, 4, axis=0)),
    ],
)
def test_transformed_blobs_are_still_recovered(affinity, name, transform) -> None:
    X = transform(X_BLOBS.copy())
    y = np.repeat(Y_BLOBS, 4) if name == "duplicated rows" else Y_BLOBS
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGraphWarning)
        model = fast(affinity=affinity).fit(X)
    assert adjusted_rand_score(y, model.labels_) == 1.0
    assert np.isfinite(model.predict_proba(X)).all()


def test_all_rows_identical_is_one_cluster_with_a_warning() -> None:
    with pytest.warns(EmptyClusterWarning, match="only 1 of n_clusters=3"):
        model = fast().fit(np.ones((40, 4)))
    assert (model.labels_ == model.labels_[0]).all()
    P = model.predict_proba(np.ones((5, 4)))
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1.0)


def test_more_clusters_than_distinct_rows_warns() -> None:
    X = np.repeat(np.eye(2), 20, axis=0)
    with pytest.warns(EmptyClusterWarning, match="of n_clusters=4"):
        model = fast(n_clusters=4).fit(X)
    assert adjusted_rand_score(np.repeat([0, 1], 20), model.labels_) == 1.0


def test_one_row_one_cluster() -> None:
    model = fast(n_clusters=1).fit(X_BLOBS[:1])
    np.testing.assert_array_equal(model.labels_, [0])
    np.testing.assert_array_equal(model.predict(X_BLOBS), np.zeros(150, dtype=np.int64))


# ------------------------------------------------------------------- degenerate graphs
def test_points_without_neighbours_warn() -> None:
    """A Gaussian far narrower than the distances: every point is isolated in its batch."""
    with pytest.warns(DegenerateGraphWarning, match="have no neighbour"):
        model = fast(affinity="rbf", sigma=1e-6).fit(X_BLOBS)
    assert np.isfinite(model.predict_proba(X_BLOBS)).all()


def test_more_components_than_clusters_warns() -> None:
    X, _ = make_blobs(120, centers=6, cluster_std=0.05, center_box=(-100, 100), random_state=1)
    with pytest.warns(DegenerateGraphWarning, match="connected components"):
        fast(n_clusters=2, n_neighbors=3).fit(X)


@pytest.mark.parametrize(
    "bad_graph",
    [
        lambda x: torch.full((len(x), len(x)), float("nan")),
        lambda x: -self_tuning_knn_affinity(x, 5),
        lambda x: torch.triu(self_tuning_knn_affinity(x, 5)),
    ],
    ids=["nan", "negative", "asymmetric"],
)
def test_invalid_callable_graph_is_refused(bad_graph) -> None:
    with pytest.raises(ValueError, match="finite, non-negative and symmetric"):
        fast(affinity=bad_graph).fit(X_BLOBS)


# ----------------------------------------------------------------- numerical safety
class _NaNOnCalls:
    """A kNN graph that is NaN on the given calls (counted from 0)."""

    def __init__(self, bad: Callable[[int], bool]) -> None:
        self.bad, self.calls = bad, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        W = self_tuning_knn_affinity(x, 5)
        self.calls += 1
        return W * float("nan") if self.bad(self.calls - 1) else W


def test_transient_nan_is_recovered(caplog) -> None:
    # Call 0 is the graph check before training; with penalty given no batch graph is read to
    # choose it, so call 3 is the third training step.
    affinity = _NaNOnCalls(lambda call: call == 3)
    with caplog.at_level(logging.WARNING, logger="neuncut"):
        model = fast(affinity=affinity, penalty=20.0, batch_size=32).fit(X_BLOBS)
    assert "non-finite loss or weights" in caplog.text
    assert all(np.isfinite(model.loss_curve_))
    assert np.isfinite(model.predict_proba(X_BLOBS)).all()
    assert adjusted_rand_score(Y_BLOBS, model.labels_) == 1.0


def test_persistent_nan_stops_with_a_clear_error() -> None:
    affinity = _NaNOnCalls(lambda call: call >= 1)
    with pytest.raises(RuntimeError, match="training diverged.*learning_rate"):
        fast(affinity=affinity, penalty=20.0, batch_size=32, max_epochs=20).fit(X_BLOBS)


def test_nan_in_the_weights_is_recovered(monkeypatch, caplog) -> None:
    """An optimizer step that writes NaN into a weight (the loss itself was finite)."""
    step, calls = CosineAdam.step, []

    def poisoned_step(self, *args, **kwargs):
        out = step(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            with torch.no_grad():
                self.params[0][0, 0] = float("nan")
        return out

    monkeypatch.setattr(CosineAdam, "step", poisoned_step)
    with caplog.at_level(logging.WARNING, logger="neuncut"):
        model = fast(init="random", penalty=20.0).fit(X_BLOBS)
    assert "non-finite loss or weights" in caplog.text
    assert all(torch.isfinite(p).all() for p in model.network_.parameters())


# ------------------------------------------------------------------------------ predict
@pytest.fixture(scope="module")
def fitted() -> NeuNcut:
    return fast().fit(X_BLOBS)


@pytest.mark.parametrize(
    "X, exc, fragment",
    [
        (X_BLOBS[:, :3], ValueError, "has 3 features, but NeuNcut is expecting 4"),
        (X_BLOBS[:0], ValueError, "0 sample"),
        (_with(_nan), ValueError, "NaN"),
        (pd.DataFrame(X_BLOBS, columns=list("abcd")), None, None),
    ],
    ids=["n_features", "empty", "nan", "names-after-array"],
)
def test_predict_bad_input(fitted, X, exc, fragment) -> None:
    if exc is None:  # fitted without names, predicted with names: sklearn warns, result same
        with pytest.warns(UserWarning, match="feature names"):
            np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
        return
    with pytest.raises(exc, match=fragment):
        fitted.predict(X)


def test_predict_far_outside_the_training_range_is_refused() -> None:
    """Trained on data of scale 1e-30, rows of scale 1e10 overflow the standardized input."""
    model = fast().fit(X_BLOBS * 1e-30)
    with pytest.raises(ValueError, match="150 rows of X .* overflows float32"):
        model.predict(X_BLOBS * 1e10)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "save"])
def test_not_fitted(method, tmp_path) -> None:
    arg = tmp_path / "m.safetensors" if method == "save" else X_BLOBS
    with pytest.raises(NotFittedError):
        getattr(NeuNcut(), method)(arg)


# ------------------------------------------------------------------ invalid parameters
INVALID_PARAMS = [
    ("n_clusters", 0), ("n_clusters", 2.5), ("n_clusters", "3"), ("affinity", "cosine"),
    ("n_neighbors", 0), ("sigma", 0.0), ("sigma", -1.0), ("penalty", -1.0),
    ("hidden_layer_sizes", (0,)), ("hidden_layer_sizes", "wide"), ("hidden_layer_sizes", (8.5,)),
    ("batch_size", 1), ("max_epochs", -1), ("learning_rate", 0.0), ("weight_decay", -0.1),
    ("init", "pca"), ("init_size", 1), ("normalize_rows", "yes"), ("train_size", 0),
    ("train_size", 1.5), ("train_size", -0.5), ("device", 3), ("device", "tpu"),
    ("random_state", "seed"), ("verbose", -1),
]


@pytest.mark.parametrize("param, value", INVALID_PARAMS)
def test_invalid_parameter_names_itself(param, value) -> None:
    with pytest.raises(ValueError, match=param):
        fast(**{param: value}).fit(X_BLOBS)


def test_train_size_larger_than_data() -> None:
    with pytest.raises(ValueError, match="train_size=500 should be <= n_samples=150"):
        fast(train_size=500).fit(X_BLOBS)


# --------------------------------------------------------------------------- properties
FIXTURES = [HealthCheck.function_scoped_fixture]  # module-scoped fixtures, never mutated


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(st.data())
def test_labels_do_not_depend_on_row_order(fitted, data) -> None:
    X = data.draw(arrays(np.float64, (data.draw(st.integers(1, 40)), 4),
                         elements=st.floats(-20, 20, allow_nan=False)))
    perm = data.draw(st.permutations(range(X.shape[0])))
    np.testing.assert_array_equal(fitted.predict(X[perm]), fitted.predict(X)[perm])
    np.testing.assert_allclose(fitted.predict_proba(X[perm]), fitted.predict_proba(X)[perm],
                               rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def reloaded(fitted, tmp_path_factory) -> NeuNcut:
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    fitted.save(path)
    return NeuNcut.load(path)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.just(4)),
              elements=st.floats(-1e6, 1e6, allow_nan=False)))
def test_save_load_is_the_identity_on_predictions(fitted, reloaded, X) -> None:
    np.testing.assert_array_equal(reloaded.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(reloaded.predict_proba(X), fitted.predict_proba(X))
