"""Tests of neuncut.penalty: the label-free choice of gamma."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from neuncut._batches import iter_batches
from neuncut.affinity import rbf_affinity, self_tuning_knn_affinity
from neuncut.loss import merge_gains, ncut_loss
from neuncut.penalty import select_penalty, trivial_penalty


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def blobs(n: int = 300, k: int = 3, d: int = 2, seed: int = 0, std: float = 0.5):
    X, y = make_blobs(n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y.astype(np.int64))


# ------------------------------------------------------------------------- select_penalty


def _expected_gamma0(X: torch.Tensor, labels: torch.Tensor, affinity, k: int) -> float:
    """The documented formula on the whole of X (one batch)."""
    W = affinity(X)
    Y = torch.nn.functional.one_hot(labels, k).to(W.dtype)
    cut = float(ncut_loss(Y, W).cut)
    worst = float(merge_gains(W, labels, k).max())
    return 2 * k * max(worst, cut / math.sqrt(max(k - 1, 1)))


@pytest.mark.parametrize("safety", [1.0, 2.0, 10.0])
def test_select_penalty_formula_on_one_batch(safety: float) -> None:
    # Three overlapping blobs and a wide Gaussian kernel: merges are worth a lot, gamma_0 > 1.
    X, y = blobs(90, k=3, d=2, seed=3, std=3.0)
    X = X.double()

    def affinity(xb: torch.Tensor) -> torch.Tensor:
        return rbf_affinity(xb, 5.0)

    gamma0 = _expected_gamma0(X, y, affinity, 3)
    gamma = select_penalty(
        X, y, affinity, batch_size=90, n_clusters=3, generator=gen(), safety=safety
    )
    assert gamma == pytest.approx(max(trivial_penalty(3), safety * gamma0), rel=1e-9)


def test_select_penalty_floor_is_trivial_bound() -> None:
    X, y = blobs(100, k=2, seed=0, std=0.3)

    def affinity(xb: torch.Tensor) -> torch.Tensor:
        return self_tuning_knn_affinity(xb, 5)

    gamma = select_penalty(X, y, affinity, batch_size=100, n_clusters=2, generator=gen())
    assert gamma == trivial_penalty(2) == pytest.approx(8.0)


@pytest.mark.parametrize("k", [2, 3, 10, 50])
def test_trivial_penalty_makes_worst_partition_tie_with_trivial(k: int) -> None:
    # At gamma = trivial_penalty(k), a uniform P (cut 0) scores exactly k, the largest cut
    # any hard partition can have.
    W = torch.rand(40, 40, generator=gen(k), dtype=torch.float64)
    W = (W + W.T) / 2
    uniform = ncut_loss(torch.full((40, k), 1.0 / k, dtype=torch.float64), W)
    assert float(uniform.cut) == pytest.approx(0.0, abs=1e-9)
    assert trivial_penalty(k) / 2 * float(uniform.ortho) == pytest.approx(k, rel=1e-9)


def test_select_penalty_single_cluster() -> None:
    X, y = blobs(30, k=1, seed=0)
    gamma = select_penalty(
        X, y, lambda xb: rbf_affinity(xb, 1.0), batch_size=30, n_clusters=1, generator=gen()
    )
    assert gamma == 1.0


def test_select_penalty_mean_over_first_batches() -> None:
    X, y = blobs(400, k=4, d=3, seed=4, std=2.5)
    calls = []

    def affinity(xb: torch.Tensor) -> torch.Tensor:
        calls.append(xb.shape[0])
        return rbf_affinity(xb, 4.0)

    gamma = select_penalty(
        X, y, affinity, batch_size=50, n_clusters=4, generator=gen(7), n_batches=3, safety=2.0
    )
    assert calls == [50, 50, 50]  # only the first n_batches of the 8
    # The same batches, recomputed: the mean of the per-batch gamma_0.
    g0 = [
        _expected_gamma0(X[idx], y[idx], lambda xb: rbf_affinity(xb, 4.0), 4)
        for _, idx in zip(range(3), iter_batches(400, 50, gen(7)), strict=False)
    ]
    assert gamma == pytest.approx(max(trivial_penalty(4), 2.0 * float(np.mean(g0))), rel=1e-6)


def test_select_penalty_at_least_trivial_bound_on_random_input() -> None:
    rng = np.random.default_rng(0)
    for seed in range(5):
        X = torch.from_numpy(rng.normal(size=(60, 3)).astype(np.float32))
        labels = torch.from_numpy(rng.integers(0, 4, 60))
        gamma = select_penalty(
            X,
            labels,
            lambda xb: self_tuning_knn_affinity(xb, 5),
            batch_size=30,
            n_clusters=4,
            generator=gen(seed),
        )
        assert gamma >= trivial_penalty(4) and math.isfinite(gamma)
