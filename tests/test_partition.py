"""Tests of the warm start's candidate partitions (neuncut._warm_start._candidates, ._embedding)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import torch
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from neuncut._threads import native_threads, torch_threads
from neuncut._warm_start._candidates import (
    PartitionSettled,
    embedding_labels,
    initial_partition,
)
from neuncut._warm_start._embedding import CHECK_EVERY, neighbor_embedding
from neuncut.affinity import (
    fuzzy_knn_graph,
    knn_search,
    mutual_knn_mst_graph,
    self_tuning_knn_graph,
)
from neuncut.loss import ncut_loss, normalized_cut


@pytest.mark.parametrize("n,k", [(2, 1), (12, 3), (60, 10), (30, 50)])
def test_fuzzy_graph_is_a_symmetric_fuzzy_union(n: int, k: int) -> None:
    X = np.random.default_rng(n).normal(size=(n, 4))
    W = fuzzy_knn_graph(X, k).toarray()
    np.testing.assert_allclose(W, W.T)
    np.testing.assert_array_equal(np.diag(W), 0.0)
    assert ((W >= 0) & (W <= 1)).all()
    # every point's nearest neighbour has membership 1
    _, idx = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X)
    np.testing.assert_allclose(W[np.arange(n), idx[:, 1]], 1.0)


def test_fuzzy_graph_memberships_sum_to_log2_k() -> None:
    """Before the union, each row's memberships sum to log2(k): recover P from W."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    k = 8
    W = fuzzy_knn_graph(X, k).toarray()
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    dist, idx = dist[:, 1:], idx[:, 1:]
    # recompute P from the definition, and check the union against W
    P = np.zeros_like(W)
    for i in range(40):
        excess = dist[i] - dist[i, 0]
        lo, hi = 1e-12, 1e6
        for _ in range(200):
            s = np.sqrt(lo * hi)
            lo, hi = (s, hi) if np.exp(-excess / s).sum() < np.log2(k) else (lo, s)
        P[i, idx[i]] = np.exp(-excess / s)
        assert abs(P[i].sum() - np.log2(k)) < 1e-6
    np.testing.assert_allclose(W, P + P.T - P * P.T, atol=1e-6)


def test_fuzzy_graph_duplicates_have_no_self_loops() -> None:
    X = np.repeat(np.random.default_rng(0).normal(size=(10, 2)), 3, axis=0)
    W = fuzzy_knn_graph(X, 4)
    assert np.all(W.diagonal() == 0) and np.isfinite(W.data).all()


def test_neighbor_embedding_separates_and_is_reproducible() -> None:
    X, y = make_blobs(300, centers=3, cluster_std=1.0, random_state=0)
    W = fuzzy_knn_graph(X, 10)
    Z1 = neighbor_embedding(W, 3, n_epochs=60, rng=np.random.default_rng(1))
    Z2 = neighbor_embedding(W, 3, n_epochs=60, rng=np.random.default_rng(1))
    assert Z1.shape == (300, 3) and Z1.dtype == np.float32 and np.isfinite(Z1).all()
    np.testing.assert_array_equal(Z1, Z2)
    # each blob is tighter in the embedding than the distance between blob centres
    centres = np.array([Z1[y == c].mean(axis=0) for c in range(3)])
    spread = max(np.linalg.norm(Z1[y == c] - centres[c], axis=1).mean() for c in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a)]
    assert min(gaps) > 2 * spread  # 2.2 - 3.0 over seeds 0-5, before and after issue 14


