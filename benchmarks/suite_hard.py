"""The harder families of the development suite: kinds of data where simple peers can win.

Each family is a generator ``(rng, n) -> (X, y)`` whose parameters (number of clusters,
sizes, spreads, distances, angles, noise) are drawn from ranges by ``rng``, so that a family is
a kind of data, never a copy of one set. The suite instantiates every family at two sizes and
two generator seeds (:data:`SIZES`, :data:`GENERATOR_SEEDS`): set ``hard-<family>-<n>-g<seed>``.
``y == -1`` marks background noise, which is not scored.

The families are split in two halves (:data:`HALF`): constants of ``n_clusters="auto"`` are
chosen on half ``"a"`` and reported on half ``"b"``; both halves have many-cluster sets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Generator = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]

SIZES = (600, 2000)
GENERATOR_SEEDS = (0, 1)


def _split(n: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Sizes summing to n, proportional to ``weights``, each at least ``minimum`` (the
    largest gives up what the smaller ones are raised by)."""
    sizes = np.maximum(minimum, np.floor(n * weights / weights.sum()).astype(int))
    sizes[np.argmax(sizes)] += n - sizes.sum()
    return sizes


def _blob(rng: np.random.Generator, center: np.ndarray, std: float, size: int) -> np.ndarray:
    return center + std * rng.standard_normal((size, len(center)))


def _moon(rng: np.random.Generator, size: int, noise: float, upper: bool) -> np.ndarray:
    """Half of a unit circle (scikit-learn's moons: the upper one at the origin, the lower
    one shifted by (1, 0.5))."""
    t = rng.uniform(0, np.pi, size)
    X = np.c_[np.cos(t), np.sin(t)] if upper else np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    return X + noise * rng.standard_normal(X.shape)


def _far_centers(rng: np.random.Generator, k: int, dim: int, min_dist: float,
                 box: float) -> np.ndarray:
    """k centres uniform in [0, box]^dim, every two at least ``min_dist`` apart (rejection)."""
    centers: list[np.ndarray] = []
    while len(centers) < k:
        c = rng.uniform(0, box, dim)
        if all(np.linalg.norm(c - o) >= min_dist for o in centers):
            centers.append(c)
        else:
            box *= 1.002  # never loops for ever on a box too small
    return np.array(centers)


def groups_near_shapes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two moons, and 2-4 small tight groups (1-3 % of n each) at 0.35-0.6 from them, each
    group a cluster of its own."""
    n_groups = int(rng.integers(2, 5))
    group_sizes = np.maximum(8, (n * rng.uniform(0.01, 0.03, n_groups)).astype(int))
    n_moons = n - group_sizes.sum()
    noise = rng.uniform(0.03, 0.06)
    moons = [_moon(rng, n_moons // 2, noise, True), _moon(rng, n_moons - n_moons // 2, noise,
                                                          False)]
    X, y = np.r_[moons[0], moons[1]], np.r_[np.zeros(len(moons[0])), np.ones(len(moons[1]))]
    for g, size in enumerate(group_sizes):
        while True:  # a centre 0.35-0.6 from the nearest moon point, clear of other groups
            c = rng.uniform([-1.5, -1.0], [2.5, 1.5])
            d = np.linalg.norm(X[: n_moons] - c, axis=1).min()
            if 0.35 <= d <= 0.6 and all(np.linalg.norm(X[y == 2 + h].mean(0) - c) > 0.5
                                        for h in range(g)):
                break
        X = np.r_[X, _blob(rng, c, rng.uniform(0.02, 0.05), size)]
        y = np.r_[y, np.full(size, 2 + g)]
    return X, y.astype(int)


def density_curved(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A dense thin arc (half a unit circle, width 0.02-0.05) and a diffuse blob 2-5 times
    smaller or larger in points: inside the arc's opening (spread 0.1-0.18) or below it
    (spread 0.2-0.3), at least 3.5 spreads from the arc."""
    ratio = rng.uniform(2, 5)
    sizes = _split(n, np.array([ratio, 1.0]) if rng.random() < 0.5 else np.array([1.0, ratio]))
    arc = _moon(rng, sizes[0], rng.uniform(0.02, 0.05), True)
    if rng.random() < 0.5:
        center, spread = np.array([0.0, 0.25]), rng.uniform(0.1, 0.18)
    else:
        center, spread = np.array([0.0, -rng.uniform(0.3, 0.8)]), rng.uniform(0.2, 0.3)
    blob = _blob(rng, center, spread, sizes[1])
    return np.r_[arc, blob], np.repeat([0, 1], sizes)


