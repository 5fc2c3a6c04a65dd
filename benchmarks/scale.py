"""Train on a subset, label everything: time, memory and quality for N = 10^5, 10^6, 10^7.

    python -m benchmarks.scale                      # both data sets, N = 1e5, 1e6, 1e7 (~15 min)
    python -m benchmarks.scale --quick              # a smoke test (N = 2e3, 1e4; seconds)
    python -m benchmarks.scale --report             # SCALE.md and scale.png from the records

Data sets (written chunk by chunk to ``.npy`` files by a process of their own, in a temporary
folder or ``--data-dir``, removed after the run; never held in memory):

``gmm``
    20 Gaussian clusters in 50 dimensions (centres N(0, 1.5^2 I), unit-variance noise).
``rings``
    3 concentric rings in 2-D (radii 1, 2, 3, radial noise 0.1), the kind of shape set the
    landmark spectral methods (LSC, U-SPEC) report on; a non-convex case k-means fails.

Each (data set, N) runs in a fresh process: ``NeuNcut(n_clusters=k, train_size=20000)`` with
every other parameter at its default is fitted on the **path** of the ``.npy`` file, so
training reads only the 20 000 sampled rows and ``labels_`` is computed by reading every row
once in blocks. Memory is sampled every 20 ms from ``/proc/self/status`` during fit and
labelling: ``RssAnon`` (the process's own memory) and ``VmHWM`` (peak resident set, which
also counts the pages of the memory-mapped input the kernel keeps resident; those are page
cache, reclaimable). Appends to ``benchmarks/results/scale.jsonl`` and writes ``SCALE.md`` and
``scale.png`` beside it from the latest run of each data set and N (the header names the newest
run's commit).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.process import run_call
from benchmarks.harness.records import RESULTS_DIR, latest, read_records
from benchmarks.harness.study import Axis, Param, Study, main

TRAIN_SIZE = 20_000
CHUNK = 1_000_000
DATASETS = {"gmm": {"n_clusters": 20, "n_features": 50}, "rings": {"n_clusters": 3,
                                                                   "n_features": 2}}


# ------------------------------------------------------------------------------- data
def _gmm_chunk(rng: np.random.Generator, n: int, centers: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(len(centers), size=n)
    X = centers[y] + rng.standard_normal((n, centers.shape[1]), dtype=np.float32)
    return X, y


def _rings_chunk(rng: np.random.Generator, n: int, _: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(3, size=n)
    radius = (y + 1.0) + 0.1 * rng.standard_normal(n)
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    return np.c_[radius * np.cos(angle), radius * np.sin(angle)].astype(np.float32), y


def write_dataset(name: str, n: int, folder: str | Path, seed: int) -> dict[str, Any]:
    """Write ``X.npy`` (float32) and ``y.npy`` (int8) of ``n`` points, a chunk at a time."""
    folder = Path(folder)
    spec = DATASETS[name]
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.5, size=(spec["n_clusters"], spec["n_features"]))
    make = _gmm_chunk if name == "gmm" else _rings_chunk
    x_path, y_path = folder / "X.npy", folder / "y.npy"
    X = np.lib.format.open_memmap(x_path, "w+", np.float32, (n, spec["n_features"]))
    y = np.lib.format.open_memmap(y_path, "w+", np.int8, (n,))
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        X[start:stop], y[start:stop] = make(rng, stop - start, centers.astype(np.float32))
    X.flush()
    y.flush()
    del X, y
    return {}


# ------------------------------------------------------------------------- one run
class MemorySampler(threading.Thread):
    """Peaks of RssAnon and VmHWM (GiB) of this process, sampled every ``interval`` s."""

    def __init__(self, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak_anon, self.hwm = interval, 0.0, 0.0
        self._stop_event = threading.Event()

    @staticmethod
    def _status() -> dict[str, float]:
        values = {}
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("RssAnon", "VmHWM"):
                values[key] = int(rest.split()[0]) / 2**20  # kB -> GiB
        return values

    def run(self) -> None:
        while not self._stop_event.is_set():
            status = self._status()
            self.peak_anon = max(self.peak_anon, status.get("RssAnon", 0.0))
            self.hwm = max(self.hwm, status.get("VmHWM", 0.0))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.hwm = max(self.hwm, self._status().get("VmHWM", 0.0))


def measure(dataset: str, n: int, seed: int, quick: bool, data_dir: str | None
            ) -> dict[str, Any]:
    """One run (a worker's call): the data written by a process of their own (so that this
    process's memory is the fit's), then :func:`run_one`; the data are removed after."""
    folder = Path(tempfile.mkdtemp(prefix=f"{dataset}-{n}-", dir=data_dir))
    try:
        answer = run_call("benchmarks.scale:write_dataset",
                          {"name": dataset, "n": n, "folder": str(folder), "seed": seed},
                          timeout=None)
        if answer["status"] != "ok":
            raise RuntimeError(f"writing the data failed: {answer['error']}")
        return run_one(dataset, n, folder, seed, quick)
    finally:
        shutil.rmtree(folder)


def run_one(name: str, n: int, folder: Path, seed: int, quick: bool) -> dict[str, Any]:
    """Fit and label one data set in this process; the measurements as a dict."""
    import torch

    from neuncut import NeuNcut
    from neuncut.metrics import evaluate

    # One thread for the smoke test: beside other work (the test suite), two threads' small
    # ops wait on each other (benchmarks/README.md, 'Threads under load').
    torch.set_num_threads(1 if quick else os.cpu_count() or 1)
    # quick: a smoke test of the machinery, a small model; the spectral warm start alone
    # solves the rings and skips the neighbour embedding's fixed cost.
    quick_params = {"max_epochs": 2, "init_size": 500, "init": "spectral",
                    "hidden_layer_sizes": (32,)}
    params: dict[str, Any] = quick_params if quick else {}
    train_size = min(TRAIN_SIZE, n // 2) if quick else TRAIN_SIZE
    model = NeuNcut(DATASETS[name]["n_clusters"], train_size=train_size, random_state=seed,
                    **params)
    sampler = MemorySampler()
    sampler.start()
    t0 = time.perf_counter()
    model.fit(folder / "X.npy")
    wall = time.perf_counter() - t0
    sampler.stop()
    y = np.load(folder / "y.npy", mmap_mode="r")
    scores = evaluate(np.asarray(y), model.labels_)
    return {
        "train_size": train_size,
        "n_features": DATASETS[name]["n_features"], "n_clusters": model.n_clusters,
        "fit_label_s": round(wall, 2), "init_s": round(model.timings_["init"], 2),
        "train_s": round(model.timings_["train"], 2), "label_s": round(model.timings_["label"], 2),
        "label_rows_per_s": round(n / model.timings_["label"]),
        "peak_anon_gb": round(sampler.peak_anon, 3), "peak_rss_gb": round(sampler.hwm, 3),
        "input_gb": round((folder / "X.npy").stat().st_size / 2**30, 3),
        "labels_gb": round(model.labels_.nbytes / 2**30, 3),
        **{k: round(v, 4) for k, v in scores.items()},
    }


# ------------------------------------------------------------------------------ report
def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Log-log wall time and peak memory against N, one line per data set."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_t, ax_m = fig.subplots(1, 2)
    for name in sorted({r["dataset"] for r in results}):
        rows = sorted((r for r in results if r["dataset"] == name), key=lambda r: r["n"])
        n = np.array([r["n"] for r in rows], dtype=float)
        ax_t.loglog(n, [r["fit_label_s"] for r in rows], "o-", label=f"{name}: fit + label")
        ax_t.loglog(n, [r["label_s"] for r in rows], "s--", label=f"{name}: label")
        ax_m.semilogx(n, [r["peak_anon_gb"] for r in rows], "o-", label=f"{name}: RssAnon")
        ax_m.semilogx(n, [r["peak_rss_gb"] for r in rows], "s--", label=f"{name}: VmHWM")
    n_all = np.array(sorted({r["n"] for r in results}), dtype=float)
    ref = max(r["label_s"] for r in results if r["n"] == n_all[-1])
    ax_t.loglog(n_all, ref * n_all / n_all[-1], ":", color="grey", label="slope 1 (linear)")
    ax_t.set(xlabel="N (points labelled)", ylabel="seconds", title="time")
    ax_m.set(xlabel="N (points labelled)", ylabel="GiB", title="peak memory", ylim=(0, None))
    ax_t.legend(fontsize=7)
    ax_m.legend(fontsize=7)
    fig.savefig(path, dpi=100)


def report(results: list[dict[str, Any]], context: dict[str, Any]) -> str:
    from benchmarks.harness.environment import commit_of, describe_machine

    head = ("| data set | N | fit + label (s) | warm start (s) | Ncut training (s) | labelling (s)"
            " | labelling rows/s | peak RssAnon (GiB) | peak VmHWM (GiB) | input (GiB) | ACC "
            "| NMI |\n" + "| --- " * 12 + "|")
    rows = "\n".join(
        f"| {r['dataset']} ({r['n_clusters']} clusters, {r['n_features']}-D) | {r['n']:.0e} |"
        f" {r['fit_label_s']} | {r['init_s']} | {r['train_s']} | {r['label_s']} |"
        f" {r['label_rows_per_s']:,} | {r['peak_anon_gb']} | {r['peak_rss_gb']} |"
        f" {r['input_gb']} | {r['acc']} | {r['nmi']} |"
        for r in results
    )
    git = context.get("git") or {}
    return f"""# Scale: train on 20 000 points, label up to 10^7

