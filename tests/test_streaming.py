"""Inputs larger than memory: memory maps, .npy paths and iterators give the in-memory labels,
in bounded memory, and fit on a memory map reads only the rows it trains on."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from neuncut import NeuNcut
from neuncut import _network as network_module
from neuncut import _streaming as streaming
from neuncut._cli_files import read_data
from neuncut._streaming import iter_row_blocks
from neuncut.cli import main
from tests.helpers import FAST_PARAMS, fast_model

CHUNK = network_module.PREDICT_CHUNK
N = 2 * CHUNK + 1234  # two full blocks and a partial one


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return make_blobs(N, centers=3, n_features=5, cluster_std=1.5, random_state=0)[0]


@pytest.fixture(scope="module")
def model(data) -> NeuNcut:
    return fast_model(n_clusters=3, train_size=2000).fit(data)


@pytest.fixture(scope="module")
def npy(data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "X.npy"
    np.save(path, data)
    return path


@pytest.fixture(scope="module")
def reference(model, data) -> tuple[np.ndarray, np.ndarray]:
    """In-memory results: a DataFrame is validated whole, never streamed."""
    frame = pd.DataFrame(data)
    return model.predict(frame), model.predict_proba(frame)


def _uneven_chunks(X: np.ndarray):
    sizes = [1, 999, 7000, 5000, CHUNK, 3]
    start = 0
    for size in sizes:
        yield X[start : start + size]
        start += size
    yield X[start:]


@pytest.mark.parametrize("kind", ["ndarray", "memmap", "path", "str", "iterator", "generator",
                                  "float32 memmap"])
def test_streamed_inputs_give_the_in_memory_results(kind, model, data, npy, reference,
                                                    tmp_path) -> None:
    def source():
        if kind == "ndarray":
            return data
        if kind == "memmap":
            return np.load(npy, mmap_mode="r")
        if kind == "path":
            return npy
        if kind == "str":
            return str(npy)
        if kind == "iterator":
            return iter(np.array_split(data, 7))
        if kind == "generator":
            return _uneven_chunks(data)
        path = tmp_path / "X32.npy"
        np.save(path, data.astype(np.float32))
        return np.load(path, mmap_mode="r")

    labels, proba = reference
    np.testing.assert_array_equal(model.predict(source()), labels)
    np.testing.assert_array_equal(model.predict_proba(source()), proba)  # bit for bit


def test_row_blocks_are_aligned_whatever_the_chunks(data) -> None:
    blocks = list(iter_row_blocks(_uneven_chunks(data), CHUNK))
    assert [len(b) for b in blocks] == [CHUNK, CHUNK, N - 2 * CHUNK]
    np.testing.assert_array_equal(np.concatenate(blocks), data)


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_rows(model, tmp_path) -> None:
    """numpy's allocations, traced: beyond the 8-byte labels, the same for 2x and 8x the rows."""
    peaks = {}
    for factor in (2, 8):
        path = tmp_path / f"X{factor}.npy"
        rows = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64,
                                         shape=(factor * CHUNK, 5))
        rows[:] = np.random.default_rng(factor).normal(size=rows.shape)
        rows.flush()
        del rows
        peaks[factor] = _peak_bytes(lambda p=path: model.predict(p)) - 8 * factor * CHUNK
    block_bytes = CHUNK * 5 * 8
    # measured: 1.1 blocks for both sizes
    assert peaks[8] < 3 * block_bytes  # a few blocks, not the 8 * CHUNK rows of X
    assert abs(peaks[8] - peaks[2]) < block_bytes / 4


def test_progress_bar_only_when_verbose(model, npy, capsys) -> None:
    model.set_params(verbose=1)
    try:
        model.predict(npy)
        assert "rows" in capsys.readouterr().err
    finally:
        model.set_params(verbose=0)
    model.predict(npy)
    assert capsys.readouterr().err == ""


class _Recorder(np.memmap):
    """A memory map that records the keys it is indexed with."""

    keys: list = []

    def __getitem__(self, key):
        _Recorder.keys.append(key)
        return super().__getitem__(key)


def test_fit_on_a_memmap_reads_only_the_sampled_rows_to_train(data, npy, monkeypatch) -> None:
    rows = np.load(npy, mmap_mode="r").view(_Recorder)
    _Recorder.keys = []
    seen_at_labelling = []
    real_blocks = streaming.iter_row_blocks

    def blocks(*args, **kwargs):
        seen_at_labelling.append(len(_Recorder.keys))
        return real_blocks(*args, **kwargs)

    monkeypatch.setattr(streaming, "iter_row_blocks", blocks)
    params = {**FAST_PARAMS, "n_clusters": 3, "train_size": 1500}
    model = NeuNcut(**params).fit(rows)
    assert seen_at_labelling == [1]  # one read before labelling ...
    (first,) = _Recorder.keys[:1]
    assert isinstance(first, np.ndarray) and first.size == 1500  # ... of the 1 500 rows
    assert all(isinstance(k, slice) for k in _Recorder.keys[1:])  # then blocks, to label
    monkeypatch.undo()
    in_memory = NeuNcut(**params).fit(data)
    np.testing.assert_array_equal(model.labels_, in_memory.labels_)
    np.testing.assert_array_equal(NeuNcut(**params).fit(npy).labels_, in_memory.labels_)


@pytest.mark.parametrize(
    "X, exc, fragment",
    [
        (iter([np.zeros((3, 5)), np.zeros(5)]), ValueError, "chunk 1 of the iterator"),
        (iter([]), ValueError, "no rows"),
        (iter([np.zeros((3, 4))]), ValueError, "4 features"),
        ("missing.npy", FileNotFoundError, "is not a file"),
        ("X.csv", ValueError, "only .npy files"),
    ],
    ids=["1-D chunk", "empty", "features", "missing", "not npy"],
)
def test_bad_streamed_input(model, tmp_path, X, exc, fragment) -> None:
    if isinstance(X, str):
        if X.endswith(".csv"):
            (tmp_path / X).write_text("1,2\n")
        X = tmp_path / X
    with pytest.raises(exc, match=fragment):
        model.predict(X)


def test_nan_in_a_later_block_names_its_row(model, data) -> None:
    X = data.copy()
    X[CHUNK + 10, 3] = np.nan
    with pytest.raises(ValueError, match=f"row {CHUNK + 11}, column 4"):
        model.predict(iter(np.array_split(X, 3)))


def test_fit_refuses_an_iterator(data) -> None:
    with pytest.raises(TypeError, match="random access"):
        NeuNcut(3).fit(iter([data]))


def test_cli_predict_memory_maps_npy(model, npy, reference, tmp_path) -> None:
    assert isinstance(read_data(str(npy)), np.memmap)
    model.save(tmp_path / "m.safetensors")
    assert main(["predict", str(tmp_path / "m.safetensors"), str(npy), "--out",
                 str(tmp_path / "labels.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), reference[0])
