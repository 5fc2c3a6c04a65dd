"""The documentation: the Sphinx guide builds without a warning, and what it states holds.

The parameter tables of README.md and docs/parameters.rst must give ``NeuNcut``'s own
defaults, the pictures they show must exist and stay small.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from neuncut import NeuNcut

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PICTURES = ("training.png", "clusters.png", "regions.png", "confusion.png")


def _default(cell: str) -> object:
    """The Python value of a table's default cell: ``None (median heuristic)`` is None."""
    cell = cell.replace("`", "").strip()
    return ast.literal_eval(re.sub(r"\s*\(.*\)$", "", cell) if cell.startswith("None") else cell)


def _readme_defaults() -> dict[str, object]:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", (ROOT / "README.md").read_text(), re.M)
    return {name: _default(cell) for name, cell in rows}


def _guide_defaults() -> dict[str, object]:
    lines = (DOCS / "parameters.rst").read_text().splitlines()
    return {m.group(1): _default(re.sub(r"^\s+- ", "", lines[i + 1]))
            for i, line in enumerate(lines) if (m := re.fullmatch(r"\s+\* - ``(\w+)``", line))}


def test_readme_table_gives_the_code_defaults() -> None:
    defaults, params = _readme_defaults(), NeuNcut().get_params()
    assert len(defaults) >= 12
    for name, value in defaults.items():
        assert value == params[name], name


def test_guide_table_gives_every_code_default() -> None:
    assert _guide_defaults() == NeuNcut().get_params()


def test_pictures_exist_and_are_small() -> None:
    for name in PICTURES:
        data = (DOCS / "_static" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 200_000, name
    shown = re.findall(r"\]\((docs/_static/\w+\.png)\)", (ROOT / "README.md").read_text())
    assert shown and all((ROOT / path).is_file() for path in shown)


@pytest.mark.integration
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "NeuNcut.predict_proba" in (out / "api.html").read_text()
    pictures = (out / "pictures.html").read_text()
    for name in PICTURES:
        assert f'src="_images/{name}"' in pictures
        assert (out / "_images" / name).is_file()
