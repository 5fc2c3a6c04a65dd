"""Checkpoints: a fit killed mid-training resumes and ends with the uninterrupted model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from neuncut import NeuNcut
from neuncut import _choose_k as choose_k_module
from neuncut import _fit as fit_module
from neuncut._checkpoint import fingerprint, read_checkpoint
from neuncut._io import load_tensors, save_tensors
from neuncut.cli import main
from neuncut.exceptions import ModelFileError
from tests.helpers import FAST_PARAMS, interrupt_after

# The shared fast model with several batches per epoch and enough epochs to interrupt.
PARAMS = {**FAST_PARAMS, "n_clusters": 4, "max_epochs": 6, "batch_size": 256}


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return make_blobs(2000, centers=4, cluster_std=2.0, random_state=0)[0]


def _same_model(a: NeuNcut, b: NeuNcut) -> bool:
    sa, sb = a.network_.state_dict(), b.network_.state_dict()
    return (
        sa.keys() == sb.keys()
        and all(torch.equal(sa[k], sb[k]) for k in sa)
        and np.array_equal(a.labels_, b.labels_)
        and a.loss_curve_ == b.loss_curve_
        and (a.n_iter_, a.n_steps_, a.penalty_, a.sigma_) == (b.n_iter_, b.n_steps_, b.penalty_,
                                                              b.sigma_)
        and a.n_clusters_ == b.n_clusters_
        and _same_scores(a.n_clusters_scores_, b.n_clusters_scores_)
    )


def _same_scores(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    """Make the next fit raise KeyboardInterrupt right after writing epoch ``epoch``'s state."""
    interrupt_after(monkeypatch, fit_module, "train_ncut", epoch)


@pytest.mark.parametrize("epoch", [0, 2])  # a default fit runs at least n_iter_no_change=2
@pytest.mark.parametrize("overrides", [{}, {"affinity": "rbf", "train_size": 0.5}])
def test_interrupted_fit_resumes_to_the_same_model(X, tmp_path, monkeypatch, epoch,
                                                   overrides) -> None:
    params = {**PARAMS, **overrides}
    expected = NeuNcut(**params).fit(X)
    path = tmp_path / "fit.ckpt"
    _interrupt_after(monkeypatch, epoch)
    with pytest.raises(KeyboardInterrupt):
        NeuNcut(**params).fit(X, checkpoint=path)
    monkeypatch.undo()
    _, header = load_tensors(path)
    assert header["state"]["training_log"]["n_iter"] == epoch
    resumed = NeuNcut(**params).fit(X, checkpoint=path)
    assert _same_model(expected, resumed)
    assert not path.exists()  # deleted once the fit succeeds


def test_resumed_fit_keeps_the_chosen_number_of_clusters(X, tmp_path, monkeypatch) -> None:
    params = {**PARAMS, "n_clusters": "auto", "max_clusters": 6}
    expected = NeuNcut(**params).fit(X)
    path = tmp_path / "fit.ckpt"
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        NeuNcut(**params).fit(X, checkpoint=path)
    monkeypatch.undo()

    def never(*args, **kwargs):
        raise AssertionError("a resumed fit chose the number of clusters again")

    monkeypatch.setattr(choose_k_module, "select_n_clusters", never)
    resumed = NeuNcut(**params).fit(X, checkpoint=path)
    assert _same_model(expected, resumed)
    assert resumed.timings_["n_clusters"] > 0  # the interrupted fit's, from the checkpoint


def test_checkpointing_does_not_change_the_model(X, tmp_path) -> None:
    path = tmp_path / "fit.ckpt"
    assert _same_model(NeuNcut(**PARAMS).fit(X), NeuNcut(**PARAMS).fit(X, checkpoint=path))
    assert not path.exists()


