"""Tests of the NeuNcut estimator: scikit-learn's contract, determinism, prediction,
model files, recovery of easy clusterings, and parameter validation."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs, make_moons
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from neuncut import NeuNcut
from neuncut import _network as network_module
from neuncut._io import load_tensors, save_tensors
from neuncut.affinity import rbf_affinity
from neuncut.exceptions import ModelFileError
from tests.helpers import FAST_PARAMS
from tests.helpers import fast_model as fast


@pytest.fixture(scope="module")
def blobs3():
    X, y = make_blobs(300, centers=3, cluster_std=0.6, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def fitted(blobs3) -> NeuNcut:
    X, _ = blobs3
    return fast(n_clusters=3, max_epochs=5, hidden_layer_sizes=(16,)).fit(X)


# --------------------------------------------------------------- scikit-learn's own checks


def _expected_failed_checks(estimator) -> dict[str, str]:
    # Every check of the installed scikit-learn passes; a check that cannot apply to NeuNcut
    # would be listed here as {check name: reason}.
    return {}


# The contract does not depend on the warm start: a randomly initialized network trained
# briefly (the paper's set-up, smaller) keeps the ~45 checks (hundreds of fits) cheap; the
# warm start has tests of its own.
CONTRACT_PARAMS = {**FAST_PARAMS, "init": "random", "penalty": 10.0, "max_epochs": 40,
                   "learning_rate": 5e-3, "hidden_layer_sizes": (16,)}


@parametrize_with_checks([NeuNcut(**CONTRACT_PARAMS)],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


# ----------------------------------------------------------------------------- determinism


def test_same_random_state_same_model(blobs3) -> None:
    X, _ = blobs3
    a = fast(n_clusters=3).fit(X)
    b = fast(n_clusters=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    for name, value in a.network_.state_dict().items():
        assert torch.equal(value, b.network_.state_dict()[name]), name
    assert a.loss_curve_ == b.loss_curve_
    assert a.penalty_ == b.penalty_


def test_different_random_states_differ(blobs3) -> None:
    X, _ = blobs3
    a = fast(n_clusters=3, random_state=0).fit(X)
    b = fast(n_clusters=3, random_state=1).fit(X)
    assert not torch.equal(a.network_.layers[0].weight, b.network_.layers[0].weight)


def test_fit_leaves_global_rngs_untouched(blobs3) -> None:
    X, _ = blobs3
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global RNG is what we watch)
    fast(n_clusters=3, random_state=0).fit(X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


def test_float32_and_float64_input_give_the_same_model(blobs3) -> None:
    X, _ = blobs3
    a = fast(n_clusters=3).fit(X)
    b = fast(n_clusters=3).fit(X.astype(np.float32))
    c = fast(n_clusters=3).fit(X.tolist())
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.labels_, c.labels_)
    assert a.labels_.dtype == np.int64


# ------------------------------------------------------------------------------ prediction


def test_predict_in_chunks_equals_predict_at_once(fitted) -> None:
    rng = np.random.default_rng(0)
    n = 10_000  # more than the rows of one internal forward pass
    assert n > network_module.PREDICT_CHUNK
    X = rng.uniform(-12, 12, size=(n, 2))
    labels = fitted.predict(X)
    proba = fitted.predict_proba(X)
    assert labels.shape == (n,) and proba.shape == (n, 3)
    for sizes in ([1] * 5 + [n - 5], [8191, 2, n - 8193], [8192, n - 8192], [3000] * 3 + [1000]):
        bounds = np.cumsum([0, *sizes])
        chunks = [X[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        np.testing.assert_array_equal(np.concatenate([fitted.predict(c) for c in chunks]), labels)
        np.testing.assert_allclose(
            np.concatenate([fitted.predict_proba(c) for c in chunks]),
            proba,
            rtol=1e-5,
            atol=1e-6,
        )


def test_predict_does_not_change_the_model(fitted, blobs3) -> None:
    X, _ = blobs3
    state = {k: v.clone() for k, v in fitted.network_.state_dict().items()}
    labels_ = fitted.labels_.copy()
    first = fitted.predict(X)
    second = fitted.predict(X)
    np.testing.assert_array_equal(first, second)
    for name, value in fitted.network_.state_dict().items():
        assert torch.equal(value, state[name]), name
    np.testing.assert_array_equal(fitted.labels_, labels_)
    assert not fitted.network_.training
    # A row's label does not depend on the other rows predicted with it.
    others = np.random.default_rng(1).normal(scale=20.0, size=(500, 2))
    stacked = fitted.predict(np.vstack([others[:200], X, others[200:]]))
    np.testing.assert_array_equal(stacked[200 : 200 + len(X)], first)
    np.testing.assert_array_equal(fitted.predict(X[::-1]), first[::-1])


def test_predict_proba(fitted, blobs3) -> None:
    X, _ = blobs3
    P = fitted.predict_proba(X)
    assert P.shape == (len(X), 3) and P.dtype == np.float32
    assert (P >= 0).all() and (P <= 1).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(P.argmax(axis=1), fitted.predict(X))


def test_fit_predict_labels_and_predict_agree(blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3)
    from_fit_predict = model.fit_predict(X)
    np.testing.assert_array_equal(from_fit_predict, model.labels_)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert model.labels_.shape == (len(X),)
    assert set(np.unique(model.labels_)) <= set(range(3))


def test_normalize_rows_makes_predictions_invariant_to_row_scale(blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, normalize_rows=True).fit(X + 20.0)
    scales = 2.0 ** np.random.default_rng(0).integers(-5, 6, size=(len(X), 1))
    np.testing.assert_array_equal(model.predict((X + 20.0) * scales), model.labels_)


def test_n_clusters_one_is_the_trivial_clustering(blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=1).fit(X)
    np.testing.assert_array_equal(model.labels_, np.zeros(len(X)))
    np.testing.assert_allclose(model.predict_proba(X), 1.0)


# ------------------------------------------------------------------------------- model file


FITTED_ATTRIBUTES = (
    "n_features_in_",
    "sigma_",
    "penalty_",
    "loss_curve_",
    "cut_curve_",
    "ortho_curve_",
    "n_iter_",
    "n_steps_",
    "timings_",
    "n_clusters_",
    "n_clusters_scores_",
    "hidden_layer_sizes_",
)


@pytest.mark.parametrize("affinity", ["knn", "rbf"])
def test_save_load_round_trip(tmp_path, blobs3, affinity: str) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, affinity=affinity, random_state=7).fit(X)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = NeuNcut.load(path)
    assert type(loaded) is NeuNcut
    assert loaded.get_params() == model.get_params()
    for name in FITTED_ATTRIBUTES:
        assert getattr(loaded, name) == getattr(model, name), name
    np.testing.assert_array_equal(loaded.labels_, model.labels_)
    assert loaded.labels_.dtype == model.labels_.dtype
    for name, value in model.network_.state_dict().items():
        assert torch.equal(loaded.network_.state_dict()[name], value), name
    X_new = np.random.default_rng(0).normal(scale=8.0, size=(777, 2))
    np.testing.assert_array_equal(loaded.predict(X_new), model.predict(X_new))
    np.testing.assert_array_equal(loaded.predict_proba(X_new), model.predict_proba(X_new))
    assert loaded.score(X) == model.score(X)


def test_save_load_feature_names(tmp_path, blobs3) -> None:
    pd = pytest.importorskip("pandas")
    X, _ = blobs3
    frame = pd.DataFrame(X, columns=["a", "b"])
    model = fast(n_clusters=3).fit(frame)
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b"])
    model.save(tmp_path / "m.safetensors")
    loaded = NeuNcut.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b"])
    np.testing.assert_array_equal(loaded.predict(frame), model.labels_)


def test_hidden_layer_sizes_auto_small(tmp_path, blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, hidden_layer_sizes="auto").fit(X)
    assert model.hidden_layer_sizes_ == (128, 128)
    widths = [m.out_features for m in model.network_.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [128, 128, 3]
    model.save(tmp_path / "m.safetensors")
    loaded = NeuNcut.load(tmp_path / "m.safetensors")
    assert loaded.hidden_layer_sizes == "auto" and loaded.hidden_layer_sizes_ == (128, 128)
    np.testing.assert_array_equal(loaded.predict(X), model.labels_)


@pytest.mark.parametrize(
    "n_features,train_size,widths",
    [(51, None, (512, 512)), (51, 10_000, (128, 128)), (50, None, (128, 128))],
)
def test_hidden_layer_sizes_auto_counts_training_rows_and_features(
    n_features, train_size, widths
) -> None:
    """Above 10 000 training rows of more than 50 features "auto" is the paper's (512, 512);
    ``train_size`` counts."""
    X = np.random.default_rng(0).normal(size=(10_001, n_features))
    model = NeuNcut(2, init="random", penalty=10.0, max_epochs=0, train_size=train_size,
                    random_state=0).fit(X)
    assert model.hidden_layer_sizes == "auto" and model.hidden_layer_sizes_ == widths


def test_save_load_hidden_layer_sizes_given_as_an_array(tmp_path, blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, hidden_layer_sizes=np.array([8, 4])).fit(X)
    assert model.hidden_layer_sizes_ == (8, 4)
    model.save(tmp_path / "m.safetensors")
    loaded = NeuNcut.load(tmp_path / "m.safetensors")
    assert loaded.hidden_layer_sizes == (8, 4) and loaded.hidden_layer_sizes_ == (8, 4)
    np.testing.assert_array_equal(loaded.predict(X), model.labels_)


def test_format_2_model_files_still_load(tmp_path, blobs3) -> None:
    """A file written before ``hidden_layer_sizes_`` existed takes the widths of its params."""
    X, _ = blobs3
    model = fast(n_clusters=3).fit(X)
    model.save(tmp_path / "new.safetensors")
    tensors, header = load_tensors(tmp_path / "new.safetensors")
    del header["fitted"]["hidden_layer_sizes_"]
    header = {k: v for k, v in header.items() if k not in ("format_version", "library_version")}
    with pytest.MonkeyPatch.context() as m:
        m.setattr("neuncut._io.FORMAT_VERSION", 2)
        save_tensors(tmp_path / "old.safetensors", tensors, header)
    loaded = NeuNcut.load(tmp_path / "old.safetensors")
    assert loaded.hidden_layer_sizes_ == FAST_PARAMS["hidden_layer_sizes"]
    np.testing.assert_array_equal(loaded.predict(X), model.labels_)


def test_save_refuses_callable_affinity(tmp_path, blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, affinity=lambda xb: rbf_affinity(xb, 2.0)).fit(X)
    assert model.labels_.shape == (len(X),) and model.sigma_ is None
    with pytest.raises(ValueError, match="affinity"):
        model.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_load_refuses_other_files(tmp_path) -> None:
    other = tmp_path / "other.safetensors"
    save_tensors(other, {"w": torch.zeros(2)}, {"estimator": "KMeans"})
    with pytest.raises(ModelFileError, match="NeuNcut"):
        NeuNcut.load(other)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model at all" * 10)
    with pytest.raises(ValueError):
        NeuNcut.load(junk)


def test_save_before_fit_raises(tmp_path) -> None:
    with pytest.raises(NotFittedError):
        NeuNcut().save(tmp_path / "m.safetensors")


# --------------------------------------------------------------------------------- recovery


@pytest.mark.parametrize("n_clusters,n_features", [(2, 2), (3, 5), (5, 10)])
def test_default_parameters_recover_blobs(n_clusters: int, n_features: int) -> None:
    X, y = make_blobs(
        1000,
        n_features=n_features,
        centers=n_clusters,
        cluster_std=1.0,
        center_box=(-20, 20),
        random_state=0,
    )
    model = NeuNcut(n_clusters, random_state=0).fit(X)
    assert adjusted_rand_score(y, model.labels_) == 1.0
    X_new, y_new = make_blobs(
        300,
        n_features=n_features,
        centers=n_clusters,
        cluster_std=1.0,
        center_box=(-20, 20),
        random_state=0,
    )  # same centres (drawn first from the same seed), new points
    assert adjusted_rand_score(y_new, model.predict(X_new)) == 1.0


def test_default_parameters_recover_moons() -> None:
    X, y = make_moons(1000, noise=0.05, random_state=0)
    model = NeuNcut(2, random_state=0).fit(X)
    # One boundary point of 1000 may go astray (ARI 0.996 with distillation stopped at mean
    # cross-entropy 0.01, 1.0 at 0.003); the quality target is ARI >= 0.99.
    assert adjusted_rand_score(y, model.labels_) >= 0.99


def test_paper_configuration() -> None:
    X, y = make_blobs(1500, centers=3, cluster_std=0.5, random_state=2)
    model = NeuNcut(
        3,
        affinity="rbf",
        sigma=3,
        penalty=80,
        init="random",
        learning_rate=5e-3,
        normalize_rows=True,
        batch_size=1000,
        max_epochs=3,
        random_state=0,
    ).fit(X)
    assert model.sigma_ == 3.0 and isinstance(model.sigma_, float)
    assert model.penalty_ == 80.0 and isinstance(model.penalty_, float)
    assert model.n_iter_ == 3 and model.n_steps_ == 3 * 2
    assert all(math.isfinite(v) for v in model.loss_curve_)
    assert model.labels_.shape == (1500,)


@pytest.mark.parametrize("init", ["spectral", "kmeans", "random"])
def test_automatic_penalty(blobs3, init: str) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, init=init).fit(X)
    assert model.penalty_ >= 1.0 and math.isfinite(model.penalty_)


def test_rbf_median_heuristic(blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, affinity="rbf").fit(X)
    assert model.sigma_ > 0
    scaled = fast(n_clusters=3, affinity="rbf").fit(X * 4.0)  # power of two: exact
    assert scaled.sigma_ == pytest.approx(4.0 * model.sigma_, rel=1e-6)
    assert fast(n_clusters=3).fit(X).sigma_ is None


# ---------------------------------------------------------------------------------- subsets


@pytest.mark.parametrize("train_size,n_train", [(200, 200), (0.25, 125), (1.0, 500)])
def test_train_size(train_size, n_train: int) -> None:
    X, _ = make_blobs(500, centers=3, cluster_std=0.5, random_state=1)
    model = fast(n_clusters=3, train_size=train_size, max_epochs=3).fit(X)
    assert model.labels_.shape == (500,)
    assert 1 <= model.n_iter_ <= 3
    assert model.n_steps_ == model.n_iter_ * math.ceil(n_train / FAST_PARAMS["batch_size"])
    np.testing.assert_array_equal(model.labels_, model.predict(X))


def test_auto_warm_start_records_every_candidate_and_saves_them(tmp_path) -> None:
    X, _ = make_moons(200, noise=0.1, random_state=0)  # a connected graph: all are computed
    model = fast(n_clusters=2, init="auto").fit(X)
    assert set(model.init_ncut_) == {"spectral", "genie", "embedding"}
    assert all(0.0 <= v <= 3.0 for v in model.init_ncut_.values())
    model.save(tmp_path / "m.safetensors")
    assert NeuNcut.load(tmp_path / "m.safetensors").init_ncut_ == model.init_ncut_
    assert fast(n_clusters=2, init="kmeans").fit(X).init_ncut_ == {}


def test_max_epochs_zero(blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3, max_epochs=0).fit(X)
    assert model.n_iter_ == 0 and model.n_steps_ == 0
    assert model.loss_curve_ == [] and model.cut_curve_ == [] and model.ortho_curve_ == []
    assert model.labels_.shape == (len(X),)


# ------------------------------------------------------------------------------------ score


def test_score(blobs3) -> None:
    X, _ = blobs3
    trained = NeuNcut(3, penalty=10, hidden_layer_sizes=(32,), max_epochs=10, random_state=0)
    untrained = NeuNcut(
        3, penalty=10, hidden_layer_sizes=(32,), max_epochs=0, init="random", random_state=0
    )
    s_trained = trained.fit(X).score(X)
    s_untrained = untrained.fit(X).score(X)
    for s in (s_trained, s_untrained):
        assert isinstance(s, float) and math.isfinite(s) and s <= 0.0
    assert s_trained > s_untrained
    assert trained.score(X, y=np.zeros(len(X))) == s_trained  # y is ignored


# ------------------------------------------------------------------------------- validation


INVALID = [
    ("n_clusters", 0),
    ("n_clusters", 2.5),
    ("n_clusters", "3"),
    ("affinity", "gaussian"),
    ("affinity", 3),
    ("n_neighbors", 0),
    ("n_neighbors", 1.5),
    ("sigma", 0.0),
    ("sigma", -1.0),
    ("sigma", "auto"),
    ("penalty", -1.0),
    ("penalty", "auto"),
    ("hidden_layer_sizes", (0,)),
    ("hidden_layer_sizes", (8.5,)),
    ("hidden_layer_sizes", "abc"),
    ("hidden_layer_sizes", ((8,), (8,))),
    ("hidden_layer_sizes", (8, -1)),
    ("batch_size", 1),
    ("batch_size", 64.0),
    ("max_epochs", -1),
    ("max_epochs", 1.5),
    ("learning_rate", 0.0),
    ("learning_rate", -1e-3),
    ("weight_decay", -1e-4),
    ("n_clusters", "many"),
    ("max_clusters", 1),
    ("max_clusters", 2.5),
    ("init", "pca"),
    ("init_size", 1),
    ("normalize_rows", "yes"),
    ("train_size", 0),
    ("train_size", 0.0),
    ("train_size", 1.5),
    ("train_size", -3),
    ("train_size", 10_000),
    ("device", "nonsense"),
    ("device", 0),
    ("random_state", "seed"),
    ("verbose", -1),
]


@pytest.mark.parametrize("name,value", INVALID, ids=[f"{n}={v!r}" for n, v in INVALID])
def test_invalid_parameters_raise_naming_the_parameter(blobs3, name: str, value) -> None:
    X, _ = blobs3
    with pytest.raises(ValueError, match=name):
        fast(**{"n_clusters": 3, name: value}).fit(X)


def test_cuda_unavailable_raises() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="device"):
        fast(n_clusters=2, device="cuda").fit(np.zeros((10, 2)))


def test_init_size_smaller_than_n_clusters(blobs3) -> None:
    X, _ = blobs3
    with pytest.raises(ValueError, match=re.escape("init_size=3 should be >= n_clusters=5.")):
        fast(n_clusters=5, init_size=3).fit(X)
    # Without a warm start (init="random" and a given penalty) init_size is not used.
    fast(n_clusters=5, init_size=3, init="random", penalty=10.0).fit(X)


def test_train_size_smaller_than_n_clusters(blobs3) -> None:
    X, _ = blobs3
    with pytest.raises(ValueError, match="train_size=2 gives 2 training samples"):
        fast(n_clusters=3, train_size=2).fit(X)


def test_too_few_samples() -> None:
    X = np.random.default_rng(0).normal(size=(3, 2))
    with pytest.raises(ValueError, match=re.escape("n_samples=3 should be >= n_clusters=4.")):
        fast(n_clusters=4).fit(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e39])
def test_non_finite_input_raises(bad: float) -> None:
    X = np.random.default_rng(0).normal(size=(20, 2))
    X[3, 1] = bad
    with pytest.raises(ValueError):
        fast(n_clusters=2).fit(X)


def test_non_finite_input_to_predict_raises(fitted) -> None:
    X = np.zeros((5, 2))
    X[0, 0] = np.nan
    with pytest.raises(ValueError):
        fitted.predict(X)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_not_fitted(method: str) -> None:
    with pytest.raises(NotFittedError):
        getattr(NeuNcut(), method)(np.zeros((4, 2)))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_wrong_number_of_features(fitted, method: str) -> None:
    with pytest.raises(ValueError, match="features"):
        getattr(fitted, method)(np.zeros((4, 3)))


def test_sparse_input_rejected() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError):
        fast(n_clusters=2).fit(scipy_sparse.random(20, 3, density=0.5, format="csr"))


def test_verbose_runs(blobs3, caplog) -> None:
    X, _ = blobs3
    with caplog.at_level("INFO", logger="neuncut"):
        fast(n_clusters=3, verbose=2).fit(X)
    assert any("epoch" in r.getMessage() for r in caplog.records)
    assert any("penalty" in r.getMessage() for r in caplog.records)


def test_set_params_after_fit_does_not_break_predict(blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3).fit(X)
    labels = model.predict(X)
    model.set_params(n_clusters=5)
    np.testing.assert_array_equal(model.predict(X), labels)
    assert model.predict_proba(X).shape == (len(X), 3)


def test_timings_split_the_warm_start(blobs3) -> None:
    X, _ = blobs3
    model = fast(n_clusters=3).fit(X)  # init="kmeans", penalty chosen
    assert set(model.timings_) == {"init", "init/graph_check", "init/kmeans", "init/distill",
                                   "init/penalty", "train", "label"}
    parts = sum(t for name, t in model.timings_.items() if name.startswith("init/"))
    assert 0.0 <= parts <= model.timings_["init"]


def test_tol_stops_training_when_labels_settle(blobs3) -> None:
    X, _ = blobs3
    full = fast(n_clusters=3, max_epochs=6, tol=None).fit(X)
    assert full.n_iter_ == 6
    short = fast(n_clusters=3, max_epochs=6, tol=1.0, n_iter_no_change=2).fit(X)
    assert short.n_iter_ == 2 and short.loss_curve_ == full.loss_curve_[:2]


@pytest.mark.parametrize(
    "params, message",
    [({"tol": -0.1}, "tol"), ({"tol": 2.0}, "tol"), ({"n_iter_no_change": 0}, "n_iter_no_change")],
)
def test_tol_parameters_validated(blobs3, params, message) -> None:
    with pytest.raises(ValueError, match=message):
        fast(n_clusters=3, **params).fit(blobs3[0])