def _layout_step_by_step(W: scipy.sparse.spmatrix, k: int, n_epochs: int, seed: int) -> np.ndarray:
    """The layout as first written: each step gathers its edges, draws its own negatives and
    scatters the tails' share with alpha=-1 (the reference for the batched layout)."""
    from neuncut._warm_start import _embedding as E
    from neuncut.affinity import spectral_embedding

    rng = np.random.default_rng(seed)
    U = spectral_embedding(W, k, seed=int(rng.integers(2**31 - 1)))
    U = U - U.mean(axis=0)
    U *= 10.0 / float(np.abs(U).max())
    C = scipy.sparse.coo_matrix(W)
    head, tail = torch.from_numpy(C.row.astype(np.int64)), torch.from_numpy(C.col.astype(np.int64))
    prob = torch.from_numpy((C.data / C.data.max()).astype(np.float32))
    gen = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
    Z = torch.from_numpy(np.ascontiguousarray(U, dtype=np.float32))
    with torch_threads(1):
        for epoch in range(n_epochs):
            lr = 1.0 - epoch / n_epochs
            sampled = torch.rand(prob.shape[0], generator=gen) < prob
            hs, ts = head[sampled], tail[sampled]
            for chunk in torch.randperm(hs.shape[0], generator=gen).chunk(E._N_CHUNKS):
                h, t = hs[chunk], ts[chunk]
                m = h.shape[0]
                r = torch.randint(0, Z.shape[0], (m * E._N_NEGATIVE,), generator=gen)
                heads = torch.cat((h, h.repeat_interleave(E._N_NEGATIVE)))
                others = torch.cat((t, r))
                diff = Z[heads] - Z[others]
                d2 = (diff * diff).sum(dim=1, keepdim=True)
                near, far = d2[:m].clamp_min(1e-12), d2[m:]
                near_b = near.pow(E._B)
                attract = (-2.0 * E._A * E._B) * near_b / (near * (1.0 + E._A * near_b))
                repel = (2.0 * E._B) / ((1e-3 + far) * (1.0 + E._A * far.pow(E._B)))
                grad = (torch.cat((attract, repel)) * diff).clamp_(-E._CLIP, E._CLIP)
                grad[m:][(far.view(-1) == 0) & (r != heads[m:])] = E._CLIP
                grad.mul_(lr)
                Z.index_add_(0, heads, grad)
                Z.index_add_(0, t, grad[:m], alpha=-1.0)
    return Z.numpy()


