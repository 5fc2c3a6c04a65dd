"""Scattering features of images, the input representation of the paper's image experiments.

The protocol of He et al. (2025) for MNIST-like images: zero-pad each 28x28 image to 32x32,
take its 2-D scattering transform with ``J=3`` (kymatio's ``Scattering2D``, 217 channels of
4x4 coefficients, 3472 features), then reduce to 500 dimensions with PCA.

The transform needs the optional dependency kymatio: ``pip install 'neuncut[features]'``.
Results are cached on disk, keyed by a hash of the images and of every parameter, so that
the second call on the same images returns at once.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_write, sha256_hex

__all__ = ["FEATURES_VERSION", "default_cache_dir", "scattering"]

logger = logging.getLogger(__name__)

#: Version of the feature computation, part of every cache key: bump it whenever the
#: numbers that :func:`scattering` returns change, so that stale cache files are not reused.
FEATURES_VERSION = 1

_INSTALL_HINT = (
    "scattering features need kymatio: pip install 'neuncut[features]' "
    "(or pip install kymatio==0.3.0)"
)


# ------------------------------------------------------------------------ kymatio


def _ensure_scipy_sph_harm() -> None:
    """Give ``scipy.special`` back its ``sph_harm`` (removed in scipy 1.17) for kymatio.

    kymatio 0.3.0 imports ``scipy.special.sph_harm`` (used by its 3-D transform only). The
    old function's order is (m, n, azimuth, polar); ``sph_harm_y`` takes (n, m, polar, azimuth).
    """
    import scipy.special

    if hasattr(scipy.special, "sph_harm") or not hasattr(scipy.special, "sph_harm_y"):
        return

    def sph_harm(m: Any, n: Any, theta: Any, phi: Any) -> Any:
        return scipy.special.sph_harm_y(n, m, phi, theta)

    scipy.special.sph_harm = sph_harm


def _kymatio_version() -> str:
    """The installed kymatio version; ImportError with an install hint if there is none."""
    _ensure_scipy_sph_harm()
    try:
        import kymatio
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return str(kymatio.__version__)


@functools.lru_cache(maxsize=4)
def _scattering_operator(J: int, pad_to: int) -> Any:
    """kymatio's NumPy ``Scattering2D`` (its filters take a moment to build, so it is reused)."""
    _kymatio_version()
    from kymatio.numpy import Scattering2D

    return Scattering2D(J=J, shape=(pad_to, pad_to))


# ---------------------------------------------------------------------- transform


def _pad(images: np.ndarray, pad_to: int) -> np.ndarray:
    """Zero-pad (n, H, W) images to (n, pad_to, pad_to), centered (any odd pixel after)."""
    _, h, w = images.shape
    top, left = (pad_to - h) // 2, (pad_to - w) // 2
    widths = ((0, 0), (top, pad_to - h - top), (left, pad_to - w - left))
    return np.pad(images, widths)


def _scattering_coefficients(
    images: np.ndarray, *, J: int, pad_to: int, batch_size: int, verbose: int
) -> np.ndarray:
    """Scattering coefficients of (n, H, W) float32 images, flattened to (n, n_features)."""
    from tqdm.auto import tqdm

    operator = _scattering_operator(J, pad_to)
    n = images.shape[0]
    out: np.ndarray | None = None
    with tqdm(total=n, desc="scattering", unit="img", disable=not verbose) as bar:
        for start in range(0, n, batch_size):
            batch = _pad(images[start : start + batch_size], pad_to)
            coefficients = np.asarray(operator(batch), dtype=np.float32).reshape(len(batch), -1)
            if out is None:
                out = np.empty((n, coefficients.shape[1]), dtype=np.float32)
            out[start : start + len(batch)] = coefficients
            bar.update(len(batch))
    assert out is not None  # n >= 1 is checked by the caller
    return out