`python -m benchmarks.scale` (commit {str(commit_of(context))[:10]}{
        ' + local changes' if git.get('dirty') else ''}) on {describe_machine(context['machine'])}.
Every run is a fresh process fitting `NeuNcut(n_clusters=k, train_size=20000)` (all other
parameters default) on the path of a `.npy` file; see the module docstring for the data and
the memory measures.

{head}
{rows}

![time and memory against N](scale.png)
"""


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``folder/SCALE.md`` and ``folder/scale.png`` from the records ``folder/scale.jsonl``."""
    records = read_records(folder / "scale.jsonl")
    runs = [r for r in latest(records, "scale").values() if r.get("status", "ok") == "ok"]
    (folder / "SCALE.md").write_text(report(runs, context=records[-1]))
    plot(runs, folder / "scale.png")


STUDY = Study(
    name="scale", module="benchmarks.scale",
    question="Training on 20 000 rows and labelling 10^5 to 10^7 read from a .npy file: "
             "time, memory and quality",
    call="benchmarks.scale:measure",
    axes=(Axis("dataset", tuple(DATASETS)),
          Axis("n", (100_000, 1_000_000, 10_000_000), flag="--sizes",
               type=lambda t: int(float(t))),
          Axis("seed", (0,), type=int)),
    params=(Param("data_dir", None, "folder for the data files (default: a temporary one)",
                  type=str),),
    records="scale.jsonl", report="benchmarks.scale:write_page", page="SCALE.md",
    plot="scale.png", timeout=None, threads=None, quick={"n": (2_000, 10_000)},
    show=lambda r: (f"{r['fit_label_s']} s (label {r['label_s']} s), RssAnon "
                    f"{r['peak_anon_gb']} GiB, ACC {r['acc']}, NMI {r['nmi']}"))

if __name__ == "__main__":
    sys.exit(main(STUDY))
