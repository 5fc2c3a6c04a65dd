"""Tests of the warm start's tree candidate (neuncut._warm_start._genie): Genie's merges."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from neuncut._warm_start._genie import genie_labels, gini_index
from neuncut.affinity import knn_search, knn_spanning_tree


@pytest.mark.parametrize(("sizes", "expected"), [([3], 0.0), ([2, 2, 2, 2], 0.0),
                                                 ([0, 0, 0, 4], 1.0), ([1, 3], 0.5)])
def test_gini_index(sizes, expected) -> None:
    assert gini_index(np.array(sizes)) == pytest.approx(expected)


def _chain_tree(lengths: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(lengths) + 1
    return np.arange(n - 1), np.arange(1, n), np.array(lengths, dtype=float)


def test_without_the_fairness_rule_it_is_single_linkage() -> None:
    """Threshold 1 never forces a merge: the k - 1 longest tree edges are cut."""
    rng = np.random.default_rng(0)
    lengths = rng.permutation(np.arange(1.0, 20.0))
    labels = genie_labels(20, _chain_tree(list(lengths)), 4, gini_threshold=1.0)
    cuts = np.sort(np.argsort(lengths)[-3:]) + 1  # the chain splits after these points
    expected = np.searchsorted(cuts, np.arange(20), side="right")
    assert np.array_equal(labels, expected)


def test_the_fairness_rule_merges_a_lone_point_first() -> None:
    """Two chains and an outlier: single linkage isolates the outlier, Genie the chains."""
    tree = _chain_tree([1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 4.0])
    assert genie_labels(9, tree, 2).tolist() == [0] * 4 + [1] * 5


def test_a_forest_keeps_its_trees_apart_and_skips_a_tree_it_cannot_merge() -> None:
    """A point without edges stays a cluster; when it is the smallest, the next smallest
    cluster with an edge is merged instead."""
    rows, cols = np.array([0, 1, 2, 3, 5, 7, 4, 6]), np.array([1, 2, 3, 4, 6, 8, 5, 7])
    lengths = np.array([1.0, 1, 1, 1, 1, 1, 3, 3])
    assert genie_labels(10, (rows, cols, lengths), 2).tolist() == [0] * 9 + [1]
    assert genie_labels(10, (rows, cols, lengths), 3).tolist() == [0] * 7 + [1, 1, 2]


def test_more_trees_than_clusters_is_none() -> None:
    assert genie_labels(4, (np.array([0]), np.array([1]), np.array([1.0])), 2) is None


def test_labels_are_a_partition_into_k_clusters_of_the_knn_tree() -> None:
    X, y = make_blobs([400, 40, 100], centers=[[0, 0], [8, 0], [0, 8]], random_state=0)
    labels = genie_labels(len(X), knn_spanning_tree(knn_search(X, 10)), 3)
    assert labels is not None and labels.dtype == np.int64
    assert sorted(np.unique(labels).tolist()) == [0, 1, 2]
    # separated blobs of unequal sizes: recovered exactly
    assert len({(a, b) for a, b in zip(labels, y, strict=True)}) == 3
