"""The learned representation: the autoencoder, its rule, and the encoder + head network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from neuncut import NeuNcut
from neuncut import _representation as representation_module
from neuncut._checkpoint import read_checkpoint
from neuncut._encoder import (
    AutoEncoder,
    Encoder,
    check_encoder_layer_sizes,
    encode,
    learns_representation,
    mlp,
    plateaued,
    train_autoencoder,
)
from neuncut._io import load_tensors
from neuncut._network import EncodedNetwork, MembershipNetwork, folded_layers, predict_logits
from tests.helpers import FAST_PARAMS, interrupt_after

# A small autoencoder: the fast model on the codes of a 2-layer encoder.
PARAMS = {**FAST_PARAMS, "n_clusters": 3, "representation": "autoencoder",
          "encoder_layer_sizes": (32, 4), "encoder_max_epochs": 4}


def _embedded_blobs(n: int = 600, d: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three blobs on a 3-D subspace of R^d: an autoencoder's code can find them."""
    Z, y = make_blobs(n, centers=3, n_features=3, cluster_std=0.5, random_state=seed)
    A = np.random.default_rng(seed).normal(size=(3, d))
    return (Z @ A).astype(np.float32), y


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return _embedded_blobs()


def test_encoder_standardization_uses_one_scale_for_all_features() -> None:
    X = torch.tensor([[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]])
    enc = Encoder(2, (3,))
    enc.set_standardization(X)
    assert torch.equal(enc.mean, torch.tensor([2.0, 10.0]))
    # centred rows (-2, 0), (0, 0), (2, 0): mean square 8 / 6
    assert torch.allclose(enc.scale, torch.full((2,), (8 / 6) ** 0.5))


def test_constant_rows_get_scale_one() -> None:
    enc = Encoder(3, (2,))
    enc.set_standardization(torch.ones(5, 3))
    assert torch.equal(enc.scale, torch.ones(3))


