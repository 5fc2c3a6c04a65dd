"""The warm start's tree candidate: Genie's merges of a minimum spanning tree.

Genie (Gagolewski, Bartoszuk & Cena, Information Sciences 2016) is single linkage with a
fairness rule: clusters are merged along the edges of a minimum spanning tree, shortest
first, except that while the Gini index of the cluster sizes exceeds a threshold (0.3, the
authors' default) the next merge must involve one of the smallest clusters (its shortest
tree edge). Single linkage follows chains and density gaps but peels off outliers one by one;
the fairness rule keeps it from ending with one giant cluster and k - 1 specks. Its splits are
the ones that win on chains, clusters of unequal densities and shapes in background noise,
where a graph cut relaxed spectrally or a mixture of a layout cuts across.

Written here rather than taken from ``genieclust``: the tree is the kNN graph's
(:func:`neuncut.affinity.knn_spanning_tree`, from the warm start's one kNN search), and
the merges are a few dozen lines over it, where genieclust would add a compiled dependency
and its own nearest-neighbour search.
"""

from __future__ import annotations

import heapq

import numpy as np

__all__ = ["gini_index", "genie_labels"]

#: Genie's default threshold of the Gini index of the cluster sizes (Gagolewski et al.).
GINI_THRESHOLD = 0.3


def gini_index(sizes: np.ndarray) -> float:
    r"""The normalized Gini index of cluster sizes, 0 for equal sizes, 1 for one non-empty.

    :math:`G = \sum_{i=1}^m (2i - m - 1) c_{(i)} / ((m - 1) \sum_i c_i)`, :math:`c_{(i)}`
    sorted increasingly.

    Examples
    --------
    >>> gini_index(np.array([5, 5, 5])), gini_index(np.array([0, 0, 9]))
    (0.0, 1.0)
    """
    m = sizes.shape[0]
    if m < 2:
        return 0.0
    c = np.sort(sizes).astype(np.float64)
    return float(np.dot(2 * np.arange(1, m + 1) - m - 1, c) / ((m - 1) * c.sum()))


def genie_labels(
    n: int,
    tree: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_clusters: int,
    gini_threshold: float = GINI_THRESHOLD,
) -> np.ndarray | None:
    """Genie's partition of n points into ``n_clusters`` along a minimum spanning forest.

    Parameters
    ----------
    n : int
        Number of points.
    tree : (rows, cols, lengths)
        The forest's edges (:func:`neuncut.affinity.knn_spanning_tree`).
    n_clusters : int
    gini_threshold : float, default=0.3

    Returns
    -------
    labels : ndarray of shape (n,), int64 in [0, n_clusters), or None
        None when the forest has more than ``n_clusters`` trees (no merge along it reaches
        ``n_clusters``; the graph's components are then a partition of cut zero that another
        candidate finds).

    Examples
    --------
    Two chains of four points 3 apart, and an outlier 4 beyond the second chain's end. Single
    linkage cuts the longest edge and sets the outlier apart; Genie, once the chains are
    whole (sizes 4, 4, 1: Gini index 0.33), must merge the smallest cluster first:

    >>> rows, cols = np.arange(8), np.arange(1, 9)
    >>> lengths = np.array([1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 4.0])
    >>> genie_labels(9, (rows, cols, lengths), 2).tolist()
    [0, 0, 0, 0, 1, 1, 1, 1, 1]
    >>> genie_labels(9, (rows, cols, lengths), 2, gini_threshold=1.0).tolist()  # single linkage
    [0, 0, 0, 0, 0, 0, 0, 0, 1]
    """
    rows, cols, lengths = tree
    if n - rows.shape[0] > n_clusters:
        return None
    return _Merges(n, rows, cols, lengths).run(n_clusters, gini_threshold)


class _Merges:
    """Genie's merges over a forest: union-find, each cluster's outgoing edges, and per size
    a heap of its clusters' shortest outgoing edges (stale entries skipped when met), so that
    each merge costs O(log n) amortized."""

    def __init__(self, n: int, rows: np.ndarray, cols: np.ndarray, lengths: np.ndarray) -> None:
        self.rows, self.cols = rows, cols
        self.parent = np.arange(n)
        self.size = np.ones(n, dtype=np.int64)
        self.order = np.argsort(lengths, kind="stable")
        # each cluster's tree edges, shortest first: a list in sorted order is a heap
        self.incident: dict[int, list[tuple[float, int]]] = {i: [] for i in range(n)}
        for e in self.order:
            for end in (int(rows[e]), int(cols[e])):
                self.incident[end].append((float(lengths[e]), int(e)))
        self.count = {1: n}  # size -> clusters of that size
        self.by_size: dict[int, list[tuple[float, int, int]]] = {1: []}
        for i in range(n):
            self._push(i)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = int(self.parent[root])
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, int(self.parent[i])
        return root

    def _inside(self, e: int) -> bool:
        return self.find(int(self.rows[e])) == self.find(int(self.cols[e]))

    def _push(self, root: int) -> None:
        """File ``root``'s shortest outgoing edge under its size (nothing if it has none)."""
        heap = self.incident[root]
        while heap and self._inside(heap[0][1]):
            heapq.heappop(heap)
        if heap:
            entry = (heap[0][0], heap[0][1], root)
            heapq.heappush(self.by_size.setdefault(int(self.size[root]), []), entry)

    def _edge_of_smallest(self) -> int:
        """The shortest edge leaving any of the smallest clusters that have one (a whole tree
        of the forest has none: it stays a cluster of its own)."""
        for smallest in sorted(self.count):
            heap = self.by_size.get(smallest, [])
            while heap:
                length, e, root = heapq.heappop(heap)
                if self.find(root) != root or self.size[root] != smallest:
                    continue  # merged since: filed again under its new size
                if self._inside(e):
                    self._push(root)  # the edge became internal: file the next one
                    continue
                heapq.heappush(heap, (length, e, root))  # still the shortest: stays filed
                return e
        raise AssertionError("a forest of at most n_clusters trees has an edge to merge")

    def run(self, n_clusters: int, gini_threshold: float) -> np.ndarray:
        n_groups, next_edge = self.parent.shape[0], 0
        while n_groups > n_clusters:
            sizes = np.repeat(np.fromiter(self.count, dtype=np.int64),
                              np.fromiter(self.count.values(), dtype=np.int64))
            if gini_index(sizes) > gini_threshold:
                edge = self._edge_of_smallest()
            else:
                while self._inside(int(self.order[next_edge])):
                    next_edge += 1
                edge = int(self.order[next_edge])
            self._merge(self.find(int(self.rows[edge])), self.find(int(self.cols[edge])))
            n_groups -= 1
        roots = np.array([self.find(i) for i in range(self.parent.shape[0])])
        return np.unique(roots, return_inverse=True)[1].astype(np.int64)

    def _merge(self, a: int, b: int) -> None:
        if self.size[a] < self.size[b]:
            a, b = b, a
        for s in (int(self.size[a]), int(self.size[b])):
            self.count[s] -= 1
            if not self.count[s]:
                del self.count[s]
        self.parent[b] = a
        self.size[a] += self.size[b]
        new = int(self.size[a])
        self.count[new] = self.count.get(new, 0) + 1
        for item in self.incident.pop(b):
            heapq.heappush(self.incident[a], item)
        self._push(a)
