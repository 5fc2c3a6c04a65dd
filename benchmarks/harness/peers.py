"""The peer clustering methods, each defined once: ``peer(name, n_clusters, seed, **overrides)``.

Every study builds its peers here and passes the settings in which it departs from the
defaults as ``overrides`` (``benchmarks.fit_speed``: ``eigen_solver="amg"``;
``benchmarks.methods``: ``n_init=10`` and a 10-NN graph; ``benchmarks.shapes``: a 10-NN graph
and ``assign_labels="kmeans"``). The libraries are imported only when a peer is built, so that
a worker imports only what its method needs.

>>> PEERS
('genie', 'sklearn-spectral', 'kmeans', 'gmm', 'ward', 'hdbscan')
>>> defaults("kmeans", 3, 0)
{'n_clusters': 3, 'random_state': 0}
>>> peer("gmm", 4, 1, max_iter=50).get_params()["max_iter"]
50
"""

from __future__ import annotations

import importlib
from typing import Any

#: The peers, in the order the reports list them.
PEERS = ("genie", "sklearn-spectral", "kmeans", "gmm", "ward", "hdbscan")
#: Where each peer's class lives: (module, class).
CLASSES: dict[str, tuple[str, str]] = {
    "genie": ("genieclust", "Genie"),
    "sklearn-spectral": ("sklearn.cluster", "SpectralClustering"),
    "kmeans": ("sklearn.cluster", "KMeans"),
    "gmm": ("sklearn.mixture", "GaussianMixture"),
    "ward": ("sklearn.cluster", "AgglomerativeClustering"),
    "hdbscan": ("sklearn.cluster", "HDBSCAN"),
}
#: Each peer's default setting in one line (Markdown), as the reports show it.
DESCRIPTIONS: dict[str, str] = {
    "genie": "genieclust 1.3.0 `Genie(n_clusters=k, gini_threshold=0.3)`",
    "sklearn-spectral": "`SpectralClustering(n_clusters=k, affinity=\"nearest_neighbors\", "
                        "random_state=seed)`",
    "kmeans": "`KMeans(k, random_state=seed)`",
    "gmm": "`GaussianMixture(k, random_state=seed)`",
    "ward": "`AgglomerativeClustering(k, linkage=\"ward\")`",
    "hdbscan": "`sklearn.cluster.HDBSCAN()`",
}


def defaults(name: str, n_clusters: int, seed: int | None) -> dict[str, Any]:
    """The parameters of peer ``name`` before any override.

    genie, ward and hdbscan are deterministic and take no seed; hdbscan chooses its own number
    of clusters and ignores ``n_clusters``.
    """
    settings: dict[str, dict[str, Any]] = {
        "genie": {"n_clusters": n_clusters, "gini_threshold": 0.3},
        "sklearn-spectral": {"n_clusters": n_clusters, "affinity": "nearest_neighbors",
                             "random_state": seed},
        "kmeans": {"n_clusters": n_clusters, "random_state": seed},
        "gmm": {"n_components": n_clusters, "random_state": seed},
        "ward": {"n_clusters": n_clusters, "linkage": "ward"},
        "hdbscan": {},
    }
    if name not in settings:
        raise ValueError(f"unknown peer {name!r}; expected one of {PEERS}")
    return settings[name]


def peer(name: str, n_clusters: int, seed: int | None, **overrides: Any) -> Any:
    """The unfitted estimator of peer ``name``: its defaults, then ``overrides`` on top."""
    params = {**defaults(name, n_clusters, seed), **overrides}
    module, cls = CLASSES[name]
    return getattr(importlib.import_module(module), cls)(**params)
