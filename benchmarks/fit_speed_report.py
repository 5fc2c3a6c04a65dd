"""``FIT_SPEED.md`` from ``fit_speed.jsonl`` (see :mod:`benchmarks.fit_speed`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.harness.environment import commit_of, describe_machine
from benchmarks.harness.records import latest, read_records

STAGES = ("init", "init/graph_check", "init/knn", "init/spectral", "init/layout", "init/kmeans",
          "init/distill", "init/penalty", "train", "label")
PEERS = ("spectral", "genie", "kmeans")


def _s(record: dict[str, Any] | None) -> str:
    if record is None:
        return "–"
    if record["status"] != "ok":
        return record["status"]
    return f"{record['fit_s']:.2f}"


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    if a is None or b is None or a["status"] != "ok" or b["status"] != "ok":
        return "–"
    return f"{a['fit_s'] / b['fit_s']:.1f}"


def label_section(label: str, cases: list[str], last: dict) -> list[str]:
    """Tables of one run: fit seconds against the peers, neuncut's stages, the load ratio."""
    def get(case: str, method: str, loaded: bool = False) -> dict[str, Any] | None:
        return last.get((label, case, method, loaded))

    first = next(r for key, r in last.items() if key[0] == label)
    commit = commit_of(first) or "?"
    neuncut_commit = next((r.get("neuncut_commit") for key, r in last.items()
                           if key[0] == label and r.get("neuncut_commit")), None)
    lines = [f"## {label}", "",
             f"{first.get('date') or first['timestamp'][:10]}, benchmark code at "
             f"{str(commit)[:7]}, neuncut at "
             f"{neuncut_commit or '?'}; {describe_machine(first['machine'])}.", "",
             "Fit seconds (one fit after a warm-up fit in the same process); ARI for a sanity "
             "check.", "",
             "| case | neuncut | spectral (amg) | genie | kmeans | neuncut / spectral "
             "| neuncut beside a busy core | load ratio | ARI neuncut | ARI spectral |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for case in cases:
        nc, sp, nl = get(case, "neuncut"), get(case, "spectral"), get(case, "neuncut", True)
        ari = [f"{r['ari']:.3f}" if r and r["status"] == "ok" else "–" for r in (nc, sp)]
        lines.append(f"| {case} | {_s(nc)} | {_s(sp)} | {_s(get(case, 'genie'))} | "
                     f"{_s(get(case, 'kmeans'))} | {_ratio(nc, sp)} | {_s(nl)} | "
                     f"{_ratio(nl, nc)} | {ari[0]} | {ari[1]} |")
    lines += ["", "neuncut's stages (seconds, `timings_`; `warm-up` is the first fit of the "
              "process, on 200 points, imports included):", "",
              "| case | " + " | ".join(STAGES) + " | warm-up |",
              "|---|" + "---|" * (len(STAGES) + 1)]
    for case in cases:
        r = get(case, "neuncut")
        if r is None or r["status"] != "ok":
            continue
        t = r.get("timings", {})
        cells = [f"{t[s]:.2f}" if s in t else "–" for s in STAGES]
        lines.append(f"| {case} | " + " | ".join(cells) + f" | {r['warmup_s']:.2f} |")
    return lines + [""]


def comparison(labels: list[str], cases: list[str], last: dict) -> list[str]:
    """neuncut's fit seconds under every label, side by side, with the ratios to the first
    label and to kNN spectral clustering timed in the same run."""
    head = ["case", *labels, *(f"{label} / {labels[0]}" for label in labels[1:]),
            *(f"/ spectral ({label})" for label in labels),
            *(f"load ratio ({label})" for label in labels)]
    lines = ["## neuncut across runs", "", "| " + " | ".join(head) + " |",
             "|---" * len(head) + "|"]
    for case in cases:
        runs = [last.get((label, case, "neuncut", False)) for label in labels]
        cells = [_s(r) for r in runs]
        cells += [_ratio(r, runs[0]) for r in runs[1:]]
        cells += [_ratio(r, last.get((label, case, "spectral", False)))
                  for r, label in zip(runs, labels, strict=True)]
        cells += [_ratio(last.get((label, case, "neuncut", True)), r)
                  for r, label in zip(runs, labels, strict=True)]
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return lines + [""]


def write_report(records_path: Path, report_path: Path) -> None:
    """Rewrite the report from every record."""
    records = read_records(records_path)
    last = latest(records, "fit_speed")  # the last record of every (label, case, method, loaded)
    labels = list(dict.fromkeys(r["label"] for r in records))
    cases = list(dict.fromkeys(r["case"] for r in records))
    lines = ["# Fit speed", "",
             "Written by `python -m benchmarks.fit_speed` (see its docstring for the cases and "
             "methods) from `benchmarks/results/fit_speed.jsonl`. Times are wall-clock seconds "
             "on the machine named under each run.", ""]
    if len(labels) > 1:
        lines += comparison(labels, cases, last)
    for label in labels:
        lines += label_section(label, cases, last)
    report_path.write_text("\n".join(lines))