@pytest.mark.parametrize(("n", "k"), [(150, 3), (400, 5)])
def test_the_batched_layout_takes_the_same_steps(n: int, k: int) -> None:
    # The layout lays out each epoch's steps at once (one gather, one draw of negatives):
    # the numbers must be those of the step-by-step loop, to the last bit.
    X, _ = make_blobs(n, centers=k, cluster_std=2.0, random_state=n)
    W = fuzzy_knn_graph(X, 10)
    got = neighbor_embedding(W, k, n_epochs=30, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(got, _layout_step_by_step(W, k, 30, seed=4))


def test_layout_step_skips_a_head_drawn_as_its_own_negative() -> None:
    from neuncut._warm_start._embedding import _sgd_step

    # pairs: one edge (0, 1), then the negatives (0, 0): the head itself, and (0, 2): a
    # distinct point at the same place, pushed away by the clip value (4) as in UMAP
    Z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    heads, others = torch.tensor([0, 0, 0]), torch.tensor([1, 0, 2])
    alone = Z.clone()
    _sgd_step(Z, heads, others, 1, lr=0.5)
    _sgd_step(alone, heads[[0, 2]], others[[0, 2]], 1, lr=0.5)
    torch.testing.assert_close(Z, alone, rtol=0, atol=0)  # the self-pair took no step
    assert Z[0, 1] == 0.5 * 4.0 and Z[2].tolist() == [0.0, 0.0]


def test_layout_step_is_umaps_gradient() -> None:
    """One edge (0, 1) and one negative (0, 2): the step of the docstring's formulas, clipped
    to [-4, 4] per coordinate and scaled by the learning rate, computed here in float64."""
    from neuncut._warm_start._embedding import _A, _B, _sgd_step

    Z0 = np.array([[0.0, 0.0], [0.3, -0.4], [-1.0, 2.0]])
    Z = torch.tensor(Z0, dtype=torch.float32)
    _sgd_step(Z, torch.tensor([0, 0]), torch.tensor([1, 2]), 1, lr=0.5)
    d_edge, d_neg = Z0[0] - Z0[1], Z0[0] - Z0[2]
    n2, f2 = d_edge @ d_edge, d_neg @ d_neg
    attract = -2 * _A * _B * n2 ** (_B - 1) / (1 + _A * n2**_B) * d_edge
    repel = 2 * _B / ((1e-3 + f2) * (1 + _A * f2**_B)) * d_neg
    attract, repel = np.clip(attract, -4, 4), np.clip(repel, -4, 4)
    expected = Z0 + 0.5 * np.array([attract + repel, -attract, [0.0, 0.0]])
    np.testing.assert_allclose(Z.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_native_threads_nest_and_restore_torch_threads() -> None:
    from threadpoolctl import threadpool_info

    pools = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
    torch_before = torch.get_num_threads()
    with native_threads(1), torch_threads(1), native_threads(1):
        assert {p["num_threads"] for p in threadpool_info()} <= {1}
    assert {p["filepath"]: p["num_threads"] for p in threadpool_info()} == pools
    assert torch.get_num_threads() == torch_before


def test_torch_threads_restored_even_on_error() -> None:
    before = torch.get_num_threads()
    with pytest.raises(KeyError), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise KeyError
    assert torch.get_num_threads() == before


def test_normalized_cut_matches_the_relaxed_loss_on_hard_memberships() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    A = self_tuning_knn_graph(X, 6)
    labels = rng.integers(0, 4, 80)
    P = torch.nn.functional.one_hot(torch.from_numpy(labels), 4).double()
    relaxed = ncut_loss(P, torch.from_numpy(A.toarray()))
    assert normalized_cut(A, labels, 4) == pytest.approx(float(relaxed.cut), rel=1e-10)


def test_normalized_cut_bounds_and_empty_clusters() -> None:
    A = scipy.sparse.csr_matrix(np.ones((4, 4)) - np.eye(4))
    assert normalized_cut(A, np.zeros(4, dtype=int), 3) == 0.0  # one cluster, two empty
    # every point alone: each cluster cuts all its volume
    assert normalized_cut(A, np.arange(4), 4) == pytest.approx(4.0)


def test_embedding_labels_recover_blobs() -> None:
    X, y = make_blobs(400, centers=4, cluster_std=0.8, random_state=3)
    labels = embedding_labels(X, 4, 10, np.random.default_rng(0))
    assert labels.dtype == np.int64
    assert adjusted_rand_score(y, labels) > 0.99


@pytest.mark.parametrize("n,k,seed", [(2, 1, 0), (12, 3, 1), (80, 5, 2), (200, 10, 3), (30, 50, 4)])
def test_mutual_mst_graph_is_mutual_knn_plus_a_spanning_forest(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(size=(n - n // 3, 2)), rng.normal(size=(n // 3, 2)) * 0.2 + 4]
    G = mutual_knn_mst_graph(X, k)
    A = self_tuning_knn_graph(X, k)  # the union of the kNN relations, same weights
    Gd, Ad = G.toarray(), A.toarray()
    np.testing.assert_array_equal(Gd, Gd.T)
    np.testing.assert_array_equal(np.diag(Gd), 0.0)
    # a subgraph of the kNN union with its weights, never an isolated point
    np.testing.assert_allclose(Gd[Gd > 0], Ad[Gd > 0], rtol=1e-12)  # sklearn: d_ij ~ d_ji
    assert (Gd.sum(axis=1) > 0).all() or n == 1
    # every mutual pair is kept
    _, ind = knn_search(X, k)
    directed = np.zeros((n, n), dtype=bool)
    directed[np.repeat(np.arange(n), ind.shape[1]), ind.ravel()] = True
    assert (Gd[directed & directed.T] > 0).all()
    # the same components as the kNN graph, and a spanning forest of its distances inside
    n_comp = connected_components(A)[0]
    assert connected_components(G)[0] == n_comp
    dist = np.where(Ad > 0, np.linalg.norm(X[:, None] - X[None], axis=-1), 0.0)
    tree = minimum_spanning_tree(scipy.sparse.csr_matrix(dist)).toarray()
    forest_weight = tree.sum()
    kept = np.where(Gd > 0, dist, 0.0)
    kept_forest = minimum_spanning_tree(scipy.sparse.csr_matrix(kept)).toarray()
    assert kept_forest.sum() == pytest.approx(forest_weight)
    assert np.count_nonzero(kept_forest) == n - n_comp


def test_mutual_mst_graph_puts_chains_on_the_lower_cut() -> None:
    """Three spiral arms of 200 points: the kNN union bridges the arms by short-cut edges;
    the mutual-kNN + tree graph drops them, and the true partition's cut falls 8-fold
    (0.043 -> 0.005)."""
    from benchmarks.shapes import spirals

    X, y = spirals(600, 2)
    A, G = self_tuning_knn_graph(X, 10), mutual_knn_mst_graph(X, 10)
    assert normalized_cut(G, y, 3) < 0.2 * normalized_cut(A, y, 3)


def test_initial_partition_keeps_the_lowest_ncut() -> None:
    X, y = make_moons(400, noise=0.08, random_state=0)  # one connected kNN graph
    labels, ncuts = initial_partition(X, 2, 10, np.random.default_rng(0))
    assert set(ncuts) == {"spectral", "genie", "embedding"}
    A = self_tuning_knn_graph(X, 10)
    chosen = min(ncuts, key=lambda c: ncuts[c] * (0.97 if c == "embedding" else 1.0))
    assert normalized_cut(A, labels, 2) == pytest.approx(ncuts[chosen])
    assert adjusted_rand_score(y, labels) > 0.99


@pytest.mark.parametrize("cuts,chosen", [
    ((0.100, 0.102), "embedding"),  # a near tie: the embedding
    ((0.100, 0.1030), "embedding"),  # 0.97 * 0.1030 < 0.100
    ((0.100, 0.1032), "spectral"),  # 0.100 < 0.97 * 0.1032
    ((0.2, 0.1), "embedding"),
])
def test_the_spectral_partition_must_cut_3_percent_less(
    monkeypatch: pytest.MonkeyPatch, cuts: tuple[float, float], chosen: str
) -> None:
    from neuncut._warm_start import _candidates

    X, _ = make_moons(100, noise=0.1, random_state=0)
    found = {"spectral": np.repeat([0, 1], 50), "embedding": np.tile([0, 1], 50)}
    def spectral(G, k, rng, *, X):  # the mutual kNN + tree graph of X, and X itself
        np.testing.assert_array_equal(G.toarray(), mutual_knn_mst_graph(X, 10).toarray())
        return found["spectral"]

    monkeypatch.setattr(_candidates, "spectral_partition", spectral)
    monkeypatch.setattr(_candidates, "embedding_labels", lambda *a, **k: found["embedding"])
    monkeypatch.setattr(_candidates, "normalized_cut",
                        lambda A, labels, k: cuts[labels is found["embedding"]])
    for order in (("spectral", "embedding"), ("embedding", "spectral")):  # Genie left out
        labels, ncuts = _candidates.initial_partition(X, 2, 10, np.random.default_rng(0), order)
        assert labels is found[chosen]
        assert ncuts == {"spectral": cuts[0], "embedding": cuts[1]}


def test_initial_partition_single_candidate_and_trivial_cases() -> None:
    X, _ = make_blobs(100, centers=2, random_state=0)
    labels, ncuts = initial_partition(X, 2, 5, np.random.default_rng(0), ("spectral",))
    assert list(ncuts) == ["spectral"] and labels.shape == (100,)
    labels, ncuts = initial_partition(X, 1, 5, np.random.default_rng(0))
    assert (labels == 0).all() and set(ncuts.values()) == {0.0}
    with pytest.raises(ValueError, match="candidates"):
        initial_partition(X, 2, 5, np.random.default_rng(0), ("bogus",))


def test_one_knn_search_serves_both_graphs() -> None:
    X = np.random.default_rng(3).normal(size=(80, 3))
    X[5] = X[6] = X[7]  # duplicates: the point itself may not come first
    neighbors = knn_search(X, 6)
    assert neighbors[1].shape == (80, 6)
    assert not (neighbors[1] == np.arange(80)[:, None]).any()
    for build in (self_tuning_knn_graph, mutual_knn_mst_graph, fuzzy_knn_graph):
        shared = build(X, 6, neighbors=neighbors).toarray()
        np.testing.assert_array_equal(shared, build(X, 6).toarray())


def test_initial_partition_times_its_stages() -> None:
    X, _ = make_moons(200, noise=0.1, random_state=0)
    timings: dict[str, float] = {}
    initial_partition(X, 2, 10, np.random.default_rng(0), timings=timings)
    assert set(timings) == {"init/knn", "init/spectral", "init/genie", "init/layout", "init/kmeans",
                            "init/stability"}
    assert all(t >= 0.0 for t in timings.values())


def test_a_partition_that_cuts_nothing_ends_the_search() -> None:
    """Separated blobs: the spectral partition is the graph's components (Ncut 0), which no
    candidate can beat, so the layout is never run; the order of candidates decides."""
    X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=1)
    assert connected_components(self_tuning_knn_graph(X, 10))[0] == 3
    timings: dict[str, float] = {}
    labels, ncuts = initial_partition(X, 3, 10, np.random.default_rng(0), timings=timings)
    assert list(ncuts) == ["spectral"] and abs(ncuts["spectral"]) < 1e-12
    assert "init/layout" not in timings and adjusted_rand_score(y, labels) == 1.0
    _, ncuts = initial_partition(X, 3, 10, np.random.default_rng(0), ("embedding", "spectral"))
    assert list(ncuts) == ["embedding"] and abs(ncuts["embedding"]) < 1e-12


def test_partition_settled_needs_two_stable_checks_after_the_minimum() -> None:
    rng = np.random.default_rng(0)
    Z = np.r_[rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 10]
    settled = PartitionSettled(2, np.random.default_rng(1))
    # 25, 50, 75 epochs: below the minimum of 100 even though nothing changes
    assert [settled(Z) for _ in range(3)] == [False, False, False]
    assert settled(Z) and settled.stopped_at == 4 * CHECK_EVERY
    # a partition that changes starts the count again
    settled = PartitionSettled(2, np.random.default_rng(1))
    assert not any(settled(Z) for _ in range(3))
    moved = Z.copy()
    moved[:30] += 10  # half of the first blob joins the second
    assert not settled(moved) and not settled(moved) and settled(moved)


def test_layout_stops_when_settled_and_draws_nothing_for_it() -> None:
    X, _ = make_blobs(300, centers=3, cluster_std=1.0, random_state=0)
    W = fuzzy_knn_graph(X, 10)
    calls: list[int] = []

    def never(Z: np.ndarray) -> bool:
        calls.append(Z.shape[0])
        return False

    plain = neighbor_embedding(W, 3, n_epochs=100, rng=np.random.default_rng(2))
    watched = neighbor_embedding(W, 3, n_epochs=100, rng=np.random.default_rng(2), settled=never)
    np.testing.assert_array_equal(plain, watched)  # a check changes nothing
    assert calls == [300] * (100 // CHECK_EVERY - 1)  # not after the last epoch
    early = neighbor_embedding(W, 3, n_epochs=100, rng=np.random.default_rng(2),
                               settled=lambda Z: True)
    assert not np.array_equal(early, plain)  # stopped after 25 of 100 epochs


def test_mixture_refinement_starts_from_the_partition_and_keeps_k_clusters() -> None:
    from neuncut._warm_start._mixture import mixture_refinement

    rng = np.random.default_rng(0)
    Z = np.r_[rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) + 8]
    truth = np.repeat([0, 1], 200)
    # a fixed point: the partition's own mixture already explains it, cluster names kept
    np.testing.assert_array_equal(mixture_refinement(Z, truth, 2), truth)
    flipped = truth.copy()
    flipped[:20] = 1  # 20 points of the first blob start in the second: EM moves them back
    refined = mixture_refinement(Z, flipped, 2)
    np.testing.assert_array_equal(refined, truth)
    # nothing is drawn: the same input gives the same labels
    np.testing.assert_array_equal(mixture_refinement(Z, flipped, 2), refined)
    with pytest.raises(ValueError, match="each of the 3 clusters"):
        mixture_refinement(Z, truth, 3)  # cluster 2 is empty


def test_mixture_refinement_gives_up_on_an_emptied_cluster() -> None:
    from neuncut._warm_start._mixture import mixture_refinement

    rng = np.random.default_rng(1)
    # two clusters of one point each at the same place: the same weight, mean and
    # covariance, so every point goes to the first of them, and the second is empty
    Z = np.r_[rng.normal(size=(50, 2)), [[0.0, 0.0], [0.0, 0.0]]]
    assert mixture_refinement(Z, np.r_[np.zeros(50, int), [1, 2]], 3) is None
    # a third cluster of two points inside one blob survives, with few points
    Z = rng.normal(size=(300, 2))
    refined = mixture_refinement(Z, np.r_[np.zeros(149, int), np.ones(149, int), [2, 2]], 3)
    assert np.unique(refined).shape[0] == 3


def test_likeliest_mixture_keeps_the_highest_likelihood_that_fills_every_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from neuncut._warm_start import _mixture

    Z = np.random.default_rng(0).normal(size=(40, 2))
    start = np.repeat([0, 1], 20)
    seen: list[object] = []

    def scripted(outcomes):  # the i-th fit returns outcomes[i]: (score, labels) or None
        def fit(gmm, Z, k):
            seen.append(gmm.random_state)
            i = len(seen) - 1
            return None if outcomes[i] is None else (outcomes[i], np.full(len(Z), i))
        return fit

    for outcomes, chosen in [
        ((1.0, 3.0, 2.0, None, 0.5), 1),
        ((4.0, 4.0, 1.0, 1.0, 1.0), 0),  # a tie keeps the earlier: the refinement
        ((None, None, None, None, 2.0), 4),
        ((None,) * 5, None),  # no mixture filled every cluster
    ]:
        seen.clear()
        monkeypatch.setattr(_mixture, "_fit", scripted(outcomes))
        found = _mixture.likeliest_mixture(Z, start, 2, seed=7)
        assert (found is None) if chosen is None else (found == chosen).all()
        # the refinement first (its start is given), then the k-means starts, seeded in turn
        assert seen == [0, 7, 8, 9, 10]


def test_likeliest_mixture_is_deterministic_and_exact_on_separated_blobs() -> None:
    from neuncut._warm_start._mixture import likeliest_mixture

    rng = np.random.default_rng(3)
    Z = np.concatenate([rng.normal(size=(150, 3)) + shift for shift in (0, 9, -9)])
    truth = np.repeat([0, 1, 2], 150)
    found = likeliest_mixture(Z, truth, 3, seed=0)
    assert adjusted_rand_score(truth, found) == 1.0
    np.testing.assert_array_equal(likeliest_mixture(Z, truth, 3, seed=0), found)


def test_embedding_labels_take_the_likeliest_mixture_or_kmeans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from neuncut._warm_start import _candidates

    X, _ = make_blobs(120, centers=2, random_state=0)
    kmeans, mixture = np.repeat([0, 1], 60), np.tile([0, 1], 60)
    monkeypatch.setattr(_candidates, "embedding_kmeans", lambda Z, k, rng: kmeans)
    for found, chosen in [(mixture, mixture), (None, kmeans)]:
        def likeliest(Z, labels, k, seed, found=found):
            assert labels is kmeans and k == 2 and isinstance(seed, int)
            return found
        monkeypatch.setattr(_candidates, "likeliest_mixture", likeliest)
        assert _candidates.embedding_labels(X, 2, 10, np.random.default_rng(0)) is chosen


def test_embedding_labels_skip_the_mixture_when_kmeans_leaves_a_cluster_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from neuncut._warm_start import _candidates

    X, _ = make_blobs(60, centers=3, random_state=0)
    partial = np.repeat([0, 1], 30)  # 2 of 3 clusters filled

    def refuse(*args: object) -> None:
        raise AssertionError("the mixture needs every cluster filled")

    monkeypatch.setattr(_candidates, "embedding_kmeans", lambda Z, k, rng: partial)
    monkeypatch.setattr(_candidates, "likeliest_mixture", refuse)
    assert _candidates.embedding_labels(X, 3, 10, np.random.default_rng(0)) is partial


def test_genie_candidate_wins_on_clusters_in_background_noise() -> None:
    """Two rings in uniform noise (a fifth of the points) over their box: the spectral and
    embedding partitions cut across the noise field, Genie's merges of the kNN tree follow
    the rings, at a lower cut."""
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 2 * np.pi, 1500)
    rings = np.r_[0.4 * np.c_[np.cos(t[:500]), np.sin(t[:500])],
                  np.c_[np.cos(t[500:]), np.sin(t[500:])]] + 0.04 * rng.standard_normal((1500, 2))
    X = np.r_[rings, rng.uniform(-1.3, 1.3, (400, 2))]
    y = np.r_[np.zeros(500), np.ones(1000)]
    labels, ncuts = initial_partition(X, 2, 10, np.random.default_rng(0))
    assert ncuts["genie"] < min(ncuts["spectral"], 0.97 * ncuts["embedding"])
    assert adjusted_rand_score(y, labels[:1500]) > 0.99


def test_genie_candidate_is_skipped_when_the_graph_has_more_components_than_clusters() -> None:
    X, _ = make_blobs(300, centers=[[0, 0], [50, 0], [0, 50]], random_state=0)
    labels, ncuts = initial_partition(X, 2, 5, np.random.default_rng(0), ("genie", "spectral"))
    assert list(ncuts) == ["spectral"] and labels.shape == (300,)
