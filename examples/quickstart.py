"""Quickstart: cluster two moons, label new points with one forward pass, draw the regions.

    python examples/quickstart.py [--quick] [--out DIR]

``--quick`` (or the environment variable ``NEUNCUT_QUICK=1``) uses fewer points and a tiny
network, for a run of a few seconds. Pictures go to ``--out`` (default
``examples_output/quickstart``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sklearn.datasets import make_moons
from sklearn.metrics import adjusted_rand_score

from neuncut import NeuNcut
from neuncut.plotting import plot_decision_regions, plot_training


def main() -> None:
    parser = argparse.ArgumentParser(description="NeuNcut on two moons.")
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes")
    parser.add_argument("--out", type=Path, default=Path("examples_output/quickstart"))
    args = parser.parse_args()
    quick = args.quick or os.environ.get("NEUNCUT_QUICK") == "1"
    args.out.mkdir(parents=True, exist_ok=True)

    n = 600 if quick else 4000
    small = {"hidden_layer_sizes": (64, 64), "max_epochs": 5} if quick else {}
    X, y = make_moons(n, noise=0.06, random_state=0)
    model = NeuNcut(n_clusters=2, random_state=0, **small).fit(X)
    print(f"penalty_ = {model.penalty_:.3g}, {model.n_iter_} epochs")
    # y is used only to score the result, never to fit
    print(f"ARI on the {n} training points: {adjusted_rand_score(y, model.labels_):.3f}")

    X_new, y_new = make_moons(n, noise=0.06, random_state=1)  # points never seen
    print(f"ARI on {n} new points: {adjusted_rand_score(y_new, model.predict(X_new)):.3f}")

    plot_decision_regions(model, X).savefig(args.out / "regions.png", dpi=100)
    plot_training(model).savefig(args.out / "training.png", dpi=100)
    print(f"wrote regions.png and training.png to {args.out}")


if __name__ == "__main__":
    main()
