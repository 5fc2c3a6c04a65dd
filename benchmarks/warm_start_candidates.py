"""The warm start's candidates and the rules that choose between them, on labelled sets.

    python -m benchmarks.warm_start_candidates                # suite + held-out, seeds 0-2
    python -m benchmarks.warm_start_candidates --sets held-out --seeds 0
    python -m benchmarks.warm_start_candidates --report       # results/WARM_START.md

For each set and seed the library's own candidates are computed on the whole set, exactly as
``init="auto"`` computes them (:func:`neuncut._warm_start._candidates.candidate_partitions`,
10 neighbours, ``default_rng(seed)``; no network): spectral clustering of the mutual kNN +
tree graph, Genie's merges of the kNN tree and the likeliest mixture of a neighbour
embedding. Of each the record holds the NCA (labels read only here, to score), its normalized
cut on the self-tuning kNN graph (``cut``, the arbitration's criterion) and the cut of the
same graph restricted to its densest 80 % of points (``core_cut``: the 80 % with the smallest
distance to their 10th neighbour; a cluster with no point there counts 1), a criterion
measured against it.

A rule picks one candidate per run from its cuts; the page gives each rule's mean NCA per
family: the default (lowest cut, the embedding's weighted 0.97, decision D10) and its margin,
each candidate alone, the lowest core cut, and the best candidate of each run, which needs
the labels (what a perfect label-free rule could reach with these candidates). It lists the
runs where the default's choice is more than 0.05 below that best.

Each set runs its seeds in a fresh worker process of the harness, one thread. Records:
``benchmarks/results/warm_start_candidates.jsonl``; page ``WARM_START.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.environment import git_state, machine_info, recorded_command
from benchmarks.harness.process import run_call, thread_env
from benchmarks.harness.records import RESULTS_DIR, RecordWriter, latest, read_records

RESULTS = RESULTS_DIR / "warm_start_candidates.jsonl"
PAGE = RESULTS_DIR / "WARM_START.md"
N_NEIGHBORS = 10
CORE = 0.8
#: Sets above this many points are left out (the layout of 10 000 points takes minutes).
MAX_POINTS = 5000
#: The default's weight on the embedding's cut (decision D10), and margins measured beside it.
MARGINS = (0.0, 0.01, 0.03, 0.05, 0.10)
DEFAULT_MARGIN = 0.03
CANDIDATES = ("spectral", "genie", "embedding")


def _load(family: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of a suite or held-out set; label -1 is not scored."""
    if family == "held-out":
        from benchmarks.held_out import held_out_sets

        X, y = held_out_sets()[name]
    else:
        from benchmarks.suite_data import load_set

        X, y = load_set(name)
    X = np.asarray(X, dtype=np.float32)
    return (X[:, None] if X.ndim == 1 else X), np.asarray(y)


def _core_cut(W: Any, labels: np.ndarray, k: int) -> float:
    """:func:`neuncut.loss.normalized_cut` of ``labels`` on W, plus 1 for each cluster with no
    volume in W (a candidate that spends a cluster outside the core is charged for it)."""
    from neuncut.loss import normalized_cut

    degree = np.asarray(W.sum(axis=1)).ravel()
    return normalized_cut(W, labels, k) + k - np.unique(labels[degree > 0]).size


def candidates_of(family: str, name: str, seeds: list[int]) -> dict[str, Any]:
    """Every candidate of the set for each seed, with its NCA and cuts (a worker's call)."""
    import scipy.sparse as sp
    import torch

    from benchmarks.suite_scores import normalized_clustering_accuracy
    from neuncut._warm_start._candidates import candidate_partitions, lowest_cut
    from neuncut.affinity import knn_search, self_tuning_knn_graph

    torch.set_num_threads(1)
    X, y = _load(family, name)
    if len(X) > MAX_POINTS:
        return {"runs": [], "skipped": f"{len(X)} points"}
    scored = y >= 0
    k = len(set(y[scored].tolist()))
    neighbors = knn_search(X, N_NEIGHBORS)
    W = sp.csr_matrix(self_tuning_knn_graph(X, N_NEIGHBORS, neighbors=neighbors))
    reach = np.asarray(neighbors[0])[:, -1]
    core = reach <= np.quantile(reach, CORE)
    runs = []
    for seed in seeds:
        t0 = time.perf_counter()
        found, ncuts = candidate_partitions(X, k, N_NEIGHBORS, np.random.default_rng(seed))
        run = {"family": family, "set": name, "seed": seed, "n": len(X), "k": k,
               "seconds": round(time.perf_counter() - t0, 2), "chosen": lowest_cut(ncuts)}
        for c, labels in found.items():
            run[c] = {"nca": normalized_clustering_accuracy(y[scored], labels[scored]),
                      "cut": ncuts[c], "core_cut": _core_cut(W[core][:, core], labels[core], k)}
        runs.append(run)
    return {"runs": runs}


def _pick(run: dict[str, Any], criterion: str, margin: float) -> str:
    """The candidate of lowest ``criterion``, the embedding's weighted ``1 - margin``."""
    present = [c for c in CANDIDATES if c in run]
    return min(present, key=lambda c: run[c][criterion]
               * (1.0 - margin if c == "embedding" else 1.0))


