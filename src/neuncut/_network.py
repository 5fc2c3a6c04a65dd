"""The membership network ``f_theta``: features in, cluster logits out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch
from torch import nn

from ._encoder import Encoder
from ._standardized import Standardized
from ._streaming import is_streamed, map_row_blocks

__all__ = [
    "PREDICT_CHUNK",
    "EncodedNetwork",
    "MembershipNetwork",
    "apply_network",
    "as_network_input",
    "check_hidden_layer_sizes",
    "folded_layers",
    "hidden_widths",
    "output_width",
    "predict_logits",
    "resolve_device",
    "resolve_hidden_layer_sizes",
]

# Rows per forward pass; memory is O(PREDICT_CHUNK * width). A 4096 x 512 activation stays
# in cache, which makes the matrix products faster than with larger blocks.
PREDICT_CHUNK = 4096


class MembershipNetwork(Standardized):
    r"""MLP whose softmax is the soft cluster membership, :math:`P = \mathrm{softmax}(f_\theta(x))`.

    ``x -> (x - mean) / scale -> [Linear -> ReLU] * len(hidden) -> Linear -> logits``.
    The input standardization is a pair of fixed buffers set from the training data (a
    constant column gets scale 1), so the network sees well-conditioned inputs whatever the
    units of X. Hidden layers use Kaiming-uniform initialisation and the output layer Xavier,
    as in the authors' code; all random draws come from the ``generator`` given.

    Parameters
    ----------
    n_features : int
    hidden_layer_sizes : sequence of int
    n_clusters : int
    generator : torch.Generator, optional
        Source of the initial weights; the global RNG is never used when given.

    Examples
    --------
    >>> import torch
    >>> net = MembershipNetwork(4, (8,), 3, generator=torch.Generator().manual_seed(0))
    >>> net(torch.zeros(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int],
        n_clusters: int,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        sizes = [n_features, *hidden_layer_sizes]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [_uninitialized_linear(fan_in, fan_out), nn.ReLU()]
        layers.append(_uninitialized_linear(sizes[-1], n_clusters))
        super().__init__(n_features, nn.Sequential(*layers))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Kaiming-uniform hidden layers, Xavier-uniform output layer, zero biases."""
        linears = [m for m in self.layers if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for layer in linears[:-1]:
                nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu", generator=generator)
                layer.bias.zero_()
            nn.init.xavier_uniform_(linears[-1].weight, generator=generator)
            linears[-1].bias.zero_()

    def set_standardization(self, X: torch.Tensor) -> None:
        """Set the input standardization buffers from a sample X of shape (n, n_features)."""
        mean = X.mean(dim=0)
        scale = X.std(dim=0) if X.shape[0] > 1 else torch.zeros_like(mean)
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        self.mean.copy_(mean)
        self.scale.copy_(scale)

class EncodedNetwork(nn.Module):
    """The membership network of a learned representation: an encoder, then a head.

    ``x -> encoder(x) -> head(code) -> logits``: the encoder
    (:class:`neuncut._encoder.Encoder`) maps raw rows to codes, the head is a
    :class:`MembershipNetwork` on the codes. One forward pass from raw rows to clusters.

    Parameters
    ----------
    encoder : Encoder
    head : MembershipNetwork

    Examples
    --------
    >>> gen = torch.Generator().manual_seed(0)
    >>> net = EncodedNetwork(Encoder(6, (8, 2), generator=gen), MembershipNetwork(2, (4,), 3))
    >>> net(torch.zeros(5, 6)).shape
    torch.Size([5, 3])
    """

    def __init__(self, encoder: Encoder, head: MembershipNetwork) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Cluster logits of shape (n, n_clusters)."""
        return self.head(self.encoder(x))


def _uninitialized_linear(fan_in: int, fan_out: int) -> nn.Linear:
    """An ``nn.Linear`` whose parameters are allocated, not initialised.

    nn.Linear's own initialisation would draw from the global RNG; the network's
    ``reset_parameters`` draws everything from its generator. Built on the meta device and
    given empty parameters, which is what ``nn.utils.skip_init`` does but without its
    ``to_empty``, whose first call in a process imports sympy, most of what was left of a
    fresh process's first fit of small data once torch.optim was gone (decision D19).
    """
    layer = nn.Linear(fan_in, fan_out, device="meta")
    layer.weight = nn.Parameter(torch.empty(fan_out, fan_in))
    layer.bias = nn.Parameter(torch.empty(fan_out))
    return layer


def resolve_device(device: str) -> torch.device:
    """The torch device named by ``device``; "auto" is CUDA when available, else CPU.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'cpu'.")
    return resolved


def folded_layers(network: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor, bool]]:
    r"""The network's linear layers as (weight, bias, relu) triples, each standardization
    folded into the layer after it:
    :math:`W \frac{x - m}{s} + b = (W / s)\,x + (b - (W / s)\,m)`.

    ``relu`` says whether a ReLU follows the layer: after every hidden layer, neither after
    an encoder's code layer nor after the output layer. Folding saves two passes over the
    input per forward pass; the product is formed in float64, so the logits equal
    ``network(x)`` to float32 rounding.

    Parameters
    ----------
    network : MembershipNetwork or EncodedNetwork

    Examples
    --------
    >>> net = MembershipNetwork(3, (4,), 2, generator=torch.Generator().manual_seed(0))
    >>> net.set_standardization(torch.randn(10, 3, generator=torch.Generator().manual_seed(1)))
    >>> x = torch.randn(5, 3)
    >>> h = x
    >>> for W, b, relu in folded_layers(net):
    ...     h = torch.addmm(b, h, W.T).relu() if relu else torch.addmm(b, h, W.T)
    >>> bool(torch.allclose(h, net(x), atol=1e-5))
    True
    """
    if isinstance(network, EncodedNetwork):
        return folded_layers(network.encoder) + folded_layers(network.head)
    linears = [m for m in network.get_submodule("layers").children() if isinstance(m, nn.Linear)]
    triples = [(layer.weight.detach(), layer.bias.detach(), True) for layer in linears]
    mean, scale = network.get_buffer("mean"), network.get_buffer("scale")
    W, b = triples[0][0].double(), triples[0][1].double()
    W = W / scale.double()  # (width, n_features): column j divided by scale_j
    b = b - W @ mean.double()
    triples[0] = (W.float().contiguous(), b.float(), True)
    triples[-1] = (*triples[-1][:2], False)
    return triples


@torch.inference_mode()
def predict_logits(network: nn.Module, X: np.ndarray, *, chunk_size: int) -> np.ndarray:
    """Logits of ``network`` on the float32 rows of X, ``chunk_size`` rows per forward pass.

    The forward pass is fused for speed: standardization folded into the first layer
    (:func:`folded_layers`), ``addmm`` and in-place ReLU, each block's logits written into
    the output directly. Memory beyond the output is O(chunk_size * width), whatever the
    number of rows. Rows whose logits overflow (far outside the training data) raise a
    ValueError rather than give a NaN membership.

    Examples
    --------
    >>> net = MembershipNetwork(2, (4,), 3, generator=torch.Generator().manual_seed(0))
    >>> predict_logits(net.eval(), np.zeros((5, 2), dtype=np.float32), chunk_size=2).shape
    (5, 3)
    """
    layers = folded_layers(network)
    out = torch.empty((X.shape[0], layers[-1][0].shape[0]), dtype=torch.float32)
    for start in range(0, X.shape[0], chunk_size):
        h = torch.from_numpy(X[start : start + chunk_size])
        for W, b, relu in layers[:-1]:
            h = torch.addmm(b, h, W.T)  # (rows, width)
            if relu:
                h.relu_()
        W, b, _ = layers[-1]
        torch.addmm(b, h, W.T, out=out[start : start + chunk_size])
    logits = out.numpy()
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} rows of X (the first is row {int(np.argmax(bad))}) are so far"
            " from the training data that the network's output overflows float32; scale X as"
            " the training data was, or remove those rows."
        )
    return logits


def apply_network(
    network: nn.Module,
    X: Any,
    check: Callable[[Any], np.ndarray],
    *,
    proba: bool,
    progress: bool = False,
) -> np.ndarray:
    """Clusters (``argmax``) or memberships (``softmax``) of ``network`` on every row of X.

    Inputs of more than ``PREDICT_CHUNK`` rows (arrays, memory maps, ``.npy`` paths,
    iterators of row chunks) are read that many rows at a time, so memory does not grow with
    the number of rows beyond the output; the result is exactly that of an in-memory call.

    Parameters
    ----------
    network : MembershipNetwork or EncodedNetwork
        In eval mode.
    X : array-like, np.memmap, path of a .npy file or iterator of 2-D row chunks
    check : callable
        Validates a block of rows into the network's float32 input.
    proba : bool
        True for the memberships (float32, rows sum to 1), False for the clusters (int64).
    progress : bool, default=False
        A tqdm bar over the blocks.

    Returns
    -------
    out : ndarray of shape (n_rows,) or (n_rows, n_clusters)

    Examples
    --------
    >>> net = MembershipNetwork(2, (4,), 3, generator=torch.Generator().manual_seed(0)).eval()
    >>> X = np.zeros((5, 2), dtype=np.float32)
    >>> apply_network(net, X, np.asarray, proba=True).sum(axis=1).round(5)
    array([1., 1., 1., 1., 1.], dtype=float32)
    """
    def transform(block: Any) -> np.ndarray:
        logits = predict_logits(network, check(block), chunk_size=PREDICT_CHUNK)
        if proba:  # by torch, as in training
            return torch.softmax(torch.from_numpy(logits), dim=1).numpy()
        return logits.argmax(axis=1)

    if not is_streamed(X, PREDICT_CHUNK):
        return transform(X)
    width, dtype = ((output_width(network),), np.float32) if proba else ((), np.int64)
    return map_row_blocks(X, transform, width, dtype, chunk_rows=PREDICT_CHUNK,
                          progress=progress)


def output_width(network: nn.Module) -> int:
    """Number of clusters a fitted network outputs (its last linear layer's width).

    The network's, not an estimator's ``n_clusters``, which ``set_params`` may change.

    Examples
    --------
    >>> output_width(MembershipNetwork(2, (4,), 3))
    3
    """
    return _linear_widths(network)[-1]


def hidden_widths(network: nn.Module) -> tuple[int, ...]:
    """The widths of the hidden layers of ``network`` (every linear layer but the last; for
    an :class:`EncodedNetwork`, of its head).

    Examples
    --------
    >>> hidden_widths(MembershipNetwork(2, (8, 4), 3))
    (8, 4)
    """
    return _linear_widths(network)[:-1]


def _linear_widths(network: nn.Module) -> tuple[int, ...]:
    if isinstance(network, EncodedNetwork):
        network = network.head
    return tuple(m.out_features for m in network.modules() if isinstance(m, nn.Linear))


# hidden_layer_sizes="auto": (128, 128) up to this many training rows or this many features,
# the paper's (512, 512) above both (decision D3): 128 units cost far less per step and are
# enough for rows of few features; hundreds of features need the wider layers.
_SMALL_NETWORK_ROWS = 10_000
_SMALL_NETWORK_FEATURES = 50


def resolve_hidden_layer_sizes(
    hidden_layer_sizes: tuple[int, ...] | str, n_rows: int, n_features: int
) -> tuple[int, ...]:
    """The hidden widths of a network trained on ``n_rows`` rows of ``n_features`` features:
    ``"auto"`` resolved to (512, 512) above 10 000 rows of more than 50 features, (128, 128)
    otherwise; other values as they are.

    Examples
    --------
    >>> [resolve_hidden_layer_sizes("auto", n, d) for n, d in [(3000, 500), (20000, 500),
    ...                                                         (20000, 50)]]
    [(128, 128), (512, 512), (128, 128)]
    >>> resolve_hidden_layer_sizes((32,), 20000, 500)
    (32,)
    """
    if not isinstance(hidden_layer_sizes, str):
        return tuple(hidden_layer_sizes)
    if n_rows > _SMALL_NETWORK_ROWS and n_features > _SMALL_NETWORK_FEATURES:
        return (512, 512)
    return (128, 128)


def check_hidden_layer_sizes(hidden_layer_sizes: Any) -> tuple[int, ...] | str:
    """``hidden_layer_sizes`` as a tuple of positive ints (or ``"auto"``), or a ValueError
    naming it.

    Examples
    --------
    >>> check_hidden_layer_sizes([512, 256])
    (512, 256)
    """
    if isinstance(hidden_layer_sizes, str) and hidden_layer_sizes == "auto":
        return "auto"
    sizes = list(np.atleast_1d(np.asarray(hidden_layer_sizes, dtype=object)))
    if np.ndim(hidden_layer_sizes) > 1 or not all(
        isinstance(h, Integral) and not isinstance(h, bool) and int(h) >= 1 for h in sizes
    ):
        raise ValueError(
            f"hidden_layer_sizes={hidden_layer_sizes!r} should be a sequence of positive ints"
            " or 'auto'."
        )
    return tuple(int(h) for h in sizes)


def as_network_input(X: np.ndarray, *, normalize_rows: bool = False) -> np.ndarray:
    """X as a C-contiguous float32 array, rows L2-normalized if asked; non-finite X refused.

    Values beyond the float32 range (|x| > 3.4e38) become inf and are refused too.

    Examples
    --------
    >>> as_network_input(np.array([[3.0, 4.0]]), normalize_rows=True)
    array([[0.6, 0.8]], dtype=float32)
    """
    with np.errstate(over="ignore"):  # |x| > 3.4e38 becomes inf, refused just below
        X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        raise ValueError(
            "X contains values that are not finite in float32 (NaN, inf or |x| > 3.4e38);"
            " remove or impute them before clustering."
        )
    if not X.flags.writeable:  # a read-only memory map: torch.from_numpy needs a writable array
        X = X.copy()
    if normalize_rows:
        norms = np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)
        X = (X / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return X