def thin_touching(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """2-4 thin segments (length 1.5-2.5, width 0.01-0.03) that touch: each after the first
    starts at a point of an earlier one (its end or its middle: V, T and Y shapes), at least
    35 degrees from it.

    Segments that cross in the middle of both are left out: there no graph cut separates them
    (every method tried scored about 0.5), which tells nothing about one method against another.
    """
    k = int(rng.integers(2, 5))
    width = rng.uniform(0.01, 0.03)
    sizes = _split(n, np.ones(k))
    starts, directions, lengths = [np.zeros(2)], [np.array([1.0, 0.0])], [rng.uniform(1.5, 2.5)]
    while len(starts) < k:
        j = int(rng.integers(len(starts)))
        start = starts[j] + directions[j] * lengths[j] * rng.choice([0.0, 0.5, 1.0])
        angle = np.arctan2(directions[j][1], directions[j][0]) + rng.choice([-1, 1]) * \
            rng.uniform(np.radians(35), np.radians(145))
        direction = np.array([np.cos(angle), np.sin(angle)])
        length = rng.uniform(1.5, 2.5)
        # the new segment must stay clear of the others but where it starts
        t = np.linspace(0.15, 1.0, 20)[:, None] * length
        new = start + t * direction
        if all(_segment_distance(new, s0, d0, l0).min() > 0.15
               for s0, d0, l0 in zip(starts, directions, lengths, strict=True)):
            starts.append(start)
            directions.append(direction)
            lengths.append(length)
    X = [s0 + rng.uniform(0, l0, (m, 1)) * d0 + width * rng.standard_normal((m, 2))
         for s0, d0, l0, m in zip(starts, directions, lengths, sizes, strict=True)]
    return np.concatenate(X), np.repeat(np.arange(k), sizes)


def _segment_distance(points: np.ndarray, start: np.ndarray, direction: np.ndarray,
                      length: float) -> np.ndarray:
    """Distance of each point to the segment ``start + t direction``, t in [0, length]."""
    t = np.clip((points - start) @ direction, 0, length)
    return np.linalg.norm(points - (start + t[:, None] * direction), axis=1)


def unequal_sizes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """3-6 separated Gaussian blobs in 2-5 dimensions whose sizes differ 10-30 fold (the
    smallest at least 1 % of n), spreads differing up to 2 fold."""
    k = int(rng.integers(3, 7))
    dim = int(rng.integers(2, 6))
    ratio = rng.uniform(10, 30)
    weights = rng.permutation(np.r_[1.0, ratio, np.exp(rng.uniform(0, np.log(ratio), k - 2))])
    sizes = _split(n, weights, max(5, n // 100))
    centers = _far_centers(rng, k, dim, min_dist=7.0, box=8.0 * k ** (1 / dim))
    stds = rng.uniform(0.5, 1.0, k)
    X = np.concatenate([_blob(rng, c, s, m) for c, s, m in zip(centers, stds, sizes,
                                                                strict=True)])
    return X, np.repeat(np.arange(k), sizes)


def shapes_in_noise(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Moons, circles or blobs (2-4 clusters) in uniform background noise of 20-40 % of n
    over their bounding box (not scored)."""
    noise_share = rng.uniform(0.2, 0.4)
    n_noise = int(noise_share * n)
    n_shapes = n - n_noise
    kind = rng.choice(["moons", "circles", "blobs"])
    if kind == "moons":
        sizes = _split(n_shapes, np.ones(2))
        X = np.r_[_moon(rng, sizes[0], 0.05, True), _moon(rng, sizes[1], 0.05, False)]
        y = np.repeat([0, 1], sizes)
    elif kind == "circles":
        sizes = _split(n_shapes, np.array([1.0, 2.0]))
        radii = (0.4, 1.0)
        parts = []
        for r, size in zip(radii, sizes, strict=True):
            t = rng.uniform(0, 2 * np.pi, size)
            parts.append(r * np.c_[np.cos(t), np.sin(t)] + 0.04 * rng.standard_normal((size, 2)))
        X, y = np.concatenate(parts), np.repeat([0, 1], sizes)
    else:
        k = int(rng.integers(3, 5))
        sizes = _split(n_shapes, np.ones(k))
        centers = _far_centers(rng, k, 2, min_dist=2.5, box=4.0)
        X = np.concatenate([_blob(rng, c, 0.3, m) for c, m in zip(centers, sizes, strict=True)])
        y = np.repeat(np.arange(k), sizes)
    lo, hi = X.min(0) - 0.3, X.max(0) + 0.3
    noise = rng.uniform(lo, hi, (n_noise, 2))
    return np.r_[X, noise], np.r_[y, np.full(n_noise, -1)]


def tight_and_spread(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A table: one tight class (std 0.3) and 1-2 spread ones (std 1-2) in 3-8 informative
    features, centres 5-7 apart, plus 0-8 uninformative standard-normal features."""
    k = int(rng.integers(2, 4))
    informative = int(rng.integers(3, 9))
    centers = _far_centers(rng, k, informative, min_dist=rng.uniform(5, 7), box=6.0)
    stds = np.r_[0.3, rng.uniform(1.0, 2.0, k - 1)]
    sizes = _split(n, rng.uniform(1, 3, k))
    X = np.concatenate([_blob(rng, c, s, m) for c, s, m in zip(centers, stds, sizes,
                                                                strict=True)])
    junk = rng.standard_normal((n, int(rng.integers(0, 9))))
    return np.c_[X, junk], np.repeat(np.arange(k), sizes)


def mixed_scales(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A table: 3-5 separated Gaussian clusters in 3-6 informative features, 2-8
    uninformative ones, every feature multiplied by a scale from 10^-2 to 10^3."""
    k = int(rng.integers(3, 6))
    informative = int(rng.integers(3, 7))
    centers = _far_centers(rng, k, informative, min_dist=6.0, box=6.0)
    sizes = _split(n, np.ones(k))
    X = np.concatenate([_blob(rng, c, 1.0, m) for c, m in zip(centers, sizes, strict=True)])
    X = np.c_[X, 2.0 * rng.standard_normal((n, int(rng.integers(2, 9))))]
    X *= 10.0 ** rng.uniform(-2, 3, X.shape[1])
    return X[:, rng.permutation(X.shape[1])], np.repeat(np.arange(k), sizes)


def many_blobs(dim_range: tuple[int, int]) -> Generator:
    """10-50 well-separated Gaussian blobs (sizes within a factor 2) in ``dim_range``
    dimensions."""
    def generate(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        k = int(rng.integers(10, min(50, n // 12) + 1))
        dim = int(rng.integers(*dim_range))
        sizes = _split(n, rng.uniform(1, 2, k), 8)
        centers = _far_centers(rng, k, dim, min_dist=8.0, box=9.0 * k ** (1 / dim))
        X = np.concatenate([_blob(rng, c, 1.0, m) for c, m in zip(centers, sizes,
                                                                    strict=True)])
        return X, np.repeat(np.arange(k), sizes)

    return generate


#: family -> (generator, one-line description)
FAMILIES: dict[str, tuple[Generator, str]] = {
    "near-groups": (groups_near_shapes,
                    "two moons and 2-4 small tight groups close to them, each a cluster"),
    "density-curved": (density_curved, "a dense thin arc and a diffuse blob"),
    "thin-touching": (thin_touching, "2-4 thin segments that touch (V, T, Y shapes)"),
    "unequal-sizes": (unequal_sizes, "3-6 blobs whose sizes differ 10-30 fold"),
    "shapes-noise": (shapes_in_noise, "moons, circles or blobs in 20-40 % background noise"),
    "tight-spread": (tight_and_spread, "table: one tight class, 1-2 spread, junk features"),
    "mixed-scales": (mixed_scales, "table: features on scales 10^-2 to 10^3, junk features"),
    "many-blobs-2d": (many_blobs((2, 3)), "10-50 separated blobs in 2-D"),
    "many-blobs-hd": (many_blobs((3, 11)), "10-50 separated blobs in 3-10 dimensions"),
}
#: The half of each family: "a" tunes the constants of n_clusters="auto", "b" reports them.
HALF = {"near-groups": "a", "thin-touching": "a", "tight-spread": "a", "many-blobs-2d": "a",
        "density-curved": "b", "unequal-sizes": "b", "shapes-noise": "b", "mixed-scales": "b",
        "many-blobs-hd": "b"}


def hard_set(family: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The set of ``family`` with n points from generator seed ``seed``.

    >>> X, y = hard_set("thin-touching", 300, 0)
    >>> X.shape, int(y.min()) >= 0
    ((300, 2), True)
    """
    generator, _ = FAMILIES[family]
    # one stream per (family, n, seed): adding a family changes no other set
    key = [seed, n, *family.encode()]
    X, y = generator(np.random.default_rng(key), n)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
