"""Every study, found in one place: its declaration (:class:`~benchmarks.harness.study.Study`)
lives in its own module; this registry lists them in the order of ``benchmarks/README.md``.

``python -m benchmarks`` lists them; ``python -m benchmarks --pages`` regenerates every page
from the committed records, one study's report after another, and ``--check`` says whether
the committed pages are what the records give (the files are put back as they were).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from benchmarks.harness.records import RESULTS_DIR
from benchmarks.harness.study import Study, write_page

#: The modules that declare a study (``STUDY``), in the order of ``benchmarks/README.md``.
MODULES = ("run", "representation", "suite", "shapes", "held_out", "warm_start_candidates",
           "n_clusters", "fit_speed", "scale", "throughput", "network_width")


def studies() -> tuple[Study, ...]:
    """Every study's declaration."""
    return tuple(importlib.import_module(f"benchmarks.{m}").STUDY for m in MODULES)


def check_pages(chosen: Sequence[Study] | None = None) -> list[str]:
    """The pages of the ``chosen`` studies (default all) that their records no longer give,
    after regenerating them; every file of the results folder is put back as it was."""
    before = {p: p.read_bytes() for p in RESULTS_DIR.iterdir() if p.is_file()}
    stale = []
    try:
        for study in studies() if chosen is None else chosen:
            if study.page is not None:
                write_page(study)
                page = RESULTS_DIR / study.page
                if page.read_bytes() != before.get(page):
                    stale.append(study.page)
    finally:
        for path in RESULTS_DIR.iterdir():
            if path.is_file() and path not in before:
                path.unlink()
        for path, data in before.items():
            if path.read_bytes() != data:
                path.write_bytes(data)
    return stale
