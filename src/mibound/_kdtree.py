"""Max-norm k-d trees compiled with numba: the k-NN radii and strict range counts of KSG.

Optional accelerator (``pip install 'mibound[fast]'``); :mod:`mibound.knn` falls back to
scipy's cKDTree without numba. Every distance is computed with the same floating-point
operations as a brute-force max-norm (``abs(a - b)``, max over coordinates), so results are
bit-identical to the definition.

The tree splits at the median of the widest coordinate until a leaf holds at most ``_CAP``
points; each leaf's points are stored coordinate-major in a block padded with ``+inf`` to
exactly ``_CAP`` entries, and the kernels are compiled for each number of coordinates
(``numba.literally``), so a leaf scan is a fixed-length loop over the leaf's points, with the
loop over coordinates unrolled, that the compiler turns into SIMD instructions. Queries
are the tree's own points, one at a time in tree order (neighbouring queries reuse the cache),
and descend to the nearer child first. A node's lower bound is updated in O(1) per level:
for the far child it is ``max(parent bound, gap to the child's extreme split coordinate)``, the
exact max-norm distance to the child's cell. Rounding is monotone, so a computed bound never
exceeds the computed distance of a point inside, and an upper bound from the node's tight
bounding box is never below it: pruning a node and counting a whole node at once never change
a result.

KSG needs, for every point, the max-norm distance :math:`\\varepsilon_i` to its k-th neighbour
in the joint space and the number of points strictly within :math:`\\varepsilon_i` in each
marginal. :func:`knn_radius_and_count` gets :math:`\\varepsilon_i` and one marginal count in a
single search: the tree is built on the joint points but splits only on the coordinates of one
marginal, so every point whose marginal distance is below the final radius lies in a visited
leaf; the search records the marginal distances of the points of every visited leaf and
counts those below the final radius. The other marginal is counted by :func:`count_within` on
its own tree, which adds whole nodes inside the radius in O(1).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

__all__ = ["count_within", "knn_radius_and_count", "kth_distance"]

_CAP = 32  # points per padded leaf block
_STACK = 128  # traversal stack (the tree depth is about log2(n / 8) + 1)
_CHUNK = 2048  # queries per task handed to a thread
_PARALLEL_MIN = 20_000  # below this, thread start-up costs more than it saves


@numba.njit(cache=True, nogil=True)
def _select(rows, perm, c, s, e, m):  # pragma: no cover - compiled
    """Reorder ``rows[s:e]`` (and ``perm`` alike) so that ``rows[i, c]`` is <= the m-th
    smallest for i < m and >= it for i >= m (quickselect, median-of-three pivot)."""
    d = rows.shape[1]
    lo, hi = s, e - 1
    while lo < hi:
        a, b, z = rows[lo, c], rows[(lo + hi) // 2, c], rows[hi, c]
        pivot = max(min(a, b), min(max(a, b), z))
        i, j = lo, hi
        while i <= j:
            while rows[i, c] < pivot:
                i += 1
            while rows[j, c] > pivot:
                j -= 1
            if i <= j:
                perm[i], perm[j] = perm[j], perm[i]
                for t in range(d):
                    rows[i, t], rows[j, t] = rows[j, t], rows[i, t]
                i += 1
                j -= 1
        if m <= j:
            hi = j
        elif m >= i:
            lo = i
        else:
            return


@numba.njit(cache=True, nogil=True)
def _build(data: np.ndarray, n_split: int):  # pragma: no cover - compiled
    """Median splits on the widest of the first ``n_split`` coordinates, leaves of <= _CAP.

    Returns the permutation to tree order and per node: left and right child (a leaf has
    ``left = -1 - leaf index``), split coordinate, the largest split coordinate on the left,
    the smallest on the right, the tight bounding box (lo, hi) and the number of points.
    """
    n, d = data.shape
    max_nodes = 4 * (n // (_CAP // 2) + 1) + 1
    start = np.empty(max_nodes, np.int64)
    end = np.empty(max_nodes, np.int64)
    left = np.empty(max_nodes, np.int64)
    right = np.full(max_nodes, -1, np.int64)
    split_dim = np.zeros(max_nodes, np.int64)
    left_max = np.zeros(max_nodes)
    right_min = np.zeros(max_nodes)
    lo = np.empty((max_nodes, d))
    hi = np.empty((max_nodes, d))
    perm = np.arange(n)
    rows = data.copy()  # reordered along with perm: the tree order
    start[0] = 0
    end[0] = n
    count = 1
    leaves = 0
    stack = np.empty(_STACK, np.int64)
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        s, e = start[node], end[node]
        for c in range(d):
            lo[node, c] = rows[s, c]
            hi[node, c] = rows[s, c]
        for i in range(s + 1, e):
            for c in range(d):
                lo[node, c] = min(lo[node, c], rows[i, c])
                hi[node, c] = max(hi[node, c], rows[i, c])
        if e - s <= _CAP:
            left[node] = -1 - leaves
            leaves += 1
            continue
        split = 0
        width = -1.0
        for c in range(n_split):
            if hi[node, c] - lo[node, c] > width:
                width = hi[node, c] - lo[node, c]
                split = c
        # Identical values still split by position: the bounds below stay valid lower bounds.
        half = (e - s) // 2
        _select(rows, perm, split, s, e, s + half)
        lmax = rows[s, split]
        for i in range(s + 1, s + half):
            lmax = max(lmax, rows[i, split])
        rmin = rows[s + half, split]
        for i in range(s + half + 1, e):
            rmin = min(rmin, rows[i, split])
        split_dim[node] = split
        left_max[node] = lmax
        right_min[node] = rmin
        left[node] = count
        start[count], end[count] = s, s + half
        right[node] = count + 1
        start[count + 1], end[count + 1] = s + half, e
        stack[top] = count
        stack[top + 1] = count + 1
        top += 2
        count += 2
    size = end[:count] - start[:count]
    return (
        perm,
        rows,
        _leaf_blocks(rows, start[:count], size, left[:count], leaves),
        left[:count],
        right[:count],
        split_dim[:count],
        left_max[:count],
        right_min[:count],
        lo[:count],
        hi[:count],
        size,
    )


@numba.njit(cache=True, nogil=True)
def _leaf_blocks(
    rows: np.ndarray, start: np.ndarray, size: np.ndarray, left: np.ndarray, leaves: int
):  # pragma: no cover - compiled
    """Each leaf's points coordinate by coordinate, shape (leaves, d, _CAP), padded with inf."""
    d = rows.shape[1]
    blocks = np.full((leaves, d, _CAP), np.inf)
    for node in range(left.shape[0]):
        if left[node] < 0:
            leaf = -1 - left[node]
            for c in range(d):
                for p in range(size[node]):
                    blocks[leaf, c, p] = rows[start[node] + p, c]
    return blocks


