"""The benchmark runner in quick mode: JSON-line schema, failure lines and the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.harness.records import read_records

REPO = Path(__file__).resolve().parent.parent
SCORES = {"acc", "nmi", "ari"}
PROVENANCE = {"command", "git", "machine", "versions"}


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m module args`` from the repository root, one thread per library (as in
    conftest.py: steadier on a busy 2-core machine); fails the test on error."""
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env={**os.environ, **threads},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """Quick runs of neuncut and kmeans on digits, plus one peer that cannot start."""
    folder = tmp_path_factory.mktemp("bench")
    results = folder / "results.jsonl"
    _run(
        "benchmarks.run",
        "--quick",
        "--datasets",
        "digits",
        "--protocols",
        "B",
        "--seeds",
        "0",
        "--methods",
        "neuncut",
        "kmeans",
        "spectralnet",
        "--results",
        str(results),
        "--peers-python",
        str(folder / "no-such-python"),
    )
    return folder, read_records(results)


@pytest.mark.integration
def test_one_line_per_run(quick_results: tuple[Path, list[dict]]) -> None:
    _, lines = quick_results
    assert [x["method"] for x in lines] == ["neuncut", "kmeans", "spectralnet"]
    for x in lines:
        assert x["protocol"] == "B" and x["dataset"] == "digits" and x["seed"] == 0
        assert x["quick"] is True
        assert PROVENANCE <= x.keys() and {"wall_s", "loadavg_before", "loadavg_after"} <= x.keys()
        assert {"commit", "dirty"} <= x["git"].keys()
        assert {"platform", "cpu_count", "cpu_model", "ram_gb"} <= x["machine"].keys()
        assert x["versions"]["neuncut"] is not None and x["versions"]["torch"] is not None


@pytest.mark.integration
def test_successful_lines_have_metrics(quick_results: tuple[Path, list[dict]]) -> None:
    _, lines = quick_results
    for x in lines[:2]:
        assert x["status"] == "ok" and x["error"] is None, x.get("error")
        assert x["n_total"] == x["n_train"] + x["n_unseen"] and x["n_unseen"] > 0
        for part in ("all", "train", "unseen"):
            assert x["metrics"][part].keys() == SCORES
            assert all(0.0 <= x["metrics"][part][k] <= 1.0 for k in ("acc", "nmi"))
        assert x["fit_s"] > 0 and x["predict_s"] > 0 and x["peak_rss_mb"] > 0
        assert x["params"]["n_clusters"] == 10 and x["saw_unseen"] is False
    assert lines[0]["params"]["random_state"] == 0
    assert lines[0]["params"]["normalize_rows"] is False  # protocol B: raw pixels


