"""The warm start's candidates and the rules that choose between them, on labelled sets.

    python -m benchmarks.warm_start_candidates                # suite + held-out, seeds 0-2
    python -m benchmarks.warm_start_candidates --sets held-out --seeds 0   # a group, a seed
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

The record also holds the library's choice (``chosen``:
:func:`neuncut._warm_start._candidates.choose_candidate`, the lowest cut with the embedding's
weighted 0.97, decision D10, then corrected for Genie's by stability across subsamples,
decision D25; ``choice_seconds`` is what the correction took) and the lowest cut's alone
(``cut_choice``). A rule picks one candidate per run; the page gives each rule's mean NCA per
family: the default, the lowest cut at several margins, each candidate alone, the lowest core
cut, and the best candidate of each run, which needs the labels (what a perfect label-free
rule could reach with these candidates). It lists the runs where the default's choice is
more than 0.05 below that best.

Each (set, seed) runs in a fresh worker process of the harness, one thread; a set above
5 000 points is left out (its run fails, saying so). Records:
``benchmarks/results/warm_start_candidates.jsonl``; page ``WARM_START.md``.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.records import RESULTS_DIR, latest, read_records
from benchmarks.harness.study import Axis, Study, main
from benchmarks.held_out import STUDY as HELD_OUT
from benchmarks.suite_data import SETS

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


def candidates_of(family: str, set: str, seed: int, quick: bool) -> dict[str, Any]:
    """Every candidate of the set for the seed, with its NCA and cuts (a worker's call)."""
    import scipy.sparse as sp
    import torch

    from benchmarks.suite_scores import normalized_clustering_accuracy
    from neuncut._warm_start._candidates import (
        candidate_partitions,
        choose_candidate,
        lowest_cut,
    )
    from neuncut.affinity import knn_search, self_tuning_knn_graph

    torch.set_num_threads(1)
    X, y = _load(family, set)
    if len(X) > MAX_POINTS:
        raise ValueError(f"left out: {len(X)} points, above {MAX_POINTS}")
    scored = y >= 0
    k = len(np.unique(y[scored]))
    neighbors = knn_search(X, N_NEIGHBORS)
    W = sp.csr_matrix(self_tuning_knn_graph(X, N_NEIGHBORS, neighbors=neighbors))
    reach = np.asarray(neighbors[0])[:, -1]
    core = reach <= np.quantile(reach, CORE)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    found, ncuts = candidate_partitions(X, k, N_NEIGHBORS, rng)
    seconds = time.perf_counter() - t0
    chosen = choose_candidate(X, k, N_NEIGHBORS, found, ncuts, rng)
    run = {"n": len(X), "k": k, "seconds": round(seconds, 2),
           "choice_seconds": round(time.perf_counter() - t0 - seconds, 2),
           "chosen": chosen, "cut_choice": lowest_cut(ncuts)}
    for c, labels in found.items():
        run[c] = {"nca": normalized_clustering_accuracy(y[scored], labels[scored]),
                  "cut": ncuts[c], "core_cut": _core_cut(W[core][:, core], labels[core], k)}
    return run


def _pick(run: dict[str, Any], criterion: str, margin: float) -> str:
    """The candidate of lowest ``criterion``, the embedding's weighted ``1 - margin``."""
    present = [c for c in CANDIDATES if c in run]
    return min(present, key=lambda c: run[c][criterion]
               * (1.0 - margin if c == "embedding" else 1.0))


def rules() -> dict[str, Any]:
    """Rule name -> function of a run giving the NCA of the candidate it picks."""
    out: dict[str, Any] = {}
    out["the default: lowest cut, margin 3 %, then stability (D10, D25)"] = (
        lambda r: r[r["chosen"]]["nca"])
    for margin in MARGINS:
        tag = " (D10 alone)" if margin == DEFAULT_MARGIN else ""
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


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``folder/WARM_START.md`` from ``folder/warm_start_candidates.jsonl``."""
    records = read_records(folder / RESULTS.name)
    runs = [r for r in latest(records, "warm_start_candidates").values()
            if r.get("status", "ok") == "ok"]
    (folder / PAGE.name).write_text(report(runs, records[-1]))


#: The set groups: ``--sets suite`` or ``held-out`` stands for all of that group's sets.
GROUPS = {"suite": tuple(SETS), "held-out": HELD_OUT.axes[0].values}

STUDY = Study(
    name="warm_start_candidates", module="benchmarks.warm_start_candidates",
    question="Which rule between the warm start's candidates scores best, and how far is the "
             "default's choice from each run's best candidate?",
    call="benchmarks.warm_start_candidates:candidates_of",
    axes=(Axis("set", (*GROUPS["suite"], *GROUPS["held-out"]),
               "set names, or the groups suite and held-out",
               expand=lambda tokens: [s for t in tokens for s in GROUPS.get(t, (t,))]),
          Axis("seed", (0, 1, 2), type=int)),
    derive=lambda r: {"family": "held-out" if r["set"] in GROUPS["held-out"] else "suite"},
    records=RESULTS.name, report="benchmarks.warm_start_candidates:write_page",
    page=PAGE.name, timeout=1800.0, quick={"set": ("iris",), "seed": (0,)},
    show=lambda r: f"{r['chosen']} {r[r['chosen']]['nca']:.3f}")

if __name__ == "__main__":
    sys.exit(main(STUDY))
