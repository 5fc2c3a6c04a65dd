"""NeuNcut in a scikit-learn pipeline, tuned by GridSearchCV on its own score (no labels).

    python examples/pipeline_gridsearch.py [--quick]

``StandardScaler -> PCA -> NeuNcut`` on scikit-learn's digits. ``NeuNcut.score`` is minus
the training objective ``cut + penalty/2 * ortho`` on the held-out fold's own graphs, so
the search needs no labels. Scores are comparable only between candidates that build the
same graph and weigh ortho the same (same ``affinity``, ``n_neighbors``, ``sigma`` and
``penalty``, and the same PCA): here the optimisation settings vary. ``--quick`` (or
``NEUNCUT_QUICK=1``): a smaller grid and a tiny network, a few seconds instead of about
three minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from neuncut import NeuNcut
from neuncut.metrics import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description="Pipeline and grid search with NeuNcut.")
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("NEUNCUT_QUICK") == "1"

    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:600], y[:600]
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("pca", PCA(n_components=30, random_state=0)),
        ("neuncut", NeuNcut(n_clusters=10, penalty=70.0, random_state=0)),
    ])
    grid = {"neuncut__learning_rate": [1e-4, 1e-3], "neuncut__max_epochs": [10, 30]}
    if quick:
        # spectral warm start only: the embedding's layout is most of a small fit's time
        pipe.set_params(neuncut__hidden_layer_sizes=(32,), neuncut__max_epochs=5,
                        neuncut__init="spectral")
        del grid["neuncut__max_epochs"]
    search = GridSearchCV(pipe, grid, cv=3).fit(X)  # no y: model selection without labels

    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"], strict=True):
        print(f"{params}  score {score:.4f}")
    print(f"best: {search.best_params_}")
    # the labels are used only now, to see how the chosen model clusters
    scores = evaluate(y, search.predict(X))
    print("best model on all rows: ACC {acc:.3f}  NMI {nmi:.3f}".format(**scores))


if __name__ == "__main__":
    main()
