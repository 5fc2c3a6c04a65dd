"""Tests of neuncut.loss against brute-force dense formulas, in float64."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neuncut.loss import _frobenius, merge_gains, ncut_loss, trivial_ortho

# ----------------------------------------------------------------------------- helpers


def random_graph(B: int, seed: int, *, density: float = 1.0) -> torch.Tensor:
    """Symmetric non-negative (B, B) float64 affinity with unit self-loops."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(size=(B, B)) * (rng.uniform(size=(B, B)) < density)
    W = np.triu(A, 1)
    W = W + W.T
    np.fill_diagonal(W, 1.0)
    return torch.from_numpy(W)


def random_memberships(B: int, k: int, seed: int, *, temperature: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, k, generator=g, dtype=torch.float64) / temperature
    return torch.softmax(logits, dim=1)


def one_hot(labels, k: int) -> torch.Tensor:
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    return torch.nn.functional.one_hot(labels, k).to(torch.float64)


def dense_terms(P: torch.Tensor, W: torch.Tensor) -> tuple[float, float]:
    """The paper's formulas with every matrix formed: D, L = D - W, H = P diag(vol)^-1/2."""
    P = P.numpy().astype(np.float64)
    W = W.numpy().astype(np.float64)
    k = P.shape[1]
    d = W.sum(axis=1)
    D = np.diag(d)
    L = D - W
    vol = d @ P
    inv_sqrt = np.array([1.0 / math.sqrt(v) if v > 0 else 0.0 for v in vol])  # empty -> 0
    H = P @ np.diag(inv_sqrt)
    cut = np.trace(H.T @ L @ H)
    ortho = np.linalg.norm(H.T @ D @ H - np.eye(k), "fro") / k
    return float(cut), float(ortho)


def loop_ncut(W: torch.Tensor, labels, k: int) -> float:
    """sum_j cut(A_j, complement) / vol(A_j) with explicit loops over the pairs of points."""
    W = W.numpy()
    labels = list(labels)
    B = len(labels)
    total = 0.0
    for j in range(k):
        members = [i for i in range(B) if labels[i] == j]
        if not members:
            continue
        cut = sum(W[i, m] for i in members for m in range(B) if labels[m] != j)
        vol = sum(W[i, m] for i in members for m in range(B))
        total += cut / vol
    return total


# ------------------------------------------------------------------------- ncut_loss


@pytest.mark.parametrize("B", [1, 2, 7, 40])
@pytest.mark.parametrize("k", [1, 2, 3, 10])
@pytest.mark.parametrize("seed", [0, 1])
def test_ncut_loss_equals_dense_formula(B: int, k: int, seed: int) -> None:
    W = random_graph(B, seed, density=0.5)
    P = random_memberships(B, k, seed + 100)
    terms = ncut_loss(P, W)
    cut, ortho = dense_terms(P, W)
    assert terms.cut.dtype == torch.float64 and terms.cut.shape == ()
    assert float(terms.cut) == pytest.approx(cut, rel=1e-10, abs=1e-12)
    assert float(terms.ortho) == pytest.approx(ortho, rel=1e-10, abs=1e-12)


def test_ncut_loss_float32_close_to_float64() -> None:
    W = random_graph(60, 3)
    P = random_memberships(60, 4, 4)
    t64 = ncut_loss(P, W)
    t32 = ncut_loss(P.float(), W.float())
    assert t32.cut.dtype == torch.float32
    assert float(t32.cut) == pytest.approx(float(t64.cut), rel=1e-5)
    assert float(t32.ortho) == pytest.approx(float(t64.ortho), rel=1e-4)