def test_recorded_command_names_no_machine_path(
    quick_results: tuple[Path, list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, lines = quick_results
    assert all("--results" not in x["command"] for x in lines)  # the output is not recorded
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.harness.environment import recorded_command, repo_relative

    peers = REPO / "benchmarks" / ".venv-peers" / "bin" / "python"
    assert repo_relative(peers) == "benchmarks/.venv-peers/bin/python"
    assert repo_relative(folder) == str(folder)  # outside the repository: as given
    argv = ["--seeds", "0", "1", "--results", str(folder / "r.jsonl"), "--peers-python",
            str(peers), f"--out={folder}", "--quick"]
    assert recorded_command("benchmarks.run", argv) == (
        "python -m benchmarks.run --seeds 0 1 --peers-python benchmarks/.venv-peers/bin/python"
        " --quick")


@pytest.mark.integration
def test_failed_run_writes_error_line(quick_results: tuple[Path, list[dict]]) -> None:
    _, lines = quick_results
    failed = lines[2]
    assert failed["status"] == "error"
    assert "peer environment not found" in failed["error"]
    assert "metrics" not in failed


@pytest.mark.integration
def test_report_markdown_and_plot(quick_results: tuple[Path, list[dict]]) -> None:
    folder, _ = quick_results
    out, png = folder / "RESULTS.md", folder / "results.png"
    _run("benchmarks.run", "--report", "--results", str(folder / "results.jsonl"))
    text = out.read_text()
    assert "## Protocol B (pixels), digits — quick" in text
    assert "| method | ACC all | NMI all | ARI all | ACC unseen |" in text
    rows = {row.split("|")[1].strip(): row for row in text.splitlines() if row.startswith("| ")}
    assert {"neuncut", "kmeans", "spectralnet"} <= rows.keys()
    assert "could not run: RuntimeError: peer environment not found" in rows["spectralnet"]
    assert "Machine: " in text and "python -m benchmarks.run --quick" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _line(seed: int, acc: float, status: str = "ok") -> dict:
    """A minimal successful (or failed) result line for the report's row function."""
    if status != "ok":
        return {"status": status, "error": "RuntimeError: boom | bang", "seed": seed}
    scores = {"acc": acc, "nmi": acc, "ari": acc}
    return {
        "status": "ok",
        "seed": seed,
        "metrics": {"all": scores, "train": scores, "unseen": scores},
        "fit_s": 2.0,
        "predict_s": 0.5,
        "peak_rss_mb": 100.0,
        "saw_unseen": False,
    }


def test_report_row_mean_std_and_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.report import method_row

    row = method_row("kmeans", [_line(0, 0.4), _line(1, 0.6), _line(2, 0.0, "error")])
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "kmeans" and cells[1] == "0.500 ± 0.141"
    assert cells[-1] == "2 (1 failed)"
    failed = method_row("peer", [_line(0, 0.0, "error")])
    assert "could not run: RuntimeError: boom / bang" in failed


@pytest.mark.integration
def test_throughput_quick(tmp_path: Path) -> None:
    proc = _run("benchmarks.throughput", "--quick", "--repeats", "1", "--results",
                str(tmp_path / "throughput.jsonl"))
    assert "ratio" in proc.stdout
    (line,) = read_records(tmp_path / "throughput.jsonl")
    assert line["n_points"] == 20_000 and line["predict_rows_per_s"] > 0
    assert line["ratio"] == pytest.approx(line["predict_rows_per_s"]
                                          / line["roofline_rows_per_s"], abs=1e-3)
    assert "| **ratio** |" in (tmp_path / "THROUGHPUT.md").read_text()


@pytest.mark.integration
def test_scale_quick(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    _run("benchmarks.scale", "--quick", "--datasets", "rings", "--results",
         str(tmp_path / "scale.jsonl"), "--data-dir", str(tmp_path / "data"))
    lines = read_records(tmp_path / "scale.jsonl")
    assert [(x["dataset"], x["n"]) for x in lines] == [("rings", 2_000), ("rings", 10_000)]
    assert all(x["acc"] > 0.9 and x["peak_anon_gb"] > 0 for x in lines)
    assert "| rings (3 clusters, 2-D) | 1e+04 |" in (tmp_path / "SCALE.md").read_text()
    assert (tmp_path / "scale.png").read_bytes()[:4] == b"\x89PNG"
    assert not list((tmp_path / "data").iterdir())  # the data files are removed


@pytest.mark.integration
def test_fit_speed_quick(tmp_path: Path) -> None:
    records = tmp_path / "fit_speed.jsonl"
    _run("benchmarks.fit_speed", "--quick", "--label", "smoke", "--methods", "neuncut",
         "--results", str(records))
    lines = read_records(records)
    assert [(x["case"], x["method"], x["loaded"], x["status"]) for x in lines] == [
        ("blobs-300-2", "neuncut", False, "ok")]
    stages = lines[0]["timings"]
    assert {"init", "train", "label", "init/distill"} <= set(stages)
    assert all(x["fit_s"] > 0 and x["warmup_s"] > 0 and 0 <= x["nca"] <= 1 for x in lines)
    text = (tmp_path / "FIT_SPEED.md").read_text()
    assert "## smoke" in text and "| blobs-300-2 |" in text


@pytest.mark.integration
def test_cuda_check_without_cuda_says_so() -> None:
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: run python -m benchmarks.cuda_check itself")
    proc = _run("benchmarks.cuda_check")
    assert "no CUDA device" in proc.stdout


def test_held_out_report_means_per_set_and_label() -> None:
    from benchmarks.held_out import report

    rows = [{"label": "a", "set": "s1", "nca": 1.0}, {"label": "a", "set": "s1", "nca": 0.5},
            {"label": "a", "set": "s2", "nca": 0.25}, {"label": "b", "set": "s1", "nca": 0.0}]
    lines = report(rows).splitlines()
    assert lines[0] == "| set | a | b |"
    assert lines[2:] == ["| s1 | 0.750 | 0.000 |", "| s2 | 0.250 | – |",
                         "| mean over sets | **0.500** | **0.000** |"]


def test_network_width_report_means_per_set_and_width(tmp_path: Path) -> None:
    from benchmarks.network_width import report

    rows = [{"set": "s1", "seed": 0, "width": [8, 8], "nca": 1.0, "fit_s": 2.0},
            {"set": "s1", "seed": 1, "width": [8, 8], "nca": 0.5, "fit_s": 4.0},
            {"set": "s1", "seed": 0, "width": [64, 64], "nca": 0.25, "fit_s": 1.0},
            {"set": "s2", "seed": 0, "width": [64, 64], "nca": 0.9, "fit_s": 9.0},
            {"set": "s2", "seed": 0, "width": [64, 64], "nca": 0.0, "fit_s": 5.0}]  # rerun: counts
    path = tmp_path / "w.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines = report(path).splitlines()
    assert lines[0] == "| set | seeds | NCA 8x8 | s 8x8 | NCA 64x64 | s 64x64 |"
    assert lines[2:] == ["| s1 | 2 | 0.7500 | 3.0 | 0.2500 | 1.0 |",
                         "| s2 | 1 | – | – | 0.0000 | 5.0 |"]


def test_report_shows_published_figures_beside_the_raw_image_groups() -> None:
    from benchmarks.report import COLUMNS, _published_rows

    rows = _published_rows("B", "mnist", quick=False)
    assert rows[0].startswith("| N2D (published) | 0.979 | 0.942 |")
    assert all(row.count("|") == len(COLUMNS) + 2 for row in rows)
    assert _published_rows("B", "mnist", quick=True) == []
    assert _published_rows("A", "mnist", quick=False) == []


@pytest.mark.parametrize(("name", "cls", "expected"), [
    ("genie", "Genie", {"n_clusters": 4, "gini_threshold": 0.3}),
    ("sklearn-spectral", "SpectralClustering",
     {"n_clusters": 4, "affinity": "nearest_neighbors", "random_state": 7}),
    ("kmeans", "KMeans", {"n_clusters": 4, "random_state": 7}),
    ("gmm", "GaussianMixture", {"n_components": 4, "random_state": 7}),
    ("ward", "AgglomerativeClustering", {"n_clusters": 4, "linkage": "ward"}),
    ("hdbscan", "HDBSCAN", {}),
])
def test_peer_builds_each_peer_with_its_defaults(name: str, cls: str, expected: dict) -> None:
    from benchmarks.harness.peers import DESCRIPTIONS, PEERS, defaults, peer

    if name == "genie":
        pytest.importorskip("genieclust")
    model = peer(name, 4, 7)
    assert name in PEERS and name in DESCRIPTIONS
    assert type(model).__name__ == cls
    assert defaults(name, 4, 7) == expected
    # every other parameter stays at the class's own default
    assert model.get_params() == type(model)(**expected).get_params()


def test_peer_overrides_replace_defaults_and_unknown_names_fail() -> None:
    from benchmarks.harness.peers import peer

    model = peer("sklearn-spectral", 3, 1, eigen_solver="amg", n_neighbors=5)
    params = model.get_params()
    assert (params["eigen_solver"], params["n_neighbors"], params["affinity"],
            params["random_state"]) == ("amg", 5, "nearest_neighbors", 1)
    assert peer("kmeans", 10, 2, n_init=10).get_params()["n_init"] == 10
    with pytest.raises(ValueError, match="unknown peer"):
        peer("dbscan", 3, 0)
