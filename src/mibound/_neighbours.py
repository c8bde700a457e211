"""Max-norm neighbour queries shared by the k-NN estimators, and their subsample error bars.

Thin wrappers over :mod:`mibound.knn`'s backends (the numba trees of :mod:`mibound._kdtree` or
scipy's ``cKDTree``), so the mixed and conditional estimators get the same speed work.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from mibound._checks import InvalidValueError
from mibound.knn import _backend, _count_closer, _count_closer_1d

__all__ = ["backend", "kth_distances", "strict_counts", "subsample_stderr"]

backend = _backend


def _threads(n_jobs: int) -> int:
    return (os.cpu_count() or 1) if n_jobs < 0 else max(1, n_jobs)


def kth_distances(points: np.ndarray, k: int, n_jobs: int, engine: str) -> np.ndarray:
    """Per point, the max-norm distance to its k-th nearest *other* point."""
    if engine == "numba":
        from mibound._kdtree import kth_distance

        return kth_distance(points, k + 1, _threads(n_jobs))
    return cKDTree(points).query(points, k=[k + 1], p=np.inf, workers=n_jobs)[0][:, 0]


def strict_counts(points: np.ndarray, radius: np.ndarray, n_jobs: int, engine: str) -> np.ndarray:
    """Per point i, ``#{j != i : max_c |p_jc - p_ic| < radius_i}`` (0 where radius is 0).

    Pass ``np.nextafter(r, np.inf)`` to count ``<= r``.
    """
    if points.shape[1] == 1:
        return _count_closer_1d(points[:, 0], radius)
    if engine == "numba":
        from mibound._kdtree import count_within

        return count_within(points, radius, _threads(n_jobs))
    return _count_closer(points, radius, n_jobs)


def subsample_stderr(
    compute: Callable[[np.ndarray], float],
    n: int,
    rng: np.random.Generator,
    subsamples: int | None,
    min_size: int,
) -> tuple[float, list[float], int, list[str]]:
    """Standard error from ``m`` disjoint random parts (variance assumed proportional to 1/N).

    Arguments:
        compute: The estimator on the rows given by an index array.
        n: The number of rows.
        rng: Draws the permutation.
        subsamples: ``m``; None picks ``min(10, n // 50)`` (at least 2); 0 skips.
        min_size: The fewest rows a part may have.

    Returns:
        ``(stderr, part values, m, diagnostics)``; stderr is NaN (with a diagnostic) when
        skipped.

    Raises:
        ValueError: A bad ``subsamples``.
    """
    if subsamples is None:
        m = max(2, min(10, n // 50))
        if n // m < min_size:
            m = 0
    else:
        if isinstance(subsamples, bool) or not isinstance(subsamples, (int, np.integer)):
            raise InvalidValueError(
                f"subsamples: expected an integer >= 2 or 0, got {subsamples!r}"
            )
        m = int(subsamples)
        if m == 1 or m < 0 or (m > 0 and n // m < min_size):
            raise InvalidValueError(
                f"subsamples: expected 0 or an integer >= 2 with at least {min_size} samples "
                f"per part, got {subsamples!r} for n = {n}"
            )
    if m < 2:
        why = "too few samples for disjoint subsamples" if subsamples is None else "subsamples=0"
        return math.nan, [], 0, [f"no standard error: {why}"]
    order = rng.permutation(n)
    size = n // m
    parts = [compute(order[j * size : (j + 1) * size]) for j in range(m)]
    stderr = float(np.std(parts, ddof=1) * math.sqrt(size / n))
    notes = []
    if size < 50:
        notes.append(f"rough standard error: only {size} samples in each of the {m} subsamples")
    return stderr, parts, m, notes
