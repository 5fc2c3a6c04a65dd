"""The one worker: ``python -m benchmarks.harness.worker REQUEST.json``.

Every run that fits something runs in a fresh process of this worker
(:func:`benchmarks.harness.process.run_call`), so that no state (caches, torch threads,
allocator pools) carries over between runs and the process's peak resident memory is the
run's own. REQUEST.json names the function (``"call": "module:function"``), its keyword
arguments (``"args"``), the distributions whose versions to record (``"versions"``) and where
to write the answer (``"answer"``). The answer is the function's dict with

- ``status``: ``"ok"``, or ``"error"`` with ``error`` and ``traceback`` (machine paths cut)
  when the function raised;
- ``peak_rss_mb`` and ``peak_rss_children_mb``: ``ru_maxrss`` of this process and of its
  children, in MiB;
- ``versions``: the installed version of each requested distribution (None if absent).

It imports nothing of the benchmarked libraries before the call, so it also serves the peers'
own virtual environment, whose torch differs from the project's.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import traceback
from pathlib import Path
from typing import Any

from benchmarks.harness.environment import jsonable, library_versions, relative_paths


def _rss_mb(who: int) -> float:
    """Peak resident set size in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """Call ``request["call"]`` with ``request["args"]``; its result, or its error."""
    module, _, name = request["call"].partition(":")
    try:
        function = getattr(importlib.import_module(module), name)
        result: dict[str, Any] = {"status": "ok", "error": None, **function(**request["args"])}
    except Exception as exc:  # noqa: BLE001 - any failure becomes a failure record
        result = {"status": "error",
                  "error": relative_paths(f"{type(exc).__name__}: {exc}")[:2000],
                  "traceback": relative_paths(traceback.format_exc())[-4000:]}
    result["peak_rss_mb"] = _rss_mb(resource.RUSAGE_SELF)
    result["peak_rss_children_mb"] = _rss_mb(resource.RUSAGE_CHILDREN)
    result["versions"] = library_versions(tuple(request["versions"]))
    return jsonable(result)


def main(request_file: str) -> int:
    """Answer the request in ``request_file``; exit status 0 even when the run fails."""
    request = json.loads(Path(request_file).read_text())
    Path(request["answer"]).write_text(json.dumps(answer(request)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
