"""Helpers shared by the tests: the fast model every unit test fits.

Unit tests fit :data:`FAST_PARAMS` models (a one-layer network of 128 units, 3 epochs, a
200-point k-means warm start): ``from tests.helpers import FAST_PARAMS, fast_model`` at
module level (for ``parametrize``), or the ``fast`` fixture of ``conftest.py`` inside a
test. The k-means warm start skips the neighbour embedding, whose layout costs about a second
whatever the size of the data; the default warm start (``init="auto"``) has tests of its own
(``test_partition.py``, ``test_shapes.py``, the default-parameter tests of
``test_estimator.py``, the command line, the examples). Default-size fits belong to
``benchmarks/``. 128 units, not fewer: most of a small fit is the distillation of the warm
start, which stops once the network has learnt the partition, and a narrow network needs
more steps for it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from neuncut import NeuNcut

__all__ = ["FAST_PARAMS", "fast_model", "interrupt_after"]

FAST_PARAMS: dict[str, Any] = dict(
    max_epochs=3, hidden_layer_sizes=(128,), init="kmeans", init_size=200, batch_size=128,
    device="cpu", random_state=0,
)


def fast_model(**overrides: Any) -> NeuNcut:
    """A NeuNcut with :data:`FAST_PARAMS`, any of which ``overrides`` replaces."""
    return NeuNcut(**{**FAST_PARAMS, **overrides})


def interrupt_after(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str,
                    epoch: int) -> None:
    """Make the training loop ``module.name`` (called with an ``on_epoch_end`` callback that
    writes a checkpoint) raise KeyboardInterrupt right after writing epoch ``epoch``'s state:
    a fit killed there."""
    train = getattr(module, name)

    def interrupted(*args: Any, on_epoch_end: Any = None, **kwargs: Any) -> Any:
        def write_then_stop(opt: Any, log: Any) -> None:
            on_epoch_end(opt, log)
            if log.n_iter == epoch:
                raise KeyboardInterrupt
        return train(*args, on_epoch_end=write_then_stop, **kwargs)

    monkeypatch.setattr(module, name, interrupted)
