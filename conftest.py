"""Test-session settings for tests/ and the doctests of src/: one thread, the ``fast`` fixture.

Everything the test suite computes is small, so multi-threading only adds synchronisation;
on a busy 2-core machine it also made run times erratic:

* torch: a 50-point fit took 1.3 s with 2 intra-op threads, 0.25 s with 1;
* OpenBLAS (scipy): the dense eigh of a 600-point spectral embedding took 0.02 s or 3.3 s
  with 2 threads depending on the other load of the machine, 0.02 s with 1.

One thread each makes the suite's run time independent of what else the machine is doing.

The fast model the tests fit lives in ``tests/helpers.py``; the ``fast`` fixture returns its
factory.
"""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_limits

from tests.helpers import fast_model


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
