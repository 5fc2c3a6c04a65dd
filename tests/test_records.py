"""The benchmarks' record files (benchmarks/harness/records.py): batches, old lines, compaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.harness import records
from benchmarks.harness.records import (
    KEYS,
    RESULTS_DIR,
    RecordWriter,
    compact,
    latest,
    read_records,
    study_of,
)

MACHINE_A = {"cpu_model": "A", "cpu_count": 2, "thread_env": {"OMP_NUM_THREADS": "1"}}
MACHINE_B = {"cpu_model": "B", "cpu_count": 4, "thread_env": {}}


def _run(method: str, dataset: str, seed: int, nca: float, machine: dict = MACHINE_A,
         **extra) -> dict:
    """A suite-like record: run fields, then provenance, as the studies build them."""
    return {"schema": 1, "method": method, "dataset": dataset, "seed": seed, "quick": False,
            "status": "ok", "nca": nca, "fit_s": 0.1 + nca,
            "params": {"n_clusters": 3, "random_state": seed, "tol": 1e-3, "layers": [8, 8],
                       "extra": {"a": 1, "b": None}},
            **extra, "command": "python -m benchmarks.suite", "commit": "abc", "machine": machine}


def _lines(path: Path) -> list[dict]:
    return [json.loads(raw) for raw in path.read_text().splitlines()]


def _same(got: list[dict], expected: list[dict]) -> bool:
    """Equal lists of records, values compared as JSON (NaN included), in order."""
    return json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_roundtrip_writes_each_batch_header_once(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "r.jsonl"
    runs = [_run("kmeans", "iris", 0, 0.5), _run("genie", "iris", 0, 0.6, MACHINE_B),
            _run("kmeans", "iris", 1, 0.7), _run("genie", "iris", 1, 0.8, MACHINE_B)]
    writer = RecordWriter(path)
    for run in runs:
        writer.write(run)
    assert read_records(path) == runs
    lines = _lines(path)
    headers = [x for x in lines if "provenance" in x]
    assert len(headers) == 2 and len(lines) == 6
    assert headers[0]["provenance"] == {"schema": 1, "command": "python -m benchmarks.suite",
                                        "commit": "abc", "machine": MACHINE_A}
    assert all("machine" not in x and "commit" not in x for x in lines if "provenance" not in x)
    # another writer (another process) on the same file: no second header for a known batch
    RecordWriter(path).write(_run("kmeans", "wine", 0, 0.1))
    assert len([x for x in _lines(path) if "provenance" in x]) == 2
    assert read_records(path)[-1] == _run("kmeans", "wine", 0, 0.1)


def test_runs_without_provenance_and_reserved_fields(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    RecordWriter(path).write({"set": "s1", "seed": 0, "nca": 0.5})
    assert _lines(path)[0]["provenance"] == {}
    assert read_records(path) == [{"set": "s1", "seed": 0, "nca": 0.5}]
    with pytest.raises(ValueError, match="reserve"):
        RecordWriter(path).write({"batch": 1, "seed": 0})
    assert read_records(tmp_path / "missing.jsonl") == []


def test_old_lines_are_read_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    old = [_run("kmeans", "iris", 0, 0.5, note="old"), _run("kmeans", "iris", 1, 0.25)]
    path.write_text("".join(json.dumps(x) + "\n" for x in old) + "\n")
    RecordWriter(path).write(_run("kmeans", "iris", 2, 0.75))  # new lines after old ones
    got = read_records(path)
    assert got[:2] == old and [list(x) for x in got[:2]] == [list(x) for x in old]  # key order
    assert got[2] == _run("kmeans", "iris", 2, 0.75)


def test_compaction_keeps_the_latest_per_key_where_the_key_first_appears(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    runs = [_run("kmeans", "iris", 0, 0.1), _run("genie", "iris", 0, 0.2, MACHINE_B),
            _run("kmeans", "iris", 1, 0.3, warnings=["W"]), _run("kmeans", "iris", 0, 0.4),
            _run("kmeans", "wine", 0, -0.0, flag=True), _run("kmeans", "wine", 0, float("nan")),
            _run("genie", "iris", 0, 0.2, MACHINE_B)]  # an exact repeat
    runs[3]["params"]["extra"]["b"] = 7  # nested values that differ between runs
    path.write_text(json.dumps(runs[0]) + "\n")  # an old line, then new ones
    writer = RecordWriter(path)
    for run in runs[1:]:
        writer.write(run)
    kept = list(latest(read_records(path), "suite").values())
    assert [(x["method"], x["dataset"], x["seed"], x["nca"]) for x in kept[:3]] == [
        ("kmeans", "iris", 0, 0.4), ("genie", "iris", 0, 0.2), ("kmeans", "iris", 1, 0.3)]
    assert compact(path) == (9, 6)  # 4 runs, 2 batch headers
    assert _same(read_records(path), kept)
    lines = _lines(path)
    assert [x["batch"] for x in lines if "provenance" in x] == [
        records.batch_id({"schema": 1, "command": "python -m benchmarks.suite", "commit": "abc",
                          "machine": m}) for m in (MACHINE_A, MACHINE_B)]
    header = lines[0]
    (template,) = header["templates"]  # kmeans iris 0 and wine 0 have the same fields
    assert template["params"]["layers"] == [8, 8]
    diffs = [x for x in lines if "template" in x]
    assert len(diffs) == 2 and all("method" not in x and "machine" not in x for x in diffs)
    assert compact(path) == (6, 6) and _same(read_records(path), kept)  # idempotent


def test_compaction_never_rounds_nor_confuses_equal_looking_values(tmp_path: Path) -> None:
    path = tmp_path / "fit_speed.jsonl"
    values = [1, 1.0, True, 0.1 + 0.2, -0.0, 0.0, None, "1", [1], {"x": 1}, float("inf")]
    runs = [{"label": "a", "case": f"c{i}", "method": "m", "loaded": False, "v": v, "w": 1}
            for i, v in enumerate(values)]
    path.write_text("".join(json.dumps(x) + "\n" for x in runs))
    compact(path)
    got = read_records(path)
    assert [json.dumps(x["v"]) for x in got] == [json.dumps(v) for v in values]
    assert [type(x["v"]) for x in got] == [type(v) for v in values]


def test_compact_command_and_study_of(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert study_of(RESULTS_DIR / "representation.jsonl") == "run"
    assert study_of("n_clusters_null.jsonl") == "n_clusters"
    assert study_of("x/shapes.jsonl") == "shapes"
    path = tmp_path / "held.jsonl"
    rows = [{"label": "a", "set": "s", "seed": 0, "nca": n} for n in (0.1, 0.2)]
    path.write_text("".join(json.dumps(x) + "\n" for x in rows))
    with pytest.raises(ValueError, match="give --study"):
        compact(path)
    assert records.main(["compact", str(path), "--study", "held_out"]) == 0
    assert "2 -> 2 lines" in capsys.readouterr().out
    assert read_records(path) == rows[1:]


def test_committed_records_read_with_their_study_key() -> None:
    files = sorted(RESULTS_DIR.glob("*.jsonl"))
    assert files and all(study_of(f) in KEYS for f in files)
    for f in files:
        runs = read_records(f)
        assert runs, f
        latest(runs, study_of(f))  # every record has its study's key fields


@pytest.mark.parametrize("page", ["SHAPES.md", "SCALE.md", "FIT_SPEED.md"])
def test_committed_pages_regenerate_from_the_records(tmp_path: Path, page: str) -> None:
    """The pages a study writes with its records come back byte for byte from them."""
    from benchmarks import fit_speed_report, scale, shapes

    study = {"SHAPES.md": "shapes", "SCALE.md": "scale", "FIT_SPEED.md": "fit_speed"}[page]
    records_file = tmp_path / f"{study}.jsonl"
    records_file.write_bytes((RESULTS_DIR / records_file.name).read_bytes())
    if study == "fit_speed":
        fit_speed_report.write_report(records_file, tmp_path / page)
    else:
        {"shapes": shapes, "scale": scale}[study].write_page(tmp_path)
    assert (tmp_path / page).read_text() == (RESULTS_DIR / page).read_text()
