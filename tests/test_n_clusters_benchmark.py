"""The benchmark of n_clusters="auto" (benchmarks/n_clusters.py): its peers and its report."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

from benchmarks import n_clusters
from benchmarks.choose_k_peers import EigengapSpectral, SilhouetteKMeans


def test_silhouette_kmeans_finds_separated_blobs() -> None:
    X, _ = make_blobs(300, centers=[[0, 0], [30, 0], [0, 30]], cluster_std=1.0, random_state=0)
    model = SilhouetteKMeans(random_state=0)
    assert len(np.unique(model.fit_predict(X))) == model.n_clusters_ == 3


def test_eigengap_heuristic_takes_the_largest_gap() -> None:
    # Three components: three zero eigenvalues. The textbook heuristic then takes the largest
    # absolute gap, which on 2-D blobs is not always the one after the zeros (here at k = 9).
    X, _ = make_blobs(300, centers=[[0, 0], [30, 0], [0, 30]], cluster_std=1.0, random_state=0)
    model = EigengapSpectral(random_state=0)
    labels = model.fit_predict(X)
    mu = model.eigenvalues_
    assert mu.shape == (21,) and np.allclose(mu[:3], 0, atol=1e-10) and mu[3] > 1e-3
    assert model.n_clusters_ == int(np.argmax(np.diff(mu))) + 1 == len(np.unique(labels))


def _record(dataset: str, method: str, seed: int, found: int, k: int, warned=False) -> dict:
    warnings = ["NoClearStructureWarning: ..."] if warned else []
    return {"method": method, "dataset": dataset, "seed": seed, "status": "ok", "k": k,
            "n_clusters_found": found, "nca": 0.5, "ari": 0.4, "fit_s": 1.0,
            "warnings": warnings, "commit": "abc1234"}


def test_suite_section_counts_seeds_and_marks_warnings() -> None:
    records = [_record("iris", "neuncut-auto", s, found, 3, warned=s == 2)
               for s, found in ((0, 3), (1, 3), (2, 5))]
    records += [_record("wine", "neuncut-auto", s, 4, 3) for s in range(3)]
    records += [_record("iris", "neuncut-auto", 2, 3, 3)]  # the newest line of a run counts
    lines = n_clusters.suite_section(records)
    assert "| iris | 3 | 3 | 0.500 | 0.400 |" in lines
    assert "| wine | 3 | 4 | 0.500 | 0.400 |" in lines
    summary = next(line for line in lines if line.startswith("| neuncut-auto |"))
    # iris right on 3 of 3 seeds, wine on none; both within one
    assert summary.startswith("| neuncut-auto | 2 | 1.0 (50 %) | 2.0 (100 %) |")
    assert summary.endswith("| 0 |")
    records.append(_record("iris", "neuncut-auto", 2, 3, 3, warned=True))
    assert "| iris | 3 | 3 (w) | 0.500 | 0.400 |" in n_clusters.suite_section(records)
