"""The benchmark harness (benchmarks/harness/): one runner, one worker."""

from __future__ import annotations

import doctest
import os
from typing import Any

import pytest

from benchmarks.harness import environment, process, worker

pytestmark = pytest.mark.integration  # every test here starts a worker process


def add(a: int, b: int) -> dict[str, Any]:
    """A worker function for the tests: the sum and the worker's process id."""
    return {"sum": a + b, "pid": os.getpid()}


def fail(message: str) -> dict[str, Any]:
    """A worker function that raises."""
    raise ValueError(message)


def sleep(seconds: float) -> dict[str, Any]:
    """A worker function that takes ``seconds``."""
    import time

    time.sleep(seconds)
    return {}


@pytest.mark.parametrize("module", [process, environment])
def test_doctests(module) -> None:
    assert doctest.testmod(module).failed == 0


def test_run_call_answers_in_a_fresh_process_with_its_measures() -> None:
    answer = process.run_call("tests.test_harness:add", {"a": 2, "b": 3}, timeout=60,
                              versions=("numpy", "no-such-distribution"))
    assert answer["status"] == "ok" and answer["error"] is None
    assert answer["sum"] == 5 and answer["pid"] != os.getpid()
    assert answer["peak_rss_mb"] > 0 and answer["wall_s"] > 0
    assert {"loadavg_before", "loadavg_after", "peak_rss_children_mb"} <= set(answer)
    assert answer["versions"]["numpy"] and answer["versions"]["no-such-distribution"] is None


def test_a_raising_function_answers_its_error_without_machine_paths() -> None:
    answer = process.run_call("tests.test_harness:fail", {"message": "bad /tmp/x/y.npz"},
                              timeout=60)
    assert answer["status"] == "error"
    assert answer["error"] == "ValueError: bad y.npz"
    assert "tests/test_harness.py" in answer["traceback"]
    assert os.getcwd() not in answer["traceback"]


def test_a_run_past_its_timeout_is_an_error() -> None:
    answer = process.run_call("tests.test_harness:sleep", {"seconds": 30}, timeout=2)
    assert answer["status"] == "error" and answer["error"] == "timeout: no result within 2 s"
    assert answer["wall_s"] < 20


def test_an_unknown_function_or_bad_arguments_are_errors() -> None:
    missing = process.run_call("tests.test_harness:nothing", {}, timeout=60)
    assert missing["status"] == "error" and "AttributeError" in missing["error"]
    wrong = process.run_call("tests.test_harness:add", {"a": 1}, timeout=60)
    assert wrong["status"] == "error" and "TypeError" in wrong["error"]


def test_a_dead_worker_is_an_error_with_its_exit_status() -> None:
    answer = process.run_call("os:abort", {}, timeout=60)
    assert answer["status"] == "error"
    assert answer["error"].startswith("the worker was killed by signal 6 (exit status -6)")


def test_worker_answer_in_process_is_json_able() -> None:
    out = worker.answer({"call": "tests.test_harness:add", "args": {"a": 1, "b": 1},
                         "versions": []})
    assert out["status"] == "ok" and out["sum"] == 2 and out["versions"] == {}


def test_every_result_file_belongs_to_exactly_one_study() -> None:
    from benchmarks.harness.records import KEYS, RESULTS_DIR, study_of
    from benchmarks.harness.studies import studies

    owned = [name for s in studies() for name in (*s.record_files, s.page, s.plot) if name]
    owned += ["HEAD_ONLY.md", "head_only.png"]  # the representation study's second page
    assert len(owned) == len(set(owned))
    on_disk = {p.name for p in RESULTS_DIR.iterdir() if p.is_file()}
    assert on_disk == set(owned)
    for study in studies():
        assert (study.key or study.name) in KEYS
        assert study_of(RESULTS_DIR / study.records) == (study.key or study.name)
        for records in study.more_records:  # a key to compact by (the MNIST runs: the grid's)
            assert study_of(RESULTS_DIR / records) in KEYS


def test_every_committed_page_is_what_its_records_give() -> None:
    from benchmarks.harness.studies import check_pages

    assert check_pages() == []
