"""The runner: one run, one fresh process of :mod:`benchmarks.harness.worker`.

:func:`run_call` is how every study runs a fit: in a process of its own, from the
repository's root, with a timeout and the environment given (:func:`thread_env` sets the
thread pools), timing the process and reading the 1-minute load average before and after (a
load above the CPU count means other work competed, so times are inflated). A run that fails,
is killed or runs out of time still gives an answer, with ``status`` ``"error"`` and why.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness.environment import LIBRARIES, REPO_ROOT, THREAD_VARS, relative_paths


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (our environment by default) with each of :data:`THREAD_VARS` set to
    ``threads`` where it is unset or empty.

    >>> env = thread_env(1, {"OMP_NUM_THREADS": "2"})
    >>> env["OMP_NUM_THREADS"], env["MKL_NUM_THREADS"]
    ('2', '1')
    """
    base = dict(os.environ) if base is None else dict(base)
    return {**base, **{v: base.get(v) or str(threads) for v in THREAD_VARS}}


def _failure(proc: subprocess.CompletedProcess[str]) -> str:
    """Why a worker process that wrote no answer failed: its exit status and last lines."""
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-10:])
    how = f"was killed by signal {-proc.returncode}" if proc.returncode < 0 else "failed"
    return relative_paths(f"the worker {how} (exit status {proc.returncode}): {tail}")


def run_call(call: str, args: dict[str, Any], *, timeout: float | None,
             env: dict[str, str] | None = None, python: str | None = None,
             versions: Sequence[str] = LIBRARIES) -> dict[str, Any]:
    """Run ``call`` (``"module:function"``) with keyword ``args`` in a fresh worker process.

    Parameters
    ----------
    call : str
        The function, importable by the worker's interpreter; it returns a JSON-able dict.
    args : dict
        Its keyword arguments, JSON-able.
    timeout : float or None
        Seconds allowed, after which the process is killed; None waits as long as it takes.
    env : dict, optional
        The worker's environment (default ours).
    python : str, optional
        The interpreter (default ours; the peers run in their own virtual environment).
    versions : sequence of str
        Distributions whose installed versions the answer records.

    Returns
    -------
    dict
        The worker's answer (:mod:`benchmarks.harness.worker`), or ``{"status": "error",
        "error": why}``, with ``wall_s``, ``loadavg_before`` and ``loadavg_after`` added.
    """
    with tempfile.TemporaryDirectory(prefix="neuncut-run-") as tmp:
        request_file, answer_file = Path(tmp) / "request.json", Path(tmp) / "answer.json"
        request_file.write_text(json.dumps({"call": call, "args": args,
                                            "versions": list(versions),
                                            "answer": str(answer_file)}))
        cmd = [python or sys.executable, "-m", "benchmarks.harness.worker", str(request_file)]
        load_before, t0 = os.getloadavg()[0], time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                                  timeout=timeout, check=False)
            failure = None if proc.returncode == 0 else _failure(proc)
        except subprocess.TimeoutExpired:
            failure = f"timeout: no result within {timeout:.0f} s"
        wall_s = time.perf_counter() - t0
        if answer_file.exists() and failure is None:
            result = json.loads(answer_file.read_text())
        else:
            result = {"status": "error", "error": failure or "the worker wrote no answer"}
    result.update(wall_s=wall_s, loadavg_before=load_before, loadavg_after=os.getloadavg()[0])
    return result


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """A Python loop that keeps one core busy while the block runs (timings under load)."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        busy.kill()
        busy.wait()
