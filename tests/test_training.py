"""Tests of Ncut training (neuncut._training), its batches (._batches) and the distillation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from neuncut._batches import iter_batches
from neuncut._network import MembershipNetwork
from neuncut._training import TrainingLog, train_ncut
from neuncut._warm_start._distill import distill
from neuncut.affinity import self_tuning_knn_affinity


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def blobs(n: int = 300, k: int = 3, d: int = 2, seed: int = 0, std: float = 0.5):
    X, y = make_blobs(n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y.astype(np.int64))


# --------------------------------------------------------------------------- iter_batches


@pytest.mark.parametrize(
    "n,batch_size", [(1, 1), (1, 5), (10, 4), (10, 10), (10, 3), (100, 7), (1000, 64), (5, 100)]
)
def test_iter_batches_partition(n: int, batch_size: int) -> None:
    batches = list(iter_batches(n, batch_size, gen()))
    assert len(batches) == max(1, math.ceil(n / batch_size))
    sizes = [len(b) for b in batches]
    assert max(sizes) - min(sizes) <= 1
    assert max(sizes) <= batch_size
    everything = torch.cat(batches)
    assert everything.dtype == torch.int64
    assert sorted(everything.tolist()) == list(range(n))


def test_iter_batches_reproducible_and_shuffled() -> None:
    a = torch.cat(list(iter_batches(50, 8, gen(1))))
    b = torch.cat(list(iter_batches(50, 8, gen(1))))
    c = torch.cat(list(iter_batches(50, 8, gen(2))))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, torch.arange(50))
    g = gen(3)  # consecutive passes of one generator differ
    first, second = (torch.cat(list(iter_batches(50, 8, g))) for _ in range(2))
    assert not torch.equal(first, second)


def test_iter_batches_leaves_global_rng() -> None:
    state = torch.get_rng_state()
    list(iter_batches(100, 7, gen()))
    assert torch.equal(torch.get_rng_state(), state)


# -------------------------------------------------------------------------------- distill


def test_distill_fits_separable_labels() -> None:
    X, y = blobs(200, k=3, seed=1)
    net = MembershipNetwork(2, (16,), 3, generator=gen(0))
    net.set_standardization(X)
    distill(net, X, y, epochs=60, batch_size=64, lr=1e-2, generator=gen(1))
    with torch.no_grad():
        pred = net(X).argmax(dim=1)
    assert float((pred == y).float().mean()) == 1.0


def test_distill_reproducible() -> None:
    X, y = blobs(100, k=2, seed=2)
    nets = []
    for _ in range(2):
        net = MembershipNetwork(2, (8,), 2, generator=gen(0))
        distill(net, X, y, epochs=3, batch_size=32, lr=1e-2, generator=gen(5))
        nets.append(net)
    for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(("plateau_from", "expected"), [(None, 40), (1, 11), (15, 15)])
def test_distill_stops_on_a_plateau(plateau_from: int | None, expected: int) -> None:
    """Labels that no function of X can give (every row the same point): the cross-entropy
    stays at the labels' entropy, so a plateau stops the first epoch it may, 10 epochs in."""
    X = torch.zeros(64, 2)
    y = torch.arange(64) % 2
    net = MembershipNetwork(2, (8,), 2, generator=gen(0))
    passes = []
    net.register_forward_hook(lambda *_: passes.append(1))
    distill(net, X, y, epochs=40, batch_size=64, lr=1e-2, generator=gen(5),
            plateau_from=plateau_from)
    assert len(passes) == expected  # one batch an epoch


