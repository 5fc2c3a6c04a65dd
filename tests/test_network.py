"""Tests of the membership network (neuncut._network.MembershipNetwork)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuncut._network import MembershipNetwork


def make(seed: int = 0, n_features: int = 4, hidden=(8, 6), k: int = 3) -> MembershipNetwork:
    return MembershipNetwork(n_features, hidden, k, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("hidden", [(), (5,), (8, 6), (3, 4, 5)])
def test_output_shape_and_layers(hidden) -> None:
    net = make(hidden=hidden)
    out = net(torch.zeros(7, 4))
    assert out.shape == (7, 3) and out.dtype == torch.float32
    linears = [m for m in net.layers if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [*hidden, 3]
    assert sum(isinstance(m, nn.ReLU) for m in net.layers) == len(hidden)


def test_initialisation() -> None:
    net = make(hidden=(64,), n_features=16)
    hidden, output = (m for m in net.layers if isinstance(m, nn.Linear))
    w_hidden, w_output = hidden.weight.detach(), output.weight.detach()
    assert torch.equal(hidden.bias, torch.zeros(64))
    assert torch.equal(output.bias, torch.zeros(3))
    # Kaiming-uniform (ReLU gain): bound sqrt(6 / fan_in); Xavier-uniform: sqrt(6 / (in + out)).
    assert float(w_hidden.abs().max()) <= (6 / 16) ** 0.5
    assert float(w_hidden.abs().max()) > 0.8 * (6 / 16) ** 0.5
    assert float(w_output.abs().max()) <= (6 / (64 + 3)) ** 0.5


def test_same_seed_same_weights_and_different_seed_different() -> None:
    a, b, c = make(0), make(0), make(1)
    for (name, ta), tb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(ta, tb), name
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)


def test_global_rng_untouched() -> None:
    state = torch.get_rng_state()
    net = make(5, hidden=(32, 32))
    net.reset_parameters(torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), state)


def test_standardization_buffers() -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(50, 4, generator=g) * torch.tensor([1.0, 10.0, 0.1, 1.0]) + 3.0
    X[:, 3] = 7.0  # constant column
    net = make()
    net.set_standardization(X)
    torch.testing.assert_close(net.mean, X.mean(dim=0))
    torch.testing.assert_close(net.scale[:3], X[:, :3].std(dim=0))
    assert net.scale[3] == 1.0
    Z = (X - net.mean) / net.scale
    torch.testing.assert_close(Z.mean(dim=0), torch.zeros(4), atol=1e-5, rtol=0)
    assert set(dict(net.named_buffers())) == {"mean", "scale"}
    assert {"mean", "scale"} <= set(net.state_dict())


def test_standardization_single_row() -> None:
    net = make()
    net.set_standardization(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    assert torch.equal(net.scale, torch.ones(4))
    assert torch.equal(net.mean, torch.tensor([1.0, 2.0, 3.0, 4.0]))


def test_forward_is_applied_to_standardized_input() -> None:
    net = make()
    X = torch.randn(10, 4, generator=torch.Generator().manual_seed(1)) * 5 + 2
    net.set_standardization(X)
    expected = net.layers((X - net.mean) / net.scale)
    assert torch.equal(net(X), expected)


def test_forward_rows_independent() -> None:
    net = make().eval()
    X = torch.randn(9, 4, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        full = net(X)
        rows = torch.cat([net(X[i : i + 1]) for i in range(9)])
    torch.testing.assert_close(full, rows, rtol=1e-6, atol=1e-6)