@numba.njit(cache=True, nogil=True)
def _knn_radius_and_count(
    points,
    split_shape,
    k,
    blocks,
    left,
    right,
    split_dim,
    left_max,
    right_min,
    tasks,
    radius,
    count,
    shape,
):  # pragma: no cover - compiled
    """Per query: the k-th smallest max-norm distance to all points (itself included) and the
    number of points whose distance over the first ``n_split`` coordinates is below it.

    ``n_split`` and ``d`` (the number of coordinates) are the lengths of the tuples
    ``split_shape`` and ``shape``, so they are compile-time constants of each compiled version:
    the loops over coordinates unroll and each leaf scan runs over the leaf's points in SIMD
    registers.
    """
    n_split = len(split_shape)
    d = len(shape)
    nodes = np.empty(_STACK, np.int64)
    bounds = np.empty(_STACK)
    best = np.empty(k)
    split_dist = np.empty(_CAP)
    dist = np.empty(_CAP)
    recorded = np.empty(blocks.shape[0] * _CAP)
    for task in tasks:
        for q in range(task, min(task + _CHUNK, points.shape[0])):
            qp = points[q]
            best[:] = np.inf
            kth = np.inf
            n_recorded = 0
            nodes[0] = 0
            bounds[0] = 0.0
            top = 1
            while top > 0:
                top -= 1
                node = nodes[top]
                bound = bounds[top]
                while left[node] >= 0 and bound < kth:
                    qs = qp[split_dim[node]]
                    gap_left = qs - left_max[node]
                    gap_right = right_min[node] - qs
                    if gap_left <= gap_right:
                        far, far_bound = right[node], max(bound, gap_right)
                        node, bound = left[node], max(bound, gap_left)
                    else:
                        far, far_bound = left[node], max(bound, gap_left)
                        node, bound = right[node], max(bound, gap_right)
                    if far_bound < kth:
                        nodes[top] = far
                        bounds[top] = far_bound
                        top += 1
                if bound >= kth:
                    continue
                leaf = blocks[-1 - left[node]]
                closer = 0
                for p in range(_CAP):
                    m = abs(leaf[0, p] - qp[0])
                    for c in range(1, n_split):
                        v = abs(leaf[c, p] - qp[c])
                        m = v if v > m else m
                    split_dist[p] = m
                    closer += m < kth
                # No split distance below kth: none below the final radius either, and no full
                # distance below kth. Otherwise the leaf's split distances are recorded: every
                # point whose split distance is below the final radius lies in a visited leaf
                # (bound <= its distance < final radius <= kth) and each leaf is visited once,
                # so counting the recorded distances below the final radius is exact.
                if closer == 0:
                    continue
                for p in range(_CAP):
                    recorded[n_recorded + p] = split_dist[p]
                n_recorded += _CAP
                for p in range(_CAP):
                    full = split_dist[p]
                    for c in range(n_split, d):
                        v = abs(leaf[c, p] - qp[c])
                        full = v if v > full else full
                    dist[p] = full
                for p in range(_CAP):
                    full = dist[p]
                    if full < kth:
                        j = k - 1
                        while j > 0 and best[j - 1] > full:
                            best[j] = best[j - 1]
                            j -= 1
                        best[j] = full
                        kth = best[k - 1]
            inside = 0
            for i in range(n_recorded):
                inside += recorded[i] < kth
            radius[q] = kth
            count[q] = inside