def _pca(features: np.ndarray, n_components: int, random_state: int) -> np.ndarray:
    """Randomized PCA of the rows of ``features``, as float32."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, svd_solver="randomized", random_state=random_state)
    return pca.fit_transform(features).astype(np.float32, copy=False)


# -------------------------------------------------------------------------- cache


def default_cache_dir() -> Path:
    """The cache folder: ``$NEUNCUT_CACHE`` if set, else ``~/.cache/neuncut``.

    Examples
    --------
    >>> isinstance(default_cache_dir(), Path)
    True
    """
    env = os.environ.get("NEUNCUT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "neuncut"


def _cache_key(images: np.ndarray, params: dict[str, Any]) -> str:
    """sha256 of the (n, H, W) float32 images, their shape and every parameter."""
    return sha256_hex(params, list(images.shape), np.asarray(images, dtype=np.float32))


def _read_cache(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached array at ``path``, or None if absent, unreadable or of the wrong shape."""
    if not path.is_file():
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        logger.warning("ignoring unreadable cache file %s: %s", path, exc)
        return None
    if array.shape != shape or array.dtype != np.float32:
        logger.warning("ignoring cache file %s of shape %s, expected %s", path, array.shape, shape)
        return None
    return array


def _write_cache(path: Path, array: np.ndarray) -> None:
    """Save ``array`` to ``path`` atomically: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        np.save(f, array, allow_pickle=False)


# ------------------------------------------------------------------------- checks


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _as_images(images: Any, image_shape: tuple[int, int] | None) -> np.ndarray:
    """``images`` as a C-contiguous float32 array of shape (n, H, W)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 2 and image_shape is None:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(
                f"image_shape is needed for images of shape {x.shape}: "
                f"{x.shape[1]} pixels per row is not a square image"
            )
        image_shape = (side, side)
    if x.ndim == 2:
        assert image_shape is not None  # set just above when it was not given
        if int(np.prod(image_shape)) != x.shape[1]:
            raise ValueError(
                f"image_shape must have as many pixels as a row of images ({x.shape[1]}), "
                f"got {image_shape!r}"
            )
        x = x.reshape(x.shape[0], *image_shape)
    elif x.ndim != 3:
        raise ValueError(f"images must have shape (n, H, W) or (n, H*W), got {x.shape}")
    elif image_shape is not None and tuple(image_shape) != x.shape[1:]:
        raise ValueError(f"image_shape must match images of shape {x.shape}, got {image_shape!r}")
    if x.shape[0] < 1 or x.shape[1] < 1 or x.shape[2] < 1:
        raise ValueError(f"images must hold at least one non-empty image, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("images must be finite, got NaN or infinite values")
    return np.ascontiguousarray(x)


def _check_parameters(
    images: np.ndarray, J: int, pad_to: int, n_components: int | None, others: dict[str, Any]
) -> int:
    """Check the parameters of :func:`scattering`; return the number of scattering features."""
    _check_int("J", J, 1)
    _check_int("pad_to", pad_to, max(images.shape[1:]))
    if pad_to < 2**J:
        raise ValueError(f"pad_to must be at least 2**J = {2**J} for J={J}, got {pad_to}")
    for name, minimum in (("batch_size", 1), ("verbose", 0), ("random_state", 0)):
        _check_int(name, others[name], minimum)
    n_channels = 1 + 8 * J + 64 * J * (J - 1) // 2  # kymatio's default L=8 angles
    side = -(-pad_to // 2**J)
    n_features = n_channels * side * side
    if n_components is not None:
        _check_int("n_components", n_components, 1)
        limit = min(images.shape[0], n_features)
        if n_components > limit:
            raise ValueError(
                f"n_components must be at most min(n_samples, n_features) = {limit}, "
                f"got {n_components}"
            )
    return n_features


# --------------------------------------------------------------------------- API


def scattering(
    images: Any,
    *,
    image_shape: tuple[int, int] | None = None,
    J: int = 3,
    pad_to: int = 32,
    n_components: int | None = 500,
    cache_dir: str | os.PathLike[str] | None = None,
    cache: bool = True,
    batch_size: int = 512,
    verbose: int = 0,
    random_state: int = 0,
) -> np.ndarray:
    """Scattering features of images, optionally reduced by PCA, cached on disk.

    Each image is zero-padded (centered) to ``pad_to`` x ``pad_to``, transformed by
    kymatio's 2-D scattering transform (``Scattering2D(J, shape=(pad_to, pad_to))``, NumPy
    frontend, L=8 angles), flattened, and the rows are then projected on their first
    ``n_components`` principal components (scikit-learn's randomized PCA). With the
    defaults this is the paper's protocol for 28x28 images: 217 x 4 x 4 = 3472 scattering
    features, then 500 PCA components.

    Parameters
    ----------
    images : array-like of shape (n_samples, H, W) or (n_samples, H * W)
        The images (converted to float32).
    image_shape : tuple of (int, int) or None, default=None
        The (H, W) of flattened images; None: square images. Checked against 3-D input.
    J : int, default=3
        Number of scales of the scattering transform (output downsampled by ``2**J``).
    pad_to : int, default=32
        Side of the padded images, at least H, W and ``2**J``.
    n_components : int or None, default=500
        Number of PCA components; None returns the scattering coefficients themselves.
    cache_dir : str, path or None, default=None
        Cache folder; None: :func:`default_cache_dir` (``$NEUNCUT_CACHE`` or
        ``~/.cache/neuncut``). Files go to its sub-folder ``scattering``.
    cache : bool, default=True
        Whether to read and write the cache.
    batch_size : int, default=512
        Images transformed at a time (memory only: results do not depend on it).
    verbose : int, default=0
        If positive, show a progress bar of the transform.
    random_state : int, default=0
        Seed of the randomized PCA (an int, so that results can be cached).

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_components or n_features), float32
        One row per image, in the input order.

    Raises
    ------
    ValueError
        If the images or a parameter are invalid; the message names the parameter.
    ImportError
        If kymatio is not installed (``pip install 'neuncut[features]'``).

    Notes
    -----
    The cache key is the sha256 of the float32 images, their (n, H, W) shape, ``J``,
    ``pad_to``, ``n_components``, ``random_state`` and the versions of this computation
    (:data:`FEATURES_VERSION`), of kymatio and of scikit-learn. Files are written to a
    temporary name and renamed, so a reader never sees a partial file.

    Examples
    --------
    >>> import pytest; _ = pytest.importorskip("kymatio")  # the examples need kymatio
    >>> images = np.random.default_rng(0).random((4, 28, 28))
    >>> scattering(images, n_components=None, cache=False).shape
    (4, 3472)
    >>> scattering(images.reshape(4, 784), n_components=2, cache=False).shape
    (4, 2)
    """
    x = _as_images(images, image_shape)
    others = {"batch_size": batch_size, "verbose": verbose, "random_state": random_state}
    n_features = _check_parameters(x, J, pad_to, n_components, others)
    params: dict[str, Any] = {
        "transform": "scattering2d",
        "version": FEATURES_VERSION,
        "kymatio": _kymatio_version(),
        "J": int(J),
        "pad_to": int(pad_to),
        "n_components": n_components,
    }
    if n_components is not None:
        import sklearn

        params.update(
            n_components=int(n_components),
            random_state=int(random_state),
            sklearn=sklearn.__version__,
        )
    shape = (x.shape[0], n_features if n_components is None else int(n_components))
    path = None
    if cache:
        folder = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
        path = folder / "scattering" / f"{_cache_key(x, params)}.npy"
        cached = _read_cache(path, shape)
        if cached is not None:
            logger.info("scattering features read from the cache %s", path)
            return cached
    out = _scattering_coefficients(
        x, J=int(J), pad_to=int(pad_to), batch_size=int(batch_size), verbose=int(verbose)
    )
    if n_components is not None:
        out = _pca(out, int(n_components), int(random_state))
    if path is not None:
        _write_cache(path, out)
        logger.info("scattering features cached in %s", path)
    return out
