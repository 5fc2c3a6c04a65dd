"""The MNIST and Fashion-MNIST grid: ``python -m benchmarks.run [options]``.

Each (protocol, data set, method, variant, seed) runs in a fresh worker process of the
harness (:func:`benchmarks.methods.fit_one`) on data prepared once per invocation
(:func:`benchmarks.data.prepare_runs`), and appends one record to ``results.jsonl``: the run's
parameters, ACC/NMI/ARI on all rows, on the trained rows and on the unseen rows, fit and
predict times, peak memory (``ru_maxrss`` of the worker process), library versions, the
commit and the machine. A run that fails or times out gets a record with its error instead of
metrics. ``--report`` writes ``RESULTS.md`` and ``results.png`` (:mod:`benchmarks.report`).

Protocol A: the paper's features (scattering + PCA 500, rows L2-normalized); B: pixels in
[0, 1]. Seed s trains on ``default_rng(s).choice(n, n_train, replace=False)``.
``--variant`` runs neuncut with changed parameters (``max_epochs=0``; ``''`` is the defaults).

Examples
--------
The paper's protocol on MNIST, the cheap methods, seed 0::

    python -m benchmarks.run --protocols A --datasets mnist --methods neuncut kmeans --seeds 0

A smoke test in well under a minute::

    python -m benchmarks.run --quick --datasets digits --methods neuncut kmeans
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks.grid import (
    DATASETS,
    EXTRA_DATASETS,
    METHODS,
    N_TRAIN,
    PAPER_EPOCHS,
    PROTOCOLS,
    QUICK_N_TOTAL,
    QUICK_N_TRAIN,
    SPECTRAL_ASSIGN,
    SPECTRAL_SOLVER,
    RunSpec,
    parse_variant,
)
from benchmarks.harness.records import RESULTS_DIR
from benchmarks.harness.study import Axis, Param, Study, main

#: The peers' own virtual environment (``make bench-install``), from the repository root.
PEERS_PYTHON = "benchmarks/.venv-peers/bin/python"


def derive(run: dict[str, Any]) -> dict[str, Any]:
    """A run's feature pipeline and its label on the page (the method and any variant)."""
    spec = RunSpec.from_dict(run)
    return {"features": spec.features, "label": spec.label}


def keep(run: dict[str, Any]) -> bool:
    """Variants are of neuncut only: every other method runs once, without one."""
    return run["method"] == "neuncut" or not run["variant"]


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``RESULTS.md`` and ``results.png`` from ``results.jsonl`` in ``folder``."""
    from benchmarks.report import write_page as write

    write(folder)


STUDY = Study(
    name="run", module="benchmarks.run",
    question="MNIST and Fashion-MNIST, fitted on 20 000 rows: NeuNcut against k-means, "
             "spectral clustering, SpectralNet, ncut-pytorch and the paper's configuration",
    call="benchmarks.methods:fit_one",
    axes=(Axis("protocol", tuple(PROTOCOLS), "A: the paper's features; B: pixels"),
          Axis("dataset", DATASETS, choices=(*DATASETS, *EXTRA_DATASETS)),
          Axis("method", METHODS),
          Axis("variant", ((),), "neuncut's parameters changed, NAME=VALUE[,NAME=VALUE] "
               "('' the defaults)", flag="--variant", type=parse_variant),
          Axis("seed", (0, 1, 2, 3, 4), type=int)),
    params=(Param("n_train", N_TRAIN, "training rows"),
            Param("n_total", None, "rows kept (default all)", type=int),
            Param("paper_epochs", PAPER_EPOCHS, "epochs of neuncut-paper"),
            Param("spectral_solver", SPECTRAL_SOLVER, "eigen_solver of sklearn-spectral"),
            Param("spectral_assign", SPECTRAL_ASSIGN, "assign_labels of sklearn-spectral"),
            Param("peers_python", PEERS_PYTHON, "the peers' interpreter")),
    derive=derive, keep=keep, prepare="benchmarks.data:prepare_runs",
    records="results.jsonl", report="benchmarks.run:write_page", page="RESULTS.md",
    plot="results.png", timeout=3600.0, threads=None,
    quick={"seed": (0,), "n_total": QUICK_N_TOTAL, "n_train": QUICK_N_TRAIN},
    show=lambda r: (f"acc all {r['metrics']['all']['acc']:.3f} nmi "
                    f"{r['metrics']['all']['nmi']:.3f} fit {r['fit_s']:.1f}s "
                    f"peak {r['peak_rss_mb']:.0f}MB"))

if __name__ == "__main__":
    sys.exit(main(STUDY))
