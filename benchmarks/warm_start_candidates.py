"""Warm-start candidates and the rules that choose between them, on labelled sets.

``python -m benchmarks.warm_start_candidates [--sets suite|held-out] [--seeds 0 1 2]`` computes,
for each set and seed, the warm start's candidate partitions of the whole set (no network):

- ``S``: spectral clustering of the self-tuning kNN union (the default spectral candidate),
- ``M``: spectral clustering of the mutual kNN graph plus a minimum spanning tree
  (:func:`neuncut.affinity.mutual_knn_mst_graph`; measured, not the default),
- ``E0``, ``E1``, ``E2``: three draws of the embedding candidate (today the likeliest
  Gaussian mixture of the neighbour embedding; k-means on it in the committed results,
  which predate the mixtures),

with 10 neighbours, and each one's normalized cut on the kNN union (``A``) and on the
mutual-kNN + tree graph (``G``). Labels are read only to score each candidate (NCA); a rule
picks the lowest cut among some candidates on one graph, and the report gives each rule's mean
NCA over sets. Results go to ``benchmarks/results/warm_start_candidates.jsonl`` (one record per
set and seed; a run replaces the file), the report to stdout.

The held-out sets are shapes drawn with other seeds and sizes than the suite's, and kinds the
suite does not have (blobs in uniform noise, circles with an outlier group, blobs of unequal
spread in 3-D): a check of a rule chosen on the suite.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from benchmarks.harness.records import RESULTS_DIR, RecordWriter, latest, read_records

RESULTS = RESULTS_DIR / "warm_start_candidates.jsonl"
N_NEIGHBORS = 10
EMBEDDING_DRAWS = 3

#: name -> (criterion graph, candidates, margin): the lowest cut on that graph wins, every
#: embedding draw's cut multiplied by 1 - margin (the default's preference for the embedding).
RULES = {
    "A {S, E0} (the default until 2a978f9)": ("A", ["S", "E0"], 0.0),
    "A {M, E0}": ("A", ["M", "E0"], 0.0),
    "default: A {M, E0}, margin 3 %": ("A", ["M", "E0"], 0.03),
    "A {M, E0}, margin 1 %": ("A", ["M", "E0"], 0.01),
    "A {M, E0}, margin 5 %": ("A", ["M", "E0"], 0.05),
    "A {S, E0, M}": ("A", ["S", "E0", "M"], 0.0),
    "A {S, E0-2}": ("A", ["S", "E0", "E1", "E2"], 0.0),
    "A {M, E0-2}": ("A", ["M", "E0", "E1", "E2"], 0.0),
    "A {M, E0-2}, margin 3 %": ("A", ["M", "E0", "E1", "E2"], 0.03),
    "A {S, M, E0-2}": ("A", ["S", "M", "E0", "E1", "E2"], 0.0),
    "G {M, E0}": ("G", ["M", "E0"], 0.0),
    "G {S, E0, M}": ("G", ["S", "E0", "M"], 0.0),
    "G {M, E0-2}": ("G", ["M", "E0", "E1", "E2"], 0.0),
    "S alone": ("A", ["S"], 0.0),
    "M alone": ("A", ["M"], 0.0),
    "E0 alone": ("A", ["E0"], 0.0),
}
BASELINE = "A {S, E0} (the default until 2a978f9)"


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


def load(family: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    if family == "suite":
        from benchmarks.suite_data import load_set

        X, y = load_set(name)
    else:
        X, y = held_out_sets()[name]
    return np.asarray(X, dtype=np.float32), np.asarray(y)


def run(task: tuple[str, str, int]) -> dict:
    """Every candidate of one (set, seed), with its NCA and its cuts on A and G."""
    import torch
    from threadpoolctl import threadpool_limits

    from benchmarks.suite_scores import normalized_clustering_accuracy
    from neuncut._warm_start._candidates import embedding_labels
    from neuncut._warm_start._spectral import spectral_partition
    from neuncut.affinity import knn_search, mutual_knn_mst_graph, self_tuning_knn_graph
    from neuncut.loss import normalized_cut

    # One thread for BLAS and torch in every worker: thread counts change the eigensolver's
    # and k-means' last bits, and from there the draws (a run with the parent's BLAS threads
    # differed on 13 of 92 (set, seed) cells).
    threadpool_limits(1)
    torch.set_num_threads(1)
    family, name, seed = task
    X, y = load(family, name)
    k = len(set(y[y >= 0].tolist()))
    scored = y >= 0
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    neighbors = knn_search(X, N_NEIGHBORS)
    graphs = {"A": self_tuning_knn_graph(X, N_NEIGHBORS, neighbors=neighbors),
              "G": mutual_knn_mst_graph(X, N_NEIGHBORS, neighbors=neighbors)}
    found = {"S": spectral_partition(graphs["A"], k, rng, X=X),
             "M": spectral_partition(graphs["G"], k, rng, X=X)}
    for draw in range(EMBEDDING_DRAWS):
        found[f"E{draw}"] = embedding_labels(X, k, N_NEIGHBORS, rng, neighbors=neighbors)
    out = {"family": family, "set": name, "seed": seed, "n": len(X), "k": k,
           "seconds": round(time.perf_counter() - t0, 2)}
    for key, labels in found.items():
        out[key] = {"nca": normalized_clustering_accuracy(y[scored], labels[scored]),
                    **{f"ncut_{g}": normalized_cut(W, labels, k) for g, W in graphs.items()}}
    return out


def report(rows: list[dict]) -> str:
    """Each rule's mean NCA over sets (mean over seeds first), per family of sets."""
    lines = []
    for family in sorted({r["family"] for r in rows}):
        per = defaultdict(lambda: defaultdict(list))
        for r in (r for r in rows if r["family"] == family):
            for rule, (graph, cands, margin) in RULES.items():
                best = min(cands, key=lambda c: r[c][f"ncut_{graph}"]
                           * (1.0 - margin if c.startswith("E") else 1.0))
                per[rule][r["set"]].append(r[best]["nca"])
        sets = sorted(per[BASELINE])
        before = {s: np.mean(per[BASELINE][s]) for s in sets}
        lines += [f"\n{family}: {len(sets)} sets", "",
                  "| rule | mean NCA | median seed std | sets better / worse than the old default "
                  "(> 0.01) |",
                  "|---|---|---|---|"]
        for rule in RULES:
            mean = {s: np.mean(per[rule][s]) for s in sets}
            std = np.median([np.std(per[rule][s]) for s in sets])
            better = sum(mean[s] > before[s] + 0.01 for s in sets)
            worse = sum(mean[s] < before[s] - 0.01 for s in sets)
            lines.append(f"| {rule} | {np.mean(list(mean.values())):.4f} | {std:.3f} | "
                         f"{better} / {worse} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.warm_start_candidates",
                                description=__doc__.split("\n")[0])
    p.add_argument("--sets", nargs="+", choices=["suite", "held-out"],
                   default=["suite", "held-out"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--report", action="store_true", help="only report the results file")
    args = p.parse_args(argv)
    if not args.report:
        from benchmarks.suite_data import SETS

        names = {"suite": list(SETS), "held-out": list(held_out_sets())}
        tasks = [(f, n, s) for f in args.sets for s in args.seeds for n in names[f]]
        args.results.unlink(missing_ok=True)
        records = RecordWriter(args.results)
        with Pool(args.workers) as pool:
            for out in pool.imap_unordered(run, tasks):
                records.write(out)
    rows = list(latest(read_records(args.results), "warm_start_candidates").values())
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
