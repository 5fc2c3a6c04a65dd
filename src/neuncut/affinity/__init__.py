"""Affinity graphs: dense ones inside a minibatch, sparse ones over the warm-start subsample.

Batch graphs (:func:`rbf_affinity`, :func:`self_tuning_knn_affinity`) map a batch of points
``X`` (B, n_features) to a dense, symmetric, non-negative torch matrix ``W`` (B, B) with unit
self-loops (``W_ii = 1``, as in the authors' code). Self-loops add the same constant to every
degree and change no cut, but they keep every degree positive, so a point with no neighbour
in the batch never divides by zero in the loss. Memory is O(B^2): distances come from
:func:`torch.cdist`, never from a (B, B, n_features) broadcast.

Subsample graphs (:func:`self_tuning_knn_graph`, :func:`mutual_knn_mst_graph`,
:func:`fuzzy_knn_graph`) are scipy sparse matrices without self-loops over the whole warm-start
subsample: the self-tuning one is the sparse twin of the batch graph (same formula, all points
instead of one batch) and is the one the warm start's arbitration judges the candidates on;
the mutual-kNN + tree one keeps noisy chains whole and outlier groups
apart, which is why the spectral candidate partitions it (decision D10); the fuzzy one is
UMAP's, which the neighbour embedding lays out.

The spectrum of such a graph's normalized Laplacian and its top eigenvectors
(:func:`laplacian_spectrum`, :func:`spectral_embedding`) serve both the warm start and the
choice of the number of clusters.
"""

from ._batch import (
    AffinityFactory,
    AffinityFn,
    choose_sigma,
    graph_factory,
    make_affinity,
    median_heuristic_sigma,
    power_of_two_scale,
    rbf_affinity,
    self_tuning_knn_affinity,
    squared_distances,
)
from ._spectrum import laplacian_spectrum, spectral_embedding
from ._subsample import (
    fuzzy_knn_graph,
    knn_search,
    knn_spanning_tree,
    mutual_knn_mst_graph,
    self_tuning_knn_graph,
)

__all__ = [
    "AffinityFactory",
    "AffinityFn",
    "choose_sigma",
    "fuzzy_knn_graph",
    "graph_factory",
    "knn_search",
    "knn_spanning_tree",
    "laplacian_spectrum",
    "make_affinity",
    "median_heuristic_sigma",
    "mutual_knn_mst_graph",
    "power_of_two_scale",
    "rbf_affinity",
    "self_tuning_knn_affinity",
    "self_tuning_knn_graph",
    "spectral_embedding",
    "squared_distances",
]
