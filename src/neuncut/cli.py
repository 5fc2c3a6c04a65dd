"""The ``neuncut`` command line: ``run``, ``fit``, ``predict`` and ``evaluate``.

``neuncut run`` clusters a named data set end to end (train on a subset, label every row,
score all, trained and unseen rows, write labels, model, report and figures). ``fit``,
``predict`` and ``evaluate`` work on files: data as ``.npy``, ``.npz`` or numeric CSV, labels
as ``.npy`` or one per line in ``.csv``/``.txt``. Results go to stdout, progress to stderr;
every user error is one ``neuncut: error: ...`` line on stderr and exit status 2 (``--debug``
shows the traceback instead).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import torch

from ._cli_files import check_suffix, load_model, read_data, read_labels, write_array
from ._cli_types import hidden_sizes, n_clusters, positive_int, tol, train_size
from ._distributed import init_from_env, rank_and_world
from ._estimator import NeuNcut
from ._version import __version__
from .datasets import load_dataset
from .metrics import evaluate
from .plotting import save_figures

__all__ = ["main"]

logger = logging.getLogger("neuncut.cli")

_ERRORS = (ValueError, OSError, ImportError, EOFError, MemoryError, RuntimeError)
_DATASETS = ("mnist", "fashion-mnist", "digits", "moons", "circles", "blobs")
_RUN_TRAIN_SIZE, _QUICK_TRAIN_SIZE = 20_000, 500
_QUICK: dict[str, Any] = {"max_epochs": 3, "hidden_layer_sizes": (32,), "init_size": 500}


# ---------------------------------------------------------------------------------- commands
def _cmd_fit(args: argparse.Namespace) -> int:
    params = {k: getattr(args, k) for k in NeuNcut().get_params() if hasattr(args, k)}
    model = NeuNcut(**params)
    if args.labels_out:
        check_suffix(args.labels_out, "--labels-out")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    # Started by torchrun: one process of data-parallel training (neuncut.distributed).
    started = init_from_env(params.get("device", "auto"))
    try:
        t0 = time.perf_counter()
        X = read_data(args.data, args.key)
        logger.info("loaded %s: %d x %d (%.2f s)", args.data, *X.shape, time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.fit(X, checkpoint=args.checkpoint)
        logger.info("fitted in %.2f s (%s)", time.perf_counter() - t0, _stages(model.timings_))
        if rank_and_world()[0] == 0:  # every process holds the same model; rank 0 writes it
            model.save(args.out)
            if args.labels_out:
                write_array(args.labels_out, model.labels_.astype(np.int64), "--labels-out")
            sizes = np.bincount(model.labels_, minlength=model.n_clusters_).tolist()
            chosen = " (chosen by n_clusters=auto)" if model.n_clusters == "auto" else ""
            print(f"fitted {X.shape[0]} points into {model.n_clusters_} clusters{chosen} of "
                  f"sizes {sizes}; model written to {args.out}", flush=True)
        if started:
            # Nobody leaves before rank 0 wrote: gloo may abort one at exit, torchrun kills all.
            torch.distributed.barrier()
    finally:
        if started:
            torch.distributed.destroy_process_group()
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    check_suffix(args.out, "--out")
    model = load_model(args.model)
    X = read_data(args.data, args.key)
    if args.proba:
        write_array(args.out, model.predict_proba(X), "--out")
        print(f"wrote the memberships of {X.shape[0]} points to {args.out}")
    else:
        labels = model.predict(X).astype(np.int64)
        write_array(args.out, labels, "--out")
        sizes = np.bincount(labels, minlength=model.n_clusters_).tolist()
        print(f"wrote the labels of {X.shape[0]} points (cluster sizes {sizes}) to {args.out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    scores = evaluate(read_labels(args.labels_true), read_labels(args.labels_pred))
    if args.json:
        print(json.dumps(scores))
    else:
        for name, value in scores.items():
            print(f"{name} {value:.4f}")
    return 0


def _stages(timings: dict[str, float]) -> str:
    return ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in timings.items())


def _cmd_run(args: argparse.Namespace) -> int:
    name = args.dataset or ("digits" if args.quick else "mnist")
    times: dict[str, Any] = {}
    t0 = time.perf_counter()
    ds = load_dataset(name)
    X, y = ds.data, ds.target
    n, k = X.shape[0], int(np.unique(y).size)
    times["load"] = time.perf_counter() - t0
    logger.info("loaded %s: %d x %d, %d classes (%.2f s)", name, *X.shape, k, times["load"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    default = _QUICK_TRAIN_SIZE if args.quick else _RUN_TRAIN_SIZE
    n_train = min(args.train_size or min(default, math.ceil(n / 2)), n)
    if args.train_size and args.train_size > n:
        logger.info("--train-size %d exceeds the %d points: training on all", args.train_size, n)
    train = np.sort(np.random.default_rng(args.seed).choice(n, n_train, replace=False))
    unseen = np.setdiff1d(np.arange(n), train)
    # Images: rows L2-normalized, the paper's preprocessing, which clustered MNIST pixels
    # better (decision D22).
    clusters = k if args.n_clusters is None else args.n_clusters
    model = NeuNcut(n_clusters=clusters, random_state=args.seed, verbose=1 + args.verbose,
                    device=args.device, normalize_rows=ds.image_shape is not None,
                    **(_QUICK if args.quick else {}))
    logger.info("fitting NeuNcut(n_clusters=%r) on %d of %d points", clusters, n_train, n)
    t0 = time.perf_counter()
    model.fit(X[train])
    times["fit"] = time.perf_counter() - t0
    times["fit_stages"] = dict(model.timings_)
    logger.info("fitted in %.2f s (%s)", times["fit"], _stages(model.timings_))
    t0 = time.perf_counter()
    labels = model.predict(X).astype(np.int64)
    times["predict"] = time.perf_counter() - t0
    logger.info("predicted %d points (%.2f s)", n, times["predict"])
    metrics = {"all": evaluate(y, labels), "train": evaluate(y[train], labels[train]),
               "unseen": evaluate(y[unseen], labels[unseen]) if unseen.size else None}
    np.save(out / "labels.npy", labels, allow_pickle=False)
    model.save(out / "model.safetensors")
    t0 = time.perf_counter()
    figures = save_figures(out, ds, labels, model, args.seed)
    times["plots"] = time.perf_counter() - t0
    files = ["labels.npy", "model.safetensors", "report.json", *figures]
    report = _run_report(name, ds, model, labels, metrics, times, n_train, args)
    (out / "report.json").write_text(json.dumps(_jsonable(report), indent=2) + "\n")
    _print_run(name, X.shape, k, model, n_train, args.seed, metrics, times, out, files)
    return 0


def _run_report(name: str, ds: Any, model: NeuNcut, labels: np.ndarray,
                metrics: dict[str, Any], times: dict[str, Any], n_train: int,
                args: argparse.Namespace) -> dict[str, Any]:
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {
        "dataset": name, "description": ds.description, "n": int(ds.data.shape[0]),
        "n_features": int(ds.data.shape[1]), "k": int(np.unique(ds.target).size),
        "n_clusters": model.n_clusters_, "n_clusters_scores_": model.n_clusters_scores_,
        "n_train": n_train,
        "n_unseen": int(ds.data.shape[0]) - n_train, "seed": args.seed, "quick": args.quick,
        "parameters": model.get_params(), "metrics": metrics, "times": times,
        "penalty_": model.penalty_, "sigma_": model.sigma_, "n_iter_": model.n_iter_,
        "n_steps_": model.n_steps_,
        "cluster_sizes": np.bincount(labels, minlength=model.n_clusters_),
        "curves": {"loss": model.loss_curve_, "cut": model.cut_curve_,
                   "ortho": model.ortho_curve_},
        "versions": {"neuncut": __version__, "torch": torch.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "platform": {"system": platform.platform(), "machine": platform.machine(),
                     "device": device},
    }


def _jsonable(obj: Any) -> Any:
    """``obj`` with numpy values, tuples and non-finite floats made plain JSON."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj if obj is None or isinstance(obj, bool | int | str) else str(obj)