def rules() -> dict[str, Any]:
    """Rule name -> function of a run giving the NCA of the candidate it picks."""
    out: dict[str, Any] = {}
    for margin in MARGINS:
        tag = " (the default, D10)" if margin == DEFAULT_MARGIN else ""
        out[f"lowest cut, margin {margin * 100:.0f} %{tag}"] = (
            lambda r, m=margin: r[_pick(r, "cut", m)]["nca"])
    out[f"lowest cut on the densest {CORE * 100:.0f} %, margin 3 %"] = (
        lambda r: r[_pick(r, "core_cut", DEFAULT_MARGIN)]["nca"])
    for c in CANDIDATES:  # a candidate that was not computed: the one the default chose
        out[f"{c} alone"] = lambda r, c=c: r[c if c in r else r["chosen"]]["nca"]
    out["best candidate of each run (needs labels)"] = (
        lambda r: max(r[c]["nca"] for c in CANDIDATES if c in r))
    return out


def _family(run: dict[str, Any]) -> str:
    """The suite family of a run's set, or ``held-out``."""
    if run["family"] == "held-out":
        return "held-out"
    from benchmarks.suite_data import SETS

    return SETS[run["set"]].family


def report(runs: list[dict[str, Any]], context: dict[str, Any]) -> str:
    """The page: each rule's mean NCA per family and overall, and the default's losses."""
    families = sorted({_family(r) for r in runs})
    head = "| rule | " + " | ".join(f.replace("hard/", "") for f in families) + " | all |"
    lines = [head, "|---" * (len(families) + 2) + "|"]
    for rule, score in rules().items():
        per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for r in runs:
            per[_family(r)][r["set"]].append(score(r))
        means = [np.mean([np.mean(v) for v in per[f].values()]) for f in families]
        overall = np.mean([np.mean(v) for f in families for v in per[f].values()])
        lines.append(f"| {rule} | " + " | ".join(f"{m:.3f}" for m in means)
                     + f" | **{overall:.3f}** |")
    losses = []
    for r in sorted(runs, key=lambda r: (_family(r), r["set"], r["seed"])):
        best = max(CANDIDATES, key=lambda c: r[c]["nca"] if c in r else -np.inf)
        if r[best]["nca"] > r[r["chosen"]]["nca"] + 0.05:
            cuts = ", ".join(f"{c} {r[c]['nca']:.2f} / {r[c]['cut']:.4f} / {r[c]['core_cut']:.4f}"
                             for c in CANDIDATES if c in r)
            losses.append(f"| {r['set']} | {r['seed']} | {r['chosen']} | {cuts} |")
    git = context.get("git", {})
    sets = len({(r["family"], r["set"]) for r in runs})
    seeds = sorted({r["seed"] for r in runs})
    return f"""# Warm-start candidates and the rules that choose between them

Generated by `python -m benchmarks.warm_start_candidates --report` from
`benchmarks/results/warm_start_candidates.jsonl`; do not edit. Last run: `{context.get(
'command', '?')}` at commit {str(git.get('commit', '?'))[:10]}.

The library's three candidates (no network) on {sets} sets (the suite's up to {MAX_POINTS}
points and the held-out shapes), seeds {', '.join(map(str, seeds))}; see the module docstring
of `benchmarks/warm_start_candidates.py`. Mean NCA of the candidate each rule picks (mean over
seeds, then over the sets of a family):

{chr(10).join(lines)}

**Runs where the default's choice is more than 0.05 below the best candidate** ({len(losses)}
of {len(runs)}); per candidate NCA / cut / cut on the densest {CORE * 100:.0f} %:

| set | seed | chosen | candidates |
|---|---|---|---|
{chr(10).join(losses)}
"""


def write_page(path: Path = RESULTS) -> None:
    """``WARM_START.md`` from the records."""
    records = read_records(path)
    runs = list(latest(records, "warm_start_candidates").values())
    PAGE.write_text(report(runs, records[-1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.warm_start_candidates",
                                description=__doc__.split("\n")[0])
    p.add_argument("--sets", nargs="+", choices=["suite", "held-out"],
                   default=["suite", "held-out"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per set")
    p.add_argument("--report", action="store_true", help="only write the page")
    args = p.parse_args(argv)
    if not args.report:
        from benchmarks.held_out import held_out_sets
        from benchmarks.suite_data import SETS

        names = {"suite": list(SETS), "held-out": list(held_out_sets())}
        argv_used = sys.argv[1:] if argv is None else argv
        context = {"command": recorded_command("benchmarks.warm_start_candidates", argv_used),
                   "git": git_state(), "machine": machine_info()}
        records = RecordWriter(RESULTS)
        for family in args.sets:
            for name in names[family]:
                answer = run_call("benchmarks.warm_start_candidates:candidates_of",
                                  {"family": family, "name": name, "seeds": args.seeds},
                                  timeout=args.timeout, env=thread_env(1))
                if answer["status"] != "ok" or answer.get("skipped"):
                    why = answer.get("skipped") or f"FAILED {answer['error'][:300]}"
                    print(f"{name}: {why}", flush=True)
                    continue
                for run in answer["runs"]:
                    records.write({**run, **context})
                print(f"{name}: " + ", ".join(f"{r['chosen']} {r[r['chosen']]['nca']:.3f}"
                                              for r in answer["runs"]), flush=True)
    write_page()
    return 0


if __name__ == "__main__":
    sys.exit(main())
