"""Tests of neuncut.features: the padded scattering transform, its PCA and its disk cache."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.special
from sklearn.decomposition import PCA

from neuncut import features
from neuncut.features import scattering

features._ensure_scipy_sph_harm()  # before kymatio is imported (scipy >= 1.17)
pytest.importorskip("kymatio")


class _Recomputed(Exception):
    """Raised by the transform when a test expects the cache to answer."""


def _forbid_transform(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise _Recomputed

    monkeypatch.setattr(features, "_scattering_coefficients", fail)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).random((20, 28, 28), dtype=np.float32)


@pytest.fixture(scope="module")
def coefficients(images) -> np.ndarray:
    return scattering(images, n_components=None, cache=False)


# -------------------------------------------------------------------- transform


def test_shape_without_pca(coefficients):
    assert coefficients.shape == (20, 217 * 4 * 4) and coefficients.dtype == np.float32


def test_equals_kymatio_on_manually_padded_images(images, coefficients):
    from kymatio.numpy import Scattering2D

    padded = np.zeros((20, 32, 32), dtype=np.float32)
    padded[:, 2:30, 2:30] = images
    direct = Scattering2D(J=3, shape=(32, 32))(padded)
    assert direct.shape == (20, 217, 4, 4)
    np.testing.assert_array_equal(coefficients, direct.reshape(20, -1))


def test_flat_images_and_batches_give_the_same_coefficients(images, coefficients):
    flat = images.reshape(20, 784)
    for kwargs in ({"image_shape": (28, 28)}, {}, {"batch_size": 7}):
        out = scattering(flat, n_components=None, cache=False, **kwargs)
        np.testing.assert_array_equal(out, coefficients)


def test_padding_is_centered():
    padded = features._pad(np.ones((1, 27, 28), dtype=np.float32), 32)
    assert padded.shape == (1, 32, 32)
    assert padded[0].sum(axis=1).tolist() == [0] * 2 + [28] * 27 + [0] * 3  # odd pixel after
    assert padded[0].sum(axis=0).tolist() == [0] * 2 + [27] * 28 + [0] * 2


def test_pca(images, coefficients):
    out = scattering(images, n_components=5, cache=False)
    assert out.shape == (20, 5) and out.dtype == np.float32
    pca = PCA(n_components=5, svd_solver="randomized", random_state=0)
    np.testing.assert_allclose(out, pca.fit_transform(coefficients), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(scattering(images, n_components=5, cache=False), out)


def test_other_J_and_pad_to(images):
    assert scattering(images, J=2, pad_to=28, n_components=None, cache=False).shape == (
        20,
        (1 + 16 + 64) * 7 * 7,
    )


# ------------------------------------------------------------------------ cache


def test_second_call_reads_the_cache(images, tmp_path, monkeypatch):
    first = scattering(images, n_components=5, cache_dir=tmp_path)
    _forbid_transform(monkeypatch)
    again = scattering(images, n_components=5, cache_dir=tmp_path)
    np.testing.assert_array_equal(again, first)
    flat = scattering(images.reshape(20, 784), image_shape=(28, 28), n_components=5,
                      cache_dir=tmp_path)  # fmt: skip
    np.testing.assert_array_equal(flat, first)  # same images, other layout: same key
    as_float64 = scattering(images.astype(np.float64), n_components=5, cache_dir=tmp_path)
    np.testing.assert_array_equal(as_float64, first)  # hashed as float32


@pytest.mark.parametrize(
    "change",
    [{"n_components": 4}, {"n_components": None}, {"random_state": 1}, {"J": 2}, {"pad_to": 36}],
)
def test_other_parameters_miss_the_cache(images, tmp_path, monkeypatch, change):
    scattering(images, n_components=5, cache_dir=tmp_path)
    _forbid_transform(monkeypatch)
    with pytest.raises(_Recomputed):
        scattering(images, cache_dir=tmp_path, **{"n_components": 5, **change})


def test_other_images_miss_the_cache(images, tmp_path, monkeypatch):
    scattering(images, n_components=5, cache_dir=tmp_path)
    _forbid_transform(monkeypatch)
    changed = images.copy()
    changed[3, 10, 10] += 1e-6
    # One value changed, one image fewer, the same bytes as other images (the shape is hashed).
    for other in (changed, images[:19], images.reshape(40, 14, 28)):
        with pytest.raises(_Recomputed):
            scattering(other, n_components=5, cache_dir=tmp_path)


def test_cache_file_is_a_plain_npy_and_no_temporary_file_is_left(images, tmp_path):
    out = scattering(images, n_components=5, cache_dir=tmp_path)
    files = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")]
    assert len(files) == 2 and "scattering" in files  # the folder and one file
    (name,) = [f for f in files if f != "scattering"]
    assert name.startswith("scattering/") and name.endswith(".npy") and len(name) == 11 + 64 + 4
    np.testing.assert_array_equal(np.load(tmp_path / name, allow_pickle=False), out)
    (tmp_path / "scattering" / "reference").write_bytes(b"")  # the umask's permissions
    mode = (tmp_path / "scattering" / "reference").stat().st_mode
    assert (tmp_path / name).stat().st_mode == mode


def test_failed_write_leaves_nothing(images, tmp_path, monkeypatch):
    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        scattering(images, n_components=None, cache_dir=tmp_path)
    assert list((tmp_path / "scattering").iterdir()) == []


def test_damaged_cache_file_is_recomputed(images, tmp_path, caplog):
    out = scattering(images, n_components=5, cache_dir=tmp_path)
    (path,) = (tmp_path / "scattering").iterdir()
    path.write_bytes(b"not a npy file")
    with caplog.at_level(logging.WARNING, logger="neuncut.features"):
        again = scattering(images, n_components=5, cache_dir=tmp_path)
    np.testing.assert_array_equal(again, out)
    assert "ignoring unreadable cache file" in caplog.text
    np.testing.assert_array_equal(np.load(path), out)  # rewritten


def test_default_cache_dir_and_no_cache(images, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUNCUT_CACHE", str(tmp_path / "env"))
    assert features.default_cache_dir() == tmp_path / "env"
    scattering(images, n_components=3)
    assert len(list((tmp_path / "env" / "scattering").glob("*.npy"))) == 1
    monkeypatch.setenv("NEUNCUT_CACHE", str(tmp_path / "off"))
    scattering(images, n_components=3, cache=False)
    assert not (tmp_path / "off").exists()
    monkeypatch.delenv("NEUNCUT_CACHE")
    assert features.default_cache_dir().parts[-2:] == (".cache", "neuncut")


def test_verbose_shows_a_progress_bar(images, capsys):
    scattering(images[:3], n_components=None, cache=False, verbose=1)
    assert "scattering: 100%" in capsys.readouterr().err
    scattering(images[:3], n_components=None, cache=False)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"J": 0}, r"J must be an integer >= 1, got 0"),
        ({"J": 2.0}, r"J must be an integer >= 1, got 2\.0"),
        ({"pad_to": 27}, r"pad_to must be an integer >= 28, got 27"),
        ({"J": 6}, r"pad_to must be at least 2\*\*J = 64 for J=6, got 32"),
        ({"n_components": 0}, r"n_components must be an integer >= 1, got 0"),
        ({"n_components": 21}, r"n_components must be at most min\(n_samples, n_features\) = 20"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"verbose": True}, r"verbose must be an integer >= 0, got True"),
        ({"random_state": None}, r"random_state must be an integer >= 0, got None"),
        ({"image_shape": (28, 27)}, r"image_shape must match images of shape \(20, 28, 28\)"),
    ],
)
def test_bad_parameters(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        scattering(images, cache=False, **kwargs)


@pytest.mark.parametrize(
    ("bad", "kwargs", "message"),
    [
        (np.zeros(5), {}, r"images must have shape \(n, H, W\) or \(n, H\*W\), got \(5,\)"),
        (np.zeros((2, 10)), {}, r"image_shape is needed .*10 pixels per row is not a square"),
        (np.zeros((2, 10)), {"image_shape": (3, 3)}, r"as many pixels as a row .*\(10\), got"),
        (np.zeros((0, 28, 28)), {}, r"at least one non-empty image, got shape \(0, 28, 28\)"),
        (np.full((2, 28, 28), np.nan), {}, r"images must be finite"),
    ],
)
def test_bad_images(bad, kwargs, message):
    with pytest.raises(ValueError, match=message):
        scattering(bad, cache=False, n_components=None, **kwargs)


def test_missing_kymatio(images, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "kymatio", None)
    with pytest.raises(ImportError, match=r"need kymatio: pip install 'neuncut\[features\]'"):
        scattering(images, n_components=None, cache=False)


def test_sph_harm_shim_argument_order():
    features._ensure_scipy_sph_harm()
    m, n, azimuth, polar = 1, 2, 0.3, 0.7
    expected = -0.5 * np.sqrt(15 / (2 * np.pi)) * np.sin(polar) * np.cos(polar)
    expected = expected * np.exp(1j * azimuth)  # Y_2^1, Condon-Shortley phase
    np.testing.assert_allclose(scipy.special.sph_harm(m, n, azimuth, polar), expected)
