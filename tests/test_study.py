"""A study's declaration and the one runner (benchmarks/harness/study.py)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.harness import study as harness
from benchmarks.harness.records import read_records
from benchmarks.harness.studies import MODULES
from benchmarks.harness.study import Axis, Param, Study

# The worker imports this module for toy_run: no study modules (torch...) at the top.


def toy_run(set: str, seed: int, scale: int, label: str, quick: bool,
            double: bool) -> dict[str, Any]:
    """A worker function for the toy study."""
    if set == "bad":
        raise ValueError("a bad set")
    return {"value": len(set) * scale + seed}


def toy_page(folder: Path) -> None:
    """The toy study's page: the values of its runs."""
    values = [r.get("value") for name in ("toy.jsonl", "toy_b.jsonl")
              for r in read_records(folder / name)]
    (folder / "TOY.md").write_text(json.dumps(values))


TOY = Study(
    name="held_out", module="tests.test_study", question="A toy study.",
    call="tests.test_study:toy_run",
    axes=(Axis("set", ("a", "bb", "bad")), Axis("seed", (0, 1), type=int)),
    params=(Param("scale", 10, "a factor"), Param("label", "toy")),
    quick={"seed": (0,), "scale": 100},
    derive=lambda r: {"double": r["set"] == "bb"}, keep=lambda r: r["set"] != "bb" or r["seed"],
    records="toy.jsonl", more_records=("toy_b.jsonl",), page="TOY.md",
    route=lambda r: "toy_b.jsonl" if r["double"] else "toy.jsonl",
    report="tests.test_study:toy_page")


def test_runs_are_the_product_of_the_axes_with_params_and_derived_fields() -> None:
    runs = TOY.runs({"set": ["a", "bb"], "seed": [0, 1]}, {"scale": 3})
    assert [(r["set"], r["seed"]) for r in runs] == [("a", 0), ("a", 1), ("bb", 1)]
    assert all(r["scale"] == 3 and r["double"] == (r["set"] == "bb") for r in runs)


def test_command_line_takes_axes_params_and_quick() -> None:
    args = harness.parse_args(TOY, ["--sets", "a", "--seeds", "1", "--scale", "7"])
    assert harness.selected(TOY, args) == ({"set": ["a"], "seed": [1]},
                                           {"scale": 7, "label": "toy"})
    args = harness.parse_args(TOY, ["--quick"])
    assert harness.selected(TOY, args) == ({"set": ["a", "bb", "bad"], "seed": [0]},
                                           {"scale": 100, "label": "toy"})
    with pytest.raises(SystemExit):
        harness.parse_args(TOY, ["--sets", "no-such-set"])


@pytest.mark.parametrize("module", MODULES)
def test_every_study_lists_its_runs(module: str, capsys: pytest.CaptureFixture) -> None:
    declared = importlib.import_module(f"benchmarks.{module}").STUDY
    assert harness.main(declared, ["--dry-run"]) == 0
    listed = capsys.readouterr().out.splitlines()
    values, params = harness.selected(declared, harness.parse_args(declared, []))
    assert len(listed) == len(declared.runs(values, params)) > 0
    assert harness.main(declared, ["--dry-run", "--quick"]) == 0
    assert 0 < len(capsys.readouterr().out.splitlines()) <= len(listed)


@pytest.mark.integration
def test_a_study_runs_records_routes_skips_done_and_reports(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(harness, "RESULTS_DIR", tmp_path)
    assert harness.main(TOY, []) == 0
    runs = read_records(tmp_path / "toy.jsonl")
    assert [(r["set"], r["seed"], r["status"]) for r in runs] == [
        ("a", 0, "ok"), ("a", 1, "ok"), ("bad", 0, "error"), ("bad", 1, "error")]
    assert [r["value"] for r in runs[:2]] == [10, 11] and "a bad set" in runs[2]["error"]
    (double,) = read_records(tmp_path / "toy_b.jsonl")
    assert double["value"] == 21 and double["double"] and double["quick"] is False
    for r in [*runs, double]:
        assert r["command"] == "python -m tests.test_study"
        assert {"commit", "dirty"} <= r["git"].keys() and r["threads_env"]["OMP_NUM_THREADS"]
        assert r["wall_s"] > 0 and r["timestamp"]
    header = json.loads((tmp_path / "toy.jsonl").read_text().splitlines()[0])
    assert "machine" in header["provenance"]  # provenance once per batch, not per run
    assert json.loads((tmp_path / "TOY.md").read_text()) == [10, 11, None, None, 21]
    # a rerun with --skip-done makes only the failed runs again
    assert harness.main(TOY, ["--skip-done", "--sets", "a", "bad"]) == 0
    assert len(read_records(tmp_path / "toy.jsonl")) == 6
    # records of another name: no page (the report would not read them), and --report says so
    other = tmp_path / "elsewhere" / "other.jsonl"
    assert harness.main(TOY, ["--sets", "a", "--seeds", "0", "--results", str(other)]) == 0
    assert len(read_records(other)) == 1 and not (other.parent / "TOY.md").exists()
    assert harness.main(TOY, ["--report", "--results", str(other)]) == 1


def test_a_study_derived_from_another_keeps_the_choices_of_its_axes() -> None:
    """The representation study runs protocol B by default and still takes A."""
    from benchmarks.representation import STUDY as representation

    args = harness.parse_args(representation, ["--protocols", "A", "--seeds", "0"])
    values, params = harness.selected(representation, args)
    assert values["protocol"] == ["A"] and params["n_train"] == 70_000
    assert harness.selected(representation, harness.parse_args(representation, []))[0][
        "protocol"] == ["B"]
