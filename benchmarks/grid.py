"""The benchmark grid: protocols, data sets, methods and the settings of one run.

This module imports nothing heavy: the study (:mod:`benchmarks.run`) declares its axes from
it, and each run's fields, as JSON, become a :class:`RunSpec` again in the fresh worker
process (:func:`benchmarks.methods.fit_one`).
"""

from __future__ import annotations

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
    #: Ablation: NeuNcut parameters that replace the defaults (method "neuncut" only), as
    #: sorted ``(name, value)`` pairs, e.g. ``(("init", "spectral"),)``.
    variant: tuple[tuple[str, Any], ...] = ()

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
        if self.method == "neuncut" and self.variant:
            return "neuncut [" + ", ".join(f"{k}={v}" for k, v in self.variant) + "]"
        return self.method

    def to_dict(self) -> dict[str, Any]:
        """The fields plus ``features`` and ``label``, ready for JSON."""
        return {**asdict(self), "features": self.features, "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        """Inverse of :meth:`to_dict` (extra keys are ignored)."""
        names = cls.__dataclass_fields__.keys()
        fields = {k: v for k, v in data.items() if k in names}
        fields["variant"] = tuple((str(k), v) for k, v in fields.get("variant", ()))
        return cls(**fields)


def parse_variant(text: str) -> tuple[tuple[str, Any], ...]:
    """``"init=spectral,max_epochs=0"`` -> ``(("init", "spectral"), ("max_epochs", 0))``.

    Values are read as JSON when they parse (numbers, true/false/null), else as strings.

    Examples
    --------
    >>> parse_variant("penalty=10,init=spectral")
    (('init', 'spectral'), ('penalty', 10))
    """
    import json

    pairs = []
    for item in filter(None, text.split(",")):
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise ValueError(f"variant {text!r}: expected NAME=VALUE[,NAME=VALUE...]")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        pairs.append((name.strip(), value))
    return tuple(sorted(pairs))
