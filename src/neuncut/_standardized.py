"""Layers fed with standardized rows: the common base of the encoder and the membership network."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Standardized"]


class Standardized(nn.Module):
    """``x -> layers((x - mean) / scale)``, ``mean`` and ``scale`` fixed buffers of the module.

    Subclasses set the buffers from training rows (``set_standardization``), each by its own
    rule; the buffers travel with the weights in ``state_dict``, model files and checkpoints.

    Parameters
    ----------
    n_features : int
    layers : nn.Sequential
        Fed with the standardized rows.

    Examples
    --------
    >>> net = Standardized(2, nn.Sequential())
    >>> net.scale.fill_(2.0)
    tensor([2., 2.])
    >>> net(torch.tensor([[4.0, 6.0]]))
    tensor([[2., 3.]])
    """

    mean: torch.Tensor
    scale: torch.Tensor
    layers: nn.Sequential

    def __init__(self, n_features: int, layers: nn.Sequential) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The layers' output on the standardized rows."""
        return self.layers((x - self.mean) / self.scale)
