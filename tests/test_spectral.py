"""Tests of neuncut._warm_start._spectral, the spectral candidate of the warm start."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from sklearn.datasets import make_blobs, make_circles
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from neuncut._warm_start import _spectral as spectral
from neuncut._warm_start._spectral import spectral_embedding, spectral_labels
from neuncut.affinity import self_tuning_knn_graph as knn_graph


@pytest.mark.parametrize("n,k", [(2, 1), (10, 3), (50, 5), (40, 60)])
def test_self_tuning_knn_graph_support_is_the_knn_union(n: int, k: int) -> None:
    X = np.random.default_rng(n).normal(size=(n, 3))
    A = knn_graph(X, k)
    assert scipy.sparse.issparse(A) and A.shape == (n, n)
    weights = A.toarray()
    np.testing.assert_array_equal(weights, weights.T)
    assert ((weights >= 0) & (weights <= 1)).all()
    dense = (weights > 0).astype(float)
    np.testing.assert_array_equal(np.diag(dense), 0.0)
    k_eff = min(k, n - 1)
    assert (dense.sum(axis=1) >= k_eff).all()
    # Exactly the union of the directed kNN relations.
    _, idx = NearestNeighbors(n_neighbors=k_eff + 1).fit(X).kneighbors(X)
    K = np.zeros((n, n))
    for i in range(n):
        K[i, [j for j in idx[i] if j != i][:k_eff]] = 1.0
    np.testing.assert_array_equal(dense, np.maximum(K, K.T))


def test_spectral_embedding_unit_rows() -> None:
    X, _ = make_blobs(200, centers=4, random_state=0)
    U = spectral_embedding(knn_graph(X, 10), 4, seed=0)
    assert U.shape == (200, 4)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, rtol=1e-10)


def test_spectral_embedding_sparse_path_unit_rows(monkeypatch) -> None:
    monkeypatch.setattr(spectral, "_DENSE_LIMIT", 50)  # force eigsh on a small problem
    X, _ = make_blobs(300, centers=3, random_state=1)
    A = knn_graph(X, 10)
    U = spectral_embedding(A, 3, seed=0)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, rtol=1e-10)
    monkeypatch.setattr(spectral, "_DENSE_LIMIT", 10_000)
    U_dense = spectral_embedding(A, 3, seed=0)
    # Same subspace: the projections onto it agree.
    np.testing.assert_allclose(U @ U.T, U_dense @ U_dense.T, atol=1e-6)


def test_spectral_embedding_isolated_point() -> None:
    A = scipy.sparse.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float))
    U = spectral_embedding(A, 2, seed=0)
    assert np.isfinite(U).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k,d", [(2, 2), (4, 3), (6, 10)])
def test_spectral_labels_recovers_blobs(seed: int, k: int, d: int) -> None:
    X, y = make_blobs(
        60 * k,
        n_features=d,
        centers=k,
        cluster_std=0.5,
        center_box=(-15, 15),
        random_state=seed,
    )
    labels = spectral_labels(X, k, 10, np.random.default_rng(seed))
    assert labels.dtype == np.int64 and labels.shape == (60 * k,)
    assert set(np.unique(labels)) <= set(range(k))
    assert adjusted_rand_score(y, labels) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("n", [600, 2000])  # dense eigh, then Lanczos (n > _DENSE_LIMIT)
def test_spectral_labels_recovers_circles(seed: int, n: int) -> None:
    X, y = make_circles(n, noise=0.05, factor=0.5, random_state=seed)
    labels = spectral_labels(X, 2, 10, np.random.default_rng(seed))
    assert adjusted_rand_score(y, labels) == 1.0


def test_spectral_labels_reproducible() -> None:
    X, _ = make_blobs(150, centers=3, random_state=3)
    a = spectral_labels(X, 3, 10, np.random.default_rng(7))
    b = spectral_labels(X, 3, 10, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [0, 7])
def test_components_as_many_as_clusters_are_found_for_every_start_vector(seed: int) -> None:
    """6 separated blobs, a 10-NN graph of exactly 6 components: Lanczos from one start vector
    could not resolve the 6-fold top eigenvalue (ARI 0.77 for seed 7 before the fix, 1.0 for
    the 11 other seeds of 0-11)."""
    X, y = make_blobs(2000, centers=6, n_features=10, cluster_std=1.5, random_state=0)
    X = X.astype(np.float32)
    A = spectral.self_tuning_knn_graph(X, 10)
    assert scipy.sparse.csgraph.connected_components(A)[0] == 6
    labels = spectral_labels(X, 6, 10, np.random.default_rng(seed))
    assert adjusted_rand_score(y, labels) == 1.0


def test_fewer_components_than_clusters_deflates() -> None:
    """Two far groups (2 components); one holds two touching blobs: 3 clusters in all."""
    X1, y1 = make_blobs(1200, centers=[[0, 0], [6, 0]], cluster_std=1.0, random_state=0)
    X2 = np.random.default_rng(0).normal(size=(800, 2)) + [100, 100]
    X, y = np.r_[X1, X2], np.r_[y1, np.full(800, 2)]
    A = spectral.self_tuning_knn_graph(X, 10)
    assert scipy.sparse.csgraph.connected_components(A)[0] == 2
    U = spectral_embedding(A, 3, seed=0)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, rtol=1e-10)
    assert adjusted_rand_score(y, spectral_labels(X, 3, 10, np.random.default_rng(0))) > 0.95


def test_more_components_than_clusters_keeps_the_largest() -> None:
    X, _ = make_blobs(2000, centers=[[0, 0], [50, 0], [0, 50], [50, 50]], cluster_std=1.0,
                      random_state=0)
    labels = spectral_labels(X, 2, 10, np.random.default_rng(0))
    assert np.unique(labels).size == 2
    # a component is never split: each blob (component) is one cluster's
    blob = np.argmin(((X[:, None] - np.array([[0, 0], [50, 0], [0, 50], [50, 50]])) ** 2)
                     .sum(-1), axis=1)
    assert all(np.unique(labels[blob == b]).size == 1 for b in range(4))
