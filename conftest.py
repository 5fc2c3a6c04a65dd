"""Test-session settings and the fast model shared by tests/ and the doctests of src/.

Everything the test suite computes is small, so multi-threading only adds synchronisation;
on a busy 2-core machine it also made run times erratic:

* torch: a 50-point fit took 1.3 s with 2 intra-op threads, 0.25 s with 1;
* OpenBLAS (scipy): the dense eigh of a 600-point spectral embedding took 0.02 s or 3.3 s
  with 2 threads depending on the other load of the machine, 0.02 s with 1.

One thread each makes the suite's run time independent of what else the machine is doing.

Unit tests fit :data:`FAST_PARAMS` models (a one-layer network of 128 units, 3 epochs, a
200-point k-means warm start): ``from conftest import FAST_PARAMS, fast_model`` at module
level (for ``parametrize``), or the ``fast`` fixture inside a test. The k-means warm start
skips the neighbour embedding, whose layout costs about a second whatever the size of the
data; the default warm start (``init="auto"``) has tests of its own (``test_partition.py``,
``test_shapes.py``, the default-parameter tests of ``test_estimator.py``, the command line,
the examples). Default-size fits belong to ``benchmarks/``.

128 units, not fewer: most of a small fit is the distillation of the warm start, which stops
once the network has learnt the partition, and a narrow network learns it in more steps. Six
of the tests' data sets took 4.1 s to fit with 16 units, 2.4 s with 32 and 1.7 s with 128
(one thread), and pytest under ``make test`` from a fresh clone 2:53 -> 2:13.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from threadpoolctl import threadpool_limits

from neuncut import NeuNcut

FAST_PARAMS: dict[str, Any] = dict(
    max_epochs=3, hidden_layer_sizes=(128,), init="kmeans", init_size=200, batch_size=128,
    device="cpu", random_state=0,
)


def fast_model(**overrides: Any) -> NeuNcut:
    """A NeuNcut with :data:`FAST_PARAMS`, any of which ``overrides`` replaces."""
    return NeuNcut(**{**FAST_PARAMS, **overrides})


@pytest.fixture
def fast():
    """``fast(**overrides)``: a small, fast NeuNcut (:func:`fast_model`)."""
    return fast_model


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(previous)
