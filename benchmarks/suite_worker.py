"""One run of the suite in a fresh process: ``python -m benchmarks.suite_worker REQUEST.json``.

REQUEST.json holds ``method``, ``dataset``, ``seed``, ``data`` (the ``.npz`` written by
:mod:`benchmarks.suite_data`), ``neuncut_params`` (extra parameters, only for ``--quick``) and
``result`` (where to write the answer). The worker fits the method on all points with
``fit_predict``, times it, scores the labels (:mod:`benchmarks.suite_scores`) and writes a
JSON object; a run that raises writes its error instead. Of neuncut it uses only
``from neuncut import NeuNcut``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.environment import jsonable
from benchmarks.peers import PEERS, peer
from benchmarks.suite_scores import NOT_SCORED, noise_as_cluster, score

#: The methods, each with the defaults the issue asks for (the peers' in
#: :mod:`benchmarks.peers`); ``k`` is the reference k.
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
    """The fitted ``init_ncut_`` and a few other public fitted attributes, where present."""
    names = ("init_ncut_", "sigma_", "penalty_", "n_iter_", "n_clusters_", "n_clusters_scores_",
             "timings_")
    return {n: jsonable(getattr(model, n)) for n in names if hasattr(model, n)}


def execute(request: dict[str, Any]) -> dict[str, Any]:
    """Load the data, fit the method, score it: the result fields of the record."""
    data = np.load(request["data"])
    X, y = data["X"], data["y"]
    k = int(len(np.unique(y[y != NOT_SCORED])))
    method, seed = request["method"], int(request["seed"])
    out: dict[str, Any] = {"n": int(X.shape[0]), "d": int(X.shape[1]), "k": k}
    if method.startswith("neuncut"):
        out["torch_threads"] = _limit_torch_threads()
    params = {n: tuple(v) if isinstance(v, list) else v  # JSON has no tuples
              for n, v in (request.get("neuncut_params") or {}).items()}
    model = make_estimator(method, k, seed, params)
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
        out["init_ncut_"] = out["neuncut_fitted"].get("init_ncut_")
    out["warnings"] = sorted({relative_paths(f"{w.category.__name__}: {str(w.message)[:200]}")
                              for w in caught})
    return out


_ABSOLUTE_DIR = re.compile(r'(?<![\w.])/(?:[^\s/"\':]+/)+')


def _relative_dir(match: re.Match[str]) -> str:
    """An absolute folder cut to what follows ``site-packages/``, or from ``src/`` /
    ``benchmarks/`` on; dropped otherwise (the file name stays)."""
    folder = match.group(0)
    if (i := folder.rfind("site-packages/")) >= 0:
        return folder[i + len("site-packages/"):]
    for anchor in ("/src/", "/benchmarks/", "/tests/"):
        if (i := folder.rfind(anchor)) >= 0:
            return folder[i + 1:]
    return ""


def relative_paths(text: str) -> str:
    """``text`` (an error, a traceback) with no absolute machine paths.

    >>> relative_paths('File "/opt/venv/lib/python3.11/site-packages/sklearn/x.py", line 3')
    'File "sklearn/x.py", line 3'
    >>> relative_paths("no such file /tmp/run-1/iris.npz; see /repo/src/neuncut/fit.py")
    'no such file iris.npz; see src/neuncut/fit.py'
    """
    return _ABSOLUTE_DIR.sub(_relative_dir, text)


def versions() -> dict[str, str | None]:
    """Installed versions of the libraries the methods use (from metadata, nothing imported)."""
    found: dict[str, str | None] = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def main(request_file: str) -> int:
    """Run the request and write the answer; exit status 0 even when the run fails."""
    request = json.loads(Path(request_file).read_text())
    try:
        result: dict[str, Any] = {"status": "ok", "error": None, **execute(request)}
    except Exception as exc:  # noqa: BLE001 - any failure becomes a failure record
        result = {"status": "error",
                  "error": relative_paths(f"{type(exc).__name__}: {exc}")[:1000],
                  "traceback": relative_paths(traceback.format_exc())[-3000:]}
    if request["method"].startswith("neuncut") and "neuncut" in sys.modules:
        result["neuncut_version"] = getattr(sys.modules["neuncut"], "__version__", None)
    result["versions"] = versions()
    Path(request["result"]).write_text(json.dumps(jsonable(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
