"""The page of a grid-style study (:mod:`benchmarks.run`, :mod:`benchmarks.representation`):
``RESULTS.md`` and ``results.png`` from ``results.jsonl`` (:func:`write_page`).

One table per (protocol, data set, quick or full): mean +- std over seeds of each method's
ACC/NMI/ARI on all rows and on the rows it never trained on, fit and predict seconds, peak
memory and the number of seeds; a method whose runs all failed gets a row "could not run:
<reason>". When a (protocol, data set, method, seed) was run several times, the latest line
counts (the key ``run`` of :data:`benchmarks.harness.records.KEYS`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.grid import METHODS, PROTOCOLS
from benchmarks.harness.environment import describe_machine, repo_relative
from benchmarks.harness.records import RESULTS_DIR, latest, read_records

COLUMNS = (
    "ACC all",
    "NMI all",
    "ARI all",
    "ACC unseen",
    "NMI unseen",
    "ARI unseen",
    "fit s",
    "predict s",
    "peak MB",
    "seeds",
)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The records of ``path``, the latest per (protocol, data set, label, seed, quick)."""
    return list(latest(read_records(path), "run").values())


def _mean_std(values: list[float | None], digits: int) -> str:
    """``mean ± std`` of the non-missing values (std over seeds, n-1), or an en dash."""
    vals = [v for v in values if v is not None]
    if not vals:
        return "–"
    if len(vals) == 1:
        return f"{vals[0]:.{digits}f}"
    return f"{statistics.mean(vals):.{digits}f} ± {statistics.stdev(vals):.{digits}f}"


def _metric(line: dict[str, Any], part: str, name: str) -> float | None:
    """A metric of a successful line (None where the part is missing)."""
    scores = line["metrics"].get(part)
    return None if scores is None else scores[name]


def method_row(label: str, lines: list[dict[str, Any]]) -> str:
    """The markdown row of one method from its lines (successful or not)."""
    ok = [x for x in lines if x["status"] == "ok"]
    failed = [x for x in lines if x["status"] != "ok"]
    if not ok:
        reason = failed[-1]["error"].replace("|", "/").replace("\n", " ")[:300]
        return f"| {label} | could not run: {reason} |" + " |" * (len(COLUMNS) - 1)
    cells = [
        _mean_std([_metric(x, p, m) for x in ok], 3)
        for p in ("all", "unseen")
        for m in ("acc", "nmi", "ari")
    ]
    cells += [_mean_std([x["fit_s"] for x in ok], 1), _mean_std([x["predict_s"] for x in ok], 2)]
    cells.append(_mean_std([_peak_mb(x) for x in ok], 0))
    seeds = str(len(ok)) + (f" ({len(failed)} failed)" if failed else "")
    name = label + (" †" if any(x.get("saw_unseen") for x in ok) else "")
    return "| " + " | ".join([name, *cells, seeds]) + " |"


def _peak_mb(line: dict[str, Any]) -> float:
    """Peak memory of the process that ran the method: the peer's own process for peers."""
    peer = (line.get("extra") or {}).get("peer_peak_rss_mb")
    return float(peer) if peer is not None else float(line["peak_rss_mb"])


def _order(label: str) -> tuple[int, str]:
    """Sort methods in the grid's order, variants after their base method."""
    base = label.split(" (")[0]
    return (METHODS.index(base) if base in METHODS else len(METHODS), label)


