"""Adam with a cosine-annealed learning rate: torch.optim's arithmetic, without torch.optim.

Why by hand: the first optimizer of a process imports ``torch._dynamo`` (torch.optim's
``Optimizer.add_param_group`` is wrapped by ``torch._disable_dynamo``, which imports it on the
first call), and that import was most of a fresh process's first fit of small data (decision
D19). Every command-line run, every benchmark process and every notebook's first fit paid it.

:class:`CosineAdam` takes the steps of ``torch.optim.Adam`` (its single-tensor path, with
``weight_decay`` added to the gradient as an L2 term) under the learning rates of
``torch.optim.lr_scheduler.CosineAnnealingLR`` (its recursive form, stepped after every
optimizer step), bit for bit: ``tests/test_adam.py`` compares the two. Its state dictionaries
have the formats of theirs, so training checkpoints are unchanged. On CUDA, torch.optim would
have taken its multi-tensor path; this one takes the single-tensor arithmetic on every device.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

__all__ = ["CosineAdam"]

# The param_groups entries that torch.optim.Adam writes besides lr, initial_lr, betas, eps and
# weight_decay: the options this class implements, so that its state reads as Adam's.
_ADAM_FLAGS = {
    "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
    "differentiable": False, "fused": None, "decoupled_weight_decay": False,
}


class CosineAdam:
    r"""Adam on ``params``, its learning rate cosine-annealed to 0 over ``total_steps`` steps.

    Step :math:`t` (from 1), for each parameter :math:`\theta` with gradient :math:`g`:

    .. math::
        g &\leftarrow g + \lambda \theta, \qquad
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \\
        \theta &\leftarrow \theta - \frac{\eta_t}{1 - \beta_1^t}
        \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon},

    (Kingma and Ba, arXiv:1412.6980) with :math:`\eta_1 = \eta` and, after each step,
    :math:`\eta_{t+1} = \eta_t \, (1 + \cos(\pi t / T)) / (1 + \cos(\pi (t - 1) / T))`, the
    recursive form of :math:`\eta_t = \eta (1 + \cos(\pi (t - 1) / T)) / 2` that torch's
    scheduler computes (its rounding is what makes the steps bit for bit torch's).

    Parameters
    ----------
    params : iterable of Tensor
        The parameters, updated in place; those without a gradient at a step are skipped.
    lr : float
        The initial learning rate :math:`\eta`.
    total_steps : int or None
        :math:`T`, the steps over which the learning rate falls to 0 (at least 1); None
        keeps it constant (plain Adam, as for the autoencoder, whose epochs a plateau of
        its loss decides).
    weight_decay : float, default=0.0
        :math:`\lambda`, the L2 term added to every gradient.
    betas : (float, float), default=(0.9, 0.999)
    eps : float, default=1e-8

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = CosineAdam([w], lr=0.1, total_steps=2)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w ** 2).sum().backward()
    ...     opt.step()
    >>> w.detach()  # steps of about 0.1, then 0.05, against the gradients' signs
    tensor([ 0.8502, -1.8501])
    >>> opt.lr  # annealed to 0 after total_steps
    0.0
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float,
        total_steps: int | None,
        *,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.lr = lr
        self.base_lr = lr
        self.total_steps = None if total_steps is None else max(1, total_steps)
        self.weight_decay = weight_decay
        self.betas = betas
        self.eps = eps
        self.last_step = 0  # scheduler steps taken (CosineAnnealingLR's last_epoch)
        # Per parameter: its steps taken, and (first moment, second moment) from its first step.
        # The counts are ints (torch keeps a float32 tensor, written out by state_dict): the
        # same values, without two tensor ops per parameter and step.
        self._steps = [0 for _ in self.params]
        self._moments: list[tuple[torch.Tensor, torch.Tensor] | None] = [
            None for _ in self.params
        ]

    def zero_grad(self) -> None:
        """Drop every gradient (``set_to_none``)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step at the current learning rate, then one step of the schedule."""
        beta1, beta2 = self.betas
        for i, param in enumerate(self.params):
            if param.grad is None:
                continue
            moments = self._moments[i]
            if moments is None:
                moments = self._moments[i] = (torch.zeros_like(param), torch.zeros_like(param))
            exp_avg, exp_avg_sq = moments
            self._steps[i] += 1
            step = float(self._steps[i])
            grad = param.grad
            if self.weight_decay != 0:
                grad = grad.add(param, alpha=self.weight_decay)
            # torch.optim.Adam's operations, in its order, for its rounding
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step_size = self.lr / (1 - beta1**step)
            denom = (exp_avg_sq.sqrt() / (1 - beta2**step) ** 0.5).add_(self.eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)
        self._advance_schedule()

    def _advance_schedule(self) -> None:
        """CosineAnnealingLR's step (eta_min = 0): the recursion, or its restart value one step
        past the end of a half period."""
        self.last_step += 1
        t, T = self.last_step, self.total_steps
        if T is None:
            return
        if (t - 1 - T) % (2 * T) == 0:
            self.lr = self.base_lr * (1 - math.cos(math.pi / T)) / 2
        else:
            self.lr *= (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))

    def halve_learning_rate(self) -> None:
        """Halve the current and the initial learning rate (the schedule continues from its
        step at half the height)."""
        self.lr *= 0.5
        self.base_lr *= 0.5

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in ``torch.optim.Adam.state_dict``'s format (the moments are
        not copied)."""
        state = {
            i: {"step": torch.tensor(float(self._steps[i])), "exp_avg": m[0], "exp_avg_sq": m[1]}
            for i, m in enumerate(self._moments) if m is not None
        }
        group = {
            "lr": self.lr, "betas": self.betas, "eps": self.eps,
            "weight_decay": self.weight_decay, **_ADAM_FLAGS, "initial_lr": self.base_lr,
            "params": list(range(len(self.params))),
        }
        return {"state": state, "param_groups": [group]}

    def schedule_state_dict(self) -> dict[str, Any]:
        """The schedule's state in ``CosineAnnealingLR.state_dict``'s format."""
        return {
            "T_max": self.total_steps, "eta_min": 0.0, "base_lrs": [self.base_lr],
            "last_epoch": self.last_step, "_step_count": self.last_step + 1,
            "_is_initial": False, "_get_lr_called_within_step": False, "_last_lr": [self.lr],
        }

    def load_state_dict(
        self, state: dict[str, Any], schedule: dict[str, Any] | None = None
    ) -> None:
        """Continue from :meth:`state_dict` (and :meth:`schedule_state_dict`), or from the
        state dictionaries of ``torch.optim.Adam`` and ``CosineAnnealingLR``.

        Without ``schedule`` the moments, step counts and current learning rate are restored
        and the schedule keeps its position, as loading only the optimizer's state does in
        torch.

        Raises
        ------
        ValueError
            If the state is for more parameters, or other shapes, than this optimizer's.
        """
        (group,) = state["param_groups"]
        self.lr, self.base_lr = group["lr"], group.get("initial_lr", group["lr"])
        self.betas, self.eps = tuple(group["betas"]), group["eps"]
        self.weight_decay = group["weight_decay"]
        self._steps = [0 for _ in self.params]
        self._moments = [None for _ in self.params]
        for key, values in state["state"].items():
            i = int(key)
            if i >= len(self.params) or values["exp_avg"].shape != self.params[i].shape:
                raise ValueError(
                    f"the optimizer state of parameter {i} does not fit this network's"
                    f" {len(self.params)} parameters"
                )
            device = self.params[i].device
            self._steps[i] = int(values["step"])
            self._moments[i] = (
                values["exp_avg"].detach().to(device, copy=True),
                values["exp_avg_sq"].detach().to(device, copy=True),
            )
        if schedule is not None:
            self.total_steps = schedule["T_max"]
            self.base_lr = schedule["base_lrs"][0]
            self.last_step = schedule["last_epoch"]
