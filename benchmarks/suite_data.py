"""The development suite's data sets: ``python -m benchmarks.suite_data FOLDER NAME [NAME ...]``.

Every set is installed offline (scikit-learn, the PyPI package ``pyclustering==0.10.1.2``,
generated, or MNIST / Fashion-MNIST through ``neuncut.datasets.load_dataset``) and is the same
on every call: the generated sets are drawn with fixed generator seeds, so the suite's seeds
vary the methods only. The harder families (:mod:`benchmarks.suite_hard`, families
``hard/<name>``) are each drawn at two sizes and two generator seeds. A loader returns
``(X, y)``; ``y == -1`` marks points that are not scored
(noise, outliers); ``k`` is the number of other labels.

Run as a module, it writes ``FOLDER/NAME.npz`` (``X``, ``y``) and ``NAME.json`` (n, d, k) for
each name, in a process of its own: the suite's workers then only ``np.load`` the arrays.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.suite_hard import FAMILIES as HARD_FAMILIES
from benchmarks.suite_hard import GENERATOR_SEEDS as HARD_SEEDS
from benchmarks.suite_hard import SIZES as HARD_SIZES
from benchmarks.suite_hard import hard_set

Loader = Callable[[], tuple[np.ndarray, np.ndarray]]

#: Generator seed of every synthetic set and of the MNIST / Fashion-MNIST subsets.
DATA_SEED = 0
#: Rows of the MNIST and Fashion-MNIST subsets.
IMAGE_SUBSET = 5000


@dataclass(frozen=True)
class SuiteSet:
    """A labelled data set of the suite: its family, a one-line description and its loader."""

    name: str
    family: str
    description: str
    load: Loader


# ---------------------------------------------------------------------------- scikit-learn
def sklearn_set(which: str, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``load_<which>``, as shipped or through ``StandardScaler``."""
    import sklearn.datasets
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(sklearn.datasets, f"load_{which}")(return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    return (StandardScaler().fit_transform(X) if standardize else X), np.asarray(y)


# ---------------------------------------------------------------------------- pyclustering
#: The ``simple`` samples of pyclustering 0.10.1.2 (BSD-3). ``Simple14`` is left out: once its
#: 9 noise points (answer ``n``) are removed a single cluster of 32 points remains (k = 1).
PYCLUSTERING_SIMPLE = (
    "Elongate", *(f"Simple{i:02d}" for i in range(1, 14)), "Simple15",
)
#: Answer-file labels that mark noise (mapped to -1, not scored); only ``Simple14`` has any.
PYCLUSTERING_NOISE = frozenset({"n"})


def pyclustering_folder() -> Path:
    """The ``samples/samples/simple`` folder of the installed pyclustering package."""
    spec = importlib.util.find_spec("pyclustering")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the suite's pyclustering sets need: pip install pyclustering==0.10.1.2")
    return Path(next(iter(spec.submodule_search_locations))) / "samples" / "samples" / "simple"


def read_answer(text: str) -> np.ndarray:
    """Labels of an ``.answer`` file: one token per line (CRLF endings, ``00`` is 0).

    >>> read_answer("0\\r\\n1\\r\\nn\\r\\n00").tolist()
    [0, 1, -1, 0]
    """
    return np.array([-1 if t in PYCLUSTERING_NOISE else int(t) for t in text.split()])


def pyclustering_set(stem: str) -> tuple[np.ndarray, np.ndarray]:
    """A ``.data`` (whitespace-separated floats, one point a line) / ``.answer`` pair."""
    folder = pyclustering_folder()
    rows = [line.split() for line in (folder / f"{stem}.data").read_text().splitlines()]
    X = np.array([[float(v) for v in row] for row in rows if row], dtype=np.float64)
    y = read_answer((folder / f"{stem}.answer").read_text())
    if len(y) != len(X):
        raise ValueError(f"pyclustering {stem}: {len(X)} points but {len(y)} answer labels")
    return X, y


# ------------------------------------------------------------------------------ synthetic
def from_shapes(generator: str, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """A generator of :mod:`benchmarks.shapes` with the suite's data seed."""
    from benchmarks import shapes

    return getattr(shapes, generator)(n_samples, DATA_SEED)


def noisy_moons(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Two moons with Gaussian noise 0.12 (the shapes benchmark uses 0.05)."""
    from sklearn.datasets import make_moons

    return make_moons(n_samples, noise=0.12, random_state=DATA_SEED)


def chains(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Three parallel horizontal chains, 10 long, 1 apart, vertical noise 0.1.

    Longer than they are apart: k-means prefers to cut across them.
    """
    rng = np.random.default_rng(DATA_SEED)
    y = np.arange(n_samples) % 3
    X = np.c_[rng.uniform(0, 10, n_samples), y + 0.1 * rng.standard_normal(n_samples)]
    return X, y


def chainlink(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interlocked rings of radius 1 in 3-D (FCPS's Chainlink), Gaussian noise 0.05."""
    rng = np.random.default_rng(DATA_SEED)
    y = np.arange(n_samples) % 2
    t = rng.uniform(0, 2 * np.pi, n_samples)
    ring0 = np.c_[np.cos(t), np.sin(t), np.zeros(n_samples)]  # in the xy-plane
    ring1 = np.c_[1 + np.cos(t), np.zeros(n_samples), np.sin(t)]  # in the xz-plane, through 0
    X = np.where(y[:, None] == 0, ring0, ring1)
    return X + 0.05 * rng.standard_normal(X.shape), y


def rings_with_outliers() -> tuple[np.ndarray, np.ndarray]:
    """Two concentric rings of 500 points, plus three far-off groups of 10 (label -1)."""
    from sklearn.datasets import make_circles

    X, y = make_circles(1000, noise=0.05, factor=0.5, random_state=DATA_SEED)
    rng = np.random.default_rng(DATA_SEED)
    far = np.array([[6.0, 6.0], [-6.0, 5.0], [5.0, -6.0]])
    groups = np.repeat(far, 10, axis=0) + 0.1 * rng.standard_normal((30, 2))
    return np.r_[X, groups], np.r_[y, np.full(30, -1)]


def rings_with_outlier_groups() -> tuple[np.ndarray, np.ndarray]:
    """The rings and far-off groups of :func:`rings_with_outliers`, each group a cluster of
    its own (k = 5): small clusters far from the rest must not be merged into it."""
    X, y = rings_with_outliers()
    return X, np.r_[y[: len(y) - 30], np.repeat([2, 3, 4], 10)]


def blobs_in_background() -> tuple[np.ndarray, np.ndarray]:
    """Four dense blobs of 250 points (std 0.5) in 500 uniform noise points (label -1)."""
    from sklearn.datasets import make_blobs

    centers = np.array([[-5.0, -5.0], [5.0, -5.0], [-5.0, 5.0], [5.0, 5.0]])
    X, y = make_blobs([250] * 4, centers=centers, cluster_std=0.5, random_state=DATA_SEED)
    noise = np.random.default_rng(DATA_SEED).uniform(-10, 10, size=(500, 2))
    return np.r_[X, noise], np.r_[y, np.full(500, -1)]


def unequal_densities() -> tuple[np.ndarray, np.ndarray]:
    """Three blobs: 800 points std 0.25, 300 points std 0.8, 100 points std 1.5."""
    from sklearn.datasets import make_blobs

    centers = np.array([[0.0, 0.0], [3.5, 0.0], [1.5, 5.0]])
    return make_blobs([800, 300, 100], centers=centers, cluster_std=[0.25, 0.8, 1.5],
                      random_state=DATA_SEED)


# -------------------------------------------------------------------------------- images
def image_subset(dataset: str, pca: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random subset of MNIST / Fashion-MNIST, pixels in [0, 1] (byte / 255).

    With ``pca``, the subset's pixels through ``PCA(pca, random_state=0)`` fit on the subset.
    """
    from neuncut.datasets import load_dataset  # the one use of neuncut outside the estimator

    ds = load_dataset(dataset)
    rows = np.sort(np.random.default_rng(DATA_SEED).choice(len(ds.target), IMAGE_SUBSET,
                                                            replace=False))
    X, y = np.asarray(ds.data[rows], dtype=np.float32), np.asarray(ds.target[rows])
    if pca is not None:
        from sklearn.decomposition import PCA

        X = PCA(pca, random_state=DATA_SEED).fit_transform(X).astype(np.float32)
    return X, y


# ------------------------------------------------------------------------------ registry
def _registry() -> dict[str, SuiteSet]:
    """Every set of the suite, in report order."""
    sets: list[SuiteSet] = []
    for which, what in (("iris", "3 iris species, 4 measurements"),
                        ("wine", "3 wine cultivars, 13 chemical measurements"),
                        ("breast_cancer", "malignant / benign tumours, 30 features"),
                        ("digits", "8 x 8 handwritten digits, pixels 0-16")):
        name = which.replace("_", "-")
        sets.append(SuiteSet(name, "sklearn", f"scikit-learn: {what}, as shipped",
                             partial(sklearn_set, which, False)))
        sets.append(SuiteSet(f"{name}-std", "sklearn", f"scikit-learn: {what}, standardized",
                             partial(sklearn_set, which, True)))
    for stem in PYCLUSTERING_SIMPLE:
        sets.append(SuiteSet(f"pycl-{stem.lower()}", "pyclustering",
                             f"pyclustering 0.10.1.2 sample simple/{stem}",
                             partial(pyclustering_set, stem)))
    synthetic = (
        ("moons-300", "two moons, noise 0.05", partial(from_shapes, "moons", 300)),
        ("moons-3000", "two moons, noise 0.05", partial(from_shapes, "moons", 3000)),
        ("moons-noisy-1000", "two moons, noise 0.12", partial(noisy_moons, 1000)),
        ("circles-300", "two circles, noise 0.05, factor 0.5",
         partial(from_shapes, "circles", 300)),
        ("circles-3000", "two circles, noise 0.05, factor 0.5",
         partial(from_shapes, "circles", 3000)),
        ("spirals-1000", "three spirals, 1.5 turns, noise 0.02",
         partial(from_shapes, "spirals", 1000)),
        ("spirals-10000", "three spirals, 1.5 turns, noise 0.02",
         partial(from_shapes, "spirals", 10000)),
        ("anisotropic-3000", "three sheared blobs (scikit-learn's example)",
         partial(from_shapes, "anisotropic", 3000)),
        ("unequal-variance-3000", "three blobs, std 1.0 / 2.5 / 0.5",
         partial(from_shapes, "unequal_variance", 3000)),
        ("imbalanced-2100", "three blobs, sizes 100 / 1000 / 1000",
         partial(from_shapes, "imbalanced", 2100)),
        ("grid-15-3000", "5 x 3 grid of unit-variance blobs 10 apart",
         partial(from_shapes, "grid", 3000)),
        ("gmm-20x50d-10000", "20 Gaussian clusters in 50-D",
         partial(from_shapes, "gmm_20x50d", 10000)),
        ("chains-1500", "three parallel chains 10 long, 1 apart", partial(chains, 1500)),
        ("chainlink-1000", "two interlocked rings in 3-D", partial(chainlink, 1000)),
        ("rings-outliers-1030", "two circles of 500 + three far-off groups of 10 (not scored)",
         rings_with_outliers),
        ("rings-groups-1030", "two circles of 500 + three far-off groups of 10, 5 clusters",
         rings_with_outlier_groups),
        ("blobs-background-1500", "four blobs of 250 in 500 uniform noise points (not scored)",
         blobs_in_background),
        ("unequal-density-1200", "three blobs of 800 / 300 / 100 points, std 0.25 / 0.8 / 1.5",
         unequal_densities),
    )
    sets += [SuiteSet(name, "synthetic", what, load) for name, what, load in synthetic]
    for family, (_, what) in HARD_FAMILIES.items():
        sets += [SuiteSet(f"hard-{family}-{n}-g{seed}", f"hard/{family}", what,
                          partial(hard_set, family, n, seed))
                 for n in HARD_SIZES for seed in HARD_SEEDS]
    for dataset, short in (("mnist", "MNIST"), ("fashion-mnist", "Fashion-MNIST")):
        sets.append(SuiteSet(f"{dataset}-5000", "images",
                             f"{short}: {IMAGE_SUBSET} random images, pixels / 255",
                             partial(image_subset, dataset)))
        sets.append(SuiteSet(f"{dataset}-5000-pca50", "images",
                             f"{short}: the same {IMAGE_SUBSET} images, PCA to 50 dimensions",
                             partial(image_subset, dataset, 50)))
    return {s.name: s for s in sets}


SETS: dict[str, SuiteSet] = _registry()
FAMILIES = tuple(dict.fromkeys(s.family for s in SETS.values()))


def load_set(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of the set ``name``: X 2-D, y integers with -1 for points not scored."""
    X, y = SETS[name].load()
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    return X, np.asarray(y, dtype=np.int64)


def prepare(folder: str | Path, names: list[str]) -> dict[str, Any]:
    """Per set, ``FOLDER/NAME.npz`` (``X``, ``y``) and ``NAME.json`` (``n``, ``d``, ``k``), or
    ``NAME.error`` with the reason it could not be loaded (Fashion-MNIST not installed...).
    Called in a worker process of its own (:func:`benchmarks.harness.process.run_call`)."""
    from benchmarks.harness.environment import relative_paths

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        try:
            X, y = load_set(name)
        except Exception as exc:  # noqa: BLE001 - the runs of this set report it
            (out / f"{name}.error").write_text(relative_paths(f"{type(exc).__name__}: {exc}"))
            continue
        np.savez(out / f"{name}.npz", X=X, y=y)
        k = len(np.unique(y[y != -1]))
        (out / f"{name}.json").write_text(json.dumps({"n": len(X), "d": X.shape[1], "k": k}))
    return {}


def prepare_runs(folder: str | Path, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`prepare` for the suite's sets among ``runs`` (the harness's ``prepare``)."""
    return prepare(folder, sorted({run["dataset"] for run in runs} & set(SETS)))
