"""The benchmarked methods, each fit on the training rows and asked to label every row.

:func:`fit_one` is one run of the grid, called in a fresh process of the harness's worker
(:mod:`benchmarks.harness.worker`). The peers (SpectralNet, ncut-pytorch) are not imported at
all: they run in their own virtual environment through :mod:`benchmarks.peer_worker`, fed by
``.npy`` files.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.grid import PAPER_EPOCHS, QUICK_EPOCHS, RunSpec
from benchmarks.harness.peers import peer
from benchmarks.harness.process import run_call

#: The peer environment's distributions whose versions a peer's record holds.
PEER_VERSIONS = ("spectralnet", "ncut-pytorch", "torch", "numpy", "scikit-learn", "scipy")


@dataclass
class MethodResult:
    """Labels of all rows plus what the method reports about itself."""

    labels: np.ndarray
    fit_s: float
    predict_s: float | None
    params: dict[str, Any]
    saw_unseen: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def l2_normalize(X: np.ndarray) -> np.ndarray:
    """Rows divided by their Euclidean norm, exactly as ``NeuNcut(normalize_rows=True)``."""
    norms = np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)
    return (X / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _fit_then_predict(
    model: Any, X: np.ndarray, train_idx: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Fit ``model`` on ``X[train_idx]``, then predict all of X; labels and both times."""
    t0 = time.perf_counter()
    model.fit(X[train_idx])
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = np.asarray(model.predict(X))
    return labels, fit_s, time.perf_counter() - t0


def _neuncut_common(params: dict[str, Any], X: np.ndarray, idx: np.ndarray) -> MethodResult:
    """Fit a NeuNcut with ``params`` and collect its fitted diagnostics."""
    from neuncut import NeuNcut

    model = NeuNcut(**params)
    labels, fit_s, predict_s = _fit_then_predict(model, X, idx)
    extra = {
        name: getattr(model, name)
        for name in ("sigma_", "penalty_", "init_ncut_", "n_iter_", "n_steps_", "timings_",
                     "n_clusters_", "n_clusters_scores_")
        if hasattr(model, name)
    }
    if hasattr(model, "loss_curve_") and len(model.loss_curve_):
        extra["final_loss"] = float(model.loss_curve_[-1])
    if getattr(model, "encoder_loss_curve_", None):
        extra["encoder_epochs"] = len(model.encoder_loss_curve_)
        extra["final_encoder_loss"] = float(model.encoder_loss_curve_[-1])
    return MethodResult(labels, fit_s, predict_s, model.get_params(), extra=extra)


def run_neuncut(spec: RunSpec, X: np.ndarray, idx: np.ndarray) -> MethodResult:
    """NeuNcut with the installed defaults (quick mode: 2 epochs, random init, small net)."""
    params: dict[str, Any] = {
        "n_clusters": 10,
        "random_state": spec.seed,
        "normalize_rows": spec.protocol == "A",
    }
    if spec.quick:
        # smoke settings: no distilled warm start (1000 fixed steps), a small network
        params.update(max_epochs=QUICK_EPOCHS, init="random", hidden_layer_sizes=(64, 64))
    params.update(dict(spec.variant))  # an ablation's replacements
    return _neuncut_common(params, X, idx)


def run_neuncut_paper(spec: RunSpec, X: np.ndarray, idx: np.ndarray) -> MethodResult:
    """NeuNcut in the paper's configuration (RBF sigma 3, penalty 80, random init)."""
    epochs = QUICK_EPOCHS if spec.quick and spec.paper_epochs == PAPER_EPOCHS else spec.paper_epochs
    params = {
        "n_clusters": 10,
        "affinity": "rbf",
        "sigma": 3.0,
        "penalty": 80.0,
        "hidden_layer_sizes": (512, 512),
        "batch_size": 1000,
        "max_epochs": epochs,
        "learning_rate": 5e-3,
        "weight_decay": 1e-4,
        "init": "random",
        "normalize_rows": True,
        "random_state": spec.seed,
    }
    return _neuncut_common(params, X, idx)


def run_kmeans(spec: RunSpec, X: np.ndarray, idx: np.ndarray) -> MethodResult:
    """scikit-learn KMeans (10 inits) fit on the training rows, predicting every row."""
    model = peer("kmeans", 10, spec.seed, n_init=10)
    labels, fit_s, predict_s = _fit_then_predict(model, X, idx)
    return MethodResult(
        labels, fit_s, predict_s, model.get_params(), extra={"n_iter_": int(model.n_iter_)}
    )


