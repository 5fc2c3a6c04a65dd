"""The learned representation (decisions D1, D2, D23) on raw images and the paper's features.

    python -m benchmarks.representation                         # MNIST, Fashion pixels, 5 seeds
    python -m benchmarks.representation --protocols A --n-train 20000
    python -m benchmarks.representation --seeds 0 --variant max_epochs=0 representation=none
    python -m benchmarks.representation --report   # REPRESENTATION.md and HEAD_ONLY.md

The grid's runs (:mod:`benchmarks.run`), neuncut only, fitted on all 70 000 rows by default:
what the autoencoder (``representation="auto"``) and Ncut training of encoder and head give,
against ``--variant representation=none`` (the rows themselves) and ``max_epochs=0`` (the
warm start of the codes), and what k ``n_clusters=auto`` finds. About 12 min a pixel fit on
2 cores. Records: ``representation.jsonl``; page ``REPRESENTATION.md``. The head alone
trained, the encoder fixed (the default before decision D23): ``head_only.jsonl``,
``HEAD_ONLY.md``, regenerated here and no longer run.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from benchmarks.harness.records import RESULTS_DIR
from benchmarks.harness.study import Param, main
from benchmarks.run import STUDY as GRID

TITLE = "The learned representation: raw images, all 70 000 rows"
HEAD_ONLY_TITLE = "The head alone trained, the encoder fixed (before decision D23)"


def write_page(folder: Path = RESULTS_DIR) -> None:
    """``REPRESENTATION.md`` and ``HEAD_ONLY.md``, with their figures, from their records."""
    from benchmarks.report import write_page as write

    command = "python -m benchmarks.representation"
    write(folder, "representation.jsonl", "REPRESENTATION.md", "representation.png", TITLE,
          command)
    write(folder, "head_only.jsonl", "HEAD_ONLY.md", "head_only.png", HEAD_ONLY_TITLE, command)


STUDY = dataclasses.replace(
    GRID, name="representation", module="benchmarks.representation",
    question="What do the learned representation and Ncut training of encoder and head give "
             "on raw images (all 70 000 rows) and the paper's features, with the ablation?",
    axes=tuple(dataclasses.replace(a, values=v, choices=a.choices or a.values) if (v := {
        "protocol": ("B",), "method": ("neuncut",)}.get(a.name)) else a for a in GRID.axes),
    params=tuple(Param("n_train", 70_000, p.help) if p.name == "n_train" else p
                 for p in GRID.params),
    key="run", records="representation.jsonl", more_records=("head_only.jsonl",),
    report="benchmarks.representation:write_page", page="REPRESENTATION.md",
    plot="representation.png")

if __name__ == "__main__":
    sys.exit(main(STUDY))
