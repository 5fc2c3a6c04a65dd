"""One run of the suite: :func:`fit_one`, called in a fresh process of the harness's worker.

It reads the set that :func:`benchmarks.suite_data.prepare_runs` wrote into the folder
``data``, fits the method on all points with ``fit_predict``, times it and scores the labels
(:mod:`benchmarks.suite_scores`). Of neuncut it uses only ``from neuncut import NeuNcut``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.environment import jsonable, relative_paths
from benchmarks.harness.peers import PEERS, peer
from benchmarks.suite_scores import NOT_SCORED, noise_as_cluster, score

#: The methods, each with the defaults the issue asks for (the peers' in
#: :mod:`benchmarks.harness.peers`); ``k`` is the reference k.
#: Variants of neuncut itself, each the default with these parameters changed: compared with
#: the default, never a peer. ``neuncut-untrained`` is the warm start alone, no Ncut training,
#: so that the suite says what training adds; ``neuncut-autoencoder`` learns the
#: representation whatever the size of the data (decision D1's rule leaves it off at n <= 10 000).
ABLATIONS: dict[str, dict[str, Any]] = {"neuncut-untrained": {"max_epochs": 0},
                                        "neuncut-autoencoder": {"representation": "autoencoder"}}
#: Methods that choose the number of clusters themselves, for the benchmark of
#: ``n_clusters="auto"`` (:mod:`benchmarks.n_clusters`); HDBSCAN is one of them too.
CHOOSE_K = ("neuncut-auto", "eigengap-spectral", "silhouette-kmeans")
METHODS = ("neuncut", *ABLATIONS, *PEERS, *CHOOSE_K)
VERSIONED = ("numpy", "scipy", "scikit-learn", "torch", "genieclust", "pyclustering")


def make_estimator(method: str, k: int, seed: int, neuncut_params: dict[str, Any]) -> Any:
    """The estimator of ``method`` for ``k`` clusters and ``seed``."""
    if method == "neuncut" or method in ABLATIONS or method == "neuncut-auto":
        from neuncut import NeuNcut

        params = {"n_clusters": "auto" if method == "neuncut-auto" else k, "random_state": seed,
                  **neuncut_params, **ABLATIONS.get(method, {})}
        return NeuNcut(**params)
    if method in ("eigengap-spectral", "silhouette-kmeans"):
        from benchmarks.choose_k_peers import EigengapSpectral, SilhouetteKMeans

        chooser = EigengapSpectral if method == "eigengap-spectral" else SilhouetteKMeans
        return chooser(random_state=seed)
    if method in PEERS:
        return peer(method, k, seed)  # hdbscan chooses its own number of clusters
    raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")


def _limit_torch_threads() -> int | None:
    """Give torch the thread count of ``OMP_NUM_THREADS`` (if set); the count in effect."""
    import torch

    threads = os.environ.get("OMP_NUM_THREADS")
    if threads and threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()


def _neuncut_state(model: Any) -> dict[str, Any]:
    """A few public fitted attributes, where present; ``timings_`` to the microsecond (the
    record's ``init_ncut_`` is apart, beside the scores)."""
    names = ("sigma_", "penalty_", "n_iter_", "n_clusters_", "n_clusters_scores_", "timings_")
    state = {n: jsonable(getattr(model, n)) for n in names if hasattr(model, n)}
    if "timings_" in state:
        state["timings_"] = {k: round(v, 6) for k, v in state["timings_"].items()}
    return state


def fit_one(dataset: str, seed: int, method: str, quick: bool, family: str,
            neuncut_params: dict[str, Any] | None, data: str) -> dict[str, Any]:
    """Load the set, fit the method, score it: the result fields of the record."""
    folder = Path(data)
    if (folder / f"{dataset}.error").exists():
        raise RuntimeError("data set not available: " + (folder / f"{dataset}.error").read_text())
    arrays = np.load(folder / f"{dataset}.npz")
    X, y = arrays["X"], arrays["y"]
    k = int(len(np.unique(y[y != NOT_SCORED])))
    out: dict[str, Any] = json.loads((folder / f"{dataset}.json").read_text())
    if method.startswith("neuncut"):
        out["torch_threads"] = _limit_torch_threads()
    params = {n: tuple(v) if isinstance(v, list) else v  # JSON has no tuples
              for n, v in (neuncut_params or {}).items()}
    model = make_estimator(method, k, int(seed), params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        labels = np.asarray(model.fit_predict(X)).ravel()
        out["fit_s"] = time.perf_counter() - t0
    out["n_noise_predicted"] = int((labels == -1).sum())
    scored = noise_as_cluster(labels) if out["n_noise_predicted"] else labels
    out.update(score(y, scored))
    out["n_clusters_found"] = int(len(np.unique(scored)))
    out["params"] = jsonable(model.get_params())
    if method.startswith("neuncut"):
        out["neuncut_fitted"] = _neuncut_state(model)
        out["init_ncut_"] = jsonable(getattr(model, "init_ncut_", None))
    out["warnings"] = sorted({relative_paths(f"{w.category.__name__}: {str(w.message)[:200]}")
                              for w in caught})
    if method.startswith("neuncut"):
        out["neuncut_version"] = getattr(sys.modules["neuncut"], "__version__", None)
    return out
