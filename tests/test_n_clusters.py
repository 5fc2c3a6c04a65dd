"""n_clusters="auto": the label-free choice of k, its fitted attributes, model files and CLI."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse
import torch
from sklearn.datasets import make_blobs, make_moons

from neuncut import NeuNcut
from neuncut._io import load_tensors, save_tensors
from neuncut.affinity import laplacian_spectrum
from neuncut.exceptions import NoClearStructureWarning
from neuncut.n_clusters import relative_eigengaps, select_n_clusters
from tests.helpers import fast_model

# ------------------------------------------------------------------------------ the spectrum


def test_laplacian_spectrum_of_a_complete_graph() -> None:
    # The normalized Laplacian of K_n has eigenvalues 0 and n / (n - 1) (n - 1 times).
    n = 7
    A = scipy.sparse.csr_matrix(np.ones((n, n)) - np.eye(n))
    np.testing.assert_allclose(laplacian_spectrum(A, 4, seed=0), [0, *[n / (n - 1)] * 3],
                               atol=1e-12)


@pytest.mark.parametrize("n", [30, 3000])  # dense eigh and Lanczos with deflation
def test_laplacian_spectrum_counts_components(n: int) -> None:
    # c components: exactly c zeros, then the smallest non-zero eigenvalue.
    rng = np.random.default_rng(0)
    blocks = []
    for size in (n // 3, n // 3, n - 2 * (n // 3)):
        B = scipy.sparse.random(size, size, density=min(1.0, 20 / size), random_state=rng)
        B = B + B.T + scipy.sparse.diags(np.ones(size - 1), 1) + scipy.sparse.diags(
            np.ones(size - 1), -1)
        blocks.append(B)
    A = scipy.sparse.block_diag(blocks).tocsr()
    mu = laplacian_spectrum(A, 5, seed=0)
    assert mu.shape == (5,)
    assert (mu[:3] == 0).all() and (mu[3:] > 1e-6).all()
    assert (np.diff(mu) >= 0).all()


def test_laplacian_spectrum_of_many_duplicates() -> None:
    # 30 points on 2 distinct values: two complete graphs, eigenvalues repeated 19 and 9 times,
    # where LAPACK's index-range solver returns fewer eigenvalues than asked.
    X = np.r_[np.zeros(20), np.ones(10)][:, None].astype(np.float32)
    from neuncut.affinity import self_tuning_knn_graph

    mu = laplacian_spectrum(self_tuning_knn_graph(X, 10), 21, seed=0)
    assert mu.shape == (21,) and (mu[:2] == 0).all() and (mu[2:] > 0.5).all()
    assert select_n_clusters(X, random_state=0).n_clusters == 2


def test_relative_eigengaps() -> None:
    g = relative_eigengaps(np.array([0.0, 0.1, 0.2, 0.8]))
    np.testing.assert_allclose(g, [1.0, 0.5, 0.75])
    assert relative_eigengaps(np.zeros(3)).tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------- the choice


@pytest.mark.parametrize("k", [3, 5, 8])
def test_blobs_get_their_number_of_clusters(k: int) -> None:
    # centres evenly on a circle of radius 4 k: neighbours about 25 apart, std 1
    angles = 2 * np.pi * np.arange(k) / k
    centers = 4 * k * np.c_[np.cos(angles), np.sin(angles)]
    X, _ = make_blobs(150 * k, centers=centers, cluster_std=1.0, random_state=k)
    selection = select_n_clusters(X, random_state=0)
    assert selection.n_clusters == k
    assert selection.scores.shape == (50,)
    assert np.nanargmax(selection.scores) + 1 == k


def test_two_moons_get_two() -> None:
    X, _ = make_moons(600, noise=0.06, random_state=0)
    assert select_n_clusters(X, random_state=0).n_clusters == 2


@pytest.mark.parametrize("shape", ["gaussian-2d", "gaussian-10d", "gaussian-50d", "uniform"])
def test_no_structure_warns(shape: str) -> None:
    rng = np.random.default_rng(0)
    X = {"gaussian-2d": lambda: rng.normal(size=(1000, 2)),
         "gaussian-10d": lambda: rng.normal(size=(1000, 10)),
         "gaussian-50d": lambda: rng.normal(size=(1000, 50)) * np.linspace(1, 5, 50),
         "uniform": lambda: rng.uniform(size=(1000, 2))}[shape]()
    with pytest.warns(NoClearStructureWarning, match="no clear cluster structure"):
        selection = select_n_clusters(X, random_state=0)
    assert selection.excess < 0.15


@pytest.mark.parametrize("seed", [0, 1])
def test_clear_structure_does_not_warn(seed: int) -> None:
    X, _ = make_moons(600, noise=0.06, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert select_n_clusters(X, random_state=seed).excess > 0.15


def test_max_clusters_caps_the_choice() -> None:
    X, _ = make_blobs(600, centers=6, cluster_std=0.5, center_box=(-20, 20), random_state=1)
    selection = select_n_clusters(X, max_clusters=4, random_state=0)
    assert selection.n_clusters <= 4 and selection.scores.shape == (4,)


def test_identical_rows_get_one_cluster() -> None:
    assert select_n_clusters(np.ones((100, 3)), random_state=0).n_clusters == 1


def test_tiny_data() -> None:
    for n in (1, 2):
        selection = select_n_clusters(np.arange(n, dtype=float)[:, None], random_state=0)
        assert selection.n_clusters == 1


def test_same_random_state_same_choice() -> None:
    X, _ = make_blobs(500, centers=4, cluster_std=2.5, random_state=3)
    a, b = (select_n_clusters(X, random_state=5) for _ in range(2))
    assert a.n_clusters == b.n_clusters
    np.testing.assert_array_equal(a.scores, b.scores)


# ------------------------------------------------------------------------------ estimator


@pytest.fixture(scope="module")
def blobs4():
    return make_blobs(600, centers=4, cluster_std=0.7, center_box=(-15, 15), random_state=2)


def test_given_n_clusters_is_recorded(blobs4) -> None:
    model = fast_model(n_clusters=3).fit(blobs4[0])
    assert model.n_clusters_ == 3 and model.n_clusters_scores_ is None
    assert "n_clusters" not in model.timings_


def test_auto_fits_the_chosen_number_of_clusters(blobs4) -> None:
    X, _ = blobs4
    model = fast_model(n_clusters="auto", max_clusters=10).fit(X)
    assert model.n_clusters == "auto"  # the parameter is left as given
    assert model.n_clusters_ == 4
    assert {k: v.shape for k, v in model.n_clusters_scores_.items()} == {
        "gap": (10,), "gaussian_gap": (10,)}
    assert model.predict_proba(X).shape == (len(X), 4)
    assert set(model.labels_) == set(range(4))
    assert model.timings_["n_clusters"] > 0


def test_auto_is_deterministic(blobs4) -> None:
    X, _ = blobs4
    a, b = (fast_model(n_clusters="auto").fit(X) for _ in range(2))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.n_clusters_scores_["gap"], b.n_clusters_scores_["gap"])


def test_auto_model_file_round_trip(blobs4, tmp_path) -> None:
    X, _ = blobs4
    model = fast_model(n_clusters="auto", max_clusters=8).fit(X)
    path = tmp_path / "auto.safetensors"
    model.save(path)
    loaded = NeuNcut.load(path)
    assert loaded.n_clusters == "auto" and loaded.n_clusters_ == model.n_clusters_
    for key, value in model.n_clusters_scores_.items():
        np.testing.assert_array_equal(loaded.n_clusters_scores_[key], value)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_format_1_model_files_still_load(blobs4, tmp_path) -> None:
    # A file written before n_clusters_ existed: no n_clusters_ fields, format_version 1.
    X, _ = blobs4
    model = fast_model(n_clusters=4).fit(X)
    path = tmp_path / "new.safetensors"
    model.save(path)
    tensors, header = load_tensors(path)
    for name in ("n_clusters_", "n_clusters_scores_"):
        del header["fitted"][name]
    old = tmp_path / "old.safetensors"
    header = {k: v for k, v in header.items() if k not in ("format_version", "library_version")}
    with pytest.MonkeyPatch.context() as m:
        m.setattr("neuncut._io.FORMAT_VERSION", 1)
        save_tensors(old, tensors, header)
    assert load_tensors(old)[1]["format_version"] == 1
    loaded = NeuNcut.load(old)
    assert loaded.n_clusters_ == 4 and loaded.n_clusters_scores_ is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_auto_with_train_size_and_tiny_init_size(blobs4) -> None:
    X, _ = blobs4
    model = fast_model(n_clusters="auto", train_size=100, init_size=50).fit(X)
    assert 1 <= model.n_clusters_ <= 20
    assert torch.is_tensor(next(model.network_.parameters()))


def test_auto_on_no_structure_warns() -> None:
    X = np.random.default_rng(0).normal(size=(500, 2))
    with pytest.warns(NoClearStructureWarning):
        model = fast_model(n_clusters="auto").fit(X)
    assert 2 <= model.n_clusters_ <= 20


def test_more_separate_groups_than_max_clusters_get_max_clusters_with_a_warning() -> None:
    """Twelve far-apart blobs and max_clusters=8: every eigenvalue considered is 0, so no gap
    shows; the answer is 8 with a warning, not 1."""
    centers = [[30.0 * i, 30.0 * j] for i in range(4) for j in range(3)]
    X, _ = make_blobs(600, centers=centers, cluster_std=0.5, random_state=0)
    with pytest.warns(NoClearStructureWarning, match="more than max_clusters=8"):
        assert select_n_clusters(X, 8, random_state=0).n_clusters == 8
    assert select_n_clusters(X, 20, random_state=0).n_clusters == 12