@numba.njit(cache=True, nogil=True)
def _count_within(
    points,
    radius,
    blocks,
    left,
    right,
    split_dim,
    left_max,
    right_min,
    lo,
    hi,
    size,
    tasks,
    out,
    shape,
):  # pragma: no cover - compiled
    """Per query q: the number of points at max-norm distance strictly below ``radius[q]``
    (``d = len(shape)``, the number of coordinates, is a compile-time constant, as above)."""
    d = len(shape)
    nodes = np.empty(_STACK, np.int64)
    bounds = np.empty(_STACK)
    for task in tasks:
        for q in range(task, min(task + _CHUNK, points.shape[0])):
            r = radius[q]
            qp = points[q]
            inside = 0
            nodes[0] = 0
            bounds[0] = 0.0
            top = 1
            while top > 0:
                top -= 1
                node = nodes[top]
                bound = bounds[top]
                if bound >= r:
                    continue
                outer = max(qp[0] - lo[node, 0], hi[node, 0] - qp[0])
                for c in range(1, d):
                    g = max(qp[c] - lo[node, c], hi[node, c] - qp[c])
                    outer = g if g > outer else outer
                if outer < r:  # the whole node is inside
                    inside += size[node]
                    continue
                if left[node] >= 0:
                    qs = qp[split_dim[node]]
                    gap_left = max(bound, qs - left_max[node])
                    gap_right = max(bound, right_min[node] - qs)
                    if gap_left < r:
                        nodes[top] = left[node]
                        bounds[top] = gap_left
                        top += 1
                    if gap_right < r:
                        nodes[top] = right[node]
                        bounds[top] = gap_right
                        top += 1
                    continue
                leaf = blocks[-1 - left[node]]
                for p in range(_CAP):
                    m = abs(leaf[0, p] - qp[0])
                    for c in range(1, d):
                        v = abs(leaf[c, p] - qp[c])
                        m = v if v > m else m
                    inside += m < r
            out[q] = inside


