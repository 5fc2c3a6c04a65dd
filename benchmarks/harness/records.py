"""The record files of every study: JSON lines, provenance written once per batch of runs.

A batch is the runs that share one provenance (the :data:`PROVENANCE` fields: command,
commit, machine, versions...). Its header line comes before its first run::

    {"batch": "5f0c2a9e1b7d", "provenance": {"command": "python -m ...", "machine": {...}}}
    {"batch": "5f0c2a9e1b7d", "method": "kmeans", "seed": 0, "nca": 0.94, ...}

:func:`read_records` returns every run merged with its batch's provenance (its own fields
first), in file order, so a run reads as the single line the studies wrote before batches;
such older lines (no ``"batch"``) are read as they are. :class:`RecordWriter` appends runs.

``python -m benchmarks.harness.records compact PATH...`` rewrites a file with only the runs its
study's report uses: the latest per the study's key (:data:`KEYS`, which the report uses
too), each kept at the place where its key first appears, so that the reports see the same
runs in the same order. Compaction also factors out what the runs of a batch repeat: the
header holds ``"templates"``, and a run line ``{"batch": ..., "template": i, ...}`` holds
only the values that differ from template ``i`` (nested dicts: only their differing
entries), expanded again on reading. Numbers are never rounded; the rewritten file must read
back to exactly the kept runs, or compaction stops.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

#: Where the record files and the generated pages live.
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"

#: Fields that say how, where and from what code runs were made: once per batch, not per run.
PROVENANCE = ("schema", "command", "git", "commit", "neuncut_source", "machine", "versions",
              "threads_env", "threads", "niceness", "memory_measure")

#: Field names a run line reserves for the format.
RESERVED = ("batch", "template")

Record = dict[str, Any]

#: Each study's key: of the runs with equal keys, its report uses the latest one only.
KEYS: dict[str, Callable[[Record], Hashable]] = {
    "run": lambda r: (r["protocol"], r["dataset"], r["label"], r["seed"], r["quick"]),
    "suite": lambda r: (r["method"], r["dataset"], r["seed"], bool(r["quick"])),
    "n_clusters": lambda r: (r["method"], r["dataset"], r["seed"]),
    "fit_speed": lambda r: (r["label"], r["case"], r["method"], r["loaded"]),
    "shapes": lambda r: (r["dataset"], r["method"], r["seed"], r["quick"]),
    "scale": lambda r: (r["dataset"], r["n"], r["seed"], r["quick"]),
    "throughput": lambda r: (),  # the page shows the latest run
    "held_out": lambda r: (r["label"], r["set"], r["seed"]),
    "network_width": lambda r: (r["set"], r["seed"], tuple(r["width"])),
    "warm_start_candidates": lambda r: (r["family"], r["set"], r["seed"]),
}

#: The study of a record file whose name is not a study's.
FILE_STUDY = {"results": "run", "representation": "run", "head_only": "run",
              "n_clusters_mnist": "run",
              "suite_hard": "suite", "n_clusters_null": "n_clusters"}


def study_of(path: str | os.PathLike[str]) -> str:
    """The study whose key applies to the record file ``path``, from its name.

    >>> study_of("benchmarks/results/representation.jsonl"), study_of("suite.jsonl")
    ('run', 'suite')
    """
    stem = Path(path).stem
    return FILE_STUDY.get(stem, stem)


def latest(records: Iterable[Record], study: str) -> dict[Hashable, Record]:
    """The latest record of each key of ``study``, in the order the keys first appear."""
    key = KEYS[study]
    out: dict[Hashable, Record] = {}
    for record in records:
        out[key(record)] = record
    return out


# ------------------------------------------------------------------------------ reading
def _lines(path: str | os.PathLike[str]) -> list[str]:
    """The non-blank lines of ``path`` (none if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [raw for raw in path.read_text(encoding="utf-8").splitlines() if raw.strip()]


def _expand(template: Record, diff: Record) -> Record:
    """``template`` with the values of ``diff``; a dict in both is expanded entry by entry."""
    out = copy.deepcopy(template)
    for k, v in diff.items():
        out[k] = _expand(out[k], v) if isinstance(out.get(k), dict) and out[k] else v
    return out


def read_records(path: str | os.PathLike[str]) -> list[Record]:
    """Every run of the record file ``path``, in file order, merged with its provenance (no
    runs if the file does not exist)."""
    headers: dict[str, Record] = {}
    records = []
    for raw in _lines(path):
        line = json.loads(raw)
        if "batch" not in line:  # written before batches
            records.append(line)
        elif "provenance" in line:
            headers[line["batch"]] = line
        else:
            header = headers[line.pop("batch")]
            if "template" in line:
                line = _expand(header["templates"][line.pop("template")], line)
            records.append({**line, **copy.deepcopy(header["provenance"])})
    return records


# ------------------------------------------------------------------------------ writing
def split_provenance(record: Record) -> tuple[Record, Record]:
    """``(provenance, run)``: the :data:`PROVENANCE` fields of ``record`` and the others."""
    clash = [k for k in RESERVED if k in record]
    if clash:
        raise ValueError(f"a record may not have the fields {clash}: the format reserves them")
    return ({k: record[k] for k in PROVENANCE if k in record},
            {k: v for k, v in record.items() if k not in PROVENANCE})


def batch_id(provenance: Record) -> str:
    """The batch of ``provenance``: a digest of it, so equal provenance is one batch."""
    text = json.dumps(provenance, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _dumps(line: Record) -> str:
    return json.dumps(line) + "\n"


class RecordWriter:
    """Appends runs to the record file ``path`` (created with its folder if missing).

    ``write(record)`` takes a run as a study builds it, its own fields and its provenance
    (:data:`PROVENANCE`) together; a batch's header is written before its first run, once
    per file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._batches: set[str] | None = None

    def write(self, record: Record) -> None:
        """Append ``record``, after its batch's header if the file has none yet."""
        if self._batches is None:  # the batches with a header, read on the first write
            lines = (json.loads(raw) for raw in _lines(self.path) if raw.startswith('{"batch"'))
            self._batches = {line["batch"] for line in lines if "provenance" in line}
        provenance, run = split_provenance(record)
        batch, text = batch_id(provenance), ""
        if batch not in self._batches:
            text = _dumps({"batch": batch, "provenance": provenance})
            self._batches.add(batch)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(text + _dumps({"batch": batch, **run}))
            f.flush()


# ------------------------------------------------------------------------------ compaction
def _shape(value: Any) -> Hashable:
    """The nested keys of a dict, in order (None for any other value)."""
    if isinstance(value, dict):
        return tuple((k, _shape(v)) for k, v in value.items())
    return None


def _template(runs: list[Record]) -> Record:
    """Per entry the commonest value among ``runs`` (all of one :func:`_shape`)."""
    out = {}
    for k, v in runs[0].items():
        if isinstance(v, dict) and v:
            out[k] = _template([r[k] for r in runs])
        else:
            counts = Counter(json.dumps(r[k]) for r in runs)
            out[k] = json.loads(counts.most_common(1)[0][0])
    return out


def _diff(run: Record, template: Record) -> Record:
    """The entries of ``run`` that differ from ``template`` (of the same shape)."""
    out = {}
    for k, v in run.items():
        if isinstance(v, dict) and v:
            inner = _diff(v, template[k])
            if inner:
                out[k] = inner
        elif json.dumps(v) != json.dumps(template[k]):
            out[k] = v
    return out


def compact_lines(records: list[Record], study: str) -> list[str]:
    """The lines of a compacted file of ``records``: the latest run per key of ``study``."""
    kept = [split_provenance(r) for r in latest(records, study).values()]
    provenances: dict[str, Record] = {}
    runs: dict[str, list[Record]] = defaultdict(list)
    for provenance, run in kept:
        batch = batch_id(provenance)
        provenances.setdefault(batch, provenance)
        runs[batch].append(run)
    headers: dict[str, Record] = {}
    templates: dict[str, dict[Hashable, tuple[int, Record]]] = {}
    for batch, provenance in provenances.items():
        groups: dict[Hashable, list[Record]] = defaultdict(list)
        for run in runs[batch]:
            groups[_shape(run)].append(run)
        shared = [(shape, group) for shape, group in groups.items() if len(group) > 1]
        templates[batch] = {shape: (i, _template(group)) for i, (shape, group) in enumerate(shared)}
        headers[batch] = {"batch": batch, "provenance": provenance}
        if shared:
            headers[batch]["templates"] = [t for _, t in templates[batch].values()]
    lines = []
    for provenance, run in kept:
        batch = batch_id(provenance)
        if batch in headers:  # before the batch's first run
            lines.append(_dumps(headers.pop(batch)))
        if _shape(run) in templates[batch]:
            i, template = templates[batch][_shape(run)]
            run = {"template": i, **_diff(run, template)}
        lines.append(_dumps({"batch": batch, **run}))
    return lines


def compact(path: str | os.PathLike[str], study: str | None = None) -> tuple[int, int]:
    """Rewrite the record file ``path`` compacted (:func:`compact_lines`); its line counts
    before and after. The study is guessed from the file's name (:func:`study_of`)."""
    path = Path(path)
    study = study or study_of(path)
    if study not in KEYS:
        raise ValueError(f"no study {study!r} (studies: {', '.join(KEYS)}); give --study")
    before = len(_lines(path))
    records = read_records(path)
    lines = compact_lines(records, study)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    expected = list(latest(records, study).values())
    if json.dumps(read_records(tmp), sort_keys=True) != json.dumps(expected, sort_keys=True):
        tmp.unlink()
        raise RuntimeError(f"{path}: the compacted file does not read back to the kept runs")
    tmp.replace(path)
    return before, len(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.harness.records",
                                description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compact", help="keep the runs the reports use, provenance per batch")
    c.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    c.add_argument("--study", choices=list(KEYS),
                   help="whose key decides which runs stay (default: from the file's name)")
    args = p.parse_args(argv)
    for path in args.paths:
        size = path.stat().st_size
        before, after = compact(path, args.study)
        print(f"{path}: {before} -> {after} lines, {size:,} -> {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
