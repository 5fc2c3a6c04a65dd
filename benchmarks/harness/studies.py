"""Every study, declared once: the question it answers, how to run it, its records and page.

``python -m benchmarks`` lists them; ``python -m benchmarks --pages`` regenerates every page
from the committed records, one study's report after another, and ``--check`` says whether
the committed pages are what the records give (the files are put back as they were).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.harness.records import RESULTS_DIR


@dataclass(frozen=True)
class Study:
    """One study: a question, the module that runs it, its records, its page.

    ``report`` is the argument list of ``python -m MODULE`` that rewrites the page (and its
    figure, ``plot``) from the records alone; a study without a page prints its table.
    """

    name: str
    question: str
    module: str
    records: tuple[str, ...]
    page: str | None = None
    plot: str | None = None
    report_module: str | None = None
    report: tuple[str, ...] = ("--report",)

    @property
    def report_command(self) -> str:
        """The shell command that regenerates the page (or prints the table)."""
        return shlex.join(["python", "-m", self.report_module or self.module, *self.report])


def _report_args(records: str, page: str, plot: str, title: str) -> tuple[str, ...]:
    """The arguments of :mod:`benchmarks.report` for a grid-style study of its own."""
    return ("--results", f"benchmarks/results/{records}", "--out", f"benchmarks/results/{page}",
            "--plot", f"benchmarks/results/{plot}", "--title", title)


STUDIES: tuple[Study, ...] = (
    Study("grid", "MNIST and Fashion-MNIST, fitted on 20 000 rows: NeuNcut against k-means, "
          "spectral clustering, SpectralNet, ncut-pytorch and the paper's configuration",
          "benchmarks.run", ("results.jsonl",), "RESULTS.md", "results.png",
          report_module="benchmarks.report", report=()),
    Study("representation", "What the learned representation gives on raw images (all "
          "70 000 rows) and the paper's features, with its ablation",
          "benchmarks.run", ("representation.jsonl",), "REPRESENTATION.md", "representation.png",
          report_module="benchmarks.report",
          report=_report_args("representation.jsonl", "REPRESENTATION.md", "representation.png",
                              "The learned representation: raw images, all 70 000 rows")),
    Study("head-only", "Ncut training of the head alone, the encoder fixed: the default "
          "before decision D23, for comparison", "benchmarks.run", ("head_only.jsonl",),
          "HEAD_ONLY.md", "head_only.png", report_module="benchmarks.report",
          report=_report_args("head_only.jsonl", "HEAD_ONLY.md", "head_only.png",
                              "The head alone trained, the encoder fixed (before decision D23)")),
    Study("suite", "81 small labelled sets in 13 families: the defaults against Genie, "
          "spectral clustering, k-means, a Gaussian mixture, Ward and HDBSCAN",
          "benchmarks.suite", ("suite.jsonl", "suite_hard.jsonl"), "SUITE.md"),
    Study("shapes", "Eight synthetic shapes: does the default match kNN spectral clustering?",
          "benchmarks.shapes", ("shapes.jsonl",), "SHAPES.md"),
    Study("held-out", "Do the suite's rules hold on 13 shapes of other seeds, sizes, kinds?",
          "benchmarks.held_out", ("held_out.jsonl",)),
    Study("warm-start", "The warm start's candidates without the network: which rule between "
          "them scores best, and how far the default's choice is from the best candidate",
          "benchmarks.warm_start_candidates", ("warm_start_candidates.jsonl",), "WARM_START.md"),
    Study("n-clusters", "How well does n_clusters='auto' find k, against its peers?",
          "benchmarks.n_clusters",
          ("n_clusters.jsonl", "n_clusters_null.jsonl", "n_clusters_mnist.jsonl"),
          "N_CLUSTERS.md"),
    Study("fit-speed", "Where a default fit's time goes, against its peers, and under load",
          "benchmarks.fit_speed", ("fit_speed.jsonl",), "FIT_SPEED.md"),
    Study("scale", "Training on 20 000 rows, labelling 10^5 to 10^7 from a .npy file",
          "benchmarks.scale", ("scale.jsonl",), "SCALE.md", "scale.png"),
    Study("throughput", "How near predict comes to its network's bare matrix products",
          "benchmarks.throughput", ("throughput.jsonl",), "THROUGHPUT.md"),
    Study("network-width", "Do 128 units do as well as 512 on rows of few features?",
          "benchmarks.network_width", ("network_width.jsonl",)),
)


def regenerate(study: Study) -> None:
    """Rewrite ``study``'s page from its records, in this process (its report's output
    discarded)."""
    main = importlib.import_module(study.report_module or study.module).main
    with contextlib.redirect_stdout(io.StringIO()):
        main(list(study.report))


def check_pages(studies: Sequence[Study] = STUDIES) -> list[str]:
    """The pages of ``studies`` that their records no longer give, after regenerating them;
    every file of the results folder is put back as it was."""
    before = {p: p.read_bytes() for p in RESULTS_DIR.iterdir() if p.is_file()}
    stale = []
    try:
        for study in studies:
            if study.page is not None:
                regenerate(study)
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
