"""A broad development suite: many small labelled data sets, NeuNcut against six peers.

    python -m benchmarks.suite                      # every method, set and seed 0-4
    python -m benchmarks.suite --methods neuncut genie --datasets synthetic --seeds 0 1
    python -m benchmarks.suite --quick                   # smoke, ~20 s
    python -m benchmarks.suite --report             # results/SUITE.md from results/suite.jsonl

Data sets (:mod:`benchmarks.suite_data`): scikit-learn's iris, wine, breast cancer and digits
(as shipped and standardized), pyclustering's ``simple`` samples, generated shapes at sizes
300 to 10 000 (with noise, outliers, background noise and unequal densities) and subsets of
MNIST and Fashion-MNIST, and the harder families of :mod:`benchmarks.suite_hard` (each at
two sizes and two generator seeds). ``--datasets`` takes set names, the families ``sklearn``,
``pyclustering``, ``synthetic``, ``images``, ``hard/<family>``, or ``hard`` for all of those.

Methods (:mod:`benchmarks.suite_worker`), all at their defaults with ``n_clusters`` = the
reference k: ``neuncut``, ``genie`` (genieclust, ``gini_threshold=0.3``), ``sklearn-spectral``
(kNN affinity), ``kmeans``, ``gmm``, ``ward`` and ``hdbscan`` (chooses its own k).

Every (method, data set, seed) runs in a fresh process with a timeout; the data are prepared
once per invocation in a process of their own. Each run appends one record to
``benchmarks/results/suite.jsonl`` (``--results``): NCA, ARI, NMI, fit seconds, the set's n, d, k,
the commit, and for neuncut its fitted ``init_ncut_``. The workers inherit
``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` (``--threads`` where
unset, default 1) and torch takes ``OMP_NUM_THREADS``. ``--report`` writes ``SUITE.md``
(:mod:`benchmarks.suite_report`); for a (method, set, seed) run several times the newest
line counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness.environment import REPO_ROOT, git_output, machine_info, relative_paths
from benchmarks.harness.process import THREAD_VARS, run_call, thread_env
from benchmarks.harness.records import RESULTS_DIR, RecordWriter, read_records
from benchmarks.suite_data import FAMILIES, SETS
from benchmarks.suite_worker import METHODS, VERSIONED

DEFAULT_RESULTS = RESULTS_DIR / "suite.jsonl"
#: Records of the harder families, in a file of their own (each file stays under 1 MB).
HARD_RESULTS = RESULTS_DIR / "suite_hard.jsonl"
DEFAULT_REPORT = RESULTS_DIR / "SUITE.md"
SCHEMA_VERSION = 1
SEEDS = (0, 1, 2, 3, 4)
#: ``--quick``: three tiny sets, seed 0 and a tiny NeuNcut (spectral warm start only: the
#: default also lays out a neighbour embedding, seconds even on 150 points).
QUICK_SETS = ("iris", "pycl-simple03", "moons-300")
QUICK_NEUNCUT = {"max_epochs": 2, "hidden_layer_sizes": (16,), "init_size": 300,
                 "init": "spectral"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the suite."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.suite",
                                description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--datasets", nargs="+", default=None, metavar="NAME|FAMILY",
                   help=f"set names or families ({', '.join(FAMILIES)}); default all "
                        f"(--quick: {' '.join(QUICK_SETS)})")
    p.add_argument("--seeds", nargs="+", type=int, default=None,
                   help="default 0 1 2 3 4 (--quick: 0)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: tiny sets, seed 0, NeuNcut with {QUICK_NEUNCUT}")
    p.add_argument("--results", type=Path, default=None,
                   help="record file to append to and report from (default "
                        "benchmarks/results/suite.jsonl, suite_hard.jsonl for the hard "
                        "families, both for --report; with "
                        "--quick a file in the system's temporary folder)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per run")
    p.add_argument("--threads", type=int, default=1,
                   help=f"thread count for {', '.join(THREAD_VARS)} where unset (default 1)")
    p.add_argument("--skip-done", action="store_true",
                   help="skip (method, set, seed) runs that already have a successful line")
    p.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    p.add_argument("--report", action="store_true",
                   help="only write the report from the results file, run nothing")
    p.add_argument("--report-out", type=Path, default=DEFAULT_REPORT,
                   help="where --report writes (default benchmarks/results/SUITE.md)")
    args = p.parse_args(argv)
    if args.quick and args.results is None:
        args.results = Path(tempfile.gettempdir()) / "neuncut-suite-quick.jsonl"
    if args.seeds is None:
        args.seeds = [0] if args.quick else list(SEEDS)
    tokens = args.datasets or (list(QUICK_SETS) if args.quick else list(SETS))
    try:
        args.datasets = select_sets(tokens)
    except ValueError as exc:
        p.error(str(exc))
    return args


def select_sets(tokens: list[str]) -> list[str]:
    """Set names from names, family names and family groups (``hard``: every ``hard/...``
    family), in the suite's order.

    >>> select_sets(["moons-300", "iris"])
    ['iris', 'moons-300']
    >>> len(select_sets(["sklearn"])), select_sets(["hard"])[0]
    (8, 'hard-near-groups-600-g0')
    """
    groups = {f.split("/")[0] for f in FAMILIES}
    unknown = [t for t in tokens if t not in SETS and t not in FAMILIES and t not in groups]
    if unknown:
        raise ValueError(f"unknown data sets {unknown}; names are {list(SETS)}, the "
                         f"families {list(FAMILIES)} or the groups {sorted(groups)}")
    return [name for name, s in SETS.items()
            if name in tokens or s.family in tokens or s.family.split("/")[0] in tokens]


def provenance() -> dict[str, Any]:
    """The repository's commit and where the neuncut the workers import comes from.

    Only relative paths: ``neuncut_source.where`` says "this repository" or "another checkout
    (PYTHONPATH)"; its commit and whether its ``src`` differs from that commit are recorded.
    """
    commit = git_output("rev-parse", "HEAD")
    source: dict[str, Any] = {"where": None, "commit": None, "dirty": None}
    spec = importlib.util.find_spec("neuncut")  # locates the package without importing it
    if spec is not None and spec.origin:
        folder = Path(spec.origin).resolve().parent
        top = git_output("rev-parse", "--show-toplevel", folder=folder)
        if top:
            status = git_output("status", "--porcelain", "--untracked-files=no", "--", "src",
                                folder=top)
            source = {
                "where": ("this repository" if Path(top).resolve() == REPO_ROOT.resolve()
                          else "another checkout (PYTHONPATH)"),
                "commit": git_output("rev-parse", "HEAD", folder=top),
                "dirty": None if status is None else bool(status),
            }
        else:
            source["where"] = "an installed package"
    return {"commit": commit, "neuncut_source": source}


def prepare_data(names: list[str], folder: Path, env: dict[str, str], timeout: float) -> None:
    """Prepare the sets in one process (:func:`benchmarks.suite_data.prepare`): per set
    ``NAME.npz`` and ``NAME.json``, or ``NAME.error`` when it cannot be loaded."""
    answer = run_call("benchmarks.suite_data:prepare", {"folder": str(folder), "names": names},
                      timeout=timeout, env=env)
    why = answer.get("error") or "no reason given"
    for name in names:
        if not (folder / f"{name}.json").exists() and not (folder / f"{name}.error").exists():
            (folder / f"{name}.error").write_text(f"the data preparation failed: {why}")


def run_one(request: dict[str, Any], folder: Path, env: dict[str, str],
            timeout: float) -> dict[str, Any]:
    """Run ``request`` in a fresh worker process; its answer, or an error."""
    request = {**request, "data": str(folder / f"{request['dataset']}.npz")}
    return run_call("benchmarks.suite_worker:execute", {"request": request}, timeout=timeout,
                    env=env, versions=VERSIONED)


def result_files(results: Path | None) -> list[Path]:
    """The record files a run appends to and the report reads: ``results``, or the
    default pair (the harder families' records apart)."""
    return [DEFAULT_RESULTS, HARD_RESULTS] if results is None else [results]


def results_of(dataset: str, results: Path | None) -> Path:
    """The record file of a run on ``dataset``.

    >>> results_of("iris", None).name, results_of("hard-near-groups-600-g0", None).name
    ('suite.jsonl', 'suite_hard.jsonl')
    """
    if results is not None:
        return results
    return HARD_RESULTS if SETS[dataset].family.startswith("hard/") else DEFAULT_RESULTS


def done_keys(paths: list[Path], quick: bool) -> set[tuple[str, str, int]]:
    """(method, set, seed) of the successful runs of ``paths`` with the same ``quick``."""
    return {(r["method"], r["dataset"], r["seed"]) for path in paths for r in read_records(path)
            if r.get("status") == "ok" and bool(r.get("quick")) == quick}


def _summary(line: dict[str, Any]) -> str:
    """One progress line for the console."""
    if line["status"] != "ok":
        return f"FAILED: {str(line['error'])[:200]}"
    return (f"NCA {line['nca']:.3f} ARI {line['ari']:.3f} NMI {line['nmi']:.3f} "
            f"fit {line['fit_s']:.1f}s")


def main(argv: list[str] | None = None) -> int:
    """Run the requested (method, set, seed) grid, or write the report; 0 even if runs fail."""
    args = parse_args(argv)
    if args.report:
        from benchmarks.suite_report import write_report

        n_lines = write_report(result_files(args.results), args.report_out)
        print(f"wrote {args.report_out} from {n_lines} runs")
        return 0
    skip = done_keys(result_files(args.results), args.quick) if args.skip_done else set()
    runs = [(d, s, m) for d in args.datasets for s in args.seeds for m in args.methods
            if (m, d, s) not in skip]
    if args.dry_run:
        print("\n".join(f"{d} seed {s} {m}" for d, s, m in runs))
        return 0
    env = thread_env(args.threads)
    argv_used = sys.argv[1:] if argv is None else argv
    context = {
        "command": relative_paths(shlex.join(["python", "-m", "benchmarks.suite", *argv_used])),
        **provenance(),
        "threads_env": {v: env[v] for v in THREAD_VARS},
        "niceness": os.nice(0),
        "machine": machine_info(),
    }
    neuncut_params = dict(QUICK_NEUNCUT) if args.quick else {}
    targets = sorted({str(results_of(d, args.results)) for d, _, _ in runs})
    print(f"{len(runs)} runs -> {', '.join(targets)}", flush=True)
    writers: dict[Path, RecordWriter] = {}
    with tempfile.TemporaryDirectory(prefix="neuncut-suite-") as tmp:
        folder = Path(tmp)
        prepare_data(sorted({d for d, _, _ in runs}), folder, env, args.timeout)
        for i, (dataset, seed, method) in enumerate(runs, 1):
            head = f"[{i}/{len(runs)}] {dataset} seed {seed} {method}"
            meta_file, error_file = folder / f"{dataset}.json", folder / f"{dataset}.error"
            if error_file.exists():
                load = os.getloadavg()[0]
                answer = {"status": "error", "wall_s": 0.0, "loadavg_before": load,
                          "loadavg_after": load,
                          "error": "data set not available: " + error_file.read_text()}
            else:
                request = {"method": method, "dataset": dataset, "seed": seed,
                           "neuncut_params": neuncut_params if method.startswith("neuncut")
                           else {}}
                answer = run_one(request, folder, env, args.timeout)
            meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
            line = {
                "schema": SCHEMA_VERSION,
                "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "method": method, "dataset": dataset, "family": SETS[dataset].family,
                "seed": seed, "quick": args.quick, **meta,
                "neuncut_params": neuncut_params if method.startswith("neuncut") else None,
                **answer,
                **context,
            }
            target = results_of(dataset, args.results)
            writers.setdefault(target, RecordWriter(target)).write(line)
            print(f"{head}: {_summary(line)} ({line['wall_s']:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
