"""Tests of neuncut.metrics: invariants and exact values of ACC, NMI and ARI."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuncut.metrics import clustering_accuracy, evaluate

labels = st.lists(st.integers(0, 4), min_size=1, max_size=30)


def _brute_force_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """ACC by trying every one-to-one matching (small cases only)."""
    t_ids, p_ids = np.unique(y_true), np.unique(y_pred)
    best = 0
    k = min(t_ids.size, p_ids.size)
    for ts in itertools.permutations(t_ids, k):
        for ps in itertools.combinations(p_ids, k):
            hits = sum(
                int(np.sum((y_true == t) & (y_pred == p))) for t, p in zip(ts, ps, strict=True)
            )
            best = max(best, hits)
    return best / y_true.size


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_accuracy_equals_brute_force(data):
    y_true = np.array(data.draw(labels))
    y_pred = np.array(
        data.draw(st.lists(st.integers(0, 3), min_size=len(y_true), max_size=len(y_true)))
    )
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(
        _brute_force_accuracy(y_true, y_pred), abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_accuracy_invariant_under_relabelling(data):
    y_true = np.array(data.draw(labels))
    y_pred = np.array(
        data.draw(st.lists(st.integers(0, 4), min_size=len(y_true), max_size=len(y_true)))
    )
    perm = data.draw(st.permutations(range(5)))
    # A permutation of the ids, then an injective map onto non-contiguous, negative ids.
    relabelled = np.array(perm)[y_pred]
    sparse = np.array([-7, 3, 1000, 42, 10**9])[relabelled]
    acc = clustering_accuracy(y_true, y_pred)
    assert clustering_accuracy(y_true, relabelled) == acc
    assert clustering_accuracy(y_true, sparse) == acc
    assert clustering_accuracy(sparse, y_true) == acc  # symmetric in its arguments


@settings(max_examples=60, deadline=None)
@given(labels)
def test_identical_partitions_score_one(y):
    y = np.array(y)
    assert clustering_accuracy(y, y) == 1.0
    assert clustering_accuracy(y, y * 3 + 11) == 1.0
    assert evaluate(y, 5 - y) == {"acc": 1.0, "nmi": pytest.approx(1.0), "ari": 1.0}


def test_hand_computed_value():
    # contingency [[1, 2], [3, 0]]: best matching 0->1, 1->0 gives 2 + 3 = 5 of 6.
    assert clustering_accuracy([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0]) == 5 / 6


def test_more_predicted_clusters_than_classes():
    # Each predicted cluster is a singleton: only two can be matched.
    assert clustering_accuracy([0, 0, 1, 1], [0, 1, 2, 3]) == 0.5
    assert clustering_accuracy([5, 5, 5, 9, 9, 9], [0, 0, 1, 2, 2, 3]) == 4 / 6


def test_fewer_predicted_clusters_than_classes():
    # One cluster for classes of sizes 3, 2, 1: it matches the largest class.
    assert clustering_accuracy([0, 0, 0, 1, 1, 2], [4, 4, 4, 4, 4, 4]) == 0.5


def test_string_labels():
    assert clustering_accuracy(["a", "a", "b"], ["x", "x", "y"]) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_ranges(data):
    y_true = np.array(data.draw(labels))
    y_pred = np.array(
        data.draw(st.lists(st.integers(0, 6), min_size=len(y_true), max_size=len(y_true)))
    )
    scores = evaluate(y_true, y_pred)
    n = y_true.size
    # ACC is at least the largest cell of the contingency matrix over n, hence >= 1/n.
    largest_cell = max(np.sum((y_true == t) & (y_pred == p)) for t in y_true for p in y_pred)
    assert largest_cell / n <= scores["acc"] <= 1.0
    assert -1e-12 <= scores["nmi"] <= 1.0 + 1e-12
    assert -1.0 <= scores["ari"] <= 1.0 + 1e-12


def test_evaluate_keys_types_and_values():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [1, 1, 0, 0, 0, 0]
    scores = evaluate(y_true, y_pred)
    assert set(scores) == {"acc", "nmi", "ari"}
    assert all(type(v) is float for v in scores.values())
    assert scores["acc"] == 5 / 6
    # NMI with geometric normalisation from the 2x2 table [[1, 2], [3, 0]].
    p = np.array([[1, 2], [3, 0]]) / 6
    pt, pp = p.sum(1), p.sum(0)
    nz = p > 0
    mi = np.sum(p[nz] * np.log(p[nz] / np.outer(pt, pp)[nz]))
    h_t, h_p = -np.sum(pt * np.log(pt)), -np.sum(pp * np.log(pp))
    assert scores["nmi"] == pytest.approx(mi / np.sqrt(h_t * h_p), rel=1e-12)
    # ARI from the pair counts: sum C(n_ij, 2) = 1 + 3 = 4, rows 3 + 3 = 6, columns 6 + 1 = 7.
    expected = 6 * 7 / 15
    assert scores["ari"] == pytest.approx((4 - expected) / ((6 + 7) / 2 - expected), rel=1e-12)


def test_evaluate_independent_partitions():
    # A prediction independent of the truth: NMI 0 and ARI below 0 here.
    scores = evaluate([0, 0, 1, 1], [0, 1, 0, 1])
    assert scores["acc"] == 0.5
    assert scores["nmi"] == pytest.approx(0.0, abs=1e-12)
    assert scores["ari"] == pytest.approx(-0.5)


@pytest.mark.parametrize("func", [clustering_accuracy, evaluate])
@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([0, 1, 1], [0, 1], "same length.*3 and 2"),
        ([], [], "y_true must not be empty"),
        ([[0, 1]], [0, 1], r"y_true must be a 1-D.*\(1, 2\)"),
        ([0, 1], [[0], [1]], r"y_pred must be a 1-D.*\(2, 1\)"),
        (0, [0], r"y_true must be a 1-D.*\(\)"),
    ],
)
def test_errors(func, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        func(y_true, y_pred)
