"""Tests of the ``neuncut`` command line: results of each command and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import neuncut.cli as cli
from neuncut import NeuNcut, __version__
from neuncut.cli import main
from neuncut.datasets import load_dataset
from neuncut.metrics import evaluate

SMALL = ["--max-epochs", "3", "--hidden-layer-sizes", "16", "--init-size", "200", "--seed", "0"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny networks train 10-100x slower with several threads on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three well separated blobs in several formats, and a model fitted on them by the CLI."""
    d = tmp_path_factory.mktemp("cli")
    X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    paths = {name: d / name for name in ("X.npy", "y.npy", "model.safetensors", "fit.npy")}
    np.save(paths["X.npy"], X)
    np.save(paths["y.npy"], y)
    rc = main(["fit", str(paths["X.npy"]), "--n-clusters", "3", "--out",
               str(paths["model.safetensors"]), "--labels-out", str(paths["fit.npy"]), *SMALL])
    assert rc == 0
    return paths


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line on stderr of a failed command, checked for the house format."""
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neuncut: error: ")
    assert "Traceback" not in err and out == ""
    return lines[0]


def test_fit_then_predict_recovers_the_blobs(files: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "labels.npy"
    assert main(["predict", str(files["model.safetensors"]), str(files["X.npy"]), "--out",
                 str(out)]) == 0
    assert "300 points" in capsys.readouterr().out
    labels, X = np.load(out), np.load(files["X.npy"])
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, NeuNcut.load(files["model.safetensors"]).predict(X))
    np.testing.assert_array_equal(labels, np.load(files["fit.npy"]))
    assert adjusted_rand_score(np.load(files["y.npy"]), labels) == 1.0


def test_predict_csv_output_and_proba(files: dict[str, Path], tmp_path: Path) -> None:
    model, X = NeuNcut.load(files["model.safetensors"]), np.load(files["X.npy"])
    base = [str(files["model.safetensors"]), str(files["X.npy"])]
    assert main(["predict", *base, "--out", str(tmp_path / "l.csv")]) == 0
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "l.csv", dtype=int), model.predict(X))
    assert main(["predict", *base, "--proba", "--out", str(tmp_path / "p.npy")]) == 0
    P = np.load(tmp_path / "p.npy")
    np.testing.assert_allclose(P, model.predict_proba(X))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("fmt", ["csv-header", "csv", "tsv", "npz-key", "npz-single"])
def test_data_formats_give_the_same_labels(fmt: str, files: dict[str, Path],
                                           tmp_path: Path) -> None:
    X = np.load(files["X.npy"])
    extra = []
    if fmt == "csv-header":
        data = tmp_path / "X.csv"
        np.savetxt(data, X, delimiter=",", header="x0,x1", comments="")
    elif fmt in ("csv", "tsv"):
        data = tmp_path / "X.txt"
        np.savetxt(data, X, delimiter="," if fmt == "csv" else "\t", fmt="%.17g")
    else:
        data = tmp_path / "X.npz"
        if fmt == "npz-key":
            np.savez(data, target=np.zeros(3), features=X)
            extra = ["--key", "features"]
        else:
            np.savez_compressed(data, X)
    out = tmp_path / "labels.npy"
    assert main(["predict", str(files["model.safetensors"]), str(data), "--out", str(out),
                 *extra]) == 0
    np.testing.assert_array_equal(np.load(out), np.load(files["fit.npy"]))


def test_evaluate_prints_the_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    y_true, y_pred = [0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0]
    np.save(tmp_path / "true.npy", np.array(y_true))
    (tmp_path / "pred.txt").write_text("cluster\n" + "\n".join(map(str, y_pred)) + "\n")
    expected = evaluate(y_true, y_pred)
    args = ["evaluate", str(tmp_path / "true.npy"), str(tmp_path / "pred.txt")]
    assert main(args) == 0
    printed = dict(line.split() for line in capsys.readouterr().out.splitlines())
    assert list(printed) == ["acc", "nmi", "ari"]
    for name, value in expected.items():
        assert float(printed[name]) == pytest.approx(value, abs=5e-5)
    assert float(printed["acc"]) == pytest.approx(5 / 6, abs=5e-5)
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected


def test_run_quick_writes_every_result(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", "--quick", "--out", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    for name in ("labels.npy", "model.safetensors", "report.json", "clusters.png",
                 "training.png"):
        assert (out / name).is_file(), name
    for png in ("clusters.png", "training.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    digits = load_dataset("digits")
    labels = np.load(out / "labels.npy")
    assert labels.dtype == np.int64 and labels.shape == digits.target.shape
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["all"] == evaluate(digits.target, labels)
    # the documented subset: default_rng(seed).choice(n, n_train), here seed 0 and 500 points
    train = np.random.default_rng(0).choice(1797, report["n_train"], replace=False)
    unseen = np.setdiff1d(np.arange(1797), train)
    assert report["metrics"]["train"] == evaluate(digits.target[train], labels[train])
    assert report["metrics"]["unseen"] == evaluate(digits.target[unseen], labels[unseen])
    assert report["metrics"]["all"]["acc"] > 0.5
    assert set(report["metrics"]) == {"all", "train", "unseen"}
    assert report["dataset"] == "digits" and report["k"] == 10
    assert report["n_train"] + report["n_unseen"] == report["n"] == 1797
    assert report["parameters"]["max_epochs"] == 3 and 2 <= report["n_iter_"] <= 3
    assert set(report["times"]) >= {"load", "fit", "predict"}
    assert report["versions"]["neuncut"] == __version__
    np.testing.assert_array_equal(
        NeuNcut.load(out / "model.safetensors").predict(digits.data), labels)
    assert "unseen" in stdout and f"{report['metrics']['all']['acc']:.4f}" in stdout
    assert "neuncut: fitted in" in stderr


def test_fit_and_run_choose_the_number_of_clusters(files: dict[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    model_path = tmp_path / "auto.safetensors"
    assert main(["fit", str(files["X.npy"]), "--n-clusters", "auto", "--max-clusters", "6",
                 "--init", "kmeans", "--out", str(model_path), *SMALL]) == 0
    model = NeuNcut.load(model_path)
    assert model.n_clusters == "auto" and model.max_clusters == 6
    assert model.n_clusters_scores_["gap"].shape == (6,)
    assert f"{model.n_clusters_} clusters (chosen by n_clusters=auto)" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["run", "--quick", "--dataset", "blobs", "--n-clusters", "auto", "--out",
                 str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["parameters"]["n_clusters"] == "auto"
    assert report["n_clusters"] == len(report["cluster_sizes"])
    assert len(report["n_clusters_scores_"]["gap"]) == 50
    assert (out / "n_clusters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "(chosen by n_clusters=auto)" in capsys.readouterr().out


def test_run_without_matplotlib_skips_the_figures(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    assert main(["run", "--quick", "--dataset", "blobs", "--train-size", "300", "--out",
                 str(tmp_path)]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert (tmp_path / "report.json").is_file() and not list(tmp_path.glob("*.png"))


def _write_bad(kind: str, files: dict[str, Path], d: Path) -> tuple[list[str], str]:
    """Command line and expected message fragment for a bad input of the given kind."""
    model, X, out = str(files["model.safetensors"]), str(files["X.npy"]), str(d / "out.npy")
    data = d / "data.csv"
    if kind == "missing":
        return ["predict", model, str(d / "nope.npy"), "--out", out], "does not exist"
    if kind == "empty":
        data.write_text("")
        return ["predict", model, str(data), "--out", out], "is empty"
    if kind == "truncated":
        raw = files["X.npy"].read_bytes()
        (d / "cut.npy").write_bytes(raw[: len(raw) - 40])
        return ["predict", model, str(d / "cut.npy"), "--out", out], "truncated"
    if kind == "text-cell":
        data.write_text("a,b\n1.0,2.0\n3.0,oops\n")
        return ["predict", model, str(data), "--out", out], "line 3, column 2 is 'oops'"
    if kind == "ragged":
        data.write_text("1.0,2.0\n3.0\n")
        return ["predict", model, str(data), "--out", out], "line 2 has 1 values"
    if kind == "model-as-data":
        return ["fit", model, "--n-clusters", "3", "--out", out], "is a neuncut model file"
    if kind == "data-as-model":
        return ["predict", X, X, "--out", out], "not a neuncut model"
    if kind == "nan":
        np.save(d / "nan.npy", np.array([[0.0, 1.0], [2.0, np.inf]]))
        return ["predict", model, str(d / "nan.npy"), "--out", out], "row 2, column 2"
    if kind == "one-dim":
        np.save(d / "v.npy", np.arange(5.0))
        return ["predict", model, str(d / "v.npy"), "--out", out], "expected a 2-D array"
    if kind == "features":
        np.save(d / "w.npy", np.ones((4, 5)))
        return ["predict", model, str(d / "w.npy"), "--out", out], "5 features"
    if kind == "directory":
        return ["predict", model, str(d), "--out", out], "is a directory"
    if kind == "bad-checkpoint":
        (d / "ck").write_text("not a checkpoint")
        return ["fit", X, "--n-clusters", "3", "--out", out, "--checkpoint", str(d / "ck")], (
            "checkpoint=")
    if kind == "checkpoint-dir":
        return ["fit", X, "--n-clusters", "3", "--out", out, "--checkpoint",
                str(d / "no" / "ck")], "its directory does not exist"
    if kind == "n-clusters":
        return ["fit", X, "--n-clusters", "0", "--out", str(d / "m")], "--n-clusters"
    if kind == "n-clusters-word":
        return ["fit", X, "--n-clusters", "many", "--out", str(d / "m")], "positive int or auto"
    if kind == "affinity":
        return ["fit", X, "--n-clusters", "3", "--affinity", "foo", "--out", out], "foo"
    if kind == "hidden":
        return ["fit", X, "--n-clusters", "3", "--hidden-layer-sizes", "8,x", "--out", out], (
            "--hidden-layer-sizes")
    if kind == "tol":
        return ["fit", X, "--n-clusters", "3", "--tol", "often", "--out", out], "--tol"
    np.savez(d / "two.npz", X=np.ones((4, 2)), y=np.zeros(4))
    if kind == "npz-no-key":
        return ["predict", model, str(d / "two.npz"), "--out", out], "'X', 'y'"
    if kind == "npz-bad-key":
        return ["predict", model, str(d / "two.npz"), "--out", out, "--key", "Z"], "no array 'Z'"
    if kind == "label-lengths":
        np.save(d / "short.npy", np.zeros(3, dtype=int))
        return ["evaluate", str(files["y.npy"]), str(d / "short.npy")], "same length"
    if kind == "out-suffix":
        return ["predict", model, X, "--out", str(d / "labels.json")], ".npy, .csv or .txt"
    assert kind == "no-command"
    return [], "COMMAND"


ERRORS = ["missing", "directory", "bad-checkpoint", "checkpoint-dir",
          "empty", "truncated", "text-cell", "ragged", "nan", "model-as-data",
          "data-as-model", "one-dim", "features", "n-clusters", "n-clusters-word", "affinity",
          "hidden", "tol",
          "npz-no-key", "npz-bad-key", "label-lengths", "out-suffix", "no-command"]


@pytest.mark.parametrize("kind", ERRORS)
def test_errors_are_one_line_with_status_2(kind: str, files: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    argv, fragment = _write_bad(kind, files, tmp_path)
    assert main(argv) == 2
    assert fragment in _error_line(capsys)
    assert not (tmp_path / "out.npy").exists() and not (tmp_path / "m").exists()


def test_debug_reraises(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        main(["--debug", "predict", str(files["model.safetensors"]), str(tmp_path / "x.npy"),
              "--out", str(tmp_path / "o.npy")])
    with pytest.raises(ValueError, match="init_size"):
        main(["fit", str(files["X.npy"]), "--n-clusters", "3", "--init-size", "1", "--out", "m",
              "--debug"])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"neuncut {__version__}"


@pytest.mark.integration
def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("neuncut")
    command = [str(script)] if script.is_file() else [shutil.which("neuncut") or "neuncut"]
    done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"neuncut {__version__}"
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "neuncut.cli", "--debug", "evaluate", str(tmp_path / "a.npy"),
         str(tmp_path / "b.npy")], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert "FileNotFoundError" in done.stderr
