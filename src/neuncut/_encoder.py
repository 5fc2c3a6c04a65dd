"""The learned representation: an autoencoder's encoder, trained on the rows without labels.

On raw high-dimensional rows (image pixels, spectra) the kNN graph of the input is a poor
graph, and no partition of it, warm start or Ncut training, does better than that graph
allows. An autoencoder (Hinton and Salakhutdinov, Science 2006) trained to reconstruct the
rows learns a low-dimensional code whose neighbours are far more often of the same kind;
deep clustering methods start there (DEC: Xie et al., ICML 2016; N2D: McConville et al.,
ICPR 2020, whose 784-500-500-2000-10 architecture is the default here). The membership
network then becomes encoder + head: the warm start and Ncut training work on the codes,
and ``predict`` is still one forward pass from raw rows to clusters.

The autoencoder is written here rather than taken from a library because it must share the
fit's one torch generator (initial weights, batches), its optimizer (:class:`CosineAdam`,
whose state the checkpoints store) and its checkpoints, so that a killed fit resumes bit
for bit, even inside the encoder's training.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._adam import CosineAdam
from ._batches import iter_batches
from ._standardized import Standardized

__all__ = [
    "DEFAULT_ENCODER_LAYER_SIZES",
    "AutoEncoder",
    "Encoder",
    "EncoderLog",
    "check_encoder_layer_sizes",
    "encode",
    "learns_representation",
    "train_autoencoder",
]

logger = logging.getLogger(__name__)

#: The encoder of DEC and N2D: three ReLU layers and a linear 10-dimensional code.
DEFAULT_ENCODER_LAYER_SIZES = (500, 500, 2000, 10)

# representation="auto" learns the representation of more than this many training rows of
# more than this many features (decision D-representation in docs/decisions.rst).
_REPRESENTATION_MIN_ROWS = 10_000
_REPRESENTATION_MIN_FEATURES = 100

# The autoencoder's training: Adam at this constant step on batches of this size, for at
# most encoder_max_epochs epochs; it stops earlier once the mean reconstruction loss of an
# epoch is at most _PLATEAU_TOL (relative) below that of _PLATEAU_WINDOW epochs before
# (decision D-representation).
AUTOENCODER_LR = 1e-3
AUTOENCODER_BATCH = 256
_PLATEAU_WINDOW = 5
_PLATEAU_TOL = 0.01
# Rows per forward pass when the codes of the training rows are computed.
_ENCODE_CHUNK = 4096


class Encoder(Standardized):
    r"""The encoder: ``x -> (x - mean) / scale -> [Linear -> ReLU] * (L - 1) -> Linear``.

    The last layer is linear: its output is the code (``layer_sizes[-1]`` numbers). The input
    is centred per feature and divided by one scale for all features (the root mean square
    of the centred training data), so that the reconstruction error weighs every feature
    as the data do: per-feature scaling would blow up near-constant pixels at an image's
    border into noise as loud as the digit.

    Parameters
    ----------
    n_features : int
    layer_sizes : sequence of int
        Widths of the layers; the last is the code size.
    generator : torch.Generator, optional
        Source of the initial weights (:func:`mlp`).

    Examples
    --------
    >>> enc = Encoder(6, (8, 3), generator=torch.Generator().manual_seed(0))
    >>> enc(torch.zeros(5, 6)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        n_features: int,
        layer_sizes: Sequence[int],
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(n_features, mlp([n_features, *layer_sizes], generator=generator))

    def set_standardization(self, X: torch.Tensor) -> None:
        """Centre per feature and scale by the root mean square of the centred rows X."""
        mean = X.mean(dim=0)
        rms = float((X - mean).double().pow(2).mean().sqrt()) if X.shape[0] > 1 else 0.0
        self.mean.copy_(mean)
        self.scale.fill_(rms if rms > 0 else 1.0)


class AutoEncoder(nn.Module):
    """An :class:`Encoder` and its mirror image, a decoder back to the standardized input.

    Parameters
    ----------
    n_features : int
    layer_sizes : sequence of int
        The encoder's widths; the decoder's are the same in reverse, then ``n_features``.
    generator : torch.Generator, optional

    Examples
    --------
    >>> ae = AutoEncoder(6, (8, 3), generator=torch.Generator().manual_seed(0))
    >>> float(ae.reconstruction_loss(torch.zeros(4, 6)).detach()) >= 0.0
    True
    """

    def __init__(
        self,
        n_features: int,
        layer_sizes: Sequence[int],
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.encoder = Encoder(n_features, layer_sizes, generator=generator)
        self.decoder = mlp([*reversed(layer_sizes), n_features], generator=generator)

    def reconstruction_loss(self, x: torch.Tensor) -> torch.Tensor:
        r"""Mean squared error of the reconstruction in standardized units,
        :math:`\frac{1}{n d} \sum_i \lVert g(f(x_i)) - (x_i - m) / s \rVert^2`."""
        target = (x - self.encoder.mean) / self.encoder.scale
        return (self.decoder(self.encoder.layers(target)) - target).pow(2).mean()


def mlp(sizes: Sequence[int], *, generator: torch.Generator | None = None) -> nn.Sequential:
    r"""Linear layers of widths ``sizes`` with a ReLU between two, none after the last.

    Weights and biases uniform in :math:`\pm 1 / \sqrt{\text{fan-in}}`, drawn from
    ``generator``: ``nn.Linear``'s own initialisation. The Kaiming-uniform weights of the
    membership network (larger by :math:`\sqrt 6`) slowed the autoencoder's training
    (decision D2).

    Examples
    --------
    >>> mlp([4, 8, 2])
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=2, bias=True)
    )
    """
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layer = nn.Linear(fan_in, fan_out, device="meta")  # no draw from the global RNG
        bound = 1.0 / math.sqrt(fan_in)
        layer.weight = nn.Parameter(torch.empty(fan_out, fan_in))
        layer.bias = nn.Parameter(torch.empty(fan_out))
        with torch.no_grad():
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


@dataclass
class EncoderLog:
    """Per-epoch mean reconstruction loss of the autoencoder; passes and steps taken; the
    seconds its training took (in the fit that ran it: a resumed fit adds its own)."""

    loss: list[float] = field(default_factory=list)
    n_iter: int = 0
    n_steps: int = 0
    seconds: float = 0.0


def plateaued(losses: Sequence[float], window: int = _PLATEAU_WINDOW,
              tol: float = _PLATEAU_TOL) -> bool:
    """Whether the last loss is at most ``tol`` (relative) below the loss ``window``
    epochs before it.

    Examples
    --------
    >>> plateaued([1.0, 0.5, 0.499], window=1, tol=0.01)
    True
    >>> plateaued([1.0, 0.5], window=1, tol=0.01)
    False
    """
    if len(losses) <= window:
        return False
    before, last = losses[-1 - window], losses[-1]
    return before - last <= tol * before


def train_autoencoder(
    autoencoder: AutoEncoder,
    X: torch.Tensor,
    *,
    max_epochs: int,
    generator: torch.Generator,
    batch_size: int = AUTOENCODER_BATCH,
    lr: float = AUTOENCODER_LR,
    verbose: int = 0,
    resume: tuple[dict, dict, EncoderLog] | None = None,
    on_epoch_end: Callable[[CosineAdam, EncoderLog], None] | None = None,
) -> EncoderLog:
    """Train ``autoencoder`` in place on the rows X by minibatch Adam on the reconstruction.

    Adam at a constant learning rate; training stops before ``max_epochs`` on a plateau of
    the epoch's mean loss (:func:`plateaued`), a label-free sign that more epochs would
    change the codes little.

    Parameters
    ----------
    autoencoder : AutoEncoder
        Its encoder's standardization must be set.
    X : Tensor of shape (n, n_features)
    max_epochs : int
    generator : torch.Generator
        Draws the batches.
    batch_size : int, default=256
    lr : float, default=1e-3
    verbose : int, default=0
        1 shows a progress bar, 2 also logs every epoch's loss.
    resume : (optimizer state, schedule state, log), optional
        Continue from the end of epoch ``log.n_iter`` (``autoencoder`` and ``generator``
        must hold that epoch's state too).
    on_epoch_end : callable, optional
        ``on_epoch_end(optimizer, log)`` after every epoch (to write checkpoints).

    Returns
    -------
    log : EncoderLog
    """
    opt = CosineAdam(autoencoder.parameters(), lr, None)
    log = EncoderLog()
    if resume is not None:
        opt.load_state_dict(resume[0], resume[1])
        log = resume[2]
    autoencoder.train()
    bar = tqdm(range(log.n_iter, max_epochs), desc="autoencoder", disable=verbose < 1,
               leave=False)
    for epoch in bar:
        if plateaued(log.loss):
            if verbose:
                logger.info("autoencoder stopped after epoch %d: the loss fell less than %g"
                            " in %d epochs", log.n_iter, _PLATEAU_TOL, _PLATEAU_WINDOW)
            break
        total = 0.0
        for idx in iter_batches(X.shape[0], batch_size, generator):
            loss = autoencoder.reconstruction_loss(X[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            log.n_steps += 1
        if not math.isfinite(total):
            raise RuntimeError(
                "the autoencoder's reconstruction loss became non-finite; check X for extreme"
                " values, or use representation='none'."
            )
        log.loss.append(total / X.shape[0])
        log.n_iter = epoch + 1
        bar.set_postfix(loss=f"{log.loss[-1]:.4f}")
        if verbose >= 2:
            logger.info("autoencoder epoch %d: loss %.5f", epoch + 1, log.loss[-1])
        if on_epoch_end is not None:
            on_epoch_end(opt, log)
    autoencoder.eval()
    return log


@torch.no_grad()
def encode(encoder: Encoder, X: torch.Tensor) -> torch.Tensor:
    """The codes of the rows X, computed ``4096`` rows at a time (ordinary tensors, not
    inference-mode ones: training takes gradients through layers fed with them).

    Examples
    --------
    >>> enc = Encoder(6, (8, 3), generator=torch.Generator().manual_seed(0)).eval()
    >>> encode(enc, torch.zeros(10, 6)).shape
    torch.Size([10, 3])
    """
    return torch.cat([encoder(X[i : i + _ENCODE_CHUNK])
                      for i in range(0, max(X.shape[0], 1), _ENCODE_CHUNK)])


def learns_representation(representation: str, n_rows: int, n_features: int) -> bool:
    """Whether ``fit`` learns an encoder for ``n_rows`` training rows of ``n_features``.

    ``"autoencoder"``: always; ``"none"``: never; ``"auto"``: for more than 10 000 rows of
    more than 100 features, raw high-dimensional signals such as pixels, where an
    autoencoder has rows enough to learn from and dimensions to compress (decision
    D-representation in ``docs/decisions.rst``).

    Examples
    --------
    >>> [learns_representation("auto", n, d) for n, d in [(70000, 784), (5000, 784),
    ...                                                      (70000, 50)]]
    [True, False, False]
    """
    if representation == "auto":
        return n_rows > _REPRESENTATION_MIN_ROWS and n_features > _REPRESENTATION_MIN_FEATURES
    return representation == "autoencoder"


def check_encoder_layer_sizes(sizes: Any) -> tuple[int, ...]:
    """``encoder_layer_sizes`` as a non-empty tuple of positive ints, or a ValueError naming it.

    Examples
    --------
    >>> check_encoder_layer_sizes([500, 10])
    (500, 10)
    """
    values = list(np.atleast_1d(np.asarray(sizes, dtype=object)))
    if np.ndim(sizes) != 1 or not values or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise ValueError(
            f"encoder_layer_sizes={sizes!r} should be a non-empty sequence of positive ints"
            " (the last is the code size)."
        )
    return tuple(int(v) for v in values)