def run_sklearn_spectral(spec: RunSpec, X: np.ndarray, idx: np.ndarray) -> MethodResult:
    """scikit-learn SpectralClustering on a 10-NN graph of all rows (it has no predict)."""
    model = peer(
        "sklearn-spectral",
        10,
        spec.seed,
        n_neighbors=10,
        eigen_solver=spec.spectral_solver,
        assign_labels=spec.spectral_assign,
    )
    t0 = time.perf_counter()
    labels = model.fit_predict(X)
    fit_s = time.perf_counter() - t0
    return MethodResult(labels, fit_s, None, model.get_params(), saw_unseen=True)


def run_peer(spec: RunSpec, X: np.ndarray, idx: np.ndarray) -> MethodResult:
    """A peer in its own interpreter, ``spec.peers_python`` (:mod:`benchmarks.peer_worker`)."""
    python = spec.peers_python
    if not python or not Path(python).exists():
        raise RuntimeError(
            f"peer environment not found ({python or 'unset'}); install it with `make bench`"
        )
    with tempfile.TemporaryDirectory(prefix="neuncut-peer-") as tmp:
        np.save(Path(tmp) / "X.npy", X)
        np.save(Path(tmp) / "train_idx.npy", idx)
        # No timeout of its own: the grid's worker, which waits here, has one.
        answer = run_call("benchmarks.peer_worker:run",
                          {"folder": tmp, "method": spec.method, "seed": spec.seed,
                           "quick": spec.quick},
                          timeout=None, python=python, versions=PEER_VERSIONS,
                          env={**os.environ, "PYTHONNOUSERSITE": "1"})
        if answer["status"] != "ok":
            raise RuntimeError(f"{spec.method} failed: {answer['error']}")
        labels = np.load(Path(tmp) / "labels.npy")
    return MethodResult(
        labels,
        answer["fit_s"],
        answer.get("predict_s"),
        answer["params"],
        saw_unseen=answer.get("saw_unseen", False),
        extra={
            "peer_versions": answer.get("versions"),
            "peer_peak_rss_mb": answer.get("peak_rss_mb"),
            **answer.get("extra", {}),
        },
    )


RUNNERS: dict[str, Callable[[RunSpec, np.ndarray, np.ndarray], MethodResult]] = {
    "neuncut": run_neuncut,
    "neuncut-paper": run_neuncut_paper,
    "kmeans": run_kmeans,
    "sklearn-spectral": run_sklearn_spectral,
    "spectralnet": run_peer,
    "ncut-pytorch": run_peer,
}


def _current_rss_mb() -> float | None:
    """Current resident set size in MiB, from /proc/self/status."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def _scores(y: np.ndarray, labels: np.ndarray, idx: np.ndarray, unseen: np.ndarray) -> dict:
    """ACC, NMI and ARI on all rows, on the training rows and on the unseen rows."""
    from neuncut.metrics import evaluate

    out = {"all": evaluate(y, labels), "train": evaluate(y[idx], labels[idx])}
    out["unseen"] = evaluate(y[unseen], labels[unseen]) if len(unseen) else None
    return out


def fit_one(data: str, **run: Any) -> dict[str, Any]:
    """Run one grid run (:class:`~benchmarks.grid.RunSpec`'s fields, as the harness passes
    them) on the data prepared under the folder ``data`` and score it: the result fields of
    the run's record (a worker's call)."""
    from benchmarks.data import data_key, load_prepared

    run_spec = RunSpec.from_dict(run)
    folder = Path(data) / data_key(run_spec)
    if not (folder / "meta.json").exists():
        error = folder.with_name(folder.name + ".error")
        raise RuntimeError("data preparation failed: "
                           + (error.read_text() if error.exists() else "no data"))
    X, y, features_s = load_prepared(folder)
    n = len(y)
    n_train = min(run_spec.n_train, n)
    idx = np.random.default_rng(run_spec.seed).choice(n, n_train, replace=False)
    unseen = np.setdiff1d(np.arange(n), idx)
    if run_spec.protocol == "A" and not run_spec.method.startswith("neuncut"):
        X = l2_normalize(X)  # NeuNcut does the same itself with normalize_rows=True
    rss_before = _current_rss_mb()
    result = RUNNERS[run_spec.method](run_spec, X, idx)
    labels = np.asarray(result.labels).ravel()
    if labels.shape != (n,):
        raise RuntimeError(f"{run_spec.method} returned {labels.shape[0]} labels for {n} rows")
    return {
        "n_total": n,
        "n_train": n_train,
        "n_unseen": len(unseen),
        "n_clusters_found": int(len(np.unique(labels))),
        "metrics": _scores(y, labels, idx, unseen),
        "saw_unseen": result.saw_unseen,
        "params": result.params,
        "features_s": features_s,
        "fit_s": result.fit_s,
        "predict_s": result.predict_s,
        "rss_before_fit_mb": rss_before,
        "extra": result.extra,
    }
