"""``python -m benchmarks``: the studies, and their pages regenerated from the records.

    python -m benchmarks                    # every study: its question, command, records, page
    python -m benchmarks --pages            # rewrite every page from the committed records
    python -m benchmarks --pages --check    # exit status 1 if a committed page is stale
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.harness.studies import check_pages, studies
from benchmarks.harness.study import write_page


def main(argv: list[str] | None = None) -> int:
    """List the studies, or regenerate (``--pages``) or check (``--check``) their pages."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--pages", action="store_true", help="regenerate every page")
    p.add_argument("--check", action="store_true",
                   help="with --pages: only say which pages the records no longer give")
    args = p.parse_args(argv)
    if args.check and not args.pages:
        p.error("--check goes with --pages")
    if args.pages and args.check:
        stale = check_pages()
        print("every page is up to date" if not stale else "stale: " + ", ".join(stale))
        return 1 if stale else 0
    for study in studies():
        if args.pages:
            if study.page is not None:
                write_page(study)
                print(f"{study.name}: wrote benchmarks/results/{study.page}")
            continue
        page = f"results/{study.page}" if study.page else "no page"
        print(f"{study.name}: {study.question}\n    run: python -m {study.module} --help\n"
              f"    records: {', '.join(study.record_files)}; {page}\n"
              f"    report: {study.report_command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
