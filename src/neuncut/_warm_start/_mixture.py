"""A Gaussian mixture refinement of the k-means partition of the neighbour embedding.

k-means assumes round clusters of one size; on a neighbour embedding the clusters are compact
but often elongated or of unequal spread, and k-means then cuts one of them and joins its
piece to a neighbour. EM for a mixture of Gaussians with full covariances (N2D clusters its
UMAP embedding the same way: McConville et al., "N2D: (Not Too) Deep Clustering via
Clustering the Local Manifold of an Autoencoded Embedding", ICPR 2020), started from the
k-means partition, moves such boundaries. It is a candidate, not a replacement: the warm start
keeps it only where its normalized cut on the criterion graph is lower
(:func:`._candidates.embedding_labels`).

Measured before adoption (``benchmarks/README.md``, "A mixture refinement of the embedding's
partition"): the warm start's partition of 20 000 MNIST points, seeds 0-2, moved from ACC 0.957
/ 0.957 / 0.951 to 0.961 / 0.957 / 0.962 on the scattering features and from 0.801 to 0.824 on
pixels (seed 0; seed 1 kept k-means), with a lower cut each time it was kept. With only its
means from k-means (weights and covariances from scikit-learn's own k-means start), the same
mixture emptied clusters on small sets and cut more on MNIST protocol A, seed 0.
scikit-learn's :class:`~sklearn.mixture.GaussianMixture` does the EM.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from .._threads import native_threads

__all__ = ["mixture_refinement"]

# Added to every covariance's diagonal: the layout's clusters are tight (spreads of 0.1 to 1 in
# coordinates of up to about 10), and a cluster of fewer points than dimensions has a singular
# empirical covariance.
_REG_COVAR = 1e-3
_MAX_ITER = 200


def mixture_refinement(Z: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray | None:
    r"""Hard labels of a full-covariance Gaussian mixture fitted by EM from partition ``labels``.

    EM starts from the partition's own mixture: weights :math:`\pi_c = |C_c| / n`, means
    :math:`\mu_c` and covariances :math:`\Sigma_c + \epsilon I` of its clusters
    (:math:`\epsilon = 10^{-3}`), and runs at most 200 iterations; each point then goes to
    :math:`\arg\max_c \pi_c \mathcal{N}(z; \mu_c, \Sigma_c)`. Nothing is drawn: the start is
    given, so the result is a function of ``(Z, labels)``.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        The embedding.
    labels : ndarray of shape (n,), int in [0, n_clusters)
        The partition to start from, every cluster non-empty.
    n_clusters : int

    Returns
    -------
    labels : ndarray of shape (n,), int64, or None
        None where EM failed (a covariance that is not positive definite) or emptied a
        cluster: a partition into fewer than ``n_clusters`` parts is no candidate.

    Examples
    --------
    A long cluster beside a small round one: k-means puts the boundary half-way between the
    centres and gives the long cluster's tail to the round one; the mixture moves it back.

    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> rng = np.random.default_rng(0)
    >>> Z = np.r_[rng.normal(size=(300, 2)) * [3, 0.3], rng.normal(size=(100, 2)) * 0.3 + [7, 0]]
    >>> kmeans = KMeans(2, n_init=10, random_state=0).fit_predict(Z)
    >>> refined = mixture_refinement(Z, kmeans, 2)
    >>> int((kmeans[:300] != kmeans[0]).sum()), int((refined[:300] != refined[0]).sum())
    (75, 1)
    """
    Z = np.asarray(Z, dtype=np.float64)
    n, d = Z.shape
    counts = np.bincount(labels, minlength=n_clusters)
    if counts.shape[0] != n_clusters or (counts == 0).any():
        raise ValueError(f"labels must fill each of the {n_clusters} clusters; counts {counts}.")
    means = np.stack([Z[labels == c].mean(axis=0) for c in range(n_clusters)])
    precisions = np.empty((n_clusters, d, d))
    for c in range(n_clusters):
        diff = Z[labels == c] - means[c]
        cov = diff.T @ diff / counts[c] + _REG_COVAR * np.eye(d)
        precisions[c] = np.linalg.inv(cov)
    gmm = GaussianMixture(
        n_clusters, covariance_type="full", reg_covar=_REG_COVAR, max_iter=_MAX_ITER,
        weights_init=counts / n, means_init=means, precisions_init=precisions,
        # The start is given; the initializer's own draw is overwritten by it.
        init_params="random_from_data", random_state=0,
    )
    try:
        with warnings.catch_warnings(), native_threads(1):  # as embedding_kmeans
            warnings.simplefilter("ignore", ConvergenceWarning)
            refined = gmm.fit(Z).predict(Z).astype(np.int64)
    except ValueError:  # "ill-defined empirical covariance": EM lost a cluster's volume
        return None
    if np.unique(refined).shape[0] < n_clusters:
        return None
    return refined
