"""Every script in examples/ runs in its quick mode and does what it says.

Each runs as ``python examples/NAME.py`` with ``NEUNCUT_QUICK=1`` in a fresh process, in a
temporary working folder (its pictures land in ``examples_output/`` there). The processes
are started together, two cores' worth at a time being the machine's, and each test waits
for its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PNG = b"\x89PNG\r\n\x1a\n"

# script -> (files written under examples_output/, {printed score: lower bound})
EXPECTED: dict[str, tuple[list[str], dict[str, float]]] = {
    "quickstart": (["quickstart/regions.png", "quickstart/training.png"],
                   {r"ARI on 600 new points: ([\d.]+)": 0.95}),
    "digits_pictures": (["digits/clusters.png", "digits/confusion.png", "digits/training.png"],
                        {r"ACC ([\d.]+)": 0.6}),
    "pipeline_gridsearch": ([], {r"best model on all rows: ACC ([\d.]+)": 0.6}),
    "save_and_predict": (["save_and_predict/blobs.safetensors"],
                         {r"ARI against the true blobs: ([\d.]+)": 0.9}),
}


def test_every_example_is_tested() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple]]:
    """All examples started at once; name -> (working folder, process)."""
    env = {**os.environ, "NEUNCUT_QUICK": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    started = {}
    for name in EXPECTED:
        cwd = tmp_path_factory.mktemp(name)
        started[name] = (cwd, subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py")], cwd=cwd, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    yield started
    for _, proc in started.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.integration
@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_runs_in_quick_mode(runs: dict[str, tuple], name: str) -> None:
    cwd, proc = runs[name]
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    files, scores = EXPECTED[name]
    for file in files:
        data = (cwd / "examples_output" / file).read_bytes()
        assert not file.endswith(".png") or data[:8] == PNG, file
    for pattern, bound in scores.items():
        match = re.search(pattern, stdout)
        assert match, f"{pattern!r} not in the output:\n{stdout}"
        assert float(match.group(1)) >= bound, stdout
