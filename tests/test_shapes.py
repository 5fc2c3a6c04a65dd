"""A default NeuNcut solves the easy synthetic shapes of ``benchmarks/shapes.py``.

Each case fits ``NeuNcut(k, random_state=0)`` with every other parameter at its default on a
reduced version of a shape (about 1 200 points; 2 000 for the 50-D mixture) and asserts
ARI >= 0.99. Measured before choosing them: ARI >= 0.997 on seeds 0, 1 and 2 at these sizes,
and >= 0.999 on all three seeds at the benchmark's sizes. ``spirals`` is held at the
benchmark's size (ARI 1.0 on seeds 0-2 since the warm start of ``init="auto"``; 0.12 - 0.84
before, when Ncut training undid a softly distilled warm start), and must be solved on two
of three seeds: on an AMD EPYC machine (2026-12-02, the same code as on the Intel machine
where every seed gave 1.0) seed 0 gives ARI 0.845, the embedding's partition cutting less
(0.00058) than the exact spectral one (0.00072) on the arbitration's graph; seeds 1 and 2
give 0.999, and 8 of 9 fits over data seeds 0-2 and fit seeds 0-2 reach 0.997. The floating
point of the machine is enough to change the layout, and a lower cut is not always the
better partition (decision D9). Left out: ``anisotropic``
(0.81-0.99 depending on the seed) and ``unequal-variance`` (overlapping blobs, kNN spectral
clustering itself stays near 0.94); ``python -m benchmarks.shapes`` reports them in
``benchmarks/results/SHAPES.md``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score

from neuncut import NeuNcut

REPO = Path(__file__).resolve().parent.parent

#: Shape name -> number of points of the reduced data set.
EASY_SHAPES = {
    "moons": 1200,
    "circles": 1200,
    "spirals": 3000,
    "grid-15": 1200,
    "imbalanced": 1260,
    "gmm-20x50d": 2000,
}
#: Shape name -> the fit seeds tried, of which all but one must solve it (default: seed 0).
SEEDS = {"spirals": (0, 1, 2)}


@pytest.mark.integration
@pytest.mark.parametrize("name", list(EASY_SHAPES))
def test_defaults_solve_easy_shape(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.shapes import SHAPES

    shape = SHAPES[name]
    X, y = shape.make(EASY_SHAPES[name], 0)
    assert len(X) == EASY_SHAPES[name] and len(set(y)) == shape.n_clusters
    seeds = SEEDS.get(name, (0,))
    scores = [adjusted_rand_score(y, NeuNcut(shape.n_clusters, random_state=seed).fit(X).labels_)
              for seed in seeds]
    assert sum(score >= 0.99 for score in scores) >= max(1, len(seeds) - 1), scores


@pytest.mark.integration
def test_shapes_quick(tmp_path: Path) -> None:
    """``python -m benchmarks.shapes --quick`` on two shapes (as test_benchmarks.py runs the
    other scripts): one line per (data set, method), defaults recorded, a report."""
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.shapes", "--quick", "--datasets", "moons",
         "grid-15", "--results", str(tmp_path / "shapes.jsonl")],
        cwd=REPO, env={**os.environ, **threads}, capture_output=True, text=True, timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    from benchmarks.harness.records import read_records

    lines = read_records(tmp_path / "shapes.jsonl")
    assert [(x["dataset"], x["method"]) for x in lines] == [
        ("moons", "spectral"), ("moons", "neuncut"), ("grid-15", "spectral"),
        ("grid-15", "neuncut")]
    for x in lines:
        assert x["quick"] is True and x["seed"] == 0 and x["n_samples"] == 600
        assert 0.0 <= x["ari"] <= 1.0 and x["fit_s"] >= 0
        assert {"commit", "dirty"} <= x["git"].keys() and x["versions"]["neuncut"]
    neuncut = lines[1]["params"]
    assert neuncut["n_clusters"] == 2 and neuncut["random_state"] == 0
    assert neuncut["max_epochs"] == NeuNcut().max_epochs  # the defaults, not a quick model
    text = (tmp_path / "SHAPES.md").read_text()
    assert "| moons (2-D) | 600 | 2 |" in text and "| grid-15 (2-D) | 600 | 15 |" in text
