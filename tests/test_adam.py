"""CosineAdam takes torch.optim.Adam's steps under CosineAnnealingLR, bit for bit."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch

from neuncut._adam import CosineAdam


def _network() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2), torch.nn.Linear(5, 1)
    )


def _backward(net: torch.nn.Module, step: int) -> None:
    """A loss whose gradients change with the step; the last layer is never used (no grad)."""
    x = torch.linspace(-1, 1, 12).reshape(4, 3) * (1 + step % 3)
    (net[2](net[1](net[0](x))) ** 2).mean().backward()


def _torch_pair(net, lr, total, weight_decay):
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)


def _step_both(ours, opt, theirs, topt, sched, step: int) -> None:
    """One step of CosineAdam on ``ours`` and of torch's Adam and scheduler on ``theirs``."""
    for net, o in ((ours, opt), (theirs, topt)):
        o.zero_grad()
        _backward(net, step)
    opt.step()
    topt.step()
    sched.step()


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("total, steps", [(20, 20), (7, 12)])  # past the end: the restart
def test_steps_are_torch_adam_under_cosine_annealing(weight_decay, total, steps) -> None:
    ours, theirs = _network(), _network()
    opt = CosineAdam(ours.parameters(), 0.01, total, weight_decay=weight_decay)
    topt, sched = _torch_pair(theirs, 0.01, total, weight_decay)
    for step in range(steps):
        _step_both(ours, opt, theirs, topt, sched, step)
        assert opt.lr == topt.param_groups[0]["lr"]
        assert _same(ours, theirs)
    assert ours[3].weight.grad is None and opt.state_dict()["state"].keys() == {0, 1, 2, 3}


def test_state_dicts_have_torch_formats_and_resume_bit_for_bit() -> None:
    ours, theirs = _network(), _network()
    opt = CosineAdam(ours.parameters(), 0.01, 10, weight_decay=0.01)
    topt, sched = _torch_pair(theirs, 0.01, 10, 0.01)
    for step in range(4):
        _step_both(ours, opt, theirs, topt, sched, step)
    state, theirs_state = opt.state_dict(), topt.state_dict()
    assert state["param_groups"] == theirs_state["param_groups"]
    assert state["state"].keys() == theirs_state["state"].keys()
    for i, values in state["state"].items():
        assert values.keys() == theirs_state["state"][i].keys()
        assert all(torch.equal(v, theirs_state["state"][i][k]) for k, v in values.items())
    assert opt.schedule_state_dict() == sched.state_dict()

    # a new optimizer continued from torch's states (a checkpoint of an earlier version)
    # takes the steps that torch takes
    resumed_net = copy.deepcopy(theirs)
    resumed = CosineAdam(resumed_net.parameters(), 0.5, 1)
    resumed.load_state_dict(copy.deepcopy(theirs_state), sched.state_dict())
    for step in range(4, 10):
        _step_both(resumed_net, resumed, theirs, topt, sched, step)
        assert _same(resumed_net, theirs)


def test_restoring_the_state_and_halving_is_torchs_recovery() -> None:
    """neuncut._training._recover: restore Adam's state (not the schedule's position) and
    halve the learning rate and the schedule's base."""
    ours, theirs = _network(), _network()
    opt = CosineAdam(ours.parameters(), 0.01, 10)
    topt, sched = _torch_pair(theirs, 0.01, 10, 0.0)
    good, tgood = None, None
    for step in range(8):
        if step == 2:
            good, tgood = copy.deepcopy(opt.state_dict()), copy.deepcopy(topt.state_dict())
        if step == 5:
            opt.load_state_dict(good)
            opt.halve_learning_rate()
            topt.load_state_dict(tgood)
            for group in topt.param_groups:
                group["lr"] *= 0.5
            sched.base_lrs = [base * 0.5 for base in sched.base_lrs]
        _step_both(ours, opt, theirs, topt, sched, step)
        assert opt.lr == topt.param_groups[0]["lr"]
    assert _same(ours, theirs)


def test_a_state_for_another_network_is_refused() -> None:
    net = _network()
    opt = CosineAdam(net.parameters(), 0.01, 10)
    _backward(net, 0)
    opt.step()
    other = CosineAdam([torch.nn.Parameter(torch.zeros(3))], 0.01, 10)
    with pytest.raises(ValueError, match="does not fit"):
        other.load_state_dict(opt.state_dict())


@pytest.mark.integration
def test_a_fit_does_not_import_torch_dynamo() -> None:
    """torch.optim imports torch._dynamo on first use (about 1 s); a fit must not."""
    code = (
        "import sys, numpy as np\n"
        "from neuncut import NeuNcut\n"
        "X = np.random.default_rng(0).normal(size=(120, 2))\n"
        "X[60:] += 9\n"
        "NeuNcut(n_clusters=2, hidden_layer_sizes=(16,), max_epochs=2, random_state=0).fit(X)\n"
        "assert not {'torch._dynamo', 'sympy'} & set(sys.modules), 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_plain_torch_adam_state_loads() -> None:
    """Adam's state without a scheduler has no initial_lr: the current rate is the base."""
    net = _network()
    topt = torch.optim.Adam(net.parameters(), lr=0.02)
    _backward(net, 0)
    topt.step()
    opt = CosineAdam(net.parameters(), 0.5, 10)
    opt.load_state_dict(topt.state_dict())
    assert opt.lr == opt.base_lr == 0.02
    theirs = topt.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(opt.state_dict()["state"][0]["exp_avg"], theirs)


def test_without_total_steps_the_steps_are_plain_adams() -> None:
    """total_steps=None: torch.optim.Adam at a constant learning rate, bit for bit, and a
    schedule state that resumes as constant."""
    ours, theirs = _network(), _network()
    opt = CosineAdam(ours.parameters(), 1e-2, None)
    topt = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    for step in range(7):
        for net, o in ((ours, opt), (theirs, topt)):
            o.zero_grad()
            _backward(net, step)
        opt.step()
        topt.step()
    assert opt.lr == 1e-2
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)
    again = CosineAdam(ours.parameters(), 5.0, 3)
    again.load_state_dict(opt.state_dict(), opt.schedule_state_dict())
    assert again.total_steps is None and again.lr == 1e-2 and again.last_step == 7
