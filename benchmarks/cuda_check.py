"""The CUDA path in one short run: ``python -m benchmarks.cuda_check [--out FILE]``.

On a machine with a CUDA device (minutes; on one without, it says so and exits 0):

1. fits ``NeuNcut(device="cuda")`` with its defaults on three synthetic sets (10 Gaussian
   blobs, 20 000 x 50; two moons, 3 000 x 2; 10 blobs on a 10-D subspace of 200 dimensions,
   12 000 rows, where the defaults learn a representation), where the autoencoder, the
   layout of the warm start, the distillation and the Ncut training run on the GPU (the kNN
   search, the eigensolver and k-means stay on the CPU);
2. fits the same on the CPU;
3. checks that the model fitted on the GPU predicts on the CPU, that its labels agree with
   the reference partition (ARI) about as well as the CPU fit's do, and that a saved model
   loads and predicts the same;
4. prints (and writes to ``--out``) one JSON record per set with both fits' ``timings_``,
   the ARIs and the peak GPU memory.

Exit status 1 if a check fails. The draws of the GPU's generator differ from the CPU's, so
the two fits are compared by their agreement with the reference, not label for label.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def sets() -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """The synthetic sets: (X, reference labels, k)."""
    from sklearn.datasets import make_blobs, make_moons

    X, y = make_blobs(20_000, n_features=50, centers=10, random_state=0)
    Xm, ym = make_moons(3_000, noise=0.06, random_state=0)
    Zs, ys = make_blobs(12_000, n_features=10, centers=10, random_state=0)
    rng = np.random.default_rng(0)
    Xs = Zs @ rng.normal(size=(10, 200)) + rng.normal(scale=0.5, size=(12_000, 200))
    return {"blobs-20000-50": (X.astype(np.float32), y, 10),
            "moons-3000": (Xm.astype(np.float32), ym, 2),
            "subspace-blobs-12000-200": (Xs.astype(np.float32), ys, 10)}


def check_set(name: str, X: np.ndarray, y: np.ndarray, k: int) -> dict[str, Any]:
    """Fit on CUDA and on the CPU; the record and the failed checks."""
    import torch
    from sklearn.metrics import adjusted_rand_score

    from neuncut import NeuNcut

    record: dict[str, Any] = {"set": name, "failed": []}
    for device in ("cuda", "cpu"):
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        model = NeuNcut(k, device=device, random_state=0).fit(X)
        record[device] = {"fit_s": time.perf_counter() - t0, "timings": model.timings_,
                          "ari": adjusted_rand_score(y, model.labels_),
                          "n_iter": model.n_iter_,
                          "encoder_epochs": len(model.encoder_loss_curve_)}
        if device == "cuda":
            record["cuda"]["peak_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
            if next(model.network_.parameters()).device.type != "cpu":
                record["failed"].append("the fitted network is not on the CPU")
            if not np.array_equal(model.predict(X), model.labels_):
                record["failed"].append("predict on the CPU differs from labels_")
            path = Path(tempfile.mkdtemp()) / "model.safetensors"
            model.save(path)
            if not np.array_equal(NeuNcut.load(path).predict(X), model.labels_):
                record["failed"].append("the saved model predicts differently")
    if record["cuda"]["ari"] < record["cpu"]["ari"] - 0.05:
        record["failed"].append("the CUDA fit agrees with the reference far less than the CPU's")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the records here (JSON)")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 0
    records = [check_set(name, *data) for name, data in sets().items()]
    text = json.dumps({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                       "records": records}, indent=1, default=float)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 1 if any(r["failed"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