def group_section(key: tuple[str, str, bool], lines: list[dict[str, Any]]) -> list[str]:
    """Markdown of one (protocol, data set, quick) group: heading, table, provenance."""
    protocol, dataset, quick = key
    title = f"## Protocol {protocol} ({PROTOCOLS[protocol]}), {dataset}" + (
        " — quick" if quick else ""
    )
    ok = [x for x in lines if x["status"] == "ok"]
    sizes = sorted({(x["n_total"], x["n_train"]) for x in ok})
    out = [title, ""]
    if sizes:
        out += ["Rows: " + "; ".join(f"{n} in all, {t} trained on" for n, t in sizes) + ".", ""]
    out += ["| method | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in lines:
        by_label[x["label"]].append(x)
    out += [method_row(label, by_label[label]) for label in sorted(by_label, key=_order)]
    out += _published_rows(protocol, dataset, quick)
    out += ["", *_provenance(lines), ""]
    return out


#: Published figures on the raw images (protocol B), all 70 000 rows, as ACC / NMI:
#: N2D (McConville et al., ICPR 2020, Table 2: autoencoder, UMAP, Gaussian mixture) and
#: SpectralNet (Shaham et al., ICLR 2018, Table 1; MNIST only).
PUBLISHED = {
    ("B", "mnist"): {"N2D (published)": (0.979, 0.942), "SpectralNet (published)": (0.971, 0.924)},
    ("B", "fashion-mnist"): {"N2D (published)": (0.672, 0.684)},
}


def _published_rows(protocol: str, dataset: str, quick: bool) -> list[str]:
    """Rows of :data:`PUBLISHED` for the group, ACC and NMI on all rows only."""
    if quick:
        return []
    blanks = " | ".join("–" for _ in COLUMNS[2:])
    return [f"| {name} | {acc:.3f} | {nmi:.3f} | {blanks} |"
            for name, (acc, nmi) in PUBLISHED.get((protocol, dataset), {}).items()]


def _provenance(lines: list[dict[str, Any]]) -> list[str]:
    """Machines, commits and commands behind a group of lines."""
    machines = sorted({describe_machine(x["machine"]) for x in lines if "machine" in x})
    commits = sorted(
        {
            f"{x['git']['commit'][:10]}{' (dirty)' if x['git']['dirty'] else ''}"
            for x in lines
            if x.get("git", {}).get("commit")
        }
    )
    commands = sorted({x["command"] for x in lines if "command" in x})
    stamps = sorted(x["timestamp"] for x in lines)
    out = [f"Machine: {m}." for m in machines]
    out.append(f"Commit: {', '.join(commits)}; runs from {stamps[0]} to {stamps[-1]}.")
    out += _load_note(lines)
    out += ["Command:", "", *[f"    {c}" for c in commands]]
    return out


def _load_note(lines: list[dict[str, Any]]) -> list[str]:
    """A line on the machine's load during the runs, a warning if other work competed."""
    loads = [x[k] for x in lines for k in ("loadavg_before", "loadavg_after") if k in x]
    missing = sum("loadavg_before" not in x for x in lines)
    if missing:
        return [f"Load during the runs: not recorded for {missing} of {len(lines)} runs."]
    cpus = max((x.get("machine") or {}).get("cpu_count") or 1 for x in lines)
    note = (
        f"1-min load average around the runs: {min(loads):.1f} to {max(loads):.1f} on {cpus} CPUs"
    )
    if max(loads) > cpus + 0.5:
        note += " — other processes competed for the CPUs, so times are inflated"
    return [note + "."]


NOTES = [
    "Mean ± standard deviation over seeds; each seed draws its own training subset with "
    "`numpy.random.default_rng(seed)`. *unseen*: the rows the method was not trained on. "
    "† the method has no out-of-sample step: it labelled all rows at once, so it saw the "
    '"unseen" rows. *fit s* includes any labelling of the training rows done by `fit`; '
    "*peak MB* is the peak resident memory (`ru_maxrss`) of the fresh process that ran the "
    "method, data loading included (for the peers, of their own process).",
]


def is_variant(line: dict[str, Any]) -> bool:
    """Whether a line is an ablation run (neuncut with some parameters replaced)."""
    return line["label"].startswith("neuncut [")


def ablation_section(lines: list[dict[str, Any]]) -> list[str]:
    """One table of every ablation variant against the defaults, on the same seeds.

    Columns are the (protocol, data set) pairs; a cell is ``ACC / NMI`` on all rows, averaged
    over the seeds the variants ran on (the defaults' row uses the same seeds).
    """
    full = [x for x in lines if not x["quick"] and x["status"] == "ok"]
    variants = [x for x in full if is_variant(x)]
    if not variants:
        return []
    seeds = sorted({x["seed"] for x in variants})
    pairs = sorted({(x["protocol"], x["dataset"]) for x in variants})
    labels = ["neuncut", *sorted({x["label"] for x in variants})]
    head = [f"{p} {d}" for p, d in pairs]
    out = [
        "## Ablation",
        "",
        "Each row replaces some of NeuNcut's defaults (first row: the defaults); cells are ACC /"
        f" NMI on all rows, seed{'s' if len(seeds) > 1 else ''}"
        f" {', '.join(map(str, seeds))}. *γ* is the fitted ``penalty_``, *init* the"
        " candidate the label-free Ncut choice distilled (``init_ncut_``) and *k* the"
        " number of clusters of the fit (``n_clusters_``, chosen without labels for"
        " ``n_clusters=auto``).",
        "",
        "| variant | " + " | ".join(head) + " | γ | init | k |",
        "|---" * (len(head) + 4) + "|",
    ]
    for label in labels:
        cells, gammas, chosen, ks = [], set(), set(), set()
        for p, d in pairs:
            sel = [
                x for x in full
                if x["label"] == label and x["seed"] in seeds
                and (x["protocol"], x["dataset"]) == (p, d)
            ]
            if not sel:
                cells.append("–")
                continue
            acc = statistics.mean(x["metrics"]["all"]["acc"] for x in sel)
            nmi = statistics.mean(x["metrics"]["all"]["nmi"] for x in sel)
            cells.append(f"{acc:.3f} / {nmi:.3f}")
            for x in sel:
                extra = x.get("extra") or {}
                if extra.get("penalty_") is not None:
                    gammas.add(f"{extra['penalty_']:.3g}")
                if extra.get("n_clusters_") is not None:
                    ks.add(int(extra["n_clusters_"]))
                ncuts = extra.get("init_ncut_") or {}
                if ncuts:
                    chosen.add(min(ncuts, key=ncuts.__getitem__))
        out.append(
            f"| {label} | " + " | ".join(cells)
            + f" | {', '.join(sorted(gammas)) or '–'} | {', '.join(sorted(chosen)) or '–'}"
            + f" | {', '.join(map(str, sorted(ks))) or '–'} |"
        )
    base = {
        x["git"]["commit"][:10] for x in full
        if x["label"] == "neuncut" and x["seed"] in seeds and x.get("git", {}).get("commit")
    }
    out += ["", f"Defaults row: commit {', '.join(sorted(base))}. Variants:", ""]
    out += [*_provenance(variants), ""]
    return out


def render(lines: list[dict[str, Any]], *, title: str = "Benchmark results",
           command: str = "python -m benchmarks.run --report",
           source: str = "benchmarks/results/results.jsonl") -> str:
    """The whole RESULTS.md text: ``title``, the ``command`` that wrote it and the ``source``
    of its lines."""
    groups: dict[tuple[str, str, bool], list[dict[str, Any]]] = defaultdict(list)
    for x in lines:
        if not is_variant(x):
            groups[(x["protocol"], x["dataset"], bool(x["quick"]))].append(x)
    out = [
        f"# {title}",
        "",
        f"Generated by `{command}` from `{source}`; do not edit.",
        "",
        *NOTES,
        "",
    ]
    for key in sorted(groups, key=lambda k: (k[2], k[0], k[1])):
        out += group_section(key, groups[key])
    out += ablation_section(lines)
    return "\n".join(out).rstrip() + "\n"


def plot(lines: list[dict[str, Any]], path: Path) -> None:
    """Bar chart of mean ACC (all rows) per method per data set, one panel per protocol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [x for x in lines if x["status"] == "ok" and not is_variant(x)]
    panels = sorted({(x["protocol"], bool(x["quick"])) for x in ok}) or [("A", False)]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, (protocol, quick) in zip(axes[0], panels, strict=True):
        sel = [x for x in ok if x["protocol"] == protocol and bool(x["quick"]) == quick]
        datasets = sorted({x["dataset"] for x in sel})
        labels = sorted({x["label"] for x in sel}, key=_order)
        width = 0.8 / max(len(labels), 1)
        for j, label in enumerate(labels):
            accs = [
                [
                    x["metrics"]["all"]["acc"]
                    for x in sel
                    if x["dataset"] == d and x["label"] == label
                ]
                for d in datasets
            ]
            means = [statistics.mean(a) if a else float("nan") for a in accs]  # no bar
            errs = [statistics.stdev(a) if len(a) > 1 else 0.0 for a in accs]
            pos = [i + (j - (len(labels) - 1) / 2) * width for i in range(len(datasets))]
            ax.bar(pos, means, width, yerr=errs, label=label, capsize=2)
        ax.set_xticks(range(len(datasets)), datasets)
        ax.set_ylim(0, 1)
        ax.set_ylabel("ACC (all rows)")
        ax.set_title(f"Protocol {protocol}" + (" (quick)" if quick else ""))
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_page(folder: Path = RESULTS_DIR, records: str = "results.jsonl",
               page: str = "RESULTS.md", figure: str = "results.png",
               title: str = "Benchmark results", command: str = "python -m benchmarks.run") -> None:
    """``folder/page`` and ``folder/figure`` from ``folder/records`` (a grid-style study's
    page; ``command --report`` is what the page says wrote it)."""
    lines = read_lines(folder / records)
    text = render(lines, title=title, command=f"{command} --report",
                  source=repo_relative(folder / records))
    (folder / page).write_text(text, encoding="utf-8")
    plot(lines, folder / figure)