def _threads(n_jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) if n_jobs < 0 else n_jobs)


def _parallel(kernel, n: int, n_jobs: int) -> None:
    """Run ``kernel(tasks)`` over chunks of the n queries on threads.

    Each chunk is a task of its own: a thread that finishes early (a sparse region, or a core
    that other processes leave free) takes the next one, so no thread waits for a slower one.
    """
    tasks = np.arange(0, n, _CHUNK, dtype=np.int64)
    threads = min(_threads(n_jobs), len(tasks))
    if threads <= 1 or n < _PARALLEL_MIN:
        kernel(tasks)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(kernel, [tasks[i : i + 1] for i in range(len(tasks))]))


def knn_radius_and_count(
    split: np.ndarray, rest: np.ndarray, k: int, n_jobs: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Joint k-NN radius and the strict neighbour count in the ``split`` marginal.

    Arguments:
        split: One marginal, float64 of shape (n, d_s).
        rest: The other marginal, float64 of shape (n, d_r), paired with ``split``.
        k: The neighbour rank, the point itself included (KSG's k + 1).
        n_jobs: Threads (-1: all cores).

    Returns:
        ``radius[i]``, the k-th smallest max-norm distance from point i to all points of
        ``[split, rest]`` (itself included), and ``count[i]``, the number of points j != i with
        ``max_c |split[j, c] - split[i, c]| < radius[i]``, both in the input order.
    """
    joint = np.ascontiguousarray(np.concatenate([split, rest], axis=1), dtype=np.float64)
    n, n_split = joint.shape[0], split.shape[1]
    perm, points, blocks, left, right, split_dim, left_max, right_min, _, _, _ = _build(
        joint, n_split
    )
    radius = np.empty(n)
    count = np.empty(n, np.int64)
    # Tuples whose lengths are the numbers of coordinates: each gets its own compiled kernel.
    split_shape, shape = (0,) * n_split, (0,) * joint.shape[1]

    def kernel(tasks: np.ndarray) -> None:
        _knn_radius_and_count(
            points, split_shape, k, blocks, left, right, split_dim, left_max, right_min, tasks,
            radius, count, shape,
        )  # fmt: skip

    _parallel(kernel, n, n_jobs)
    out_radius = np.empty(n)
    out_count = np.empty(n, np.int64)
    out_radius[perm] = radius
    # The point itself (distance 0) is among those recorded when the radius is positive.
    out_count[perm] = np.where(radius > 0, count - 1, 0)
    return out_radius, out_count


def count_within(points: np.ndarray, radius: np.ndarray, n_jobs: int = 1) -> np.ndarray:
    """For each i, the number of j != i with ``max_c |points[j, c] - points[i, c]| < radius[i]``.

    Arguments:
        points: float64 of shape (n, d).
        radius: float64 of shape (n,), >= 0.
        n_jobs: Threads (-1: all cores).
    """
    points = np.ascontiguousarray(points, dtype=np.float64)
    n = points.shape[0]
    perm, tree_points, blocks, left, right, split_dim, left_max, right_min, lo, hi, size = _build(
        points, points.shape[1]
    )
    tree_radius = np.ascontiguousarray(radius[perm], dtype=np.float64)
    inside = np.empty(n, np.int64)

    def kernel(tasks: np.ndarray) -> None:
        _count_within(
            tree_points, tree_radius, blocks, left, right, split_dim, left_max, right_min, lo,
            hi, size, tasks, inside, (0,) * points.shape[1],
        )  # fmt: skip

    _parallel(kernel, n, n_jobs)
    out = np.empty(n, np.int64)
    out[perm] = np.where(tree_radius > 0, inside - 1, 0)
    return out


def kth_distance(points: np.ndarray, k: int, n_jobs: int = 1) -> np.ndarray:
    """For each i, the k-th smallest max-norm distance from ``points[i]`` to all points (itself
    included, so ``k = 2`` gives the nearest other point), in the input order."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    return knn_radius_and_count(points, points[:, :0], k, n_jobs)[0]
