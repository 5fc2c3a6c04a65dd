"""A broad development suite: many small labelled data sets, NeuNcut against six peers.

    python -m benchmarks.suite                      # every method, set and seed 0-4
    python -m benchmarks.suite --methods neuncut genie --datasets synthetic --seeds 0 1
    python -m benchmarks.suite --quick              # smoke, ~20 s
    python -m benchmarks.suite --report             # results/SUITE.md from the records

Data sets (:mod:`benchmarks.suite_data`): scikit-learn's iris, wine, breast cancer and digits
(as shipped and standardized), pyclustering's ``simple`` samples, generated shapes at sizes
300 to 10 000 (with noise, outliers, background noise and unequal densities) and subsets of
MNIST and Fashion-MNIST, and the harder families of :mod:`benchmarks.suite_hard` (each at
two sizes and two generator seeds). ``--datasets`` takes set names, the families ``sklearn``,
``pyclustering``, ``synthetic``, ``images``, ``hard/<family>``, or ``hard`` for all of those.

Methods (:mod:`benchmarks.suite_worker`), all at their defaults with ``n_clusters`` = the
reference k: ``neuncut``, ``genie`` (genieclust, ``gini_threshold=0.3``), ``sklearn-spectral``
(kNN affinity), ``kmeans``, ``gmm``, ``ward`` and ``hdbscan`` (chooses its own k), and
neuncut's ablations and the choosers of k.

Every (set, seed, method) runs in a fresh process with a timeout (:mod:`benchmarks.harness
.study`); the data are prepared once per invocation in a process of their own. A run's
record (``suite.jsonl``, the harder families' in ``suite_hard.jsonl``): NCA, ARI, NMI, fit
seconds, the set's n, d, k and for neuncut its fitted ``init_ncut_``. ``--report`` writes
``SUITE.md`` (:mod:`benchmarks.suite_report`) from the records in the folder of
``--results``; for a (method, set, seed) run several times the newest record counts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks.harness.records import RESULTS_DIR
from benchmarks.harness.study import Axis, Param, Study, json_arg, main
from benchmarks.suite_data import FAMILIES, SETS
from benchmarks.suite_worker import METHODS, VERSIONED

__all__ = ["STUDY", "select_sets", "write_page"]

#: ``--quick``: three tiny sets, seed 0 and a tiny NeuNcut (spectral warm start only: the
#: default also lays out a neighbour embedding, seconds even on 150 points).
QUICK_SETS = ("iris", "pycl-simple03", "moons-300")
QUICK_NEUNCUT = {"max_epochs": 2, "hidden_layer_sizes": [16], "init_size": 300,
                 "init": "spectral"}


def select_sets(tokens: list[str]) -> list[str]:
    """Set names from names, family names and family groups (``hard``: every ``hard/...``
    family), in the suite's order.

    >>> select_sets(["moons-300", "iris"])
    ['iris', 'moons-300']
    >>> len(select_sets(["sklearn"])), select_sets(["hard"])[0]
    (8, 'hard-near-groups-600-g0')
    """
    groups = {f.split("/")[0] for f in FAMILIES}
    unknown = [t for t in tokens if t not in SETS and t not in FAMILIES and t not in groups]
    if unknown:
        raise ValueError(f"unknown data sets {unknown}; names are {list(SETS)}, the "
                         f"families {list(FAMILIES)} or the groups {sorted(groups)}")
    return [name for name, s in SETS.items()
            if name in tokens or s.family in tokens or s.family.split("/")[0] in tokens]


def _derive(run: dict[str, Any]) -> dict[str, Any]:
    """A run's family; neuncut's extra parameters only on neuncut's runs."""
    return {"family": SETS[run["dataset"]].family,
            "neuncut_params": run["neuncut_params"] if run["method"].startswith("neuncut")
            else None}


def _route(run: dict[str, Any]) -> str:
    """The record file of a run: the harder families' records apart (each file < 1 MB).

    >>> _route({"family": "iris"}), _route({"family": "hard/near-groups"})
    ('suite.jsonl', 'suite_hard.jsonl')
    """
    return "suite_hard.jsonl" if run["family"].startswith("hard/") else "suite.jsonl"


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``folder/SUITE.md`` from ``folder/suite.jsonl`` and ``folder/suite_hard.jsonl``."""
    from benchmarks.suite_report import write_report

    write_report([folder / "suite.jsonl", folder / "suite_hard.jsonl"], folder / "SUITE.md")


STUDY = Study(
    name="suite", module="benchmarks.suite",
    question="On small labelled sets of 13 families, how do the defaults compare with Genie, "
             "spectral clustering, k-means, a Gaussian mixture, Ward and HDBSCAN?",
    call="benchmarks.suite_worker:fit_one",
    axes=(Axis("dataset", tuple(SETS), "set names or families (" + ", ".join(FAMILIES) + ")",
               expand=select_sets),
          Axis("seed", (0, 1, 2, 3, 4), type=int), Axis("method", METHODS)),
    params=(Param("neuncut_params", {}, "extra NeuNcut parameters, as JSON", type=json_arg),),
    records="suite.jsonl", more_records=("suite_hard.jsonl",), route=_route,
    report="benchmarks.suite:write_page", page="SUITE.md",
    quick={"dataset": QUICK_SETS, "seed": (0,), "neuncut_params": QUICK_NEUNCUT},
    prepare="benchmarks.suite_data:prepare_runs", derive=_derive, versions=VERSIONED,
    show=lambda r: (f"NCA {r['nca']:.3f} ARI {r['ari']:.3f} NMI {r['nmi']:.3f} "
                    f"fit {r['fit_s']:.1f}s"))

if __name__ == "__main__":
    sys.exit(main(STUDY))
