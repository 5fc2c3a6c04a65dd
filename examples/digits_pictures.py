"""Cluster scikit-learn's 8x8 digits and draw every picture of :mod:`neuncut.plotting`.

    python examples/digits_pictures.py [--quick] [--out DIR]

Writes ``clusters.png`` (most and least confident members of each cluster),
``confusion.png`` (clusters against the true digits), ``training.png`` (loss terms per
epoch). The true digits are used only to score the clustering and draw the confusion
matrix. ``--quick`` (or ``NEUNCUT_QUICK=1``): fewer training points and a tiny network.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sklearn.datasets import load_digits

from neuncut import NeuNcut
from neuncut.metrics import evaluate
from neuncut.plotting import plot_cluster_montage, plot_confusion_matrix, plot_training


def main() -> None:
    parser = argparse.ArgumentParser(description="NeuNcut on scikit-learn's digits.")
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes")
    parser.add_argument("--out", type=Path, default=Path("examples_output/digits"))
    args = parser.parse_args()
    quick = args.quick or os.environ.get("NEUNCUT_QUICK") == "1"
    args.out.mkdir(parents=True, exist_ok=True)

    digits = load_digits()
    X, y = digits.data, digits.target  # 1797 images of 8x8 pixels
    small = {"hidden_layer_sizes": (32,), "max_epochs": 5} if quick else {}
    model = NeuNcut(n_clusters=10, normalize_rows=True, train_size=600 if quick else None,
                    random_state=0, **small)
    labels = model.fit_predict(X)
    scores = evaluate(y, labels)
    print("ACC {acc:.3f}  NMI {nmi:.3f}  ARI {ari:.3f}".format(**scores))

    pictures = {
        "clusters.png": plot_cluster_montage(model, X, (8, 8)),
        "confusion.png": plot_confusion_matrix(y, labels),
        "training.png": plot_training(model),
    }
    for name, fig in pictures.items():
        fig.savefig(args.out / name, dpi=100)
    print(f"wrote {', '.join(pictures)} to {args.out}")


if __name__ == "__main__":
    main()
