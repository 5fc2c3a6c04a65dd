"""Prepare a protocol's features once: ``python -m benchmarks.data SPEC.json FOLDER``.

The runner calls this in its own process before the first run that needs the (protocol,
data set) pair, and the workers then only ``np.load`` the arrays: the peak memory a worker
measures is the method's (plus the loaded features), not that of decoding the data set or of
the scattering transform, and data preparation is not repeated per run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.grid import RunSpec


def data_key(spec: RunSpec) -> str:
    """Folder name of the prepared data of ``spec``."""
    return f"{spec.protocol}-{spec.dataset}-{spec.n_total or 'all'}"


def load_features(spec: RunSpec) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the data set under the protocol.

    ``spec.n_total`` keeps a fixed random subset of rows (seed 0, original order). Protocol A
    returns the scattering + PCA 500 features *before* row normalization; protocol B the
    pixels in [0, 1].
    """
    from neuncut.datasets import load_dataset

    ds = load_dataset(spec.dataset)
    data, target = ds.data, ds.target
    if spec.n_total is not None and spec.n_total < len(target):
        keep = np.sort(np.random.default_rng(0).choice(len(target), spec.n_total, replace=False))
        data, target = data[keep], target[keep]
    if spec.protocol == "A":
        from neuncut.features import scattering

        n_components = min(500, data.shape[0])
        data = scattering(data, image_shape=ds.image_shape, n_components=n_components)
    return np.ascontiguousarray(data, dtype=np.float32), np.asarray(target, dtype=np.int64)


def prepare(spec: RunSpec, folder: Path) -> None:
    """Write ``X.npy``, ``y.npy`` and ``meta.json`` (seconds taken, shape) to ``folder``."""
    t0 = time.perf_counter()
    X, y = load_features(spec)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    meta = {"features_s": time.perf_counter() - t0, "shape": list(X.shape)}
    (folder / "meta.json").write_text(json.dumps(meta))


def load_prepared(folder: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """The arrays written by :func:`prepare` and the seconds their preparation took."""
    meta = json.loads((folder / "meta.json").read_text())
    return np.load(folder / "X.npy"), np.load(folder / "y.npy"), float(meta["features_s"])


def prepare_runs(folder: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`prepare` for each data of ``runs`` (the harness's ``prepare``), into
    ``folder/`` :func:`data_key`; a data set that cannot be prepared is left out (its runs
    fail, saying so)."""
    specs = {data_key(s): s for s in map(RunSpec.from_dict, runs)}
    failed = {}
    for key, spec in specs.items():
        try:
            prepare(spec, Path(folder) / key)
        except Exception as exc:  # noqa: BLE001 - the runs of this data report it
            failed[key] = f"{type(exc).__name__}: {exc}"
            (Path(folder) / f"{key}.error").write_text(failed[key])
    return {"failed": failed}
