"""Train on a subset, save the model, load it elsewhere and label a large data set in chunks.

    python examples/save_and_predict.py [--quick] [--out DIR]

A fitted NeuNcut is a network: labelling a point is one forward pass, so the model can be
trained on a subset (``train_size``), saved, and applied later to any number of points, in
chunks of any size, always with the same cluster ids. ``--quick`` (or ``NEUNCUT_QUICK=1``):
fewer points and a tiny network.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from neuncut import NeuNcut


def main() -> None:
    parser = argparse.ArgumentParser(description="Save a model, load it, predict in chunks.")
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes")
    parser.add_argument("--out", type=Path, default=Path("examples_output/save_and_predict"))
    args = parser.parse_args()
    quick = args.quick or os.environ.get("NEUNCUT_QUICK") == "1"
    args.out.mkdir(parents=True, exist_ok=True)

    n = 20_000 if quick else 200_000
    X, y = make_blobs(n, n_features=10, centers=6, cluster_std=2.5, random_state=0)
    small = {"hidden_layer_sizes": (32,), "max_epochs": 3} if quick else {}
    # trained on 10 000 random rows (2 000 with --quick); the rest are labelled by predict
    model = NeuNcut(n_clusters=6, train_size=2_000 if quick else 10_000, random_state=0,
                    **small).fit(X)
    path = args.out / "blobs.safetensors"
    model.save(path)  # weights and parameters; no pickle, so loading cannot run code
    print(f"trained in {sum(model.timings_.values()):.1f} s, saved to {path}")

    loaded = NeuNcut.load(path)  # e.g. in another process, on another machine
    chunks = [loaded.predict(chunk) for chunk in np.array_split(X, 10)]
    labels = np.concatenate(chunks)
    assert (labels == model.labels_).all(), "the loaded model predicts what the saved one did"
    print(f"labelled {n} points in 10 chunks; cluster sizes {np.bincount(labels).tolist()}")
    print(f"ARI against the true blobs: {adjusted_rand_score(y, labels):.3f}")


if __name__ == "__main__":
    main()
