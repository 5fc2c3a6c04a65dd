"""Labelling speed of a fitted default model against the roofline of its own matrix products.

    python -m benchmarks.throughput            # 1 000 000 points of 500 dimensions (~3 min)
    python -m benchmarks.throughput --quick    # a smoke test (seconds)
    python -m benchmarks.throughput --report   # rewrite THROUGHPUT.md from the latest record

1. Fit ``NeuNcut(n_clusters=10)`` with its defaults on 20 000 points of a 500-dimensional
   Gaussian mixture.
2. Label ``--n-points`` points of the same mixture (float32, in memory) with ``predict``.
3. Time the network's matrix products alone on the same rows: ``addmm`` and ReLU with its
   weights, no validation, no standardization, no argmax, in blocks of each size in
   ``BLOCKS``; the fastest block size is the roofline.

Timings alternate predict and roofline ``--repeats`` times and keep the best of each, so a
burst of load from elsewhere slows both alike. One fresh process, every core; appends one
record to ``benchmarks/results/throughput.jsonl`` and writes ``THROUGHPUT.md`` beside it.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.harness.environment import commit_of, describe_machine
from benchmarks.harness.records import RESULTS_DIR, latest, read_records
from benchmarks.harness.study import Axis, Param, Study, main
from neuncut import NeuNcut

BLOCKS = (1024, 2048, 4096, 8192, 16384)


def mixture(n: int, centers: np.ndarray, rng: np.random.Generator, chunk: int = 100_000
            ) -> np.ndarray:
    """n points (float32) around the rows of ``centers``, unit variance, written in chunks."""
    X = np.empty((n, centers.shape[1]), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        X[start:stop] = centers[rng.integers(len(centers), size=stop - start)]
        X[start:stop] += rng.standard_normal((stop - start, centers.shape[1]), dtype=np.float32)
    return X


@torch.inference_mode()
def matmul_rate(network: torch.nn.Module, X: np.ndarray, block: int) -> float:
    """Rows per second of the network's linear layers and ReLUs alone, ``block`` rows a pass."""
    linears = [m for m in network.modules() if isinstance(m, torch.nn.Linear)]
    weights = [(m.weight.detach(), m.bias.detach()) for m in linears]
    Xt = torch.from_numpy(X)
    t0 = time.perf_counter()
    for start in range(0, X.shape[0], block):
        h = Xt[start : start + block]
        for W, b in weights[:-1]:
            h = torch.addmm(b, h, W.T).relu_()
        W, b = weights[-1]
        torch.addmm(b, h, W.T)
    return X.shape[0] / (time.perf_counter() - t0)


def predict_rate(model: NeuNcut, X: np.ndarray) -> float:
    """Rows per second of ``model.predict(X)``."""
    t0 = time.perf_counter()
    model.predict(X)
    return X.shape[0] / (time.perf_counter() - t0)


