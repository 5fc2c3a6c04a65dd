"""The benchmark grid: protocols, data sets, methods and the settings of one run.

This module imports nothing heavy: the runner builds :class:`RunSpec` objects from it and
hands each one, as JSON, to a fresh worker process (:mod:`benchmarks.worker`).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

#: Protocol A is the paper's: scattering + PCA 500 features, rows L2-normalized.
#: Protocol B: raw pixels in [0, 1].
PROTOCOLS = {"A": "scattering-pca500-l2", "B": "pixels"}
DATASETS = ("mnist", "fashion-mnist")
#: Extra data sets accepted on the command line (quick checks, tests).
EXTRA_DATASETS = ("digits",)
METHODS = ("neuncut", "neuncut-paper", "kmeans", "sklearn-spectral", "spectralnet", "ncut-pytorch")
PEERS = ("spectralnet", "ncut-pytorch")
#: Methods with no out-of-sample step: they label all rows at once and so see the unseen rows.
TRANSDUCTIVE = ("sklearn-spectral",)

N_TRAIN = 20_000
QUICK_N_TOTAL = 2_000
QUICK_N_TRAIN = 1_000
QUICK_EPOCHS = 2
PAPER_EPOCHS = 300
SPECTRAL_SOLVER = "amg"
SPECTRAL_ASSIGN = "kmeans"


@dataclass
class RunSpec:
    """Everything that defines one run; stored verbatim in its result line."""

    protocol: str
    dataset: str
    method: str
    seed: int
    quick: bool = False
    n_train: int = N_TRAIN
    #: Rows kept from the data set (None: all); quick mode keeps a fixed random subset.
    n_total: int | None = None
    paper_epochs: int = PAPER_EPOCHS
    spectral_solver: str = SPECTRAL_SOLVER
    spectral_assign: str = SPECTRAL_ASSIGN
    peers_python: str = ""

    @property
    def features(self) -> str:
        """Name of the feature pipeline of the protocol."""
        return PROTOCOLS[self.protocol]

    @property
    def label(self) -> str:
        """Name of the method as shown in the report, with any non-default variant."""
        if self.method == "neuncut-paper" and self.paper_epochs != PAPER_EPOCHS:
            return f"neuncut-paper ({self.paper_epochs} epochs)"
        if self.method == "sklearn-spectral" and (
            self.spectral_solver != SPECTRAL_SOLVER or self.spectral_assign != SPECTRAL_ASSIGN
        ):
            return f"sklearn-spectral ({self.spectral_solver}, {self.spectral_assign})"
        return self.method

    def to_dict(self) -> dict[str, Any]:
        """The fields plus ``features`` and ``label``, ready for JSON."""
        return {**asdict(self), "features": self.features, "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        """Inverse of :meth:`to_dict` (extra keys are ignored)."""
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})


def build_grid(
    protocols: list[str],
    datasets: list[str],
    methods: list[str],
    seeds: list[int],
    **common: Any,
) -> list[RunSpec]:
    """All runs of the grid, ordered protocol, data set, method, then seed.

    ``common`` holds the :class:`RunSpec` fields shared by every run (quick, n_train, ...).
    """
    return [
        RunSpec(protocol=p, dataset=d, method=m, seed=s, **common)
        for p, d, m, s in itertools.product(protocols, datasets, methods, seeds)
    ]
