"""One peer method in the peers' own virtual environment: :func:`run`.

It runs in a worker process of the harness under ``benchmarks/.venv-peers/bin/python``, whose
torch/numpy may differ from the project's, so it imports neither neuncut nor the rest of
``benchmarks``. FOLDER holds ``X.npy`` (all rows, already preprocessed) and
``train_idx.npy``; :func:`run` writes ``labels.npy`` (one label per row of X) and returns the
times and parameters (the worker adds versions and peak memory).

Settings are the ones each package documents:

* ``spectralnet`` 1.1.0: ``SpectralNet(n_clusters=10, should_use_ae=True,
  should_use_siamese=True)``, defaults otherwise, as in its ``examples/cluster_mnist.py``; fit
  on a ``torch.Tensor`` of the training rows, ``predict`` on all rows (its predict runs
  k-means, 10 inits, on the embeddings of the rows it is given). SpectralNet caches the
  autoencoder and siamese weights in ``spectralnet/_trainers/weights/`` inside its installed
  package and silently reloads them in later fits: that folder is deleted before every run.
* ``ncut-pytorch`` 3.2.0: ``Ncut(n_eig=10)`` (Nystrom normalized cut, RBF affinity, default
  sigma search) fit on the training rows, ``kway_fit(n_clusters=10, n_eig=10)``, then
  ``kway_transform`` of all rows (Nystrom propagation), label = argmax.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (the peers draw from the global generators)."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the peers use the global generator
    torch.manual_seed(seed)


def clear_spectralnet_cache() -> list[str]:
    """Delete SpectralNet's cached weights inside its package; the paths removed."""
    import spectralnet

    weights = Path(spectralnet.__file__).parent / "_trainers" / "weights"
    removed = [str(p) for p in weights.glob("*")] if weights.exists() else []
    shutil.rmtree(weights, ignore_errors=True)
    return removed


def run_spectralnet(X: np.ndarray, idx: np.ndarray, quick: bool) -> dict[str, Any]:
    """SpectralNet with AE and siamese network (its MNIST example's settings)."""
    from spectralnet import SpectralNet

    removed = clear_spectralnet_cache()
    params: dict[str, Any] = {"n_clusters": 10, "should_use_ae": True, "should_use_siamese": True}
    if quick:
        params.update(ae_epochs=1, siamese_epochs=1, spectral_epochs=1)
    model = SpectralNet(**params)
    t0 = time.perf_counter()
    model.fit(torch.from_numpy(X[idx]))
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = np.asarray(model.predict(torch.from_numpy(X)))
    predict_s = time.perf_counter() - t0
    clear_spectralnet_cache()
    extra = {"removed_cached_weights": removed, "predict_runs_kmeans_on_all_rows": True}
    return {
        "labels": labels,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "params": params,
        "extra": extra,
    }


def run_ncut_pytorch(X: np.ndarray, idx: np.ndarray, quick: bool) -> dict[str, Any]:
    """Nystrom Ncut fit on the training rows, k-way discretization, propagated to all rows."""
    from ncut_pytorch import Ncut

    params: dict[str, Any] = {"n_eig": 10, "kway_n_clusters": 10, "kway_n_eig": 10}
    model = Ncut(n_eig=params["n_eig"], device="cpu")
    t0 = time.perf_counter()
    model.fit(torch.from_numpy(X[idx]))
    model.kway_fit(n_clusters=10, n_eig=10)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    kway = model.kway_transform(torch.from_numpy(X), n_clusters=10, n_eig=10)
    labels = kway.argmax(dim=1).cpu().numpy()
    predict_s = time.perf_counter() - t0
    return {
        "labels": labels,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "params": params,
        "extra": {"sigma": float(model.sigma) if model.sigma is not None else None},
    }


PEERS = {"spectralnet": run_spectralnet, "ncut-pytorch": run_ncut_pytorch}


def run(folder: str, method: str, seed: int, quick: bool) -> dict[str, Any]:
    """Run ``method`` on ``FOLDER/X.npy``; write ``labels.npy`` there, return the rest."""
    X = np.ascontiguousarray(np.load(Path(folder) / "X.npy"), dtype=np.float32)
    idx = np.load(Path(folder) / "train_idx.npy")
    _seed_everything(seed)
    result = PEERS[method](X, idx, quick)
    np.save(Path(folder) / "labels.npy", np.asarray(result.pop("labels"), dtype=np.int64))
    return {**result, "saw_unseen": False}
