"""``benchmarks/results/SUITE.md`` from the records: ``python -m benchmarks.suite --report``.

Per (method, set, seed) the newest line counts (the key ``suite`` of
:data:`benchmarks.harness.records.KEYS`); quick lines are left out when full ones exist.
A failed run (error or timeout) counts as NCA, ARI and NMI 0 in every mean and is flagged.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness.environment import REPO_ROOT, describe_machine
from benchmarks.harness.peers import DESCRIPTIONS, PEERS
from benchmarks.harness.records import latest
from benchmarks.harness.records import read_records as read_runs
from benchmarks.suite_data import SETS
from benchmarks.suite_worker import ABLATIONS, METHODS

#: A mean-NCA difference above this is a win or a loss, not a tie.
TIE = 0.01
#: neuncut is flagged where it is this far below sklearn-spectral / Genie.
GAP_SPECTRAL, GAP_GENIE = 0.05, 0.10
#: A seed range of neuncut's NCA on one set above this is flagged (issue: a user runs one seed).
SEED_RANGE = 0.10


def read_records(path: Path) -> list[dict[str, Any]]:
    """The newest line per (method, set, seed, quick); quick lines only if there is no other."""
    records = list(latest(read_runs(path), "suite").values())
    full = [r for r in records if not r["quick"]]
    return full or records


@dataclass
class Cell:
    """The runs of one method on one set: scores per seed (a failure scores 0)."""

    nca: list[float] = field(default_factory=list)
    ari: list[float] = field(default_factory=list)
    nmi: list[float] = field(default_factory=list)
    fit_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: Counter = field(default_factory=Counter)

    def add(self, r: dict[str, Any]) -> None:
        """Add one record."""
        ok = r["status"] == "ok"
        for name in ("nca", "ari", "nmi"):
            getattr(self, name).append(r[name] if ok else 0.0)
        self.wall_s.append(r.get("wall_s") or 0.0)
        if ok:
            self.fit_s.append(r["fit_s"])
        else:
            self.failures.append(str(r["error"]))
        if ok and r.get("init_ncut_"):
            ncut = r["init_ncut_"]
            self.notes["init " + min(ncut, key=ncut.__getitem__)] += 1
        if ok and r["method"] == "hdbscan":
            self.notes[f"{r['n_clusters_found']} clusters"] += 1

    @property
    def mean(self) -> float:
        return statistics.mean(self.nca)

    @property
    def std(self) -> float:
        return statistics.stdev(self.nca) if len(self.nca) > 1 else 0.0


def build_cells(records: list[dict[str, Any]]) -> dict[tuple[str, str], Cell]:
    """``(set, method) -> Cell`` over every record."""
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    for r in sorted(records, key=lambda r: r["seed"]):
        cells[(r["dataset"], r["method"])].add(r)
    return cells


def _f(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def _pm(cell: Cell) -> str:
    return f"{cell.mean:.3f} ± {cell.std:.3f}" if len(cell.nca) > 1 else _f(cell.mean)


def _methods(cells: dict[tuple[str, str], Cell]) -> list[str]:
    present = {m for _, m in cells}
    return [m for m in METHODS if m in present]


def _sets(cells: dict[tuple[str, str], Cell]) -> list[str]:
    present = {d for d, _ in cells}
    return [d for d in SETS if d in present] + sorted(present - set(SETS))


def comparisons(cells: dict[tuple[str, str], Cell]) -> dict[str, Any]:
    """The summary figures: per-method means, best peer, wins/ties/losses, neuncut's gaps."""
    sets, methods = _sets(cells), _methods(cells)
    mean = {(d, m): cells[(d, m)].mean for d, m in cells}
    out: dict[str, Any] = {"methods": {}}
    for m in methods:
        on = [d for d in sets if (d, m) in cells]
        out["methods"][m] = {
            "mean_nca": statistics.mean(mean[(d, m)] for d in on), "sets": len(on),
            "runs": sum(len(cells[(d, m)].nca) for d in on),
            "failed": sum(len(cells[(d, m)].failures) for d in on),
            "fit_s": sum(sum(cells[(d, m)].fit_s) for d in on),
            "wall_s": sum(sum(cells[(d, m)].wall_s) for d in on),
        }
    pair = [d for d in sets if (d, "genie") in cells and (d, "sklearn-spectral") in cells]
    out["best_peer"] = {d: max(mean[(d, "genie")], mean[(d, "sklearn-spectral")]) for d in pair}
    out["best_any"] = {d: max(mean[(d, p)] for p in PEERS if (d, p) in cells) for d in sets
                       if any((d, p) in cells for p in PEERS)}
    if "neuncut" not in methods:
        return out
    nn = {d: mean[(d, "neuncut")] for d in sets if (d, "neuncut") in cells}
    out["neuncut"] = nn
    out["wtl"], out["peer_failed"] = {}, {}
    for p in (p for p in (*ABLATIONS, *PEERS) if p in methods):
        diffs = [nn[d] - mean[(d, p)] for d in nn if (d, p) in cells]
        out["wtl"][p] = (sum(x > TIE for x in diffs), sum(abs(x) <= TIE for x in diffs),
                         sum(x < -TIE for x in diffs))
        out["peer_failed"][p] = [d for d in nn if (d, p) in cells and cells[(d, p)].failures
                                 and nn[d] - mean[(d, p)] > TIE]
    out["worst"] = sorted(nn, key=nn.__getitem__)
    below = {"sklearn-spectral": GAP_SPECTRAL, "genie": GAP_GENIE}
    out["gaps"] = [d for d in nn if any((d, p) in cells and nn[d] < mean[(d, p)] - gap
                                        for p, gap in below.items())]
    out["median_std"] = statistics.median(cells[(d, "neuncut")].std for d in nn)
    out["mean_std"] = statistics.mean(cells[(d, "neuncut")].std for d in nn)
    return out


