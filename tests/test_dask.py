"""neuncut.dask: lazy labels of Dask arrays equal the in-memory ones; the model ships once."""

from __future__ import annotations

import pickle
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import neuncut.dask as nd  # noqa: E402
from neuncut import NeuNcut  # noqa: E402
from tests.helpers import fast_model  # noqa: E402


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    X, _ = make_blobs(400, n_features=4, centers=3, cluster_std=0.7, random_state=0)
    return X


@pytest.fixture(scope="module")
def model(data: np.ndarray) -> NeuNcut:
    return fast_model(n_clusters=3).fit(data)


@pytest.fixture(scope="module")
def encoded_model(data: np.ndarray) -> NeuNcut:
    """A model with a learned representation: encoder + head."""
    return fast_model(n_clusters=3, representation="autoencoder", encoder_layer_sizes=(8, 2),
                      encoder_max_epochs=2).fit(data)


CHUNKINGS = {
    "uneven last chunk": (150, 4),
    "single chunk": (-1, -1),
    "column-chunked": (100, 1),
    "empty chunk": ((150, 0, 250), (4,)),
}


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
def test_blocks_equal_in_memory_predict(
    model: NeuNcut, data: np.ndarray, chunks: tuple
) -> None:
    X = da.from_array(data, chunks=chunks)
    labels, P = nd.predict(model, X), nd.predict_proba(model, X)
    assert labels.dtype == np.int64 and labels.shape == (400,)
    assert labels.chunks == (X.chunks[0],)
    assert P.dtype == np.float32 and P.shape == (400, 3)
    assert P.chunks == (X.chunks[0], (3,))
    labels, P = dask.compute(labels, P, scheduler="sync")
    assert labels.dtype == np.int64 and P.dtype == np.float32
    np.testing.assert_array_equal(labels, model.predict(data))
    np.testing.assert_array_equal(P, model.predict_proba(data))


def test_encoded_model_blocks_equal_in_memory_predict(
    encoded_model: NeuNcut, data: np.ndarray
) -> None:
    X = da.from_array(data, chunks=(150, 4))
    labels, P = dask.compute(nd.predict(encoded_model, X), nd.predict_proba(encoded_model, X),
                             scheduler="sync")
    np.testing.assert_array_equal(labels, encoded_model.predict(data))
    np.testing.assert_array_equal(P, encoded_model.predict_proba(data))


def test_unknown_row_chunks(model: NeuNcut, data: np.ndarray) -> None:
    keep = data[:, 0] > 0
    X = da.from_array(data, chunks=(90, 4))[da.from_array(keep, chunks=90)]
    assert np.isnan(X.shape[0])
    labels = nd.predict(model, X).compute(scheduler="sync")
    np.testing.assert_array_equal(labels, model.predict(data[keep]))


def _model_keys(result: da.Array, model: NeuNcut) -> list:
    """Keys of the graph of ``result`` whose value is ``model`` itself."""
    graph = result.__dask_graph__()
    return [key for key, node in graph.items() if getattr(node, "value", None) is model]


@pytest.mark.parametrize("function", [nd.predict, nd.predict_proba])
def test_model_is_one_key_of_the_graph(model: NeuNcut, data: np.ndarray, function) -> None:
    result = function(model, da.from_array(data, chunks=50))
    graph = dict(result.__dask_graph__())
    model_keys = _model_keys(result, model)
    assert len(model_keys) == 1
    blocks = [key for row in result.__dask_keys__()
              for key in (row if isinstance(row, list) else [row])]
    assert len(blocks) == 8
    model_size = len(pickle.dumps(model))
    for key in blocks:
        assert model_keys[0] in graph[key].dependencies
        # The task a worker receives per block holds a reference to the model's key, not the
        # model (embedding the model, as map_blocks(f, X, model) does, makes each task larger
        # than the model's pickle).
        assert len(pickle.dumps(graph[key])) < model_size / 4


def test_predict_and_predict_proba_share_the_model_key(
    model: NeuNcut, data: np.ndarray
) -> None:
    X = da.from_array(data, chunks=50)
    # so that dask.compute(labels, P) ships the model once for both
    assert _model_keys(nd.predict(model, X), model) == _model_keys(
        nd.predict_proba(model, X), model)


def test_model_pickles(model: NeuNcut, data: np.ndarray) -> None:
    # workers receive the model by pickle
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(data), model.predict(data))
    np.testing.assert_array_equal(copy.predict_proba(data), model.predict_proba(data))


def test_no_feature_name_warning_per_block(model: NeuNcut, data: np.ndarray) -> None:
    named = pickle.loads(pickle.dumps(model))
    named.feature_names_in_ = np.array(["a", "b", "c", "d"], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels = nd.predict(named, da.from_array(data, chunks=100)).compute(scheduler="sync")
    np.testing.assert_array_equal(labels, model.predict(data))


@pytest.mark.parametrize(
    ("make_X", "error", "match"),
    [
        (lambda X: X, TypeError, r"dask\.array\.Array, got numpy\.ndarray.*model\.predict\(X\)"),
        (lambda X: da.from_array(X[:, :3]), ValueError,
         r"X has 3 features .* n_features_in_=4"),
        (lambda X: da.from_array(X[:, 0]), ValueError, r"2-D .* X\.ndim=1"),
        (lambda X: da.from_array(X[None]), ValueError, r"2-D .* X\.ndim=3"),
    ],
    ids=["numpy input", "wrong columns", "1-D", "3-D"],
)
@pytest.mark.parametrize("function", [nd.predict, nd.predict_proba])
def test_refuses_bad_input(
    model: NeuNcut, data: np.ndarray, function, make_X, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        function(model, make_X(data))


@pytest.mark.parametrize("function", [nd.predict, nd.predict_proba])
def test_refuses_unfitted_model(data: np.ndarray, function) -> None:
    with pytest.raises(NotFittedError):
        function(NeuNcut(3), da.from_array(data))


def test_missing_dask_says_what_to_install(
    model: NeuNcut, data: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r"pip install 'neuncut\[dask\]'"):
        nd.predict(model, data)


# ------------------------------------------------------------- a real local cluster
@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    one_thread = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, env=one_thread,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def _from_npy_partitions(paths: list[Path]) -> da.Array:
    """One block per ``.npy`` file, each read by the worker that computes it."""
    blocks = []
    for path in paths:
        head = np.load(path, mmap_mode="r")  # reads the header only
        blocks.append(da.from_delayed(dask.delayed(np.load)(path), head.shape, head.dtype))
    return da.concatenate(blocks)


def test_local_cluster_labels_npy_partitions(
    client, model: NeuNcut, data: np.ndarray, tmp_path: Path
) -> None:
    paths = []
    for i, part in enumerate(np.array_split(data, 5)):
        paths.append(tmp_path / f"part-{i}.npy")
        np.save(paths[-1], part)
    X = _from_npy_partitions(paths)
    labels = nd.predict(model, X)
    P = nd.predict_proba(model, X)
    assert labels.numblocks == (5,)
    labels, P = client.compute([labels, P], sync=True)
    np.testing.assert_array_equal(labels, model.predict(data))
    np.testing.assert_array_equal(P, model.predict_proba(data))
