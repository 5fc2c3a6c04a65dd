"""How well is the number of clusters chosen without labels? ``n_clusters="auto"`` and its peers.

    python -m benchmarks.n_clusters               # suite and null sets, seeds 0-2; page
    python -m benchmarks.n_clusters --report      # results/N_CLUSTERS.md from the records
    python -m benchmarks.run --methods neuncut --protocols A B --datasets mnist \
        --variant n_clusters=auto --results benchmarks/results/n_clusters_mnist.jsonl

Methods, each choosing k itself (at most 20): ``neuncut-auto`` (``NeuNcut(n_clusters="auto")``,
every other parameter at its default), ``hdbscan`` (scikit-learn's, its defaults),
``eigengap-spectral`` (the eigengap heuristic, then kNN spectral clustering) and
``silhouette-kmeans`` (the k-means of the best silhouette): :mod:`benchmarks.choose_k_peers`.

* The development suite's sets (:mod:`benchmarks.suite_data`), a fresh process per run as
  in the suite (:func:`benchmarks.suite_worker.fit_one`): ``results/n_clusters.jsonl``.
* Sets without cluster structure, where the right answer is one cluster (a Gaussian blob in
  2-D and 10-D, a uniform square): ``results/n_clusters_null.jsonl``.
* MNIST with protocols A and B and Fashion-MNIST with B (20 000 training rows of 70 000),
  ``NeuNcut(n_clusters="auto")``, run by the grid (:mod:`benchmarks.run`, the command
  above; ``--datasets fashion-mnist --protocols B`` for Fashion):
  ``results/n_clusters_mnist.jsonl``.

Labels are read only to score: the true k, NCA / ARI of the labels found. The report takes
the latest run of each key (``n_clusters`` of :data:`benchmarks.harness.records.KEYS`; MNIST:
``run``).
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.environment import commit_of
from benchmarks.harness.records import RESULTS_DIR, latest, read_records
from benchmarks.harness.study import Axis, Study, main
from benchmarks.suite import select_sets
from benchmarks.suite_data import SETS
from benchmarks.suite_worker import make_estimator

RESULTS = RESULTS_DIR / "n_clusters.jsonl"
NULL_RESULTS = RESULTS_DIR / "n_clusters_null.jsonl"
MNIST_RESULTS = RESULTS_DIR / "n_clusters_mnist.jsonl"
REPORT = RESULTS_DIR / "N_CLUSTERS.md"
METHODS = ("neuncut-auto", "hdbscan", "eigengap-spectral", "silhouette-kmeans")
WARNING = "NoClearStructureWarning"
SEEDS = (0, 1, 2)
NULL_SETS = ("gaussian-2d-1000", "gaussian-10d-2000", "uniform-2d-1000")


def null_sets() -> dict[str, np.ndarray]:
    """Data with no cluster structure: the answer is one cluster."""
    rng = np.random.default_rng(0)
    return {"gaussian-2d-1000": rng.normal(size=(1000, 2)),
            "gaussian-10d-2000": rng.normal(size=(2000, 10)),
            "uniform-2d-1000": rng.uniform(size=(1000, 2))}


def fit_one(dataset: str, seed: int, method: str, quick: bool, family: str,
            data: str) -> dict[str, Any]:
    """One run (a worker's call): on a suite set as the suite makes it; on a set without
    structure, the number of clusters found and the warnings."""
    if family != "null":
        from benchmarks.suite_worker import fit_one as suite_fit

        return suite_fit(dataset, seed, method, quick, family, None, data)
    import torch

    torch.set_num_threads(1)
    model = make_estimator(method, 1, seed, {})
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = np.asarray(model.fit_predict(null_sets()[dataset].astype(np.float32)))
    found = len(np.unique(labels[labels >= 0])) + bool((labels < 0).any())
    return {"n_clusters_found": int(found), "fit_s": time.perf_counter() - t0,
            "warnings": sorted({w.category.__name__ for w in caught})}


# ------------------------------------------------------------------------------------ report
def _ks(values: list[int]) -> str:
    """``3`` when every seed agrees, else ``3/3/4``."""
    return str(values[0]) if len(set(values)) == 1 else "/".join(map(str, values))


def _warned(record: dict[str, Any]) -> bool:
    """Whether the run gave a NoClearStructureWarning."""
    return any(str(w).startswith(WARNING) for w in record.get("warnings", []))


def suite_section(records: list[dict[str, Any]]) -> list[str]:
    runs = {key: r for key, r in latest(records, "n_clusters").items() if r.get("status") == "ok"}
    methods = [m for m in METHODS if any(key[0] == m for key in runs)]
    by_set: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for (method, dataset, _seed), r in sorted(runs.items(), key=lambda kv: kv[0][2]):
        by_set[dataset][method].append(r)
    sets = [s for s in SETS if s in by_set]
    lines = ["## Development suite", "",
             f"{len(sets)} sets; per method the chosen k (per seed where seeds differ; (w): a "
             "`NoClearStructureWarning` was given) and the mean NCA / ARI of its labels. `k` is "
             "the reference number of classes. Peers that are deterministic or nearly so ran "
             "seed 0 only.", ""]
    head = "| set | k | " + " | ".join(f"{m} k | NCA | ARI" for m in methods) + " |"
    lines += [head, "|" + " --- |" * (2 + 3 * len(methods))]
    totals: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in methods}
    for s in sets:
        k = next(iter(by_set[s].values()))[0]["k"]
        cells = [s, str(k)]
        for m in methods:
            rs = by_set[s].get(m, [])
            if not rs:
                cells += ["-", "-", "-"]
                continue
            found = [int(r["n_clusters_found"]) for r in rs]
            nca, ari = statistics.mean(r["nca"] for r in rs), statistics.mean(r["ari"] for r in rs)
            mark = " (w)" if any(map(_warned, rs)) else ""
            cells += [_ks(found) + mark, f"{nca:.3f}", f"{ari:.3f}"]
            totals[m]["warned"].append(float(any(map(_warned, rs))))
            t = totals[m]
            t["exact"].append(statistics.mean(f == k for f in found))
            t["within1"].append(statistics.mean(abs(f - k) <= 1 for f in found))
            t["nca"].append(nca)
            t["ari"].append(ari)
            t["fit_s"].append(statistics.mean(r["fit_s"] for r in rs))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "### Summary", "",
              "| method | sets | k exact | k within 1 | mean NCA | mean ARI | mean fit s | "
              "sets warned |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m in methods:
        t = totals[m]
        n = len(t["nca"])
        exact, within1 = sum(t["exact"]), sum(t["within1"])
        lines.append(f"| {m} | {n} | {exact:.1f} ({100 * exact / n:.0f} %)"
                     f" | {within1:.1f} ({100 * within1 / n:.0f} %)"
                     f" | {statistics.mean(t['nca']):.3f} | {statistics.mean(t['ari']):.3f}"
                     f" | {statistics.mean(t['fit_s']):.2f} | {int(sum(t['warned']))} |")
    lines += ["", "k exact / within 1: sets, each counted by the fraction of its seeds that got "
              "it (so 0.7 is a set right on 2 of 3 seeds)."]
    return lines


def null_section(records: list[dict[str, Any]]) -> list[str]:
    if not records:
        return []
    runs = latest(records, "n_clusters")
    names = list(dict.fromkeys(r["dataset"] for r in records))
    methods = [m for m in METHODS if any(key[0] == m for key in runs)]
    lines = ["## No cluster structure", "",
             "The right answer is 1 cluster, or a warning. Per method the number of clusters "
             "found per seed (HDBSCAN's noise counted as one more; (w): a "
             "`NoClearStructureWarning` was given).", "",
             "| set | " + " | ".join(methods) + " |", "|" + " --- |" * (1 + len(methods))]
    for name in names:
        cells = []
        for method in methods:
            rs = [r for (m, d, _), r in sorted(runs.items()) if m == method and d == name]
            mark = " (w)" if any(map(_warned, rs)) else ""
            cells.append(_ks([r["n_clusters_found"] for r in rs]) + mark)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def mnist_section(records: list[dict[str, Any]]) -> list[str]:
    ok = [r for r in latest(records, "run").values()
          if r.get("status", "ok") == "ok" and "metrics" in r]
    if not ok:
        return []
    lines = ["## MNIST and Fashion-MNIST (70 000 rows, 20 000 trained)", "",
             "| protocol | data set | seed | k chosen | ACC | NMI | ARI | fit s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in sorted(ok, key=lambda r: (r["protocol"], r["dataset"], r["seed"])):
        m = r["metrics"]["all"]
        lines.append(f"| {r['protocol']} | {r['dataset']} | {r['seed']} | "
                     f"{r['extra'].get('n_clusters_', r['n_clusters_found'])} | {m['acc']:.3f} | "
                     f"{m['nmi']:.3f} | {m['ari']:.3f} | {r['fit_s']:.0f} |")
    return lines


def render(folder: Path = RESULTS_DIR) -> str:
    records = read_records(folder / RESULTS.name)
    commits = sorted({(commit_of(r) or "?")[:7] for r in records})
    lines = ["# Choosing the number of clusters without labels", "",
             "Generated by `python -m benchmarks.n_clusters --report` from "
             "`benchmarks/results/n_clusters.jsonl`, `n_clusters_null.jsonl` and "
             f"`n_clusters_mnist.jsonl` (commits {', '.join(commits)}). Methods and protocol: "
             "the docstring of `benchmarks/n_clusters.py`.", ""]
    lines += suite_section(records) + [""]
    lines += null_section(read_records(folder / NULL_RESULTS.name)) + [""]
    lines += mnist_section(read_records(folder / MNIST_RESULTS.name))
    return "\n".join(lines).rstrip() + "\n"


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``folder/N_CLUSTERS.md`` from the three record files in ``folder``."""
    (folder / REPORT.name).write_text(render(folder))


def _sets(tokens: list[str]) -> list[str]:
    """Suite set names or families (:func:`benchmarks.suite.select_sets`) and null sets."""
    return [t for t in tokens if t in NULL_SETS] + select_sets(
        [t for t in tokens if t not in NULL_SETS])


STUDY = Study(
    name="n_clusters", module="benchmarks.n_clusters",
    question="How well does n_clusters='auto' find k, against HDBSCAN, the eigengap and the "
             "best silhouette of k-means?",
    call="benchmarks.n_clusters:fit_one",
    axes=(Axis("dataset", (*SETS, *NULL_SETS), "suite sets or families, or null sets",
               expand=_sets),
          Axis("seed", SEEDS, type=int), Axis("method", METHODS)),
    records=RESULTS.name, more_records=(NULL_RESULTS.name, MNIST_RESULTS.name),
    route=lambda r: NULL_RESULTS.name if r["family"] == "null" else RESULTS.name,
    derive=lambda r: {"family": SETS[r["dataset"]].family if r["dataset"] in SETS else "null"},
    prepare="benchmarks.suite_data:prepare_runs", report="benchmarks.n_clusters:write_page",
    page=REPORT.name, quick={"dataset": ("iris", "gaussian-2d-1000"), "seed": (0,)},
    show=lambda r: f"k {r['n_clusters_found']}")

if __name__ == "__main__":
    sys.exit(main(STUDY))