def summary_section(cells: dict[tuple[str, str], Cell]) -> list[str]:
    """The summary: per-method table, best peer, wins/ties/losses, neuncut's worst sets."""
    c = comparisons(cells)
    mean = {(d, m): cells[(d, m)].mean for d, m in cells}
    out = ["## Summary", "", "Mean NCA of a method: the mean over sets of its mean over seeds.",
           "", "| method | mean NCA over sets | sets | runs | failed runs | fit s (total) "
           "| wall s (total) |", "|---" * 7 + "|"]
    for m, s in c["methods"].items():
        out.append(f"| {m} | {s['mean_nca']:.3f} | {s['sets']} | {s['runs']} | {s['failed']} "
                   f"| {s['fit_s']:.0f} | {s['wall_s']:.0f} |")
    out.append("")
    if c["best_peer"]:
        bp = c["best_peer"]
        line = (f"**Best peer per set with hindsight**, max(genie, sklearn-spectral) of the "
                f"mean NCA on each set, averaged over {len(bp)} sets: "
                f"**{statistics.mean(bp.values()):.3f}**")
        if "neuncut" in c:
            common = [d for d in bp if d in c["neuncut"]]
            line += (f" (neuncut on the same sets: "
                     f"{statistics.mean(c['neuncut'][d] for d in common):.3f})")
        out += [line + ". The best of all six peers per set averages "
                f"{statistics.mean(c['best_any'].values()):.3f}.", ""]
    if "neuncut" not in c:
        return out
    out += [f"**neuncut against the ablation and each peer** (per-set mean NCA; a difference "
            f"above {TIE} is a "
            "win or a loss; *peer failed*: wins on sets where some of the peer's runs failed "
            "and scored 0):", "", "| peer | wins | ties | losses | of the wins, peer failed |",
            "|---|---|---|---|---|"]
    out += [f"| {p} | {w} | {t} | {lo} | "
            + (", ".join(c["peer_failed"][p]) or "–") + " |"
            for p, (w, t, lo) in c["wtl"].items()]
    nn = c["neuncut"]
    out += ["", "**neuncut's five worst sets** (mean NCA):", "",
            "| set | neuncut | genie | sklearn-spectral | best peer (any) |", "|---" * 5 + "|"]
    for d in c["worst"][:5]:
        best = _f(c["best_any"][d]) if d in c["best_any"] else "–"
        out.append(f"| {d} | {nn[d]:.3f} | {_get(mean, d, 'genie')} | "
                   f"{_get(mean, d, 'sklearn-spectral')} | {best} |")
    out += ["", f"**Sets where neuncut is more than {GAP_SPECTRAL} below sklearn-spectral or more "
            f"than {GAP_GENIE} below genie:** " + (str(len(c["gaps"])) if c["gaps"] else "none")
            + ("." if not c["gaps"] else ""), ""]
    if c["gaps"]:
        out += ["| set | neuncut | sklearn-spectral | genie |", "|---|---|---|---|"]
        out += [f"| {d} | {nn[d]:.3f} | {_get(mean, d, 'sklearn-spectral')} | "
                f"{_get(mean, d, 'genie')} |" for d in c["gaps"]]
        out.append("")
    out += [f"**Median over sets of neuncut's seed standard deviation of NCA:** "
            f"{c['median_std']:.3f} (mean {c['mean_std']:.3f}; largest: "
            + ", ".join(f"{d} {cells[(d, 'neuncut')].std:.3f}" for d in sorted(
                nn, key=lambda d: -cells[(d, 'neuncut')].std)[:3]) + ").", ""]
    return out + family_table(cells)


