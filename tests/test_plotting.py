"""Tests of neuncut.plotting: what each figure draws, and the files save_figures writes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.datasets import load_digits, make_blobs

pytest.importorskip("matplotlib")

from matplotlib import colormaps  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from neuncut import NeuNcut  # noqa: E402
from neuncut.datasets import Dataset  # noqa: E402
from neuncut.metrics import clustering_accuracy  # noqa: E402
from neuncut.plotting import (  # noqa: E402
    _montage_rows,
    plot_cluster_montage,
    plot_confusion_matrix,
    plot_decision_regions,
    plot_training,
    save_figures,
)
from tests.helpers import FAST_PARAMS

PNG = b"\x89PNG\r\n\x1a\n"
TINY = FAST_PARAMS  # the shared fast model (tests/helpers.py)


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray, NeuNcut]:
    X, y = make_blobs(150, centers=3, cluster_std=0.6, random_state=0)
    return X, y, NeuNcut(3, **TINY).fit(X)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, NeuNcut]:
    d = load_digits()
    X, y = d.data[:300], d.target[:300]
    return X, y, NeuNcut(5, **TINY).fit(X)


# -------------------------------------------------------------------------------- training
def test_training_curves_are_the_models(blobs: tuple) -> None:
    _, _, model = blobs
    fig = plot_training(model)
    assert isinstance(fig, Figure)
    cut_ax, ortho_ax, loss_ax = fig.axes[:3]
    for ax, curve in ((cut_ax, model.cut_curve_), (ortho_ax, model.ortho_curve_),
                      (loss_ax, model.loss_curve_)):
        (line,) = ax.lines
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, model.n_iter_ + 1))
        np.testing.assert_allclose(line.get_ydata(), curve)
    # gamma, constant, is the second scale of the ortho panel: gamma/2 * ortho
    (weighted,) = ortho_ax.child_axes
    assert f"γ = penalty_ = {model.penalty_:.3g}" in weighted.get_ylabel()
    np.testing.assert_allclose(
        np.asarray(model.cut_curve_) + model.penalty_ / 2 * np.asarray(model.ortho_curve_),
        model.loss_curve_, rtol=1e-5)


def test_training_without_epochs_is_refused(blobs: tuple) -> None:
    X, _, _ = blobs
    model = NeuNcut(3, **{**TINY, "max_epochs": 0}).fit(X)
    with pytest.raises(ValueError, match="max_epochs=0"):
        plot_training(model)


# --------------------------------------------------------------------------------- montage
@pytest.mark.parametrize(("size", "n_images"), [(0, 3), (2, 3), (5, 3), (6, 3), (20, 3),
                                                (7, 1)])
def test_montage_rows_most_then_least_confident(size: int, n_images: int) -> None:
    rng = np.random.default_rng(size)
    labels = np.r_[np.zeros(size, int), np.ones(10, int)]
    rng.shuffle(labels)
    confidence = rng.random(labels.size)
    ((most, least),) = _montage_rows(confidence, labels, [0], n_images)
    members = np.flatnonzero(labels == 0)
    ranked = members[np.argsort(-confidence[members])]
    assert most.size == min(n_images, size)
    assert least.size == min(n_images, size - most.size)
    np.testing.assert_array_equal(most, ranked[: most.size])
    np.testing.assert_array_equal(least, ranked[ranked.size - least.size:])
    assert not set(most) & set(least)


def test_montage_draws_the_extreme_members(digits: tuple) -> None:
    X, _, model = digits
    n = 3
    fig = plot_cluster_montage(model, X, (8, 8), n_images=n)
    (ax,) = fig.axes
    canvas = np.ma.filled(ax.images[0].get_array(), np.nan)  # gaps are masked NaNs
    assert canvas.shape == (5 * 9 + 1, (2 * n + 1) * 9 + 1)
    P = model.predict_proba(X)
    labels, confidence = P.argmax(1), P.max(1)
    for c in range(5):
        members = np.flatnonzero(labels == c)
        if members.size < 2 * n:
            continue
        ranked = members[np.argsort(-confidence[members], kind="stable")]
        row = canvas[1 + c * 9 : 1 + c * 9 + 8]
        np.testing.assert_array_equal(row[:, 1:9], X[ranked[0]].reshape(8, 8))
        np.testing.assert_array_equal(row[:, -9:-1], X[ranked[-1]].reshape(8, 8))
        assert np.isnan(row[:, n * 9 + 1 : (n + 1) * 9]).all()  # the gap
    labels_text = [t.get_text() for t in ax.get_yticklabels()]
    assert labels_text[0].startswith(f"cluster 0: {(labels == 0).sum()}")


def test_montage_subset_of_clusters_and_bad_shape(digits: tuple) -> None:
    X, _, model = digits
    fig = plot_cluster_montage(model, X, (8, 8), n_images=2, clusters=[4, 1])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert [t.split(":")[0] for t in ticks] == ["cluster 4", "cluster 1"]
    with pytest.raises(ValueError, match=r"image_shape=\(7, 8\) needs 56 features"):
        plot_cluster_montage(model, X, (7, 8))


# ------------------------------------------------------------------------ decision regions
def test_decision_regions_colour_the_grid_by_cluster(blobs: tuple) -> None:
    X, _, model = blobs
    fig = plot_decision_regions(model, X, resolution=30)
    (ax,) = fig.axes
    (image,) = ax.images
    rgba = image.get_array()
    assert rgba.shape == (30, 30, 4)
    assert (rgba[..., 3] >= 0.1 - 1e-9).all() and (rgba[..., 3] <= 0.6 + 1e-9).all()
    x0, x1, y0, y1 = image.get_extent()
    assert x0 < X[:, 0].min() and x1 > X[:, 0].max() and y0 < X[:, 1].min()
    # the lower-left pixel is the grid's first point, in the colour of its cluster
    tab10 = colormaps["tab10"]
    first = model.predict(np.array([[x0, y0]]))[0]
    np.testing.assert_allclose(rgba[0, 0, :3], tab10(first)[:3])
    (points,) = ax.collections
    np.testing.assert_allclose(points.get_offsets(), X)
    np.testing.assert_allclose(points.get_facecolors()[:, :3],
                               np.asarray(tab10(model.predict(X)))[:, :3])


def test_decision_regions_subsample_and_refuse_other_dimensions(blobs: tuple,
                                                                digits: tuple) -> None:
    X, _, model = blobs
    ax = plot_decision_regions(model, X, resolution=10, max_points=40).axes[0]
    assert len(ax.collections[0].get_offsets()) == 40
    X64, _, model64 = digits
    with pytest.raises(ValueError, match="2-D data"):
        plot_decision_regions(model64, X64)


# ------------------------------------------------------------------------ confusion matrix
def test_confusion_matrix_of_a_relabelling_is_diagonal() -> None:
    y = np.repeat([0, 1, 2, 3], 5)
    labels = np.array([7, 2, 9, 4])[y]
    ax = plot_confusion_matrix(y, labels).axes[0]
    share = ax.images[0].get_array()
    np.testing.assert_array_equal(share, np.eye(4))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["7", "2", "9", "4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2", "3"]
    assert "ACC 1.000" in ax.get_title()


@pytest.mark.parametrize(("n_classes", "n_clusters"), [(3, 3), (3, 5), (5, 3)])
def test_confusion_matrix_diagonal_is_the_accuracy(n_classes: int, n_clusters: int) -> None:
    rng = np.random.default_rng(n_classes * 10 + n_clusters)
    y = rng.integers(0, n_classes, 200)
    labels = np.where(rng.random(200) < 0.6, y % n_clusters, rng.integers(0, n_clusters, 200))
    ax = plot_confusion_matrix(y, labels).axes[0]
    shares = ax.images[0].get_array()
    assert shares.shape == (n_classes, n_clusters)
    counts = shares * np.bincount(y)[:, None]  # shares of each class's row
    # matched clusters come first, in the order of their classes, then the unmatched ones
    rows, cols = linear_sum_assignment(counts, maximize=True)
    m = min(n_classes, n_clusters)
    np.testing.assert_array_equal(cols[np.argsort(cols)], np.arange(m))
    assert (np.diff(rows[np.argsort(cols)]) > 0).all()
    assert counts[rows, cols].sum() / y.size == pytest.approx(clustering_accuracy(y, labels))
    texts = {t.get_text() for t in ax.texts}
    assert texts <= {str(v) for v in np.unique(np.round(counts).astype(int))}


def test_confusion_matrix_draws_into_a_given_axes() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_confusion_matrix([0, 1], [1, 0], ax=ax) is fig
    assert len(ax.images) == 1
    with pytest.raises(ValueError, match="same length"):
        plot_confusion_matrix([0, 1], [1, 0, 0])


def test_no_pyplot_figure_is_left_open(blobs: tuple) -> None:
    import matplotlib.pyplot as plt

    X, y, model = blobs
    before = plt.get_fignums()
    plot_training(model)
    plot_decision_regions(model, X, resolution=10)
    plot_confusion_matrix(y, model.labels_)
    assert plt.get_fignums() == before


# ---------------------------------------------------------------------------- save_figures
def _written(out: Path, names: list[str]) -> None:
    for name in names:
        assert (out / name).read_bytes()[:8] == PNG, name
    assert sorted(p.name for p in out.glob("*.png")) == sorted(names)


def test_save_figures_for_2d_data_with_labels(blobs: tuple, tmp_path: Path) -> None:
    X, y, model = blobs
    ds = Dataset(X.astype(np.float32), y, "blobs", None)
    names = save_figures(tmp_path, ds, model.labels_, model, seed=0)
    assert names == ["training.png", "regions.png", "confusion.png"]
    _written(tmp_path, names)


def test_save_figures_for_images_without_labels(digits: tuple, tmp_path: Path) -> None:
    X, _, model = digits
    ds = Dataset(X.astype(np.float32), None, "digits", (8, 8))
    names = save_figures(tmp_path, ds, model.predict(X), model, seed=0)
    assert names == ["training.png", "clusters.png"]
    _written(tmp_path, names)


def test_save_figures_without_matplotlib_warns(blobs: tuple, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    X, y, model = blobs
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # the import fails
    with caplog.at_level(logging.WARNING, logger="neuncut"):
        assert save_figures(tmp_path, Dataset(X, y, "blobs", None), y, model, 0) == []
    assert "pip install 'neuncut[plot]'" in caplog.text
    assert not list(tmp_path.iterdir())
    with pytest.raises(ImportError, match=r"neuncut\[plot\]"):
        plot_confusion_matrix(y, y)