_CHILD = """
import sys
import numpy as np
from neuncut.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.integration
def test_sigkilled_fit_resumes_to_the_same_model(X, tmp_path) -> None:
    """A child process running ``neuncut fit --checkpoint`` is killed with SIGKILL mid-training;
    rerunning the same command resumes and writes the model an uninterrupted run writes."""
    np.save(tmp_path / "X.npy", X)
    ckpt = tmp_path / "fit.ckpt"
    options = ["--n-clusters", "4", "--max-epochs", "30", "--tol", "none",
               "--hidden-layer-sizes", "32", "--batch-size", "256", "--init-size", "500",
               "--init", "kmeans", "--seed", "0"]
    argv = ["fit", str(tmp_path / "X.npy"), *options, "--checkpoint", str(ckpt)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, *argv, "--out",
                              str(tmp_path / "killed.safetensors")],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at = None
    deadline = time.monotonic() + 300
    while child.poll() is None and time.monotonic() < deadline:
        if ckpt.exists():
            try:
                _, header = load_tensors(ckpt)
            except (ModelFileError, FileNotFoundError):  # replaced while being read
                continue
            if header["state"]["training_log"]["n_iter"] >= 2:
                child.send_signal(signal.SIGKILL)
                child.wait()
                killed_at = header["state"]["training_log"]["n_iter"]
                break
        time.sleep(0.01)
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    assert killed_at is not None and killed_at < 30
    assert not (tmp_path / "killed.safetensors").exists()
    _, header = load_tensors(ckpt)
    n_iter = header["state"]["training_log"]["n_iter"]
    assert 2 <= n_iter < 30  # the last state written before the kill

    assert main([*argv, "--out", str(tmp_path / "resumed.safetensors")]) == 0
    assert not ckpt.exists()
    assert main(["fit", str(tmp_path / "X.npy"), *options,
                 "--out", str(tmp_path / "straight.safetensors")]) == 0
    resumed = NeuNcut.load(tmp_path / "resumed.safetensors")
    straight = NeuNcut.load(tmp_path / "straight.safetensors")
    assert resumed.n_iter_ == 30
    assert _same_model(straight, resumed)


@pytest.mark.parametrize("change", ["params", "data"])
def test_checkpoint_of_another_fit_is_refused(X, tmp_path, monkeypatch, change) -> None:
    path = tmp_path / "fit.ckpt"
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        NeuNcut(**PARAMS).fit(X, checkpoint=path)
    monkeypatch.undo()
    model, data = NeuNcut(**PARAMS), X
    if change == "params":
        model.set_params(n_neighbors=5)
    else:
        data = X + 1.0
    with pytest.raises(ModelFileError, match="other data or with other parameters"):
        model.fit(data, checkpoint=path)
    assert path.exists()  # never deleted by a refused fit
    # verbose and device do not change the result, so they do not invalidate a checkpoint
    NeuNcut(**{**PARAMS, "verbose": 2, "device": "cpu"}).fit(X, checkpoint=path)
    assert not path.exists()


def test_damaged_or_foreign_checkpoint_is_refused(X, tmp_path) -> None:
    model = NeuNcut(**{**PARAMS, "max_epochs": 1}).fit(X)
    model_file = tmp_path / "model.safetensors"
    model.save(model_file)
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        NeuNcut(**PARAMS).fit(X, checkpoint=model_file)
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(model_file.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        NeuNcut(**PARAMS).fit(X, checkpoint=bad)


def test_fingerprint_ignores_memory_layout() -> None:
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert fingerprint(np.asfortranarray(X), {}) == fingerprint(X, {})
    assert fingerprint(X.T.copy(), {}) != fingerprint(X, {})


def test_read_checkpoint_of_missing_file_is_none(tmp_path: Path) -> None:
    assert read_checkpoint(tmp_path / "none.ckpt", "key") is None


def _killed_fit(X, tmp_path, monkeypatch, epoch: int) -> Path:
    """The checkpoint of a default-PARAMS fit killed after epoch ``epoch``."""
    path = tmp_path / "fit.ckpt"
    _interrupt_after(monkeypatch, epoch)
    with pytest.raises(KeyboardInterrupt):
        NeuNcut(**PARAMS).fit(X, checkpoint=path)
    monkeypatch.undo()
    return path


def test_checkpoint_of_another_layout_is_refused(X, tmp_path, monkeypatch) -> None:
    path = _killed_fit(X, tmp_path, monkeypatch, 1)
    tensors, header = load_tensors(path)
    save_tensors(path, tensors, {**header, "format": 1})
    with pytest.raises(ModelFileError, match="checkpoint layout 1.*delete it"):
        NeuNcut(**PARAMS).fit(X, checkpoint=path)


def test_checkpoint_stores_the_fit_state_as_it_is(X, tmp_path, monkeypatch) -> None:
    """The saved state is the fit's own: the subset, the choice of k, the warm start and the
    training log up to the epoch written; the resumed fit's fitted values are read from it."""
    path = _killed_fit(X, tmp_path, monkeypatch, 2)
    _, header = load_tensors(path)
    saved = read_checkpoint(path, header["fingerprint"])
    assert saved is not None and saved.stage == "training"
    state = saved.state
    assert state.encoder_log is None  # 2000 x 2 rows learn no representation
    assert state.n_clusters is not None and state.n_clusters.n_clusters == 4
    assert state.init is not None and state.training_log is not None
    assert state.training_log.n_iter == 2
    resumed = NeuNcut(**PARAMS).fit(X, checkpoint=path)
    assert (resumed.penalty_, resumed.sigma_) == (state.init.penalty, state.init.sigma)
    assert resumed.loss_curve_[:2] == state.training_log.loss
