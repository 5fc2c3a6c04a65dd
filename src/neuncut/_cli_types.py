"""The command line's argument types: each parses one option's text or says what it expects.

Raising ``argparse.ArgumentTypeError`` gives the one-line usage error of the command line.
"""

from __future__ import annotations

import argparse

__all__ = ["hidden_sizes", "n_clusters", "positive_int", "tol", "train_size"]


def hidden_sizes(text: str) -> tuple[int, ...] | str:
    if text.strip() == "auto":
        return "auto"
    try:
        sizes = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        sizes = (0,)
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"expected 'auto' or positive ints separated by "
                                         f"commas, e.g. 512,512; got {text!r}")
    return sizes


def train_size(text: str) -> int | float:
    try:
        return int(text) if text.strip().lstrip("+-").isdigit() else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int or a fraction in (0, 1], got "
                                         f"{text!r}") from None


def tol(text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction or none, got {text!r}") from None


def n_clusters(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int or auto, got {text!r}")
    return int(text)


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}")
    return int(text)