def _print_run(name: str, shape: tuple[int, ...], k: int, model: NeuNcut, n_train: int,
               seed: int, metrics: dict[str, Any], times: dict[str, Any], out: Path,
               files: list[str]) -> None:
    n = shape[0]
    chosen = " (chosen by n_clusters=auto)" if model.n_clusters == "auto" else ""
    print(f"{name}: {n} points x {shape[1]} features, {k} classes, {model.n_clusters_} "
          f"clusters{chosen}; trained on {n_train} points, seed {seed}")
    print(f"{'':8}{'ACC':>8}{'NMI':>8}{'ARI':>8}{'points':>9}")
    for part, size in (("all", n), ("train", n_train), ("unseen", n - n_train)):
        m = metrics[part]
        cells = "".join(f"{m[s]:8.4f}" for s in ("acc", "nmi", "ari")) if m else f"{'-':>24}"
        print(f"{part:8}{cells}{size:9d}")
    print(f"times: load {times['load']:.2f} s, fit {times['fit']:.2f} s "
          f"({_stages(times['fit_stages'])}), predict {times['predict']:.2f} s")
    print(f"wrote {', '.join(files)} to {out}")


# ------------------------------------------------------------------------------------ parser
class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one ``neuncut: error:`` line with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"neuncut: error: {message} (see '{self.prog} --help')\n")


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    d, S = NeuNcut().get_params(), argparse.SUPPRESS
    g = p.add_argument_group("estimator options (defaults: NeuNcut's)")
    g.add_argument("--affinity", choices=("knn", "rbf"), default=S,
                   help=f"minibatch graph (default {d['affinity']})")
    for flag, kind, what in (
        ("--n-neighbors", int, "neighbours in the kNN graphs"),
        ("--sigma", float, "width of the rbf kernel (default: median heuristic)"),
        ("--penalty", float, "weight of the orthogonality term (default: chosen from data)"),
        ("--hidden-layer-sizes", hidden_sizes, "hidden widths, e.g. 512,512, or auto"),
        ("--batch-size", int, "points per minibatch graph"), ("--max-epochs", int, "epochs"),
        ("--tol", tol, "fraction of labels an epoch may change and count as settled; none"
         " trains every epoch"),
        ("--n-iter-no-change", int, "settled epochs in a row that stop training"),
        ("--learning-rate", float, "Adam step size"), ("--weight-decay", float, "L2 decay"),
        ("--init-size", int, "points used by the warm start"),
        ("--max-clusters", int, "most clusters --n-clusters auto considers"),
        ("--train-size", train_size, "train on this many points (int) or fraction (float)"),
        ("--encoder-layer-sizes", hidden_sizes, "encoder widths, the last the code size"),
        ("--encoder-max-epochs", int, "most epochs of the autoencoder"),
        ("--device", str, "torch device, e.g. cpu or cuda"),
    ):
        dest = flag[2:].replace("-", "_")
        g.add_argument(flag, type=kind, default=S, dest=dest, metavar=dest.split("_")[-1].upper(),
                       help=what if "default" in what else f"{what} (default {d[dest]})")
    g.add_argument("--init", choices=("auto", "spectral", "genie", "embedding", "kmeans", "random"),
                   default=S, help=f"warm start (default {d['init']})")
    g.add_argument("--normalize-rows", action="store_true", default=S,
                   help="L2-normalize every row first")
    g.add_argument("--representation", choices=("auto", "autoencoder", "none"), default=S,
                   help="cluster the codes of an autoencoder trained first (default"
                        f" {d['representation']}: for > 10 000 rows of > 100 features)")
    g.add_argument("--seed", type=int, dest="random_state", default=S, help="random seed")
    g.add_argument("-v", "--verbose", action="count", default=S,
                   help="progress bars (-v), per-epoch losses (-vv)")


