"""Run the benchmark grid: ``python -m benchmarks.run [options]``.

Each (protocol, data set, method, seed) runs in a fresh worker process of the harness
(:func:`benchmarks.methods.run`) and appends one record (:mod:`benchmarks.harness.records`)
to the results file (default ``benchmarks/results/results.jsonl``): the run's parameters,
ACC/NMI/ARI on all rows, on the trained rows and on the unseen rows, fit and predict times,
peak memory (``ru_maxrss`` of the worker process), library versions, the git commit and the
machine. A run that fails or times out writes a line with its error instead of metrics.
``python -m benchmarks.report`` turns the lines into ``benchmarks/results/RESULTS.md``.

Examples
--------
The paper's protocol on MNIST, the cheap methods, seed 0::

    python -m benchmarks.run --protocols A --datasets mnist --methods neuncut kmeans --seeds 0

A smoke test in well under a minute::

    python -m benchmarks.run --quick --datasets digits --methods neuncut kmeans \
        --results /tmp/results.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from benchmarks.data import data_key
from benchmarks.grid import (
    DATASETS,
    EXTRA_DATASETS,
    METHODS,
    PAPER_EPOCHS,
    PROTOCOLS,
    QUICK_N_TOTAL,
    QUICK_N_TRAIN,
    SPECTRAL_ASSIGN,
    SPECTRAL_SOLVER,
    RunSpec,
    build_grid,
    parse_variant,
)
from benchmarks.harness.environment import (
    git_state,
    machine_info,
    recorded_command,
    repo_relative,
)
from benchmarks.harness.process import run_call
from benchmarks.harness.records import RESULTS_DIR, RecordWriter

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_RESULTS = RESULTS_DIR / "results.jsonl"
#: Quick (smoke) runs go elsewhere by default, to keep them out of the committed results.
QUICK_RESULTS = RESULTS_DIR / "results-quick.jsonl"
DEFAULT_PEERS_PYTHON = BENCH_DIR / ".venv-peers" / "bin" / "python"
SCHEMA_VERSION = 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the runner."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=list(PROTOCOLS))
    p.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=[*DATASETS, *EXTRA_DATASETS]
    )
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="default 0 1 2 3 4 (--quick: 0)"
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        help="record file to append to (default benchmarks/results/results.jsonl; "
        "with --quick benchmarks/results/results-quick.jsonl)",
    )
    p.add_argument(
        "--quick", action="store_true", help="tiny smoke run: 2000 rows, 1000 trained, 2 epochs"
    )
    p.add_argument("--n-train", type=int, default=None, help="training rows (default 20000)")
    p.add_argument(
        "--paper-epochs",
        type=int,
        default=PAPER_EPOCHS,
        help="epochs of neuncut-paper (the paper: 300)",
    )
    p.add_argument(
        "--spectral-solver", default=SPECTRAL_SOLVER, choices=["amg", "arpack", "lobpcg"]
    )
    p.add_argument(
        "--spectral-assign", default=SPECTRAL_ASSIGN, choices=["kmeans", "cluster_qr", "discretize"]
    )
    p.add_argument(
        "--peers-python",
        type=Path,
        default=DEFAULT_PEERS_PYTHON,
        help="interpreter of the peers' virtual environment",
    )
    p.add_argument(
        "--variant",
        dest="variants",
        action="append",
        type=parse_variant,
        default=None,
        metavar="NAME=VALUE[,...]",
        help="ablation: run neuncut with these parameters instead of the defaults (repeatable;"
        " '' is the defaults)",
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per run")
    p.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    args = p.parse_args(argv)
    if args.results is None:
        args.results = QUICK_RESULTS if args.quick else DEFAULT_RESULTS
    if args.seeds is None:
        args.seeds = [0] if args.quick else [0, 1, 2, 3, 4]
    return args


def specs_from_args(args: argparse.Namespace) -> list[RunSpec]:
    """The grid requested on the command line."""
    common: dict[str, Any] = {
        "quick": args.quick,
        "paper_epochs": args.paper_epochs,
        "spectral_solver": args.spectral_solver,
        "spectral_assign": args.spectral_assign,
        "peers_python": str(args.peers_python),
    }
    if args.quick:
        common.update(n_total=QUICK_N_TOTAL, n_train=QUICK_N_TRAIN)
    if args.n_train is not None:
        common["n_train"] = args.n_train
    if args.variants:
        common["variants"] = args.variants
    return build_grid(args.protocols, args.datasets, args.methods, args.seeds, **common)


def run_worker(spec: RunSpec, data_dir: Path, timeout: float) -> dict[str, Any]:
    """Prepare the data of ``spec`` if needed, then run it in a fresh worker process
    (:func:`benchmarks.methods.run`)."""
    data = data_dir / data_key(spec)
    if not (data / "meta.json").exists():
        answer = run_call("benchmarks.data:prepare_run",
                          {"spec": spec.to_dict(), "folder": str(data)}, timeout=timeout)
        if answer["status"] != "ok":
            return _error_result(spec, "data preparation failed: " + answer["error"])
    result = run_call("benchmarks.methods:run", {"spec": spec.to_dict(), "data": str(data)},
                      timeout=timeout)
    return {**result, "spec": spec.to_dict()}


def _error_result(spec: RunSpec, error: str) -> dict[str, Any]:
    """A result for a run whose worker produced nothing."""
    return {"status": "error", "error": error, "spec": spec.to_dict()}


def make_line(result: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The JSON line of one run: identification, spec, result and provenance."""
    spec = result.pop("spec")
    spec["peers_python"] = repo_relative(spec.get("peers_python", ""))
    return {
        "schema": SCHEMA_VERSION,
        "run_id": uuid.uuid4().hex,
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **{
            k: spec[k]
            for k in ("protocol", "features", "dataset", "method", "label", "seed", "quick")
        },
        "spec": spec,
        "status": result.pop("status"),
        "error": result.pop("error", None),
        **result,
        "memory_measure": "ru_maxrss of the fresh worker process (RUSAGE_SELF: data loading "
        "included); peers: ru_maxrss of their own process",
        **context,
    }


