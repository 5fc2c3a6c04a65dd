"""Fit time by stage, against the peers timed in the same run on the same data.

    python -m benchmarks.fit_speed --label after      # the grid, MNIST, under load (~25 min)
    python -m benchmarks.fit_speed --loaded false     # not the fits beside a busy core
    python -m benchmarks.fit_speed --quick            # a smoke test (seconds; a small net)
    python -m benchmarks.fit_speed --report           # rewrite FIT_SPEED.md from the records

Cases:

``blobs-N-D``
    ``make_blobs(N, D, centers=10, cluster_std=1, center_box=(-10, 10))``, seed 0, for
    N = 300, 3 000, 20 000, 100 000 and D = 2, 50, 500. At N = 100 000 neuncut trains on
    ``train_size=20000`` rows and labels all of them in ``fit``.
``mnist-20k``, ``mnist-70k``
    MNIST scattering + PCA 500, rows L2-normalized (protocol A's features): a seed-0 subset of
    20 000 rows, and all 70 000 (neuncut: ``train_size=20000``; its fit labels all 70 000).

Methods, each in a fresh worker process of the harness with its defaults and ``n_clusters`` =
10: ``neuncut`` (``NeuNcut``), ``spectral`` (scikit-learn
``SpectralClustering(affinity="nearest_neighbors", eigen_solver="amg")``), ``genie``
(genieclust 1.3.0, ``gini_threshold=0.3``), ``kmeans`` (scikit-learn ``KMeans``). Every worker
first fits the method once on 200 points, so that imports and first-call costs are measured
apart (``warmup_s``) from the timed fit. neuncut's stages come from ``timings_``.

The neuncut cases with N <= 20 000 and D <= 50, and ``mnist-20k``, run a second time beside
one busy process (a Python loop on one core, ``loaded``), and the page reports the ratio.
Records are appended to ``benchmarks/results/fit_speed.jsonl`` with the label;
``FIT_SPEED.md`` beside them shows every label (the latest run of each key ``fit_speed`` of
:data:`benchmarks.harness.records.KEYS`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.environment import git_output
from benchmarks.harness.peers import peer
from benchmarks.harness.process import busy_core
from benchmarks.harness.records import RESULTS_DIR
from benchmarks.harness.study import Axis, Param, Study, main

RECORDS = RESULTS_DIR / "fit_speed.jsonl"
REPORT = RESULTS_DIR / "FIT_SPEED.md"
#: Each peer method: its name in :mod:`benchmarks.harness.peers` and this study's overrides.
PEER_METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "spectral": ("sklearn-spectral", {"eigen_solver": "amg"}),
    "genie": ("genie", {}),
    "kmeans": ("kmeans", {}),
}
METHODS = ("neuncut", *PEER_METHODS)
SIZES = (300, 3_000, 20_000, 100_000)
DIMS = (2, 50, 500)
TRAIN_SIZE = 20_000
N_CLUSTERS = 10
# --quick: a small network and the k-means warm start (a smoke test of the plumbing).
QUICK_NEUNCUT = {"hidden_layer_sizes": (16,), "init": "kmeans", "max_epochs": 2}


#: Case names: the synthetic grid, then MNIST.
CASES = (*(f"blobs-{n}-{d}" for n in SIZES for d in DIMS), "mnist-20k", "mnist-70k")


def under_load(case: str) -> bool:
    """Whether the case is timed a second time beside a busy process (``loaded``)."""
    if case.startswith("mnist"):
        return case == "mnist-20k"
    _, n, d = case.split("-")
    return int(n) <= 20_000 and int(d) <= 50


# ------------------------------------------------------------------------------ worker
def load_case(case: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows (float32) and reference labels of a case."""
    if case.startswith("blobs"):
        from sklearn.datasets import make_blobs

        _, n, d = case.split("-")
        X, y = make_blobs(int(n), n_features=int(d), centers=N_CLUSTERS, cluster_std=1.0,
                          center_box=(-10.0, 10.0), random_state=0)
        return X.astype(np.float32), y
    from neuncut.datasets import load_dataset
    from neuncut.features import scattering

    ds = load_dataset("mnist")
    X = scattering(ds.data, image_shape=ds.image_shape, n_components=500)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    y = np.asarray(ds.target)
    if case == "mnist-20k":
        keep = np.sort(np.random.default_rng(0).choice(len(y), 20_000, replace=False))
        X, y = X[keep], y[keep]
    return np.ascontiguousarray(X, dtype=np.float32), y


def make_model(method: str, n_rows: int, quick: bool = False) -> Any:
    """The method with its defaults and 10 clusters."""
    if method == "neuncut":
        from neuncut import NeuNcut

        return NeuNcut(N_CLUSTERS, random_state=0,
                       train_size=TRAIN_SIZE if n_rows > TRAIN_SIZE else None,
                       **(QUICK_NEUNCUT if quick else {}))
    name, overrides = PEER_METHODS[method]
    return peer(name, N_CLUSTERS, 0, **overrides)


def work(case: str, method: str, loaded: bool, label: str, quick: bool) -> dict[str, Any]:
    """Warm up on 200 points, then time one fit of the case (beside a busy process if
    ``loaded``); scores for a sanity check (a worker's call)."""
    import warnings

    from sklearn.metrics import adjusted_rand_score

    from benchmarks.suite_scores import normalized_clustering_accuracy

    warnings.simplefilter("ignore")
    X, y = load_case(case)
    t0 = time.perf_counter()
    warm = np.random.default_rng(0).normal(size=(200, X.shape[1])).astype(np.float32)
    make_model(method, 200, quick).fit(warm)
    warmup_s = time.perf_counter() - t0
    model = make_model(method, X.shape[0], quick)
    with busy_core() if loaded else contextlib.nullcontext():
        t0 = time.perf_counter()
        labels = model.fit_predict(X)
        fit_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "fit_s": fit_s, "warmup_s": warmup_s, "n": int(X.shape[0]), "d": int(X.shape[1]),
        "ari": float(adjusted_rand_score(y, labels)),
        "nca": float(normalized_clustering_accuracy(y, labels)),
    }
    if method == "neuncut":
        import neuncut

        out["timings"] = dict(model.timings_)
        out["neuncut_commit"] = git_output("rev-parse", "--short", "HEAD",
                                           folder=Path(neuncut.__file__).parent)
    return out


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``folder/FIT_SPEED.md`` from ``folder/fit_speed.jsonl``."""
    from benchmarks.fit_speed_report import write_report

    write_report(folder / RECORDS.name, folder / REPORT.name)


STUDY = Study(
    name="fit_speed", module="benchmarks.fit_speed",
    question="Where does a default fit's time go, against its peers, and under load?",
    call="benchmarks.fit_speed:work",
    axes=(Axis("case", CASES), Axis("method", METHODS),
          Axis("loaded", (False, True), "beside a busy core (true, false)",
               flag="--loaded", type=lambda t: t.lower() == "true")),
    keep=lambda r: not r["loaded"] or (r["method"] == "neuncut" and under_load(r["case"])),
    params=(Param("label", "after", "the name of this run on the page"),),
    records=RECORDS.name, report="benchmarks.fit_speed:write_page", page=REPORT.name,
    timeout=600.0, threads=None, quick={"case": ("blobs-300-2",), "loaded": (False,)},
    show=lambda r: f"{r['fit_s']:.2f} s")

if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main(STUDY))
