"""The development suite (benchmarks/suite*.py): NCA, the report's arithmetic, a quick run."""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import suite, suite_data, suite_hard, suite_report, suite_scores, suite_worker
from benchmarks.harness.environment import THREAD_VARS
from benchmarks.harness.records import read_records
from benchmarks.suite_scores import normalized_clustering_accuracy as nca
from benchmarks.suite_scores import score

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------ NCA
@pytest.mark.parametrize("module", [suite_scores, suite_worker, suite_data, suite])
def test_doctests(module) -> None:
    assert doctest.testmod(module, raise_on_error=False).failed == 0


@pytest.mark.parametrize("k", [2, 3, 7])
def test_nca_perfect_partition_is_one(k: int) -> None:
    y = np.repeat(np.arange(k), [5 + i for i in range(k)])
    assert nca(y, y) == 1.0
    assert nca(y, 10 * y + 3) == 1.0  # other cluster ids


@pytest.mark.parametrize("k", [2, 3, 7])
def test_nca_all_in_one_cluster_is_zero(k: int) -> None:
    y = np.repeat(np.arange(k), [3 * (i + 1) for i in range(k)])  # unequal sizes
    assert nca(y, np.zeros_like(y)) == pytest.approx(0.0, abs=1e-12)


def test_nca_is_invariant_to_relabelling_either_side() -> None:
    rng = np.random.default_rng(0)
    y, p = rng.integers(4, size=200), rng.integers(5, size=200)
    base = nca(y, p)
    assert nca(rng.permutation(4)[y], p) == pytest.approx(base)
    assert nca(y, rng.permutation(5)[p]) == pytest.approx(base)
    order = rng.permutation(200)  # the order of the points does not matter either
    assert nca(y[order], p[order]) == pytest.approx(base)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "expected"),
    [
        # recalls 3/4 and 1: mean 7/8, (7/8 - 1/2) / (1/2)
        ([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1], 0.75),
        # more predicted clusters: the best 2 of 3 columns, recalls 1/2 and 1
        ([0, 0, 0, 0, 1, 1], [0, 0, 2, 2, 1, 1], 0.5),
        # fewer predicted clusters: the third reference cluster has recall 0
        ([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1], 0.5),
        # recall is per reference cluster: a small cluster weighs as much as a big one
        ([0] * 9 + [1], [0] * 10, 0.0),
    ],
)
def test_nca_exact_values(y_true, y_pred, expected) -> None:
    assert nca(y_true, y_pred) == pytest.approx(expected)


