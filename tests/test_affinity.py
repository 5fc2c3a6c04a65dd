"""Tests of neuncut.affinity against numpy and scikit-learn brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from neuncut.affinity import (
    median_heuristic_sigma,
    rbf_affinity,
    self_tuning_knn_affinity,
    squared_distances,
)


def brute_sq_dist(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)


def gaussian_data(n: int, d: int, seed: int, dtype=torch.float64) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, d))).to(dtype)


# --------------------------------------------------------------------- squared_distances


@pytest.mark.parametrize("n,d", [(1, 1), (2, 3), (50, 2), (120, 30)])
def test_squared_distances_equal_brute_force(n: int, d: int) -> None:
    X = gaussian_data(n, d, n + d)
    D = squared_distances(X)
    assert D.shape == (n, n) and D.dtype == torch.float64
    np.testing.assert_allclose(D.numpy(), brute_sq_dist(X.numpy()), rtol=1e-10, atol=1e-10)
    assert torch.equal(D, D.T)
    assert torch.equal(D.diagonal(), torch.zeros(n, dtype=D.dtype))
    assert (D >= 0).all()


def test_squared_distances_float32_with_a_large_offset() -> None:
    """Distances are translation invariant; the float32 expansion must not lose them."""
    X = gaussian_data(200, 5, 0, torch.float32)
    ref = brute_sq_dist(X.numpy())
    for offset in (0.0, 100.0, 1000.0):
        D = squared_distances(X + offset)
        # X + 1000 itself is rounded to ~6e-5 in float32: errors of that order are the data's.
        np.testing.assert_allclose(D.numpy(), ref, rtol=1e-3, atol=2e-2 if offset else 1e-4)


def test_squared_distances_of_duplicates_are_zero() -> None:
    X = torch.tensor([[1.5, -2.0]] * 4 + [[0.0, 0.0]])
    D = squared_distances(X)
    assert torch.equal(D[:4, :4], torch.zeros(4, 4))
    assert D[0, 4] == pytest.approx(1.5**2 + 2.0**2)


# -------------------------------------------------------------------------- rbf_affinity


@pytest.mark.parametrize("sigma", [0.3, 1.0, 4.0])
def test_rbf_affinity_values(sigma: float) -> None:
    X = gaussian_data(40, 3, 1)
    W = rbf_affinity(X, sigma)
    expected = np.exp(-brute_sq_dist(X.numpy()) / (2.0 * sigma**2))
    np.testing.assert_allclose(W.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert torch.equal(W, W.T)
    assert torch.equal(W.diagonal(), torch.ones(40, dtype=W.dtype))
    assert (W > 0).all() and (W <= 1).all()


def test_rbf_affinity_exact_small_case() -> None:
    X = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    W = rbf_affinity(X, 1.0)
    e = math.exp
    expected = [[1.0, e(-0.5), e(-4.5)], [e(-0.5), 1.0, e(-2.0)], [e(-4.5), e(-2.0), 1.0]]
    np.testing.assert_allclose(W.numpy(), expected, rtol=1e-15)


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan")])
def test_rbf_affinity_rejects_bad_sigma(sigma: float) -> None:
    with pytest.raises(ValueError, match="sigma"):
        rbf_affinity(torch.zeros(3, 2), sigma)


def test_rbf_far_points_keep_unit_diagonal() -> None:
    X = torch.tensor([[0.0], [1e6]])
    W = rbf_affinity(X, 1.0)
    assert torch.equal(W, torch.eye(2))


# -------------------------------------------------------------- self_tuning_knn_affinity


def sklearn_knn_support(X: np.ndarray, k: int) -> np.ndarray:
    """Union of the directed kNN relations (no self), as a boolean (n, n) matrix."""
    n = X.shape[0]
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    _, idx = nn.kneighbors(X)
    support = np.zeros((n, n), dtype=bool)
    for i in range(n):
        neighbours = [j for j in idx[i] if j != i][:k]
        support[i, neighbours] = True
    return support | support.T


@pytest.mark.parametrize("n,d,k", [(30, 2, 1), (60, 3, 5), (100, 8, 10), (12, 2, 11)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_knn_affinity_support_and_values(n: int, d: int, k: int, dtype) -> None:
    X = gaussian_data(n, d, n * k, dtype)
    W = self_tuning_knn_affinity(X, k)
    assert W.shape == (n, n) and W.dtype == dtype
    assert torch.equal(W, W.T)
    assert torch.equal(W.diagonal(), torch.ones(n, dtype=dtype))
    off = ~np.eye(n, dtype=bool)
    support = sklearn_knn_support(X.numpy().astype(np.float64), k)
    np.testing.assert_array_equal((W.numpy() > 0) & off, support)

    D = brute_sq_dist(X.numpy())
    scales = np.sqrt(np.sort(D + np.diag(np.full(n, np.inf)), axis=1)[:, k - 1])
    expected = np.exp(-D / np.outer(scales, scales))
    rtol = 1e-4 if dtype == torch.float32 else 1e-10
    np.testing.assert_allclose(W.numpy()[support], expected[support], rtol=rtol, atol=1e-6)
    assert (W >= 0).all() and (W <= 1).all()


@pytest.mark.parametrize("factor", [2.0**-40, 2.0**-10, 2.0**10, 2.0**40])
def test_knn_affinity_invariant_to_global_rescale(factor: float) -> None:
    X = gaussian_data(80, 4, 3, torch.float32)
    W = self_tuning_knn_affinity(X, 7)
    # A power-of-two factor is exact in floating point, so the graph must be bit-identical.
    assert torch.equal(self_tuning_knn_affinity(X * factor, 7), W)


def test_knn_affinity_invariant_to_translation() -> None:
    X = gaussian_data(80, 4, 4, torch.float64)
    W = self_tuning_knn_affinity(X, 7)
    torch.testing.assert_close(self_tuning_knn_affinity(X + 1e3, 7), W, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_knn_affinity_all_duplicates_is_finite(dtype, k: int) -> None:
    X = torch.full((6, 3), 2.5, dtype=dtype)
    W = self_tuning_knn_affinity(X, k)
    assert torch.isfinite(W).all()
    assert torch.equal(W, W.T)
    assert torch.equal(W.diagonal(), torch.ones(6, dtype=dtype))
    # Every edge joins two identical points: weight exp(-0) = 1.
    assert set(W.unique().tolist()) <= {0.0, 1.0}
    assert int((W > 0).sum()) >= 6 + 6  # each point has at least one neighbour


def test_knn_affinity_some_duplicates() -> None:
    X = torch.tensor([[0.0], [0.0], [0.0], [1.0], [5.0], [5.0]])
    W = self_tuning_knn_affinity(X, 2)
    assert torch.isfinite(W).all()
    assert W[0, 1] == 1.0 and W[0, 2] == 1.0 and W[4, 5] == 1.0


def test_knn_affinity_batch_smaller_than_neighbourhood() -> None:
    X = gaussian_data(4, 2, 0)
    W = self_tuning_knn_affinity(X, 10)  # k clipped to B - 1 = 3: complete graph
    assert (W > 0).all()
    assert torch.equal(W, W.T)
    one = self_tuning_knn_affinity(X[:1], 10)
    assert torch.equal(one, torch.ones(1, 1, dtype=X.dtype))


def test_knn_affinity_rejects_bad_n_neighbors() -> None:
    with pytest.raises(ValueError, match="n_neighbors"):
        self_tuning_knn_affinity(torch.zeros(3, 2), 0)


def test_knn_affinity_docstring_example() -> None:
    X = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    W = self_tuning_knn_affinity(X, 1)
    expected = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    assert torch.equal((W > 0).long(), expected)
    assert float(W[0, 1]) == pytest.approx(math.exp(-1.0))


# ------------------------------------------------------------------ median_heuristic_sigma


def test_median_heuristic_sigma_exact() -> None:
    # Squared distances 1, 9, 4: median 4, sigma^2 = 2.
    X = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    assert median_heuristic_sigma(X) == pytest.approx(math.sqrt(2.0), rel=1e-15)
    # Two points: one distance.
    assert median_heuristic_sigma(torch.tensor([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(
        math.sqrt(12.5), rel=1e-7
    )


def test_median_heuristic_sigma_degenerate() -> None:
    assert median_heuristic_sigma(torch.ones(5, 2)) == 1.0
    assert median_heuristic_sigma(torch.zeros(1, 3)) == 1.0


def test_median_heuristic_gives_e_minus_one_at_the_median() -> None:
    X = gaussian_data(31, 3, 9)
    sigma = median_heuristic_sigma(X)
    W = rbf_affinity(X, sigma)
    iu = np.triu_indices(31, 1)
    # 31 * 30 / 2 = 465 pairs, an odd count: the median is one of the affinities.
    assert float(np.sort(W.numpy()[iu])[::-1][len(iu[0]) // 2]) == pytest.approx(
        math.exp(-1.0), rel=1e-9
    )