def family_table(cells: dict[tuple[str, str], Cell]) -> list[str]:
    """Mean NCA per family of sets (rows) and method (columns)."""
    methods, sets = _methods(cells), _sets(cells)
    families = list(dict.fromkeys(SETS[d].family for d in sets if d in SETS))
    out = ["**Mean NCA per family of sets:**", "",
           "| family (sets) | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for fam in families:
        mine = [d for d in sets if d in SETS and SETS[d].family == fam]
        row = [_f(statistics.mean(cells[(d, m)].mean for d in mine))
               if all((d, m) in cells for d in mine) else "–" for m in methods]
        out.append(f"| {fam} ({len(mine)}) | " + " | ".join(row) + " |")
    return out + [""]


def robustness_section(cells: dict[tuple[str, str], Cell]) -> list[str]:
    """neuncut's worst seed against the peers a user would try, per family and per set.

    A user runs one seed, so the defaults aim at the worst one: per family, neuncut's mean
    and the mean of its worst seeds against the per-set best of genie and kNN spectral
    clustering; per set, the worst seed, the seed range, and whether the worst seed is more
    than ``GAP_SPECTRAL`` below either peer's mean.
    """
    sets = [d for d in _sets(cells) if (d, "neuncut") in cells
            and (d, "genie") in cells and (d, "sklearn-spectral") in cells]
    if not sets:
        return []
    mean = {(d, m): cells[(d, m)].mean for d, m in cells}
    best = {d: max(mean[(d, "genie")], mean[(d, "sklearn-spectral")]) for d in sets}
    worst = {d: min(cells[(d, "neuncut")].nca) for d in sets}
    spread = {d: max(cells[(d, "neuncut")].nca) - worst[d] for d in sets}
    out = ["## Robustness over seeds", "",
           "neuncut's mean NCA and the mean of its worst seed on each set, against the per-set "
           "best of genie and sklearn-spectral (mean over seeds), per family:", "",
           "| family (sets) | neuncut | neuncut, worst seed | best of genie / spectral | "
           "sets below it by > 0.05 at some seed |", "|---" * 5 + "|"]
    families = list(dict.fromkeys(SETS[d].family if d in SETS else "?" for d in sets))
    for fam in [*families, "all"]:
        mine = [d for d in sets if fam == "all" or (SETS[d].family if d in SETS else "?") == fam]
        low = sum(worst[d] < best[d] - GAP_SPECTRAL for d in mine)
        nn = statistics.mean(mean[(d, "neuncut")] for d in mine)
        low_mean = statistics.mean(worst[d] for d in mine)
        out.append(f"| {fam} ({len(mine)}) | {nn:.3f} | {low_mean:.3f} | "
                   f"{statistics.mean(best[d] for d in mine):.3f} | {low} |")
    flagged = [d for d in sets if worst[d] < best[d] - GAP_SPECTRAL or spread[d] > SEED_RANGE]
    out += ["", f"**Sets where neuncut's worst seed is more than {GAP_SPECTRAL} below genie's or "
            f"sklearn-spectral's mean, or its seeds range over more than {SEED_RANGE}:** "
            f"{len(flagged)} of {len(sets)}; median seed range "
            f"{statistics.median(spread.values()):.3f}.", ""]
    if flagged:
        out += ["| set | neuncut (mean) | worst seed | seed range | genie | sklearn-spectral |",
                "|---" * 6 + "|"]
        out += [f"| {d} | {mean[(d, 'neuncut')]:.3f} | {worst[d]:.3f} | {spread[d]:.3f} | "
                f"{mean[(d, 'genie')]:.3f} | {mean[(d, 'sklearn-spectral')]:.3f} |"
                for d in flagged]
        out.append("")
    return out


def _get(mean: dict[tuple[str, str], float], d: str, m: str) -> str:
    return _f(mean[(d, m)]) if (d, m) in mean else "–"


def overview_section(cells: dict[tuple[str, str], Cell]) -> list[str]:
    """One row per set, one column per method: mean NCA, the best of the row in bold."""
    methods = _methods(cells)
    out = ["## Mean NCA per set", "",
           "Mean over seeds; the best of each row (to 3 decimals) in bold; † a run failed "
           "(scored 0).", "",
           "| set | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for d in _sets(cells):
        vals = {m: cells[(d, m)].mean for m in methods if (d, m) in cells}
        best = max(vals.values())
        row = []
        for m in methods:
            if m not in vals:
                row.append("–")
                continue
            s = f"{vals[m]:.3f}" + (" †" if cells[(d, m)].failures else "")
            row.append(f"**{s}**" if round(vals[m], 3) == round(best, 3) else s)
        out.append(f"| {d} | " + " | ".join(row) + " |")
    return out + [""]


def set_sections(cells: dict[tuple[str, str], Cell],
                 shapes: dict[str, tuple[int, int, int]]) -> list[str]:
    """One table per set: NCA mean ± std, ARI and NMI means, fit seconds, seeds, notes."""
    out = ["## Per set", ""]
    for d in _sets(cells):
        n, dim, k = shapes.get(d, ("?", "?", "?"))
        out += [f"### {d} (n = {n}, d = {dim}, k = {k})", "",
                "| method | NCA | ARI | NMI | fit s | seeds | notes |", "|---" * 7 + "|"]
        for m in _methods(cells):
            if (d, m) not in cells:
                continue
            cell = cells[(d, m)]
            notes = [f"{v}× {k_}" for k_, v in sorted(cell.notes.items())]
            if cell.failures:
                reason = cell.failures[-1].replace("|", "/").replace("\n", " ")[:160]
                notes.append(f"{len(cell.failures)} failed: {reason}")
            fit = _f(statistics.mean(cell.fit_s), 2) if cell.fit_s else "–"
            out.append(f"| {m} | {_pm(cell)} | {statistics.mean(cell.ari):.3f} | "
                       f"{statistics.mean(cell.nmi):.3f} | {fit} | {len(cell.nca)} | "
                       f"{'; '.join(notes)} |")
        out.append("")
    return out


def header_section(records: list[dict[str, Any]], shapes: dict[str, tuple[int, int, int]],
                   source: str) -> list[str]:
    """Commands, machine, provenance and what each data set is."""
    first_use = sorted((r["timestamp"], r["command"]) for r in records if "command" in r)
    commands = list(dict.fromkeys(c for _, c in first_use))  # in the order they ran
    machines = sorted({describe_machine(r["machine"]) for r in records if "machine" in r})
    stamps = sorted(r["timestamp"] for r in records)
    commits = sorted({(r.get("commit") or "?")[:10] for r in records})
    sources = sorted({f"{s.get('where')} at {(s.get('commit') or '?')[:10]}"
                      + (" with local changes" if s.get("dirty") else "")
                      for r in records if (s := r.get("neuncut_source"))})
    threads = sorted({json.dumps(r.get("threads_env"), sort_keys=True) for r in records})
    loads = [r[k] for r in records for k in ("loadavg_before", "loadavg_after") if k in r]
    quick = " (quick runs only: not a result)" if all(r["quick"] for r in records) else ""
    nices = sorted({r["niceness"] for r in records if r.get("niceness") is not None})
    nice = ", ".join(f"`nice -n {n}`" for n in nices) or "niceness not recorded"
    out = [f"# Development suite: NeuNcut and six other methods on {len(shapes)} labelled sets"
           f"{quick}", "", f"Generated by `python -m benchmarks.suite --report` from `{source}`; "
           f"do not edit. The runs were made by (from the repository root, with {nice}):", ""]
    out += [f"    {c}" for c in commands]
    out += ["", f"Machine: {'; '.join(machines)} (2 cores, no GPU), shared with other work: "
            f"1-minute load average {min(loads, default=0):.1f} to {max(loads, default=0):.1f} "
            "around the runs, so fit times are indicative only. Thread variables "
            f"{', '.join(threads)}; every run a fresh process. Runs from {stamps[0]} to "
            f"{stamps[-1]}, {sum(r.get('wall_s') or 0 for r in records) / 60:.0f} min of runs "
            f"in all; repository HEAD at the start of each command {', '.join(commits)}; "
            f"neuncut imported from {', '.join(sources) or '?'}.", ""]
    out += ["**Methods**, each at its defaults with `n_clusters` = the reference k: `neuncut` "
            "`NeuNcut(n_clusters=k, random_state=seed)`; `neuncut-untrained` the same with "
            "`max_epochs=0` (an ablation: the warm start alone, no Ncut training); "
            "`neuncut-autoencoder` the same with `representation=\"autoencoder\"` (an "
            "ablation: a learned representation whatever the size of the data); "
            + "; ".join(f"`{name}` {DESCRIPTIONS[name]}" for name in PEERS)
            + ", which chooses its own number of clusters (a reference, not a peer with k "
            "given). genie, ward and hdbscan are deterministic: their seeds only repeat the run.",
            "",
            "**Scores.** NCA (primary): normalized clustering accuracy (Gagolewski, SoftwareX "
            "2022), the mean over reference clusters of the recall under the best one-to-one "
            "matching of predicted to reference clusters, rescaled so that chance (all in one "
            "cluster) is 0 and perfect 1: `(mean_recall - 1/k) / (1 - 1/k)` "
            "(`benchmarks/suite_scores.py`). ARI and NMI (scikit-learn). Points whose reference "
            "label is -1 (noise, outliers) are not scored; HDBSCAN's noise (-1) counts as one "
            "more cluster of its own. A failed or timed-out run scores 0. The data sets are "
            "fixed (generated with seed 0); the seeds 0-4 vary only the methods. *fit s* is the "
            "time of `fit_predict` in the worker; *wall s* also counts the process start.", ""]
    out += ["**Data sets** (`benchmarks/suite_data.py`):", "",
            "| set | family | n | d | k | what it is |", "|---|---|---|---|---|---|"]
    for d, (n, dim, k) in shapes.items():
        s = SETS.get(d)
        out.append(f"| {d} | {s.family if s else '?'} | {n} | {dim} | {k} | "
                   f"{s.description if s else '?'} |")
    out += ["", "pyclustering: the `.data` / `.answer` pairs of `samples/samples/simple`; "
            "`Simple14` is left out (its 9 noise points, answer `n`, leave one cluster: k = 1). "
            "MNIST / Fashion-MNIST: a fixed random subset of 5 000 of the 70 000 images "
            "(`numpy.random.default_rng(0)`), pixels / 255 (not row-normalized), and the same "
            "subset through `PCA(50)`. No scattering features.", ""]
    return out


def render(records: list[dict[str, Any]], source: str = "benchmarks/results/suite.jsonl") -> str:
    """The whole SUITE.md text; ``source`` names the results file."""
    cells = build_cells(records)
    shapes = {r["dataset"]: (r["n"], r["d"], r["k"]) for r in records if "n" in r}
    shapes = {d: shapes[d] for d in _sets(cells) if d in shapes}
    out = header_section(records, shapes, source) + summary_section(cells)
    out += robustness_section(cells)
    out += overview_section(cells) + set_sections(cells, shapes)
    return "\n".join(out).rstrip() + "\n"


def write_report(results: Path | list[Path], out: Path) -> int:
    """Write the report of the record file(s) ``results`` to ``out``; the number of runs."""
    paths = [results] if isinstance(results, Path) else results
    records = [r for path in paths for r in read_records(path)]
    names = []
    for path in paths:
        try:
            names.append(str(path.resolve().relative_to(REPO_ROOT)))
        except ValueError:  # outside the repository: no machine path in the report
            names.append(path.name)
    out.write_text(render(records, "`, `".join(names)), encoding="utf-8")
    return len(records)
