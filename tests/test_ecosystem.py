"""NeuNcut inside the scientific Python ecosystem: each test is a usage example.

scikit-learn pipelines, ``clone``, ``GridSearchCV`` with ``score``, ``set_output``, and
NumPy, pandas and torch inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from neuncut import NeuNcut
from tests.helpers import FAST_PARAMS

TINY = FAST_PARAMS  # the shared fast model (tests/helpers.py)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """Four well separated blobs in 6 dimensions."""
    return make_blobs(240, n_features=6, centers=4, cluster_std=0.5, random_state=0)


def test_pipeline_scaler_pca_neuncut(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    pipe = make_pipeline(StandardScaler(), PCA(n_components=3, random_state=0),
                         NeuNcut(n_clusters=4, **TINY))
    labels = pipe.fit_predict(X)
    assert adjusted_rand_score(y, labels) > 0.95
    np.testing.assert_array_equal(pipe.predict(X), labels)
    # the pipeline's predict is NeuNcut's predict on the transformed data
    Z = pipe[:-1].transform(X)
    np.testing.assert_array_equal(pipe[-1].predict(Z), labels)
    assert pipe[-1].n_features_in_ == 3
    assert np.isfinite(pipe.score(X))


def test_pipeline_set_output_pandas(data: tuple[np.ndarray, np.ndarray]) -> None:
    """``set_output`` applies to the transformers; NeuNcut then sees named columns."""
    pytest.importorskip("pandas")
    X, _ = data

    def pipe():
        return make_pipeline(StandardScaler(), PCA(n_components=3, random_state=0),
                             NeuNcut(n_clusters=4, **TINY))

    plain = pipe().fit(X)
    framed = pipe().set_output(transform="pandas").fit(X)
    assert list(framed[-1].feature_names_in_) == ["pca0", "pca1", "pca2"]
    np.testing.assert_array_equal(framed[-1].labels_, plain[-1].labels_)
    np.testing.assert_array_equal(framed.predict(X), plain.predict(X))


def test_clone_gives_an_unfitted_twin_that_refits_identically(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, _ = data
    model = NeuNcut(n_clusters=4, n_neighbors=7, **TINY).fit(X)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "labels_") and not hasattr(twin, "network_")
    np.testing.assert_array_equal(twin.fit(X).labels_, model.labels_)


def test_grid_search_with_score_and_no_labels(data: tuple[np.ndarray, np.ndarray]) -> None:
    """GridSearchCV ranks candidates by ``NeuNcut.score`` (minus the Ncut objective, no y).

    Scores are comparable across candidates that share the graph and the penalty
    (``affinity``, ``n_neighbors``, ``sigma``, ``penalty``): here the learning rate varies,
    with a fixed penalty.
    """
    X, _ = data
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(NeuNcut(n_clusters=4, penalty=30.0, **TINY),
                          {"learning_rate": [1e-4, 1e-2]}, cv=cv)
    search.fit(X)  # no y: the search never sees labels
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(scores))]
    assert search.best_estimator_.get_params()["penalty"] == 30.0
    assert search.predict(X).shape == (X.shape[0],)
    # a split's score is exactly score() of the candidate refitted on that split
    train, test = next(cv.split(X))
    params = search.cv_results_["params"][0]
    refit = NeuNcut(n_clusters=4, penalty=30.0, **TINY, **params)
    expected = refit.fit(X[train]).score(X[test])
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected, rel=1e-6)


def test_pandas_dataframe_gives_the_numpy_labels(data: tuple[np.ndarray, np.ndarray]) -> None:
    pd = pytest.importorskip("pandas")
    X, _ = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reference = NeuNcut(n_clusters=4, **TINY).fit(X)
    model = NeuNcut(n_clusters=4, **TINY).fit(frame)
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    np.testing.assert_array_equal(model.predict(frame), reference.predict(X))
    assert list(model.feature_names_in_) == list(frame.columns)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_tensor_gives_the_numpy_labels(data: tuple[np.ndarray, np.ndarray],
                                             dtype: torch.dtype) -> None:
    X, _ = data
    tensor = torch.from_numpy(X).to(dtype)
    reference = NeuNcut(n_clusters=4, **TINY).fit(X)
    model = NeuNcut(n_clusters=4, **TINY).fit(tensor)
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    np.testing.assert_array_equal(model.predict(tensor), reference.predict(X))
    proba = model.predict_proba(tensor)
    assert isinstance(proba, np.ndarray)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
