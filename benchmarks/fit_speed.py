"""Fit time by stage, against the peers timed in the same run on the same data.

    python -m benchmarks.fit_speed --label after          # the grid and MNIST (~20 min)
    python -m benchmarks.fit_speed --label after --load   # also each neuncut fit beside a busy core
    python -m benchmarks.fit_speed --quick --records R    # a smoke test (seconds; a small net)
    python -m benchmarks.fit_speed --report               # rewrite FIT_SPEED.md from the records

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

``--load`` runs the neuncut cases with N <= 20 000 and D <= 50, and ``mnist-20k``, a second
time beside one busy process (a Python loop on one core), and reports the ratio. Records are
appended to ``benchmarks/results/fit_speed.jsonl`` with the label; ``FIT_SPEED.md`` beside them
shows every label (the latest run of each key ``fit_speed`` of
:data:`benchmarks.harness.records.KEYS`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.environment import git_output, git_state, jsonable, machine_info
from benchmarks.harness.peers import peer
from benchmarks.harness.process import busy_core, run_call
from benchmarks.harness.records import RESULTS_DIR, RecordWriter

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


def all_cases(quick: bool) -> list[str]:
    """Case names: the synthetic grid, then MNIST."""
    if quick:
        return ["blobs-300-2"]
    grid = [f"blobs-{n}-{d}" for n in SIZES for d in DIMS]
    return [*grid, "mnist-20k", "mnist-70k"]


def under_load(case: str) -> bool:
    """Whether ``--load`` repeats the case beside a busy process."""
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


def work(case: str, method: str, quick: bool = False) -> dict[str, Any]:
    """Warm up on 200 points, then time one fit of the case; scores for a sanity check."""
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


# ------------------------------------------------------------------------------ runner
def run_worker(case: str, method: str, timeout: float, quick: bool) -> dict[str, Any]:
    """One (case, method) in a fresh worker process; a failure or timeout becomes a record."""
    return run_call("benchmarks.fit_speed:work", {"case": case, "method": method,
                                                  "quick": quick}, timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="after", help="name of this run in the report")
    parser.add_argument("--cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--load", action="store_true",
                        help="also time neuncut beside one busy process")
    parser.add_argument("--quick", action="store_true", help="one small case (a smoke test)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per fit")
    parser.add_argument("--records", type=Path, default=RECORDS,
                        help="record file to append to; FIT_SPEED.md is written beside it")
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    args = parser.parse_args(argv)
    if not args.report:
        records = RecordWriter(args.records)
        context = {"label": args.label, "git": git_state(), "machine": machine_info(),
                   "date": time.strftime("%Y-%m-%d")}
        cases = args.cases or all_cases(args.quick)
        for case in cases:
            for method in args.methods:
                _record(args, records, context, case, method, loaded=False)
        if args.load and "neuncut" in args.methods:
            for case in filter(under_load, cases):
                _record(args, records, context, case, "neuncut", loaded=True)
    from benchmarks.fit_speed_report import write_report

    write_report(args.records, args.records.parent / REPORT.name)
    return 0


def _record(args: argparse.Namespace, records: RecordWriter, context: dict[str, Any],
            case: str, method: str, loaded: bool) -> None:
    """Run one fit (beside a busy process if ``loaded``) and append its record."""
    with busy_core() if loaded else contextlib.nullcontext():
        result = run_worker(case, method, args.timeout, args.quick)
    record = {**context, "case": case, "method": method, "loaded": loaded, **result}
    records.write(jsonable(record))
    shown = f"{result['fit_s']:.2f} s" if result["status"] == "ok" else result["status"]
    print(f"{case:>18} {method:>9}{' (load)' if loaded else '':7} {shown}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