def test_distill_horizon_truncates_the_schedule() -> None:
    """One epoch of a 4-epoch schedule is the first epoch of a 4-epoch run, exactly."""
    X, y = blobs(100, k=2, seed=3)
    nets = []
    for kwargs in ({"epochs": 1, "horizon": 4 * 4}, {"epochs": 4, "tol": float("inf")},
                   {"epochs": 1}):
        net = MembershipNetwork(2, (8,), 2, generator=gen(0))
        net.set_standardization(X)
        distill(net, X, y, batch_size=32, lr=1e-2, generator=gen(5), **kwargs)
        nets.append(list(net.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(nets[0], nets[1], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(nets[0], nets[2], strict=True))


@pytest.mark.parametrize("n,epochs,horizon", [(100, 1000, 3000), (300, 500, 3000),
                                              (600, 334, 3000), (2000, 250, 3000),
                                              (3000, 250, 3000), (6000, 125, 3000),
                                              (20000, 38, 3002)])
def test_distill_partition_budget(monkeypatch: pytest.MonkeyPatch, n: int, epochs: int,
                                  horizon: int) -> None:
    """At most 3 000 steps of 256 points and 250 epochs, whichever is fewer; at least 1 000
    steps; the learning rate on the schedule of the 3 000-step budget."""
    from neuncut._warm_start import _distill

    seen = {}
    monkeypatch.setattr(_distill, "distill", lambda *a, **kw: seen.update(kw))
    X = torch.zeros(n, 2)
    net = MembershipNetwork(2, (128, 128), 3, generator=gen(0))
    _distill.distill_partition(net, X, torch.zeros(n, dtype=torch.long), gen(0))
    assert seen["epochs"] == epochs and seen["batch_size"] == 256
    assert seen["horizon"] == horizon and seen["lr"] == 3e-3


@pytest.mark.parametrize("hidden,lr", [((512, 512), 1e-3), ((1024,), 5e-4), ((64, 512), 1e-3),
                                       ((256,), 2e-3), ((128, 128), 3e-3), ((16,), 3e-3)])
def test_distill_learning_rate_scales_with_the_widest_layer(hidden, lr) -> None:
    """1e-3 x 512 / width, at most 3e-3; 512 units get exactly the former 1e-3."""
    from neuncut._warm_start._distill import distill_learning_rate

    assert distill_learning_rate(MembershipNetwork(5, hidden, 3)) == pytest.approx(lr, rel=1e-12)
    assert distill_learning_rate(MembershipNetwork(5, (512,), 3)) == 1e-3


# ----------------------------------------------------------------------------- train_ncut


def _train(X: torch.Tensor, **kwargs) -> TrainingLog:
    net = MembershipNetwork(2, (16,), 3, generator=gen(0))
    net.set_standardization(X)
    return train_ncut(net, X, lambda xb: self_tuning_knn_affinity(xb, 10), penalty=20.0,
                      epochs=8, batch_size=128, lr=1e-2, weight_decay=0.0, generator=gen(1),
                      **kwargs)


def test_train_ncut_stops_when_labels_settle() -> None:
    X, _ = blobs(400, k=3, seed=5, std=0.7)
    full = _train(X)  # tol=None: every epoch
    assert full.n_iter == 8 and len(full.label_changes) == 8
    assert all(0.0 <= c <= 1.0 for c in full.label_changes)
    # every epoch counts as settled with tol=1: stop after n_iter_no_change epochs
    assert _train(X, tol=1.0, n_iter_no_change=3).n_iter == 3
    # the same run as far as it goes: a rule on the log, not on randomness
    short = _train(X, tol=1.0, n_iter_no_change=2)
    assert short.loss == full.loss[:2] and short.label_changes == full.label_changes[:2]




def test_train_ncut_decreases_loss_and_logs_consistently() -> None:
    X, _ = blobs(400, k=3, seed=5, std=0.7)
    net = MembershipNetwork(2, (32,), 3, generator=gen(0))
    net.set_standardization(X)
    epochs, batch_size = 12, 128
    log = train_ncut(
        net,
        X,
        lambda xb: self_tuning_knn_affinity(xb, 10),
        penalty=20.0,
        epochs=epochs,
        batch_size=batch_size,
        lr=1e-2,
        weight_decay=0.0,
        generator=gen(1),
    )
    assert isinstance(log, TrainingLog)
    assert log.n_iter == epochs
    assert len(log.loss) == len(log.cut) == len(log.ortho) == epochs
    assert log.n_steps == epochs * math.ceil(400 / batch_size)
    assert all(math.isfinite(v) for v in log.loss + log.cut + log.ortho)
    for loss, cut, ortho in zip(log.loss, log.cut, log.ortho, strict=True):
        assert loss == pytest.approx(cut + 10.0 * ortho, rel=1e-5)
    assert log.loss[-1] < 0.5 * log.loss[0]
    assert net.training  # train_ncut leaves the mode to its caller


def test_train_ncut_zero_epochs() -> None:
    X, _ = blobs(50)
    net = MembershipNetwork(2, (4,), 3, generator=gen(0))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    log = train_ncut(
        net,
        X,
        lambda xb: self_tuning_knn_affinity(xb, 5),
        penalty=1.0,
        epochs=0,
        batch_size=16,
        lr=1e-2,
        weight_decay=0.0,
        generator=gen(0),
    )
    assert log == TrainingLog()
    for name, value in net.state_dict().items():
        assert torch.equal(value, before[name])


def test_train_ncut_reproducible_and_global_rng_untouched() -> None:
    X, _ = blobs(120)
    state = torch.get_rng_state()
    nets = []
    for _ in range(2):
        net = MembershipNetwork(2, (8,), 3, generator=gen(0))
        train_ncut(
            net,
            X,
            lambda xb: self_tuning_knn_affinity(xb, 5),
            penalty=5.0,
            epochs=2,
            batch_size=50,
            lr=1e-2,
            weight_decay=1e-4,
            generator=gen(3),
        )
        nets.append(net)
    assert torch.equal(torch.get_rng_state(), state)
    for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_batch_graphs_are_built_on_the_graph_rows_when_given() -> None:
    """The network reads X; every batch graph is built on the same rows of ``graph_rows``."""
    X, _ = blobs(200, d=5)
    codes = X[:, :2].clone()
    shapes = set()

    def affinity(rows: torch.Tensor) -> torch.Tensor:
        shapes.add(rows.shape[1])
        return self_tuning_knn_affinity(rows, 10)

    net = MembershipNetwork(5, (8,), 3, generator=gen())
    train_ncut(net, X, affinity, penalty=20.0, epochs=1, batch_size=64, lr=1e-3,
               weight_decay=0.0, generator=gen(), graph_rows=codes)
    assert shapes == {2}
