"""A study, declared, and the one runner and command line that every study shares.

A study module declares what it measures and nothing about how runs are made::

    STUDY = Study(
        name="held_out", module="benchmarks.held_out",
        question="Do the suite's rules hold on shapes of other kinds?",
        call="benchmarks.held_out:fit_one",
        axes=(Axis("set", tuple(SETS)), Axis("seed", (0, 1, 2))),
        params=(Param("label", None, "name of this version in the records"),),
        records="held_out.jsonl", report="benchmarks.held_out:write_page")

    if __name__ == "__main__":
        sys.exit(main(STUDY))

:func:`main` gives it its command line (one option per axis and parameter, and ``--quick``,
``--results``, ``--timeout``, ``--threads``, ``--skip-done``, ``--dry-run``, ``--report``),
expands the axes into runs (their product, in the order declared, the first axis outermost),
runs each in a fresh worker process (:func:`benchmarks.harness.process.run_call`) with the
run's fields and parameters as keyword arguments, and appends one record per run to the
study's records (:class:`benchmarks.harness.records.RecordWriter`): the run's fields, its
parameters, ``quick``, a timestamp and the worker's answer, with the provenance (command,
commit, machine, thread variables, niceness, versions) once per batch. Then it rewrites the
study's page beside the records (not for a ``--quick`` run without ``--results``, whose
records go to the system's temporary folder, nor for a ``--results`` file that does not have
the study's record name, which its report would not read). ``--report`` only rewrites the
page from the records, and so does ``python -m benchmarks --pages`` for every study.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness.environment import (
    LIBRARIES,
    THREAD_VARS,
    git_state,
    machine_info,
    neuncut_source,
    recorded_command,
    repo_relative,
)
from benchmarks.harness.process import run_call, thread_env
from benchmarks.harness.records import KEYS, RESULTS_DIR, RecordWriter, read_records

Run = dict[str, Any]


@dataclass(frozen=True)
class Axis:
    """One dimension of a study's runs: the record field ``name`` takes each of ``values``.

    Its option is ``--NAMEs`` (``flag`` to change it). ``choices`` limits what the option
    takes (default: ``values`` when they are strings); ``expand`` turns the tokens given into
    values (names of groups, for example); ``type`` converts each token.
    """

    name: str
    values: tuple[Any, ...]
    help: str = ""
    flag: str | None = None
    type: Callable[[str], Any] = str
    choices: tuple[Any, ...] | None = None
    expand: Callable[[list[Any]], list[Any]] | None = None

    @property
    def option(self) -> str:
        """The command-line option, ``--NAMEs`` unless ``flag`` says otherwise."""
        return self.flag or f"--{self.name.replace('_', '-')}s"


@dataclass(frozen=True)
class Param:
    """A value every run of an invocation shares (``--NAME``), recorded with each run."""

    name: str
    default: Any
    help: str = ""
    type: Callable[[str], Any] | None = None

    @property
    def option(self) -> str:
        """The command-line option."""
        return f"--{self.name.replace('_', '-')}"


@dataclass(frozen=True)
class Study:
    """What a study runs, where its records go and how its page is made.

    Parameters
    ----------
    name : str
        The study's name; its key in :data:`benchmarks.harness.records.KEYS` unless ``key``.
    module : str
        The module that declares it: ``python -m MODULE`` runs it.
    question : str
        The question it answers, one sentence.
    call : str
        ``"module:function"`` that makes one run in a fresh worker; it takes the run's fields,
        the parameters, ``quick`` and, with ``prepare``, ``data`` (the prepared folder) as
        keyword arguments and returns the record's result fields.
    axes, params : tuples of Axis and Param
        The runs are the product of the axes' values; the parameters are shared.
    records : str
        The record file, in ``benchmarks/results/``. ``route`` can send a run to another
        file (a run's dict -> file name); ``more_records`` are the others the page reads.
    report : str, optional
        ``"module:function"`` that rewrites the page (and ``plot``) from the records alone.
    page, plot : str, optional
        The generated page and figure, in ``benchmarks/results/``.
    quick : dict
        ``--quick``'s values for axes and parameters (a smoke run); quick runs write to a file
        in the system's temporary folder unless ``--results``.
    prepare : str, optional
        ``"module:function"`` called once per invocation in a worker of its own with
        ``folder`` and ``runs``, to write the data the runs read.
    derive : callable, optional
        Fields computed from a run's axes and parameters (a label, a family), added to it.
    keep : callable, optional
        Which runs of the product to make (default all).
    python : callable, optional
        The interpreter of a run (default ours), for methods with an environment of their own.
    timeout, threads : float, int or None
        Seconds per run; the thread count of :data:`THREAD_VARS` where they are unset (None:
        the libraries' own, every core).
    """

    name: str
    module: str
    question: str
    call: str
    axes: tuple[Axis, ...]
    records: str
    params: tuple[Param, ...] = ()
    report: str | None = None
    page: str | None = None
    plot: str | None = None
    quick: dict[str, Any] = field(default_factory=dict)
    prepare: str | None = None
    derive: Callable[[Run], Run] | None = None
    keep: Callable[[Run], bool] | None = None
    route: Callable[[Run], str] | None = None
    more_records: tuple[str, ...] = ()
    python: Callable[[Run], str | None] | None = None
    key: str | None = None
    timeout: float | None = 900.0
    threads: int | None = 1
    versions: tuple[str, ...] = LIBRARIES
    show: Callable[[Run], str] | None = None

    @property
    def record_files(self) -> tuple[str, ...]:
        """Every record file of the study, in ``benchmarks/results/``."""
        return (self.records, *self.more_records)

    @property
    def report_command(self) -> str:
        """The shell command that rewrites the page."""
        return f"python -m {self.module} --report"

    def runs(self, values: dict[str, list[Any]], params: dict[str, Any]) -> list[Run]:
        """The runs of ``values`` per axis, with the parameters and derived fields."""
        runs: list[Run] = [{}]
        for axis in self.axes:
            runs = [{**run, axis.name: v} for run in runs for v in values[axis.name]]
        out = []
        for run in runs:
            run = {**run, **params}
            if self.derive is not None:
                run = {**run, **self.derive(run)}
            if self.keep is None or self.keep(run):
                out.append(run)
        return out


def call(target: str, *args: Any) -> Any:
    """Call ``"module:function"`` in this process."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


def write_page(study: Study, folder: Path | None = None) -> None:
    """Rewrite ``study``'s page from its records in ``folder`` (default
    ``benchmarks/results/``), into that folder; nothing if it has no report."""
    if study.report is not None:
        call(study.report, folder or RESULTS_DIR)


# ------------------------------------------------------------------------ command line
def parse_args(study: Study, argv: Sequence[str] | None) -> argparse.Namespace:
    """The study's command line: an option per axis and parameter, and the shared ones."""
    p = argparse.ArgumentParser(prog=f"python -m {study.module}", description=study.question)
    for axis in study.axes:
        strings = all(isinstance(v, str) for v in axis.values)
        choices = axis.choices or (axis.values if strings and axis.expand is None else None)
        p.add_argument(axis.option, dest=f"axis_{axis.name}", nargs="+", type=axis.type,
                       choices=choices, default=None, metavar=axis.name.upper(),
                       help=f"{axis.help} (default: {' '.join(map(str, axis.values))})"
                       if len(axis.values) <= 12 else f"{axis.help} (default: all)")
    for param in study.params:
        kind = param.type or (type(param.default) if param.default is not None else str)
        p.add_argument(param.option, dest=f"param_{param.name}", type=kind,
                       default=param.default, metavar=param.name.upper(),
                       help=f"{param.help} (default: {param.default})")
    p.add_argument("--quick", action="store_true", help="a smoke run: "
                   + ", ".join(f"{k}={v}" for k, v in study.quick.items()))
    p.add_argument("--results", type=Path, default=None,
                   help=f"the record file (default benchmarks/results/{study.records})")
    p.add_argument("--timeout", type=float, default=study.timeout, help="seconds per run")
    p.add_argument("--threads", type=int, default=study.threads,
                   help=f"{', '.join(THREAD_VARS)} where unset")
    p.add_argument("--skip-done", action="store_true",
                   help="skip runs whose key already has a successful record")
    p.add_argument("--dry-run", action="store_true", help="list the runs and stop")
    p.add_argument("--report", action="store_true",
                   help="only rewrite the page, from the records in the folder of --results "
                        "(which must have the study's record name)")
    return p.parse_args(argv)


def selected(study: Study, args: argparse.Namespace) -> tuple[dict[str, list[Any]], Run]:
    """The values per axis and the parameters of this invocation (``--quick``'s first)."""
    values, params = {}, {}
    for axis in study.axes:
        given = getattr(args, f"axis_{axis.name}")
        if given is None:
            given = list(study.quick.get(axis.name, axis.values) if args.quick else axis.values)
        elif axis.expand is not None:
            given = axis.expand(given)
        values[axis.name] = given
    for param in study.params:
        value = getattr(args, f"param_{param.name}")
        if args.quick and param.name in study.quick and value == param.default:
            value = study.quick[param.name]
        params[param.name] = value
    return values, params


def _done(study: Study, paths: list[Path], quick: bool) -> set[Any]:
    """The keys of the successful runs of ``paths`` made with the same ``quick``."""
    key = KEYS[study.key or study.name]
    return {key(r) for path in paths for r in read_records(path)
            if r.get("status") == "ok" and bool(r.get("quick")) == quick}


def _summary(study: Study, line: Run) -> str:
    """One progress line for the console."""
    if line["status"] != "ok":
        return "FAILED: " + str(line["error"])[:300]
    return study.show(line) if study.show is not None else "ok"


def main(study: Study, argv: Sequence[str] | None = None) -> int:
    """Run the study's runs (or only rewrite its page); 0 even if runs fail."""
    args = parse_args(study, argv)
    if args.report:
        folder = _pages_beside(study, args.results, quick=False)
        if folder is None or study.page is None:
            print(f"no page: the report reads {', '.join(study.record_files)}")
            return 1
        write_page(study, folder)
        print(f"wrote {repo_relative(folder / study.page)}")
        return 0
    values, params = selected(study, args)
    runs = [{**run, "quick": args.quick} for run in study.runs(values, params)]

    def target(run: Run) -> Path:
        if args.results is not None:
            return args.results
        if args.quick:
            return Path(tempfile.gettempdir()) / f"neuncut-{study.name}-quick.jsonl"
        return RESULTS_DIR / (study.route(run) if study.route else study.records)

    if args.skip_done:
        done, key = _done(study, sorted({target(r) for r in runs}), args.quick), KEYS[
            study.key or study.name]
        runs = [r for r in runs if key(r) not in done]
    if args.dry_run:
        print("\n".join(" ".join(f"{a.name}={r[a.name]}" for a in study.axes) for r in runs))
        return 0
    env = thread_env(args.threads) if args.threads else dict(os.environ)
    provenance = {"command": recorded_command(study.module, sys.argv[1:] if argv is None
                                              else list(argv)),
                  "git": git_state(), "neuncut_source": neuncut_source(),
                  "machine": machine_info(),
                  "threads_env": {v: env.get(v) for v in THREAD_VARS}, "niceness": os.nice(0)}
    writers: dict[Path, RecordWriter] = {}
    print(f"{len(runs)} runs -> {', '.join(sorted({str(target(r)) for r in runs}))}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix=f"neuncut-{study.name}-") as folder:
        extra: Run = {}
        if study.prepare is not None:
            answer = run_call(study.prepare, {"folder": folder, "runs": runs},
                              timeout=args.timeout, env=env)
            if answer["status"] != "ok":
                print(f"the data preparation failed: {answer['error']}", flush=True)
            extra["data"] = folder
        for i, run in enumerate(runs, 1):
            answer = run_call(study.call, {**run, **extra}, timeout=args.timeout, env=env,
                              python=study.python(run) if study.python else None,
                              versions=study.versions)
            stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            line = {**run, "timestamp": stamp, **answer, **provenance}
            path = target(run)
            writers.setdefault(path, RecordWriter(path)).write(line)
            head = " ".join(str(run[a.name]) for a in study.axes)
            print(f"[{i}/{len(runs)}] {head}: {_summary(study, line)} "
                  f"({line['wall_s']:.1f}s)", flush=True)
    folder = _pages_beside(study, args.results, quick=args.quick)
    if runs and folder is not None:
        write_page(study, folder)
    return 0


def _pages_beside(study: Study, results: Path | None, *, quick: bool) -> Path | None:
    """The folder whose records the page is made from and written to: the results folder, or
    that of ``--results`` when the file has one of the study's record names; None when
    there is no page to write (no report, a ``--quick`` run's records in the temporary
    folder, or a file of another name, which the report would not read)."""
    if study.report is None:
        return None
    if results is None:
        return None if quick else RESULTS_DIR
    return results.parent if results.name in study.record_files else None


def json_arg(text: str) -> Any:
    """A command-line value read as JSON where it parses, else as the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text
