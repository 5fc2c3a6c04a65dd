"""One run, in a fresh process: ``python -m benchmarks.worker SPEC.json RESULT.json DATA``.

The runner starts one worker per run, so that no state (caches, torch threads, allocator
pools) is shared between runs and the process's peak resident memory (``ru_maxrss``) belongs
to this run alone (the data are prepared beforehand by :mod:`benchmarks.data` and only
loaded here). The worker writes its measurements to RESULT.json; a run that raises
writes the error instead. The runner adds the provenance (git, machine) to the line.
"""

from __future__ import annotations

import json
import resource
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data import load_prepared
from benchmarks.environment import jsonable, library_versions
from benchmarks.grid import RunSpec


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


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


def execute(spec: RunSpec, data_folder: Path) -> dict[str, Any]:
    """Load the prepared data, run the method, score it; the result fields of the line."""
    from benchmarks.methods import RUNNERS, l2_normalize

    X, y, features_s = load_prepared(data_folder)
    n = len(y)
    n_train = min(spec.n_train, n)
    idx = np.random.default_rng(spec.seed).choice(n, n_train, replace=False)
    unseen = np.setdiff1d(np.arange(n), idx)
    if spec.protocol == "A" and not spec.method.startswith("neuncut"):
        X = l2_normalize(X)  # NeuNcut does the same itself with normalize_rows=True
    rss_before = _current_rss_mb()
    result = RUNNERS[spec.method](spec, X, idx)
    labels = np.asarray(result.labels).ravel()
    if labels.shape != (n,):
        raise RuntimeError(f"{spec.method} returned {labels.shape[0]} labels for {n} rows")
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


def main(argv: list[str] | None = None) -> int:
    """Run the spec file ``argv[0]`` on the data folder ``argv[2]``, write the result to
    ``argv[1]``; exit status 0 even when the run fails (the result says so)."""
    spec_file, result_file, data_folder = argv if argv is not None else sys.argv[1:4]
    spec = RunSpec.from_dict(json.loads(Path(spec_file).read_text()))
    try:
        result: dict[str, Any] = {"status": "ok", "error": None, **execute(spec, Path(data_folder))}
    except Exception as exc:  # noqa: BLE001 - any failure becomes a failure line
        result = {
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc()[-4000:],
        }
    result["spec"] = spec.to_dict()
    result["peak_rss_mb"] = _rss_mb()
    result["peak_rss_children_mb"] = _rss_mb(resource.RUSAGE_CHILDREN)
    result["versions"] = library_versions()
    Path(result_file).write_text(json.dumps(jsonable(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