def measure(n_points: int, n_features: int, n_clusters: int, fit_size: int, repeats: int,
            seed: int, fit_params: dict[str, Any]) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(n_clusters, n_features)).astype(np.float32)
    t0 = time.perf_counter()
    model = NeuNcut(n_clusters, random_state=seed, **fit_params).fit(
        mixture(fit_size, centers, rng))
    fit_s = time.perf_counter() - t0
    X = mixture(n_points, centers, rng)
    model.predict(X[:20_000])  # warm-up: thread pool, page faults of the output
    predict_best, roof_best = 0.0, {b: 0.0 for b in BLOCKS}
    predict_all = []
    for _ in range(repeats):
        rate = predict_rate(model, X)
        predict_all.append(rate)
        predict_best = max(predict_best, rate)
        for block in BLOCKS:
            roof_best[block] = max(roof_best[block], matmul_rate(model.network_, X, block))
    best_block = max(roof_best, key=roof_best.get)
    return {
        "n_points": n_points, "n_features": n_features, "n_clusters": n_clusters,
        "hidden_layer_sizes": list(model.hidden_layer_sizes), "fit_size": fit_size,
        "fit_params": fit_params, "fit_s": round(fit_s, 1), "repeats": repeats,
        "predict_rows_per_s": round(predict_best), "predict_rows_per_s_all":
        [round(r) for r in predict_all], "roofline_rows_per_s": round(roof_best[best_block]),
        "roofline_block": best_block,
        "roofline_by_block": {str(b): round(r) for b, r in roof_best.items()},
        "ratio": round(predict_best / roof_best[best_block], 3),
        "torch_threads": torch.get_num_threads(),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def report(result: dict[str, Any]) -> str:
    """THROUGHPUT.md: the figures and how they were measured."""
    rows = "\n".join(f"| {b} | {r:,} |" for b, r in result["roofline_by_block"].items())
    return f"""# Labelling throughput

`python -m benchmarks.throughput` (commit {str(commit_of(result))[:10]}{
        ' + local changes' if (result.get('git') or {}).get('dirty') else ''}), on {
        describe_machine(result['machine'])}, {result['torch_threads']} torch threads.

A default `NeuNcut(n_clusters={result['n_clusters']})` (hidden layers {
        tuple(result['hidden_layer_sizes'])}) fitted on {result['fit_size']:,} points
({result['fit_s']} s) labels {result['n_points']:,} points of {result['n_features']}
dimensions (float32, in memory), best of {result['repeats']} alternating repeats:

| | rows per second |
| --- | --- |
| `model.predict(X)` | {result['predict_rows_per_s']:,} |
| roofline: the same network's `addmm` + ReLU alone, best block size ({
        result['roofline_block']} rows) | {result['roofline_rows_per_s']:,} |
| **ratio** | **{result['ratio']}** |

All predict repeats: {', '.join(f'{r:,}' for r in result['predict_rows_per_s_all'])} rows/s.
Peak resident memory of the whole run (data included): {result['peak_rss_gb']} GiB.

Roofline by block size (rows per `addmm` pass):

| block | rows per second |
| --- | --- |
{rows}

`predict` validates every block (dtype, feature count, finiteness), folds the input
standardization into the first layer (`neuncut._network.folded_layers`), runs fused
`addmm` + in-place ReLU in blocks of 4 096 rows and takes the argmax.
"""


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``folder/THROUGHPUT.md`` from the latest record of ``folder/throughput.jsonl``."""
    (result,) = latest(read_records(folder / "throughput.jsonl"), "throughput").values()
    (folder / "THROUGHPUT.md").write_text(report(result))


def run_one(n_points: int, seed: int, repeats: int, quick: bool) -> dict[str, Any]:
    """:func:`measure` at the defaults (a worker's call); ``quick``: 2 000 points fitted by a
    tiny network with no warm start to pay for, one thread."""
    torch.set_num_threads(1 if quick else os.cpu_count() or 1)
    fit_params: dict[str, Any] = ({"max_epochs": 1, "init": "random", "penalty": 10.0}
                                  if quick else {})
    return measure(n_points, 500, 10, 2_000 if quick else 20_000, repeats, seed, fit_params)


STUDY = Study(
    name="throughput", module="benchmarks.throughput",
    question="How near does predict come to its network's bare matrix products?",
    call="benchmarks.throughput:run_one",
    axes=(Axis("n_points", (1_000_000,), flag="--n-points", type=int),
          Axis("seed", (0,), type=int)),
    params=(Param("repeats", 3, "alternating repeats of predict and the roofline"),),
    records="throughput.jsonl", report="benchmarks.throughput:write_page",
    page="THROUGHPUT.md", timeout=None, threads=None, quick={"n_points": (20_000,)},
    show=lambda r: (f"predict {r['predict_rows_per_s']:,} rows/s, roofline "
                    f"{r['roofline_rows_per_s']:,} rows/s (block {r['roofline_block']}), "
                    f"ratio {r['ratio']}"))

if __name__ == "__main__":
    sys.exit(main(STUDY))
