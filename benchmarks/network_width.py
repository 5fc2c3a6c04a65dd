"""Hidden widths on 20 000-row sets of few features: the measurement behind ``"auto"``'s rule.

``python -m benchmarks.network_width --widths 128x128 512x512 --seeds 0 1`` fits
``NeuNcut(k, random_state=seed, hidden_layer_sizes=w)`` on 20 000-row versions of the
development suite's shapes (2 or 3 features), a 20-cluster Gaussian mixture in 50-D, and
20 000 MNIST and Fashion-MNIST images through PCA to 50 dimensions, one BLAS and torch thread,
one fresh process per fit, and appends one record per fit to
``benchmarks/results/network_width.jsonl`` (NCA, fit seconds, the fit's stage times);
``NETWORK_WIDTH.md`` gives mean NCA and fit seconds per set and width (the latest run of each
set, seed and width).

The development suite stops at 10 000 rows, where ``"auto"`` is (128, 128) anyway; above it
the paper's (512, 512) was measured only on MNIST's 500 scattering features (where 128 units
lost 0.003 ACC). These sets decide the rule for many rows of few features. Labels are read
only to score.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.records import RESULTS_DIR, latest, read_records
from benchmarks.harness.study import Axis, Study, main

RESULTS = RESULTS_DIR / "network_width.jsonl"
SETS = ("blobs10-2d", "moons", "moons-noisy", "circles", "spirals", "anisotropic",
        "unequal-variance", "grid", "chains", "chainlink-3d", "gmm-20x50d", "mnist-pca50",
        "fashion-pca50")
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


def fit_one(set: str, seed: int, width: list[int], quick: bool) -> dict[str, Any]:
    """Fit ``NeuNcut(k, random_state=seed, hidden_layer_sizes=width)`` on ``set`` (a worker's
    call; a 200-point fit first, so that imports and thread pools are not timed)."""
    import torch

    import neuncut
    from benchmarks.suite_scores import score

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    neuncut.NeuNcut(3, random_state=0).fit(np.random.default_rng(0).normal(size=(200, 2)))
    X, y = sets()[set]()
    start = time.perf_counter()
    model = neuncut.NeuNcut(len(np.unique(y)), random_state=seed,
                            hidden_layer_sizes=tuple(width)).fit(X)
    return {"d": X.shape[1], "fit_s": round(time.perf_counter() - start, 2),
            **score(y, model.labels_),
            "timings": {s: round(t, 2) for s, t in model.timings_.items()}}


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


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``folder/NETWORK_WIDTH.md`` from ``folder/network_width.jsonl``."""
    (folder / "NETWORK_WIDTH.md").write_text(
        "# Network width\n\nGenerated by `python -m benchmarks.network_width --report` from "
        "`network_width.jsonl`: `NeuNcut(k, random_state=seed, hidden_layer_sizes=w)` on "
        f"{N_ROWS} rows, mean NCA and fit seconds over the seeds per set and width.\n\n"
        + report(folder / "network_width.jsonl") + "\n")


def _width(text: str) -> tuple[int, ...]:
    """``"128x128"`` -> ``(128, 128)``."""
    return tuple(int(v) for v in text.split("x"))


STUDY = Study(
    name="network_width", module="benchmarks.network_width",
    question="Do 128 units do as well as 512 on 20 000 rows of few features?",
    call="benchmarks.network_width:fit_one",
    axes=(Axis("set", SETS), Axis("seed", (0, 1), type=int),
          Axis("width", ((128, 128), (512, 512)), type=_width)),
    records="network_width.jsonl", report="benchmarks.network_width:write_page",
    page="NETWORK_WIDTH.md", quick={"set": ("moons",), "seed": (0,), "width": ((16,),)},
    show=lambda r: f"NCA {r['nca']:.3f} fit {r['fit_s']} s")

if __name__ == "__main__":
    sys.exit(main(STUDY))
