"""NeuNcut's defaults fitted end to end on the held-out shapes: a check of the suite's rules.

``python -m benchmarks.held_out --label NAME`` fits ``NeuNcut(k, random_state=seed)`` on each
held-out shape of :func:`held_out_sets` (shapes drawn with
other seeds, sizes and kinds than the development suite's), seeds 0-2, one BLAS and torch
thread, and appends one record per fit to ``benchmarks/results/held_out.jsonl`` (NCA, fit
seconds, the warm start's candidate cuts). ``--report`` prints a table of mean NCA per set and
label (the latest run of each label, set and seed).
Labels are read only to score. Run it from the checkout to measure, or with another
checkout's ``src`` first on ``PYTHONPATH`` to measure that version under the same label rules.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.harness.records import RESULTS_DIR, RecordWriter, latest, read_records

RESULTS = RESULTS_DIR / "held_out.jsonl"


@functools.cache
def held_out_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Shapes not in the suite (other seeds, sizes and kinds); label -1 is not scored."""
    from sklearn.datasets import make_blobs, make_circles, make_moons

    from benchmarks import shapes

    def with_noise(X, y, n_noise, seed):
        rng = np.random.default_rng(seed)
        noise = rng.uniform(X.min(0), X.max(0), size=(n_noise, X.shape[1]))
        return np.r_[X, noise], np.r_[y, -np.ones(n_noise, dtype=int)]

    out = {
        "spirals-300": shapes.spirals(300, 1),
        "spirals-600": shapes.spirals(600, 2),
        "moons-0.1-500": make_moons(500, noise=0.1, random_state=1),
        "circles-0.08-600": make_circles(600, noise=0.08, factor=0.5, random_state=1),
        "aniso-600": shapes.anisotropic(600, 1),
        "unequal-var-600": shapes.unequal_variance(600, 1),
        "imbalanced-1050": shapes.imbalanced(1050, 1),
        "blobs-5x10d-std2": make_blobs(500, 10, centers=5, cluster_std=2.0, random_state=1),
        "blobs-8x2d-std1.5": make_blobs(800, 2, centers=8, cluster_std=1.5, random_state=3),
        "blobs4-noise150": with_noise(*make_blobs(600, 2, centers=4, cluster_std=0.6,
                                                  random_state=5), 150, 1),
        "moons-noise100": with_noise(*shapes.moons(600, 1), 100, 2),
        "blobs-3d-unequal": make_blobs(300, 3, centers=3, cluster_std=[0.5, 1.5, 3.0],
                                       random_state=7),
    }
    X, y = shapes.circles(600, 1)
    group = np.random.default_rng(3).normal(size=(15, 2)) * 0.1 + [4, 4]
    out["circles-outliers"] = (np.r_[X, group], np.r_[y, -np.ones(15, dtype=int)])
    return out


def fit_all(label: str, seeds: list[int], results: Path) -> None:
    """Fit every held-out shape for every seed; one record per fit to ``results``."""
    import torch
    from threadpoolctl import threadpool_limits

    import neuncut
    from benchmarks.suite_scores import normalized_clustering_accuracy

    threadpool_limits(1)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # DegenerateGraphWarning on the outlier groups
    records = RecordWriter(results)
    for name, (X, y) in held_out_sets().items():
        X = np.asarray(X, dtype=np.float32)
        scored = y >= 0
        k = len(set(y[scored].tolist()))
        for seed in seeds:
            t0 = time.perf_counter()
            model = neuncut.NeuNcut(k, random_state=seed).fit(X)
            line = {"label": label, "set": name, "seed": seed, "version": neuncut.__version__,
                    "nca": normalized_clustering_accuracy(y[scored], model.labels_[scored]),
                    "fit_s": round(time.perf_counter() - t0, 2),
                    "init_ncut": model.init_ncut_}
            records.write(line)
            print(f"{label} {name} seed {seed}: NCA {line['nca']:.3f} fit {line['fit_s']} s",
                  flush=True)


def report(rows: list[dict]) -> str:
    """Mean NCA over seeds per set (rows) and label (columns), and the mean over sets."""
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per[r["label"]][r["set"]].append(r["nca"])
    labels = list(per)
    sets = list(dict.fromkeys(r["set"] for r in rows))
    lines = ["| set | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for s in sets:
        cells = [f"{np.mean(per[lab][s]):.3f}" if s in per[lab] else "–" for lab in labels]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    means = [f"**{np.mean([np.mean(v) for v in per[lab].values()]):.3f}**" for lab in labels]
    lines.append("| mean over sets | " + " | ".join(means) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.held_out",
                                description=__doc__.split("\n")[0])
    p.add_argument("--label", help="name of this version in the results (e.g. a commit)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--report", action="store_true", help="only report the results file")
    args = p.parse_args(argv)
    if not args.report:
        if not args.label:
            p.error("--label is required unless --report")
        fit_all(args.label, args.seeds, args.results)
    print(report(list(latest(read_records(args.results), "held_out").values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