@pytest.mark.parametrize("B,k,seed", [(6, 2, 0), (20, 3, 1), (30, 5, 2), (50, 8, 3)])
def test_hard_partition_is_the_normalized_cut(B: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.r_[np.arange(k), rng.integers(0, k, B - k)]  # every cluster non-empty
    rng.shuffle(labels)
    W = random_graph(B, seed, density=0.6)
    terms = ncut_loss(one_hot(labels, k), W)
    assert float(terms.cut) == pytest.approx(loop_ncut(W, labels, k), rel=1e-10)
    assert 0.0 <= float(terms.ortho) < 1e-6


def test_docstring_example_two_triangles() -> None:
    W = torch.zeros(6, 6, dtype=torch.float64)
    for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
        W[i, j] = W[j, i] = 1.0
    labels = [0, 0, 0, 1, 1, 1]
    terms = ncut_loss(one_hot(labels, 2), W)
    assert float(terms.cut) == pytest.approx(2 / 7, rel=1e-12)
    assert float(terms.cut) == pytest.approx(loop_ncut(W, labels, 2), rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_trivial_solutions(k: int) -> None:
    B = 30
    W = random_graph(B, k)
    all_in_one = one_hot(np.zeros(B, dtype=int), k)
    uniform = torch.full((B, k), 1.0 / k, dtype=torch.float64)
    for P in (all_in_one, uniform):
        terms = ncut_loss(P, W)
        assert abs(float(terms.cut)) < 1e-12
        assert float(terms.ortho) == pytest.approx(math.sqrt(k - 1) / k, rel=1e-10)
    assert trivial_ortho(k) == pytest.approx(math.sqrt(k - 1) / k, rel=1e-15)


def test_trivial_ortho_values() -> None:
    assert trivial_ortho(1) == 0.0
    assert trivial_ortho(2) == 0.5
    assert trivial_ortho(10) == pytest.approx(0.3, rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    B=st.integers(1, 12),
    k=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    density=st.sampled_from([0.0, 0.3, 1.0]),
    temperature=st.sampled_from([0.05, 1.0, 10.0]),
)
def test_bounds_on_random_inputs(B, k, seed, density, temperature) -> None:
    W = random_graph(B, seed, density=density)
    P = random_memberships(B, k, seed, temperature=temperature)
    terms = ncut_loss(P, W)
    cut, ortho = float(terms.cut), float(terms.ortho)
    assert math.isfinite(cut) and math.isfinite(ortho)
    assert -1e-12 <= cut <= k + 1e-12
    assert ortho >= 0.0
    ref_cut, ref_ortho = dense_terms(P, W)
    assert cut == pytest.approx(ref_cut, rel=1e-9, abs=1e-12)
    assert ortho == pytest.approx(ref_ortho, rel=1e-9, abs=1e-12)


def test_gradient_finite_at_a_hard_partition() -> None:
    W = random_graph(12, 0)
    labels = np.arange(12) % 3
    P = one_hot(labels, 3).requires_grad_(True)
    terms = ncut_loss(P, W)
    assert float(terms.ortho.detach()) < 1e-6
    (terms.cut + 40.0 * terms.ortho).backward()
    assert torch.isfinite(P.grad).all()
    # Through the softmax of the network, as in training, from logits of a near-hard partition.
    logits = (30.0 * one_hot(labels, 3)).requires_grad_(True)
    terms = ncut_loss(torch.softmax(logits, dim=1), W)
    (terms.cut + 40.0 * terms.ortho).backward()
    assert torch.isfinite(logits.grad).all()


def test_frobenius_gradient_at_zero_is_zero() -> None:
    A = torch.zeros(3, 3, dtype=torch.float64, requires_grad=True)
    value = _frobenius(A)
    value.backward()
    assert float(value.detach()) == 0.0
    assert torch.equal(A.grad, torch.zeros(3, 3, dtype=torch.float64))
    B = torch.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    assert float(_frobenius(B)) == 5.0


def test_empty_cluster() -> None:
    W = random_graph(10, 1)
    labels = np.array([0] * 5 + [2] * 5)  # cluster 1 is empty
    P = one_hot(labels, 3).requires_grad_(True)
    terms = ncut_loss(P, W)
    cut, ortho = float(terms.cut.detach()), float(terms.ortho.detach())
    assert cut == pytest.approx(loop_ncut(W, labels, 3), rel=1e-10)
    assert ortho == pytest.approx(1.0 / 3.0, rel=1e-10)  # ||diag(0, -1, 0)||_F / 3
    (terms.cut + terms.ortho).backward()
    assert torch.isfinite(P.grad).all()
    # A soft P whose last column is exactly zero.
    P = random_memberships(10, 3, 2)
    P[:, 2] = 0.0
    P = P / P.sum(dim=1, keepdim=True)
    terms = ncut_loss(P, W)
    cut, ortho = dense_terms(P, W)
    assert float(terms.cut) == pytest.approx(cut, rel=1e-10)
    assert float(terms.ortho) == pytest.approx(ortho, rel=1e-10)


def test_graph_without_edges() -> None:
    """Only self-loops: L = 0, so every P has cut 0, and nothing divides by zero."""
    W = torch.eye(8, dtype=torch.float64)
    P = random_memberships(8, 3, 0)
    terms = ncut_loss(P, W)
    assert abs(float(terms.cut)) < 1e-12
    assert float(terms.ortho) == pytest.approx(dense_terms(P, W)[1], rel=1e-10)


# ------------------------------------------------------------------------- merge_gains


def merged_ncut_brute_force(W: torch.Tensor, labels: np.ndarray, k: int, a: int, b: int) -> float:
    relabelled = np.where(labels == b, a, labels)
    return float(ncut_loss(one_hot(relabelled, k), W).cut)


@pytest.mark.parametrize("B,k,seed", [(3, 2, 0), (15, 3, 1), (40, 4, 2), (60, 6, 3)])
def test_merge_gains_equal_brute_force(B: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.r_[np.arange(k), rng.integers(0, k, B - k)] if B >= k else rng.integers(0, k, B)
    rng.shuffle(labels)
    W = random_graph(B, seed, density=0.5)
    gains = merge_gains(W, torch.from_numpy(labels), k)
    before = float(ncut_loss(one_hot(labels, k), W).cut)
    assert gains.shape == (k, k)
    torch.testing.assert_close(gains, gains.T, rtol=1e-12, atol=1e-14)
    assert torch.equal(gains.diagonal(), torch.zeros(k, dtype=W.dtype))
    for a, b in itertools.permutations(range(k), 2):
        expected = before - merged_ncut_brute_force(W, labels, k, a, b)
        assert float(gains[a, b]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_merge_gains_empty_cluster_is_zero() -> None:
    W = random_graph(12, 5)
    labels = np.array([0] * 4 + [1] * 4 + [3] * 4)  # cluster 2 empty
    gains = merge_gains(W, torch.from_numpy(labels), 4)
    assert torch.equal(gains[2], torch.zeros(4, dtype=W.dtype))
    assert torch.equal(gains[:, 2], torch.zeros(4, dtype=W.dtype))
    before = float(ncut_loss(one_hot(labels, 4), W).cut)
    for a, b in [(0, 1), (0, 3), (1, 3)]:
        expected = before - merged_ncut_brute_force(W, labels, 4, a, b)
        assert float(gains[a, b]) == pytest.approx(expected, rel=1e-9)


def test_merge_gains_docstring_example() -> None:
    W = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    gains = merge_gains(W, torch.tensor([0, 0, 1]), 2)
    # before: cut 1/5 + 1/2 = 0.7; merged: one cluster, cut 0.
    assert float(gains[0, 1]) == pytest.approx(0.7, rel=1e-12)


def test_merging_raises_ortho_by_one_over_k() -> None:
    """The claim select_penalty relies on: a merge raises ortho by exactly 1/k."""
    W = random_graph(20, 7)
    labels = np.arange(20) % 4
    merged = np.where(labels == 3, 0, labels)
    assert float(ncut_loss(one_hot(labels, 4), W).ortho) < 1e-6
    assert float(ncut_loss(one_hot(merged, 4), W).ortho) == pytest.approx(1 / 4, rel=1e-10)
