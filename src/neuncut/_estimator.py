"""The NeuNcut estimator: parameters, validation and the fit/predict orchestration.

``fit`` reads like the method: validate, draw the training rows, warm start
(:mod:`neuncut._warm_start`), train on the relaxed Ncut (:mod:`neuncut._training`), label.
The maths live in :mod:`neuncut.affinity`, :mod:`neuncut.loss` and the private modules; this
module only wires them together. ``docs/architecture.rst`` maps the package.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from . import _io
from ._encoder import DEFAULT_ENCODER_LAYER_SIZES, encode
from ._fit import run_fit
from ._network import (
    PREDICT_CHUNK,
    EncodedNetwork,
    apply_network,
    predict_logits,
)
from ._training import objective
from ._validation import PARAMETER_CONSTRAINTS, check_rows
from .affinity import graph_factory

__all__ = ["NeuNcut"]

logger = logging.getLogger(__name__)

class NeuNcut(ClusterMixin, BaseEstimator):
    """Neural Normalized Cut: spectral clustering by a network trained on a relaxed Ncut.

    A neural network outputs soft cluster memberships ``P = softmax(f(x))`` and is trained by
    minibatch Adam on the relaxed normalized cut of each minibatch's own affinity graph
    (:func:`neuncut.loss.ncut_loss`). A point's cluster is ``argmax f(x)``: one forward pass,
    so the model trains on a subset and labels any number of new points, always the same way.

    The network is warm-started from a label-free partition of a subsample (``init``), in
    the basin of a good cut; ``init="random"`` with the README's parameters is the paper's.

    Reference: W. He, S. Zhang, C.-G. Li, X. Qi, R. Xiao, J. Guo, "Neural Normalized Cut: A
    Differential and Generalizable Approach for Spectral Clustering", Pattern Recognition
    2025, 111545 (arXiv:2503.09260).

    Parameters
    ----------
    n_clusters : int or "auto", default=8
        Number of clusters, >= 1 (1 is the trivial clustering, allowed as in KMeans), or
        ``"auto"``: chosen without labels from 2 to ``max_clusters`` on ``init_size`` rows
        (:func:`neuncut.n_clusters.select_n_clusters`). Recorded in ``n_clusters_``.
    max_clusters : int, default=50
        Largest number of clusters ``n_clusters="auto"`` considers (>= 2); ignored otherwise.
    affinity : {"knn", "rbf"} or callable, default="knn"
        Graph built inside each minibatch. ``"knn"``: symmetric kNN graph with self-tuning
        local scales (:func:`neuncut.affinity.self_tuning_knn_affinity`), robust to scale and
        density. ``"rbf"``: dense Gaussian of width ``sigma`` (the paper's; one giant cluster
        on MNIST). A callable maps a float tensor (B, n_features) to a symmetric
        non-negative (B, B) tensor.
    n_neighbors : int, default=10
        Neighbours per point in the kNN graphs (batch graph and warm start).
    sigma : float, default=None
        Width of the ``"rbf"`` kernel; None uses the median heuristic on a sample of the
        training data. Recorded in ``sigma_``.
    penalty : float, default=None
        The paper's gamma, weight of the orthogonality term. None chooses it without labels
        (:func:`neuncut.penalty.select_penalty`, where the rule is derived): at least
        ``2 k**2 / sqrt(k - 1)`` (66.7 for k = 10). Recorded in ``penalty_``.
    hidden_layer_sizes : tuple of int or "auto", default="auto"
        Hidden ReLU widths; ``"auto"``: (512, 512) above 10 000 training rows of > 50 features,
        else (128, 128) (``docs/parameters.rst``). Recorded in ``hidden_layer_sizes_``.
    batch_size : int, default=2048
        Points per minibatch graph; larger is closer to the full graph, at O(batch_size^2).
    max_epochs : int, default=30
        Most passes of Ncut training over the training data.
    tol : float or None, default=1e-3
        Training stops before ``max_epochs`` once ``n_iter_no_change`` epochs in a row each
        changed the labels of at most this fraction of (up to 2048) probe training rows: a
        label-free sign that the partition has settled. None trains ``max_epochs`` epochs.
    n_iter_no_change : int, default=2
        Settled epochs in a row that stop training (see ``tol``).
    learning_rate : float, default=1e-4
        Adam's step size, cosine-annealed to 0. Small because training refines a warm start;
        the paper uses 5e-3 from a random start.
    weight_decay : float, default=1e-4
        Adam's L2 weight decay (the paper's).
    init : {"auto", "spectral", "genie", "embedding", "kmeans", "random"}, default="auto"
        Warm start: partition ``init_size`` training points and distill the partition into
        the network. ``"auto"`` computes three candidates, exact spectral clustering,
        Genie's merges of the kNN graph's minimum spanning tree and the likeliest Gaussian
        mixture of a neighbour embedding, and keeps the lowest normalized cut on the
        subsample's kNN graph (the embedding's is weighted 0.97), corrected for Genie's
        partition by the candidates' stability across subsamples. ``"spectral"``,
        ``"genie"``, ``"embedding"``: that one; ``"kmeans"``: k-means; ``"random"``: none.
    init_size : int, default=20000
        Points partitioned by the warm start (and by ``n_clusters="auto"``'s choice): more
        give a more faithful graph, at the cost of the kNN search and the eigensolver.
    normalize_rows : bool, default=False
        L2-normalize every row before anything else (the paper's preprocessing).
    representation : {"auto", "autoencoder", "none"}, default="auto"
        What the warm start and Ncut training see of the rows. ``"autoencoder"``: the
        codes of an autoencoder first trained on the training rows without labels; the
        network is then encoder + head, and :meth:`predict` is still one forward pass
        from raw rows (:mod:`neuncut._encoder`). ``"none"``: the rows themselves.
        ``"auto"``: the autoencoder for more than 10 000 training rows of more than 100
        features (raw signals such as pixels), the rows themselves otherwise.
    encoder_layer_sizes : tuple of int, default=(500, 500, 2000, 10)
        Widths of the encoder's layers (ReLU, then a linear code of the last width); the
        decoder mirrors them. The default is DEC's and N2D's.
    encoder_max_epochs : int, default=50
        Most passes of the autoencoder's training (Adam, learning rate 1e-3, batches of
        256 rows); it stops earlier once an epoch's reconstruction loss is at most 1 % below that
        of 5 epochs before.
    train_size : int or float, default=None
        None trains on all of X; an int or a fraction in (0, 1] trains on a random subset and
        labels the rest with :meth:`predict`.
    device : str, default="auto"
        Torch device for training and prediction; "auto" is CUDA when available, else CPU.
    random_state : int, RandomState instance or None, default=None
        The one source of randomness (subsets, batches, initial weights, warm start).
    verbose : int, default=0
        0 silent; 1 progress bars; 2 also log per-epoch losses and stage times.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of every row of the X given to :meth:`fit`.
    n_clusters_ : int
        Number of clusters of the fitted model: ``n_clusters``, or the one chosen by
        ``"auto"``.
    n_clusters_scores_ : dict of str to ndarray of shape (max_clusters,), or None
        ``"auto"``'s criterion for k = 1, 2, ... (entry k - 1): ``"gap"`` of the data, and
        ``"gaussian_gap"`` of structureless data like it (:mod:`neuncut.n_clusters`).
    network_ : torch.nn.Module
        The trained membership network (on CPU), of hidden widths ``hidden_layer_sizes_``.
    hidden_layer_sizes_ : tuple of int
        Hidden widths of the network, or of its head after an encoder.
    encoder_layer_sizes_ : tuple of int
        Widths of the learned encoder; () when the rows themselves were used.
    encoder_loss_curve_ : list of float
        Per-epoch mean reconstruction loss of the autoencoder (empty without one).
    sigma_ : float or None
        Gaussian width used by ``"rbf"``; None for other affinities.
    penalty_ : float
        The gamma used.
    init_ncut_ : dict
        Normalized cut of each warm-start candidate computed (``"spectral"``, ``"embedding"``:
        not after one that cuts nothing) on the subsample's kNN graph; the lowest was
        distilled, unless stability across subsamples overruled the cut for or against
        Genie's partition. Empty for ``init="kmeans"`` and ``"random"``.
    loss_curve_, cut_curve_, ortho_curve_ : list of float
        Per-epoch means of the loss and its two terms.
    n_iter_ : int
        Epochs of Ncut training run.
    n_steps_ : int
        Minibatch steps of Ncut training run.
    timings_ : dict of str to float
        Wall-clock seconds of the stages of the last fit: ``"encoder"`` (the autoencoder's
        training, with a learned representation), ``"init"`` (scale, warm start and
        penalty), ``"train"`` (Ncut training), ``"label"`` (labelling every row of X) and
        ``"n_clusters"`` (``"auto"``'s choice); ``"init/..."`` keys split ``"init"``
        (``graph_check``, ``knn``, ``spectral``, ``layout``, ``kmeans``, ``distill``,
        ``penalty``; those a fit ran).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined only when X has string column names.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from neuncut import NeuNcut
    >>> X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    >>> model = NeuNcut(n_clusters=3, max_epochs=5, hidden_layer_sizes=(32,), random_state=0)
    >>> labels = model.fit_predict(X)
    >>> from sklearn.metrics import adjusted_rand_score
    >>> adjusted_rand_score(y, labels) > 0.95
    True
    >>> bool((model.predict(X) == labels).all())
    True
    """

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        max_clusters: int = 50,
        affinity: str | Callable[[torch.Tensor], torch.Tensor] = "knn",
        n_neighbors: int = 10,
        sigma: float | None = None,
        penalty: float | None = None,
        hidden_layer_sizes: tuple[int, ...] | str = "auto",
        batch_size: int = 2048,
        max_epochs: int = 30,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 2,
        learning_rate: float = 1e-4,
        weight_decay: float = 1e-4,
        init: str = "auto",
        init_size: int = 20000,
        normalize_rows: bool = False,
        representation: str = "auto",
        encoder_layer_sizes: tuple[int, ...] = DEFAULT_ENCODER_LAYER_SIZES,
        encoder_max_epochs: int = 50,
        train_size: int | float | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.sigma = sigma
        self.penalty = penalty
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.init = init
        self.init_size = init_size
        self.normalize_rows = normalize_rows
        self.representation = representation
        self.encoder_layer_sizes = encoder_layer_sizes
        self.encoder_max_epochs = encoder_max_epochs
        self.train_size = train_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: None = None, *, checkpoint: str | Path | None = None) -> NeuNcut:
        """Train the membership network on X (or a subset) and label every row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), np.memmap, or path to a .npy file
            Numbers: float, int or bool arrays, pandas DataFrames, torch tensors (copied to
            the CPU). Sparse matrices, strings that are not numbers, NaN and inf are refused
            with a ValueError or TypeError that says what to do. Rows are used in float32.
            A memory map (or a ``.npy`` path, memory-mapped) larger than RAM works with
            ``train_size`` set: training reads only the sampled rows, and every row is then
            read once, in blocks, to compute ``labels_``.
        y : Ignored
            Present for API consistency; labels are never read.
        checkpoint : str or Path, default=None
            File for the training state, written atomically after the warm start and after
            every epoch. When it exists at the start of ``fit`` (a fit on the same data with
            the same parameters was killed), training resumes from it and ends with the
            model the uninterrupted fit would have given; a checkpoint of other data or
            parameters is refused. Deleted when the fit succeeds.

        Returns
        -------
        self : NeuNcut

        Warns
        -----
        DegenerateGraphWarning
            A batch graph has points without neighbours or more connected components than
            ``n_clusters``.
        EmptyClusterWarning
            Some clusters are empty, e.g. X has fewer distinct rows than ``n_clusters``.
        """
        run_fit(self, X, checkpoint)
        return self

    def _label(self, rows: np.ndarray, *, in_memory: bool) -> np.ndarray:
        """Labels of rows of the fitted X (validated in memory, else read in blocks)."""
        if in_memory:
            return predict_logits(self.network_, rows, chunk_size=PREDICT_CHUNK).argmax(axis=1)
        return self.predict(rows)

    # -------------------------------------------------------------- predict
    def predict(self, X: Any) -> np.ndarray:
        """Cluster of each row: ``argmax`` of the network's output. Never fits anything.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), path to a .npy file, or iterator
            An array (memory-mapped or not), a ``.npy`` path (memory-mapped, never loaded
            whole) or an iterator of 2-D row chunks, read 4096 rows at a time: memory does not
            grow with n_samples beyond the output, and the labels are those of an in-memory call.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int64
        """
        check_is_fitted(self, "network_")
        return apply_network(self.network_, X, partial(check_rows, self, reset=False),
                             proba=False, progress=self.verbose >= 1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Soft memberships ``softmax(f(x))``; each row sums to 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), path to a .npy file, or iterator
            As for :meth:`predict`.

        Returns
        -------
        P : ndarray of shape (n_samples, n_clusters), float32
        """
        check_is_fitted(self, "network_")
        return apply_network(self.network_, X, partial(check_rows, self, reset=False),
                             proba=True, progress=self.verbose >= 1)

    def score(self, X: Any, y: None = None) -> float:
        """Minus the training objective ``cut + penalty_ / 2 * ortho`` on X (higher is better).

        The mean over consecutive batches of ``batch_size`` rows, each with its own graph
        (:func:`neuncut._training.objective`), built on the rows' codes by the fitted encoder
        when the model learned a representation (training built them on the codes of the
        encoder before Ncut training). Labels are never read.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "network_")
        X = check_rows(self, X, reset=False)
        Xt = torch.from_numpy(X)
        if isinstance(self.network_, EncodedNetwork):  # the graph of training: the codes'
            Xt = encode(self.network_.encoder, Xt)
        affinity = graph_factory(self.affinity, self.n_neighbors, Xt)(self.sigma_)
        # X is validated (and row-normalized) once: predict_proba would do it a second time.
        logits = predict_logits(self.network_, X, chunk_size=PREDICT_CHUNK)
        P = torch.softmax(torch.from_numpy(logits), dim=1)
        return -objective(P, Xt, affinity, penalty=self.penalty_, batch_size=self.batch_size)

    # ------------------------------------------------------------ save/load
    def save(self, path: str | Path) -> None:
        """Write the fitted model to ``path``: safetensors weights plus a JSON header.

        The format cannot execute code when loaded (no pickle); the write is atomic. A callable
        ``affinity`` cannot be stored and is refused.

        Parameters
        ----------
        path : str or Path

        Examples
        --------
        >>> import os, tempfile
        >>> from sklearn.datasets import make_blobs
        >>> X, _ = make_blobs(200, centers=3, random_state=0)
        >>> model = NeuNcut(3, max_epochs=2, hidden_layer_sizes=(16,), random_state=0).fit(X)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
        >>> model.save(path)
        >>> bool((NeuNcut.load(path).predict(X) == model.predict(X)).all())
        True
        """
        _io.save_estimator(self, path)

    @classmethod
    def load(cls, path: str | Path) -> NeuNcut:
        """Read a model written by :meth:`save`; it predicts exactly what the saved one did.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        model : NeuNcut
        """
        return _io.load_estimator(cls, path)
