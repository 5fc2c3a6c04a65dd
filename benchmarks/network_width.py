"""Hidden widths on 20 000-row sets of few features: the measurement behind ``"auto"``'s rule.

``python -m benchmarks.network_width --widths 128x128 512x512 --seeds 0 1`` fits
``NeuNcut(k, random_state=seed, hidden_layer_sizes=w)`` on 20 000-row versions of the
development suite's shapes (2 or 3 features), a 20-cluster Gaussian mixture in 50-D, and
20 000 MNIST and Fashion-MNIST images through PCA to 50 dimensions, one BLAS and torch thread,
and appends one record per fit to ``benchmarks/results/network_width.jsonl`` (NCA, fit seconds,
the fit's stage times). ``--report`` prints mean NCA and fit seconds per set and width (the
latest run of each set, seed and width).

The development suite stops at 10 000 rows, where ``"auto"`` is (128, 128) anyway; above it
the paper's (512, 512) was measured only on MNIST's 500 scattering features (where 128 units
lost 0.003 ACC). These sets decide the rule for many rows of few features. Labels are read
only to score.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.harness.records import RESULTS_DIR, RecordWriter, latest, read_records

RESULTS = RESULTS_DIR / "network_width.jsonl"
N_ROWS = 20_000


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    """The fit-speed benchmark's 10 overlapping 2-D blobs."""
    from sklearn.datasets import make_blobs

    return make_blobs(N_ROWS, n_features=2, centers=10, cluster_std=1.0, center_box=(-10, 10),
                      random_state=0)


def _images(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """20 000 random images, pixels / 255, through ``PCA(50)`` fit on them."""
    from sklearn.decomposition import PCA

    from neuncut.datasets import load_dataset

    ds = load_dataset(dataset)
    rows = np.sort(np.random.default_rng(0).choice(len(ds.target), N_ROWS, replace=False))
    X = np.asarray(ds.data[rows], dtype=np.float32) / 255.0
    return PCA(50, random_state=0).fit_transform(X).astype(np.float32), ds.target[rows]


def sets() -> dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]]:
    """Each set's loader, by name."""
    from benchmarks import shapes
    from benchmarks.suite_data import chainlink, chains, noisy_moons

    def shape(name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        return lambda: getattr(shapes, name)(N_ROWS, 0)

    return {
        "blobs10-2d": _blobs, "moons": shape("moons"), "moons-noisy": lambda: noisy_moons(N_ROWS),
        "circles": shape("circles"), "spirals": shape("spirals"),
        "anisotropic": shape("anisotropic"), "unequal-variance": shape("unequal_variance"),
        "grid": shape("grid"), "chains": lambda: chains(N_ROWS),
        "chainlink-3d": lambda: chainlink(N_ROWS), "gmm-20x50d": shape("gmm_20x50d"),
        "mnist-pca50": lambda: _images("mnist"), "fashion-pca50": lambda: _images("fashion-mnist"),
    }


def fit_all(names: list[str], widths: list[tuple[int, ...]], seeds: list[int],
            results: Path) -> None:
    """Fit every set, seed and width; one record per fit to ``results``."""
    import torch
    from threadpoolctl import threadpool_limits

    import neuncut
    from benchmarks.harness.environment import git_state
    from benchmarks.suite_scores import score

    threadpool_limits(1)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    neuncut.NeuNcut(3, random_state=0).fit(np.random.default_rng(0).normal(size=(200, 2)))
    loaders = sets()
    commit = git_state().get("commit")
    records = RecordWriter(results)
    for name in names:
        X, y = loaders[name]()
        k = len(np.unique(y))
        for seed in seeds:
            for width in widths:
                start = time.perf_counter()
                model = neuncut.NeuNcut(k, random_state=seed, hidden_layer_sizes=width).fit(X)
                row = {"set": name, "seed": seed, "width": list(width), "d": X.shape[1],
                       "fit_s": round(time.perf_counter() - start, 2),
                       **score(y, model.labels_),
                       "timings": {s: round(t, 2) for s, t in model.timings_.items()},
                       "commit": commit}
                print(json.dumps(row), flush=True)
                records.write(row)


def report(results: Path) -> str:
    """Mean NCA and fit seconds per set and width (over the seeds), as a Markdown table."""
    rows = list(latest(read_records(results), "network_width").values())
    cells: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in rows:
        cells[r["set"], "x".join(map(str, r["width"]))].append((r["nca"], r["fit_s"]))
    widths = sorted({w for _, w in cells}, key=lambda w: int(w.split("x")[0]))
    names = list(dict.fromkeys(r["set"] for r in rows))
    head = " | ".join(f"NCA {w} | s {w}" for w in widths)
    lines = [f"| set | seeds | {head} |", "|---" * (2 + 2 * len(widths)) + "|"]
    for name in names:
        vals = []
        for w in widths:
            got = cells.get((name, w), [])
            vals += ([f"{np.mean([a for a, _ in got]):.4f}", f"{np.mean([b for _, b in got]):.1f}"]
                     if got else ["–", "–"])
        n = max(len(cells.get((name, w), [])) for w in widths)
        lines.append(f"| {name} | {n} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=None, help="default: all")
    parser.add_argument("--widths", nargs="+", default=["128x128", "512x512"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--report", action="store_true", help="print the table and stop")
    args = parser.parse_args(argv)
    if not args.report:
        widths = [tuple(int(v) for v in w.split("x")) for w in args.widths]
        fit_all(args.sets or list(sets()), widths, args.seeds, args.results)
    print(report(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