def test_nca_lies_below_one_and_can_be_negative() -> None:
    # two balanced classes, each split evenly across two clusters: mean recall 1/2 = chance
    assert nca([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0)
    rng = np.random.default_rng(1)
    values = [nca(rng.integers(3, size=30), rng.integers(6, size=30)) for _ in range(50)]
    assert max(values) <= 1.0 and min(values) >= -1.0


def test_nca_needs_two_reference_clusters() -> None:
    with pytest.raises(ValueError, match="k=1"):
        nca([0, 0, 0], [0, 1, 2])


def test_score_skips_reference_noise_and_counts_predicted_noise_as_a_cluster() -> None:
    y = np.array([0, 0, 1, 1, -1, -1])
    assert score(y, [0, 0, 1, 1, 1, 0])["nca"] == 1.0
    assert score(y, [0, 0, 1, 1, 1, 0])["n_scored"] == 4
    labels = suite_scores.noise_as_cluster([0, -1, -1, 1, 2, 2])
    assert labels.tolist() == [0, 3, 3, 1, 2, 2]
    assert score(y, [0, -1, 1, 1, 0, 0])["nca"] < 1.0


# ------------------------------------------------------------------------------ data sets
def test_registry_has_at_least_30_sets_in_every_family() -> None:
    assert len(suite_data.SETS) >= 30
    assert {f for f in suite_data.FAMILIES if not f.startswith("hard/")} == {
        "sklearn", "pyclustering", "synthetic", "images"}
    assert {f.removeprefix("hard/") for f in suite_data.FAMILIES if f.startswith("hard/")} == set(
        suite_hard.FAMILIES)
    assert suite.select_sets(["images", "iris"])[0] == "iris"


@pytest.mark.parametrize("name", ["iris-std", "rings-outliers-1030", "blobs-background-1500",
                                  "chainlink-1000"])
def test_cheap_sets_load_with_integer_labels(name: str) -> None:
    X, y = suite_data.load_set(name)
    assert X.ndim == 2 and len(X) == len(y) and np.isfinite(X).all()
    assert y.dtype == np.int64 and y.min() >= -1
    assert len(np.unique(y[y != -1])) >= 2


def test_pyclustering_answers_mark_noise_as_minus_one() -> None:
    pytest.importorskip("pyclustering")
    X, y = suite_data.pyclustering_set("Simple03")
    assert X.shape == (60, 2) and sorted(np.unique(y)) == [0, 1, 2, 3]
    assert suite_data.read_answer("n\r\n1\r\n").tolist() == [-1, 1]


# ------------------------------------------------------------------------------- the report
def _record(method: str, dataset: str, seed: int, nca_value: float, **extra) -> dict:
    return {"method": method, "dataset": dataset, "seed": seed, "quick": False, "status": "ok",
            "nca": nca_value, "ari": nca_value, "nmi": nca_value, "fit_s": 1.0, "wall_s": 2.0,
            "n": 10, "d": 2, "k": 2, **extra}


def test_report_keeps_the_newest_line_per_run(tmp_path: Path) -> None:
    lines = [_record("kmeans", "iris", 0, 0.1), _record("kmeans", "iris", 0, 0.7),
             _record("kmeans", "iris", 1, 0.3)]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    got = {r["seed"]: r["nca"] for r in suite_report.read_records(path)}
    assert got == {0: 0.7, 1: 0.3}


def test_summary_wins_ties_losses_best_peer_and_gaps() -> None:
    # neuncut - genie: +0.2 (win), +0.005 (tie), -0.15 (loss and a >0.10 gap)
    table = {"iris": (0.9, 0.7, 0.9), "wine": (0.5, 0.495, 0.2), "digits": (0.6, 0.75, 0.62)}
    records = []
    for d, (nn, genie, spectral) in table.items():
        for seed, jitter in ((0, -0.01), (1, 0.01)):
            records.append(_record("neuncut", d, seed, nn + jitter))
        records.append(_record("genie", d, 0, genie))
        records.append(_record("sklearn-spectral", d, 0, spectral))
    c = suite_report.comparisons(suite_report.build_cells(records))
    assert c["wtl"]["genie"] == (1, 1, 1)
    assert c["wtl"]["sklearn-spectral"] == (1, 1, 1)  # +0.3 / 0 / -0.02
    assert c["best_peer"] == pytest.approx({"iris": 0.9, "wine": 0.495, "digits": 0.75})
    assert c["gaps"] == ["digits"]
    assert c["worst"][0] == "wine"
    assert c["median_std"] == pytest.approx(np.std([-0.01, 0.01], ddof=1))


def test_failed_runs_score_zero() -> None:
    failed = {"method": "genie", "dataset": "iris", "seed": 1, "quick": False,
              "status": "error", "error": "timeout", "wall_s": 900.0}
    cells = suite_report.build_cells([_record("genie", "iris", 0, 0.8), failed])
    assert cells[("iris", "genie")].mean == pytest.approx(0.4)
    assert cells[("iris", "genie")].failures == ["timeout"]


# ----------------------------------------------------------------------------- quick run
@pytest.mark.integration
def test_quick_run_writes_lines_and_a_report(tmp_path: Path) -> None:
    """Two tiny sets, seed 0, a tiny NeuNcut and k-means, each run in its own process."""
    results, report = tmp_path / "suite.jsonl", tmp_path / "SUITE.md"
    threads = {k: "1" for k in THREAD_VARS}
    for args in (["--quick", "--datasets", "iris", "moons-300", "--methods", "neuncut", "kmeans",
                  "--results", str(results)],
                 ["--report", "--results", str(results)]):
        proc = subprocess.run([sys.executable, "-m", "benchmarks.suite", *args], cwd=REPO,
                              env={**os.environ, **threads}, capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
    raw = results.read_text()
    assert str(tmp_path) not in raw and str(REPO) not in raw  # no machine paths
    lines = read_records(results)
    assert {(x["method"], x["dataset"]) for x in lines} == {
        (m, d) for m in ("neuncut", "kmeans") for d in ("iris", "moons-300")}
    for x in lines:
        assert x["status"] == "ok", x.get("error")
        assert x["quick"] and x["seed"] == 0 and x["threads_env"] == threads
        assert -1.0 <= x["nca"] <= 1.0 and -1.0 <= x["ari"] <= 1.0 and 0.0 <= x["nmi"] <= 1.0
        assert (x["n"], x["k"]) == {"iris": (150, 3), "moons-300": (300, 2)}[x["dataset"]]
        assert x["fit_s"] > 0 and x["git"]["commit"]
    neuncut = [x for x in lines if x["method"] == "neuncut"]
    assert all(x["params"]["max_epochs"] == 2 for x in neuncut)
    assert all(isinstance(x["init_ncut_"], dict) for x in neuncut)
    text = report.read_text()
    assert "## Summary" in text and "### moons-300 (n = 300, d = 2, k = 2)" in text


@pytest.mark.parametrize("family", list(suite_hard.FAMILIES))
def test_hard_families_are_reproducible_labelled_sets(family: str) -> None:
    """Each family draws a set of n points with at least two scored clusters, the same for
    the same (n, seed), another for another seed; every set has its suite name."""
    X, y = suite_hard.hard_set(family, 300, 0)
    X2, y2 = suite_hard.hard_set(family, 300, 0)
    assert X.shape[0] == len(y) == 300 and X.dtype == np.float64 and y.dtype == np.int64
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, suite_hard.hard_set(family, 300, 1)[0])
    assert y.min() >= -1 and len(np.unique(y[y >= 0])) >= 2 and np.isfinite(X).all()
    names = [f"hard-{family}-{n}-g{g}" for n in suite_hard.SIZES
             for g in suite_hard.GENERATOR_SEEDS]
    assert all(suite_data.SETS[name].family == f"hard/{family}" for name in names)


def test_hard_families_are_split_in_two_halves_with_many_clusters_in_each() -> None:
    assert set(suite_hard.HALF) == set(suite_hard.FAMILIES)
    assert set(suite_hard.HALF.values()) == {"a", "b"}
    many = {h for f, h in suite_hard.HALF.items() if f.startswith("many-blobs")}
    assert many == {"a", "b"}


def test_unequal_sizes_differ_at_least_tenfold() -> None:
    for seed in (0, 1, 2):
        counts = np.bincount(suite_hard.hard_set("unequal-sizes", 2000, seed)[1])
        assert counts.max() >= 10 * counts.min() - 1 and counts.min() >= 20