def _summary(line: dict[str, Any]) -> str:
    """One progress line for the console."""
    if line["status"] != "ok":
        return f"FAILED: {line['error'][:300]}"
    m = line["metrics"]
    unseen = m["unseen"]["acc"] if m["unseen"] else float("nan")
    return (
        f"acc all {m['all']['acc']:.3f} unseen {unseen:.3f} nmi {m['all']['nmi']:.3f} "
        f"fit {line['fit_s']:.1f}s peak {line['peak_rss_mb']:.0f}MB"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the requested grid, appending one line per run; 0 even if runs failed."""
    args = parse_args(argv)
    specs = specs_from_args(args)
    if args.dry_run:
        for spec in specs:
            print(spec.protocol, spec.dataset, spec.label, spec.seed)
        return 0
    argv_used = sys.argv[1:] if argv is None else argv
    context = {
        "command": recorded_command("benchmarks.run", argv_used),
        "machine": machine_info(),
    }
    print(f"{len(specs)} runs -> {args.results}", flush=True)
    records = RecordWriter(args.results)
    with tempfile.TemporaryDirectory(prefix="neuncut-bench-data-") as data_dir:
        for i, spec in enumerate(specs, 1):
            head = (
                f"[{i}/{len(specs)}] {spec.protocol} {spec.dataset} {spec.label} seed {spec.seed}"
            )
            print(head + " ...", flush=True)
            # Read per run, as the worker starts: the tree may change while the grid runs.
            git = git_state()
            result = run_worker(spec, Path(data_dir), args.timeout)
            line = make_line(result, {**context, "git": git})
            records.write(line)
            print(f"{head}: {_summary(line)} ({line.get('wall_s', 0):.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