def test_mlp_has_no_relu_after_its_last_layer() -> None:
    layers = mlp([5, 4, 3, 2], generator=torch.Generator().manual_seed(0))
    kinds = [type(m).__name__ for m in layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    for layer in (m for m in layers if isinstance(m, torch.nn.Linear)):  # nn.Linear's bounds
        bound = layer.in_features ** -0.5
        assert float(layer.weight.detach().abs().max()) <= bound
        assert float(layer.bias.detach().abs().max()) <= bound


def test_mlp_draws_only_from_its_generator() -> None:
    torch.manual_seed(0)
    a = mlp([4, 3], generator=torch.Generator().manual_seed(1))
    torch.manual_seed(99)
    b = mlp([4, 3], generator=torch.Generator().manual_seed(1))
    assert torch.equal(a[0].weight, b[0].weight)


def test_reconstruction_loss_is_the_mean_squared_error_in_standardized_units() -> None:
    ae = AutoEncoder(4, (3, 2), generator=torch.Generator().manual_seed(0))
    X = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    ae.encoder.set_standardization(X)
    target = (X - ae.encoder.mean) / ae.encoder.scale
    expected = ((ae.decoder(ae.encoder(X)) - target) ** 2).mean()
    assert torch.allclose(ae.reconstruction_loss(X), expected)


@pytest.mark.parametrize(("losses", "window", "expected"), [
    ([1.0, 0.9], 1, False),  # 10 % lower
    ([1.0, 0.995], 1, True),  # 0.5 % lower
    ([1.0, 0.5, 0.499, 0.498], 2, True),  # 0.5 -> 0.498: 0.4 % lower in 2 epochs
    ([1.0, 0.5, 0.499], 2, False),  # 1.0 -> 0.499
    ([1.0], 1, False),  # too short
    ([1.0, 1.1], 1, True),  # rising
])
def test_plateau(losses, window, expected) -> None:
    assert plateaued(losses, window=window, tol=0.01) is expected


def test_autoencoder_training_lowers_the_reconstruction_loss(data) -> None:
    X = torch.from_numpy(data[0])
    ae = AutoEncoder(X.shape[1], (32, 3), generator=torch.Generator().manual_seed(0))
    ae.encoder.set_standardization(X)
    with torch.no_grad():
        before = float(ae.reconstruction_loss(X))
    log = train_autoencoder(ae, X, max_epochs=20, batch_size=64,
                            generator=torch.Generator().manual_seed(0))
    assert 1 <= log.n_iter <= 20 and len(log.loss) == log.n_iter
    assert log.n_steps == log.n_iter * 10  # ceil(600 / 64) batches an epoch
    assert log.loss[-1] < 0.2 * before
    assert not ae.training


def test_autoencoder_stops_on_a_plateau() -> None:
    # white noise through a 1-number code: at best the variance of one direction is explained
    X = torch.randn(200, 5, generator=torch.Generator().manual_seed(0))
    ae = AutoEncoder(5, (4, 1), generator=torch.Generator().manual_seed(0))
    ae.encoder.set_standardization(X)
    log = train_autoencoder(ae, X, max_epochs=300, batch_size=50,
                            generator=torch.Generator().manual_seed(0))
    assert log.n_iter < 300
    assert plateaued(log.loss) and not plateaued(log.loss[:-1])


def test_encode_matches_the_encoder_in_chunks() -> None:
    enc = Encoder(3, (4, 2), generator=torch.Generator().manual_seed(0)).eval()
    X = torch.randn(9000, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(encode(enc, X), enc(X))


@pytest.mark.parametrize(("representation", "n", "d", "expected"), [
    ("auto", 70_000, 784, True), ("auto", 10_000, 784, False), ("auto", 10_001, 101, True),
    ("auto", 70_000, 100, False), ("autoencoder", 50, 2, True), ("none", 70_000, 784, False),
])
def test_the_rule_for_learning_a_representation(representation, n, d, expected) -> None:
    assert learns_representation(representation, n, d) is expected


@pytest.mark.parametrize("bad", [(), (0, 3), (2.5,), [[3, 2]], "auto", (True, 2)])
def test_bad_encoder_layer_sizes_are_refused(bad) -> None:
    with pytest.raises(ValueError, match="encoder_layer_sizes"):
        check_encoder_layer_sizes(bad)


def test_folded_encoded_network_equals_its_forward_pass() -> None:
    gen = torch.Generator().manual_seed(0)
    enc = Encoder(5, (6, 3), generator=gen)
    enc.set_standardization(torch.randn(20, 5, generator=gen) * 3 + 1)
    head = MembershipNetwork(3, (4,), 2, generator=gen)
    head.set_standardization(torch.randn(20, 3, generator=gen))
    net = EncodedNetwork(enc, head).eval()
    assert [relu for *_, relu in folded_layers(net)] == [True, False, True, False]
    X = torch.randn(50, 5, generator=gen)
    with torch.no_grad():
        expected = net(X).numpy()
    got = predict_logits(net, X.numpy(), chunk_size=7)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_fit_with_a_learned_representation(data) -> None:
    X, y = data
    model = NeuNcut(**PARAMS).fit(X)
    assert isinstance(model.network_, EncodedNetwork)
    assert model.encoder_layer_sizes_ == (32, 4)
    assert len(model.encoder_loss_curve_) == 4
    assert model.hidden_layer_sizes_ == (128,)
    assert model.timings_["encoder"] > 0
    assert np.array_equal(model.predict(X), model.labels_)
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(y, model.labels_) > 0.9


def test_fit_without_a_representation_keeps_the_plain_network(data) -> None:
    model = NeuNcut(**{**PARAMS, "representation": "none"}).fit(data[0])
    assert isinstance(model.network_, MembershipNetwork)
    assert model.encoder_layer_sizes_ == () and model.encoder_loss_curve_ == []
    assert "encoder" not in model.timings_


def test_auto_learns_no_representation_of_small_tables(data) -> None:
    model = NeuNcut(**{**PARAMS, "representation": "auto"}).fit(data[0])
    assert model.encoder_layer_sizes_ == ()


def test_same_seed_same_encoded_model(data) -> None:
    a, b = (NeuNcut(**PARAMS).fit(data[0]) for _ in range(2))
    sa, sb = a.network_.state_dict(), b.network_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert np.array_equal(a.labels_, b.labels_)


def test_encoded_model_file_round_trip(data, tmp_path) -> None:
    X = data[0]
    model = NeuNcut(**PARAMS).fit(X)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = NeuNcut.load(path)
    assert isinstance(loaded.network_, EncodedNetwork)
    assert loaded.encoder_layer_sizes_ == (32, 4)
    assert loaded.encoder_loss_curve_ == model.encoder_loss_curve_
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_score_uses_the_graph_of_the_codes(data) -> None:
    X = data[0]
    model = NeuNcut(**PARAMS).fit(X)
    assert np.isfinite(model.score(X))


@pytest.mark.parametrize("epoch", [1, 3])
def test_fit_killed_during_the_autoencoder_resumes_to_the_same_model(
    data, tmp_path, monkeypatch, epoch
) -> None:
    X = data[0]
    expected = NeuNcut(**PARAMS).fit(X)
    path = tmp_path / "fit.ckpt"
    interrupt_after(monkeypatch, representation_module, "train_autoencoder", epoch)
    with pytest.raises(KeyboardInterrupt):
        NeuNcut(**PARAMS).fit(X, checkpoint=path)
    monkeypatch.undo()
    _, header = load_tensors(path)
    assert header["stage"] == "encoder"
    assert header["state"]["encoder_log"]["n_iter"] == epoch
    saved = read_checkpoint(path, header["fingerprint"])
    assert saved is not None and saved.stage == "encoder" and saved.state.n_clusters is None
    resumed = NeuNcut(**PARAMS).fit(X, checkpoint=path)
    sa, sb = expected.network_.state_dict(), resumed.network_.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert np.array_equal(expected.labels_, resumed.labels_)
    assert expected.encoder_loss_curve_ == resumed.encoder_loss_curve_
    assert expected.loss_curve_ == resumed.loss_curve_
    assert not path.exists()


def test_fit_killed_during_ncut_training_keeps_the_encoder(data, tmp_path, monkeypatch) -> None:
    from neuncut import _fit as fit_module
    X = data[0]
    params = {**PARAMS, "tol": None}
    expected = NeuNcut(**params).fit(X)
    path = tmp_path / "fit.ckpt"
    interrupt_after(monkeypatch, fit_module, "train_ncut", 1)
    with pytest.raises(KeyboardInterrupt):
        NeuNcut(**params).fit(X, checkpoint=path)
    monkeypatch.undo()
    resumed = NeuNcut(**params).fit(X, checkpoint=path)
    sa, sb = expected.network_.state_dict(), resumed.network_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert np.array_equal(expected.labels_, resumed.labels_)
    assert expected.encoder_loss_curve_ == resumed.encoder_loss_curve_
    assert "encoder" in resumed.timings_  # restored from the checkpoint


def test_ncut_training_trains_the_encoder_on_the_graphs_of_the_first_codes(
        data, monkeypatch) -> None:
    """Encoder and head are trained together (the encoder leaves the autoencoder's weights),
    and every batch graph is built on the codes of the autoencoder's encoder."""
    from neuncut import _fit as fit_module
    X = data[0]
    seen = {}
    real = fit_module.train_ncut

    def spy(network, inputs, affinity, **kwargs):
        seen["inputs"], seen["graph_rows"] = inputs, kwargs["graph_rows"]
        seen["before"] = {k: v.clone() for k, v in network.encoder.state_dict().items()}
        return real(network, inputs, affinity, **kwargs)

    monkeypatch.setattr(fit_module, "train_ncut", spy)
    model = NeuNcut(**{**PARAMS, "tol": None, "max_epochs": 2}).fit(X)
    assert seen["inputs"].shape == X.shape  # the network reads the raw rows
    codes = encode(model.network_.encoder, torch.from_numpy(X))
    assert seen["graph_rows"].shape == codes.shape
    after = model.network_.encoder.state_dict()
    assert any(not torch.equal(seen["before"][k], after[k]) for k in after)  # trained
    first = Encoder(X.shape[1], (32, 4))
    first.load_state_dict(seen["before"])
    assert torch.equal(seen["graph_rows"], encode(first.eval(), torch.from_numpy(X)))


def test_checkpoint_of_ncut_training_stores_the_first_encoder(data, tmp_path, monkeypatch):
    from neuncut import _fit as fit_module
    path = tmp_path / "fit.ckpt"
    interrupt_after(monkeypatch, fit_module, "train_ncut", 1)
    with pytest.raises(KeyboardInterrupt):
        NeuNcut(**{**PARAMS, "tol": None}).fit(data[0], checkpoint=path)
    _, header = load_tensors(path)
    saved = read_checkpoint(path, header["fingerprint"])
    assert saved is not None and saved.stage == "training" and saved.encoder is not None
    assert set(saved.encoder) == {k.removeprefix("encoder.") for k in saved.network
                                  if k.startswith("encoder.")}
