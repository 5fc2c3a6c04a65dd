"""The warm start's second criterion: stability across subsamples (_warm_start/_stability.py)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from neuncut._warm_start import _stability
from neuncut._warm_start._candidates import candidate_partitions, choose_candidate
from neuncut._warm_start._stability import candidate_stability, side_stream, stable_choice

WEIGHT = {"spectral": 1.0, "genie": 1.0, "embedding": 0.97}


def test_doctests() -> None:
    assert doctest.testmod(_stability).failed == 0


def test_side_stream_is_reproducible_and_leaves_the_stream_as_it_was() -> None:
    rng = np.random.default_rng(3)
    side = side_stream(rng).random(5)
    assert np.array_equal(side, side_stream(np.random.default_rng(3)).random(5))
    assert np.array_equal(rng.random(5), np.random.default_rng(3).random(5))  # not drawn from
    assert not np.array_equal(side_stream(rng.spawn(1)[0]).random(5), side)
    # a generator without a seed sequence still gets a stream of its own
    bare = np.random.Generator(np.random.PCG64())
    bare.bit_generator.state = np.random.default_rng(5).bit_generator.state
    assert side_stream(bare).random(3).shape == (3,)


def test_separated_blobs_are_stable_and_a_random_partition_is_not() -> None:
    X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=1)
    found = {"spectral": y, "genie": np.random.default_rng(0).integers(3, size=300)}
    stability = candidate_stability(X, 3, 10, found, np.random.default_rng(0), n_subsamples=2)
    assert stability["spectral"] == pytest.approx(1.0)
    assert abs(stability["genie"]) < 0.1


def _no_subsamples(*args, **kwargs):
    raise AssertionError("no subsample should be computed")


@pytest.mark.parametrize(("found", "ncuts", "best"), [
    ({"spectral": np.r_[0, 1, 1]}, {"spectral": 0.1}, "spectral"),  # no Genie
    ({"spectral": np.r_[0, 1, 1], "genie": np.r_[1, 0, 0]},
     {"spectral": 0.1, "genie": 0.5}, "spectral"),  # Genie's cut above twice the choice's
    ({"spectral": np.r_[0, 1, 1], "genie": np.r_[1, 0, 0]},
     {"spectral": 0.1, "genie": 0.15}, "spectral"),  # one partition, relabelled
])
def test_no_subsample_where_nothing_is_to_decide(found, ncuts, best, monkeypatch) -> None:
    monkeypatch.setattr(_stability, "candidate_stability", _no_subsamples)
    X = np.zeros((3, 2))
    assert stable_choice(X, 2, 10, found, ncuts, best, WEIGHT, np.random.default_rng(0)) == best


@pytest.mark.parametrize(("stability", "best", "expected"), [
    ({"spectral": 0.9, "genie": 0.7, "embedding": 0.8}, "genie", "embedding"),  # demoted
    ({"spectral": 0.7, "genie": 0.68, "embedding": 0.6}, "genie", "genie"),  # within 0.05
    ({"spectral": 0.5, "genie": 0.95, "embedding": 0.6}, "embedding", "genie"),  # promoted
    ({"spectral": 0.5, "genie": 0.65, "embedding": 0.6}, "embedding", "embedding"),
])
def test_genie_gives_way_or_wins_by_its_stability(stability, best, expected,
                                                  monkeypatch) -> None:
    monkeypatch.setattr(_stability, "candidate_stability", lambda *a, **k: stability)
    found = {"spectral": np.r_[0, 0, 1, 1], "genie": np.r_[0, 1, 1, 1],
             "embedding": np.r_[0, 0, 0, 1]}
    ncuts = {"spectral": 0.30, "genie": 0.20, "embedding": 0.25}
    X = np.zeros((4, 2))
    assert stable_choice(X, 2, 10, found, ncuts, best, WEIGHT,
                         np.random.default_rng(0)) == expected


def test_clusters_in_background_noise_are_found_by_genie_s_stability() -> None:
    """A set of the suite's harder family ``shapes-noise`` (moons, circles or blobs in 20-40 %
    background noise) where the lowest cut splits the noise field (NCA 0.02 here) and
    Genie's partition, found again on every subsample, is right; labels read only to check."""
    from benchmarks.suite_hard import hard_set
    from benchmarks.suite_scores import normalized_clustering_accuracy

    X, y = hard_set("shapes-noise", 600, 0)
    X = X.astype(np.float32)
    rng = np.random.default_rng(1)
    found, ncuts = candidate_partitions(X, 2, 10, rng)
    chosen = choose_candidate(X, 2, 10, found, ncuts, rng)
    scored = y >= 0
    assert normalized_clustering_accuracy(y[scored], found[chosen][scored]) > 0.95