def _build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error")
    parser = _Parser(prog="neuncut", parents=[common],
                     description="Neural Normalized Cut clustering.")
    parser.add_argument("--version", action="version", version=f"neuncut {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    key_help = "array to read from an .npz DATA file holding several"

    p = sub.add_parser("run", parents=[common], help="cluster a named data set end to end",
                       description="Train on a subset, label every row, score the clustering "
                       "on all, trained and unseen rows, write results to --out.")
    p.add_argument("--dataset", choices=_DATASETS, help="default mnist (digits with --quick)")
    p.add_argument("--out", default="results/run", help="result directory (default %(default)s)")
    p.add_argument("--train-size", type=positive_int,
                   help=f"points trained on (default {_RUN_TRAIN_SIZE}, at most half the data)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--device", default="auto", help="torch device (default %(default)s)")
    p.add_argument("--n-clusters", type=n_clusters, metavar="K",
                   help="number of clusters, or auto to choose it without labels (default:"
                        " the number of classes)")
    p.add_argument("--quick", action="store_true", help="tiny settings for a smoke test")
    p.add_argument("-v", "--verbose", action="count", default=0, help="per-epoch losses")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("fit", parents=[common], help="fit a model to a data file")
    p.add_argument("data", metavar="DATA", help="data: .npy, .npz or numeric .csv")
    p.add_argument("--n-clusters", type=n_clusters, required=True, metavar="K",
                   help="number of clusters, or auto to choose it without labels")
    p.add_argument("--out", required=True, metavar="MODEL", help="model file to write")
    p.add_argument("--labels-out", metavar="PATH", help="also write the labels (.npy/.csv)")
    p.add_argument("--checkpoint", metavar="PATH",
                   help="training state file, written every epoch; a killed fit rerun with the"
                        " same options resumes from it (deleted on success)")
    p.add_argument("--key", help=key_help)
    _add_fit_options(p)
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("predict", parents=[common], help="label data with a fitted model")
    p.add_argument("model", metavar="MODEL", help="model file written by 'neuncut fit'")
    p.add_argument("data", metavar="DATA", help="data: .npy, .npz or numeric .csv")
    p.add_argument("--out", required=True, metavar="LABELS", help="output .npy or .csv")
    p.add_argument("--proba", action="store_true", help="write soft memberships instead")
    p.add_argument("--key", help=key_help)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("evaluate", parents=[common], help="score labels against true labels")
    p.add_argument("labels_true", metavar="LABELS_TRUE", help="true labels (.npy, .csv, .txt)")
    p.add_argument("labels_pred", metavar="LABELS_PRED", help="cluster labels")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_evaluate)
    return parser


# -------------------------------------------------------------------------------------- main
def _describe(exc: BaseException) -> str:
    """One line saying what went wrong."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"cannot access {str(exc.filename)!r}: {exc.strerror}"
    elif isinstance(exc, MemoryError):
        text = f"out of memory ({exc}); use fewer points (--train-size) or a smaller batch"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    """Run the ``neuncut`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for any usage or input error, 130 when interrupted.
    """
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (already printed)
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    debug = getattr(args, "debug", False)
    package_logger = logging.getLogger("neuncut")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("neuncut: %(message)s"))
    old_level = package_logger.level
    verbose = getattr(args, "verbose", 0) if args.command != "run" else 1
    package_logger.setLevel(logging.INFO if verbose else logging.WARNING)
    package_logger.addHandler(handler)
    try:
        return args.func(args)
    except _ERRORS as exc:
        if debug:
            raise
        print(f"neuncut: error: {_describe(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print("neuncut: error: interrupted", file=sys.stderr)
        return 130
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(old_level)


if __name__ == "__main__":
    raise SystemExit(main())
