"""The Kraskov–Stögbauer–Grassberger (KSG) k-nearest-neighbour MI estimator."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from mibound import diagnostics as _diagnostics
from mibound._checks import (
    InvalidTypeError,
    InvalidValueError,
    MissingDependencyError,
    check_knn_options,
    check_seed,
)
from mibound._inputs import (
    as_pair,
    distinct_rows,
    power_of_two_scale,
    same_columns,
)
from mibound._memory import check_memory
from mibound._random import numpy_rng
from mibound._stats import Z95
from mibound.results import Estimate

__all__ = ["ksg"]


def ksg(
    x: Any,
    y: Any,
    k: int = 3,
    *,
    seed: int = 0,
    noise: float = 1e-10,
    subsamples: int | None = None,
    n_jobs: int = -1,
    backend: str = "auto",
    standardize: bool = True,
    device: Any = None,
) -> Estimate:
    r"""KSG estimator 1 of :math:`I(X;Y)` (an estimate, no guarantee of side).

    .. math::
        \hat I = \psi(k) + \psi(N) - \frac{1}{N} \sum_{i=1}^N
            \left[\psi(n_x(i) + 1) + \psi(n_y(i) + 1)\right]

    where :math:`\varepsilon_i` is the max-norm distance from :math:`(x_i, y_i)` to its k-th
    nearest neighbour in the joint space and :math:`n_x(i)` (:math:`n_y(i)`) counts the other
    points whose max-norm distance to :math:`x_i` (:math:`y_i`) is *strictly* less than
    :math:`\varepsilon_i`. X and Y may be vectors.

    The max-norm makes the estimator depend on each column's scale while the MI does not, so
    by default every column is first divided by its standard deviation (computed after an exact
    power-of-two rescaling, so that values such as ``x * 1e300`` neither overflow nor change
    the value).

    Ties (repeated or discretised values) make the k-th neighbour ambiguous; they are broken by
    adding Gaussian noise of standard deviation ``noise`` times each column's standard
    deviation, drawn from the random stream named ``"ksg.noise"`` under ``seed`` (first for
    every column of x, then for y; see :func:`mibound._random.numpy_rng`), so the same seed
    gives the same value and the noise never equals a stream the user drew from
    ``numpy.random.default_rng(seed)``: the noise of a discretised data set must not be its
    hidden continuous values.

    Repeated ``(x, y)`` rows and columns of y that are copies of columns of x break the
    estimator's assumptions (a continuous joint density); the first is reported in the
    diagnostics, the second is an error for continuous data (the MI is infinite).

    The value is not clipped: for (nearly) independent data it is negative about half the time.
    Its bias is small for low dimensions and smooth densities but grows with the dimension and
    the MI (KSG underestimates large MI in high dimension: it needs on the order of
    :math:`e^{I}` samples per neighbourhood scale).

    The standard error comes from ``m`` disjoint subsamples: the data are permuted (from the
    seed) and the first ``m * n_s`` points split into ``m`` parts of ``n_s = min(N // m,
    50000)`` points; KSG is computed on each part and, since the variance of the estimator
    scales as :math:`1/N`, the standard error of the full-sample value is
    :math:`\mathrm{sd}(\hat I_1, \dots, \hat I_m) \sqrt{n_s/N}`. Above 500,000 points the
    parts are capped at 50,000 points each, so the standard error costs a fixed few seconds
    instead of as much as the value; the :math:`1/N` extrapolation then spans a factor
    :math:`N/n_s` (20 at a million points), which tests check against the spread of
    full-sample values on Gaussian data. Unlike
    a bootstrap, disjoint parts never contain duplicated points, which would look like
    zero-distance neighbours and inflate the estimate. The 1/N scaling is approximate: over 40
    seeds the reported standard error matched the observed spread for d = 2 + 2 (ratio 0.99,
    N = 1000) and independent 1-d data (0.76), but understated it for large MI in high
    dimension (0.6 at d = 5 + 5, I = 4.2 nats, N = 2000), where the parts' larger bias matters.

    Arguments:
        x: Samples of X, shape ``(N,)`` or ``(N, d_x)`` (numpy, torch or pandas).
        y: Samples of Y, shape ``(N,)`` or ``(N, d_y)``, paired with ``x``.
        k: The number of neighbours (larger k: less variance, more bias); below ``N / 2``.
        seed: Seed (a non-negative integer) of the tie-breaking noise and of the subsample
            split.
        noise: Relative size of the tie-breaking noise; 0 disables it.
        subsamples: The number ``m`` of disjoint parts for the standard error; None picks
            ``min(10, N // 50)`` (at least 2); 0 skips the standard error (it is then NaN and a
            diagnostic says so).
        n_jobs: Threads for the tree queries (-1: all cores).
        backend: ``"numba"`` (compiled max-norm k-d trees: one search gives the joint radius
            and one marginal count, whole nodes are counted in O(1);
            ``pip install 'mibound[fast]'``), ``"scipy"`` (``cKDTree``), ``"torch"`` (blocked
            brute force in float64 on ``device``: O(N^2) work that suits a GPU), or ``"auto"``:
            torch when ``device`` is given or torch sees a GPU and N >= 20,000; else numba when
            installed and N >= 5000 with a joint dimension of at least 4, or N >= 200 000
            (below that, loading numba costs more than it saves); else scipy. Every backend
            gives identical values.
        device: The torch device of the ``"torch"`` backend (None: "cuda" when available,
            else "cpu"); giving one with ``backend="auto"`` selects the torch backend.
        standardize: Divide each column by its standard deviation first (the default); False
            runs KSG on the raw values (only the overflow-safe power-of-two rescaling of the
            whole data, which leaves the value unchanged).

    Returns:
        An :class:`~mibound.results.Estimate` of kind ``"estimate"`` in nats. Its interval
        covers the sampling noise of the estimate (from the subsamples), not its bias.

    Raises:
        ValueError: Bad arguments; ``k >= N / 2``; a column of y equal to a column of x (up
            to an affine map) for continuous data; a call that would not fit in memory.
        TypeError: Non-numeric data, a seed that is not an integer.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal(2000)
        >>> y = 0.8 * x + 0.6 * rng.standard_normal(2000)
        >>> est = ksg(x, y, k=3)
        >>> abs(est.value - (-0.5 * math.log(1 - 0.8**2))) < 0.05
        True

    References:
        A. Kraskov, H. Stögbauer, P. Grassberger. Estimating mutual information.
        Phys. Rev. E 69, 066138 (2004). https://arxiv.org/abs/cond-mat/0305641
    """
    k = check_knn_options(k, noise, n_jobs)
    seed = check_seed(seed)
    if not isinstance(standardize, (bool, np.bool_)):
        raise InvalidTypeError(f"standardize: expected True or False, got {standardize!r}")
    xa, ya = _paired_arrays(x, y, k)
    n, d_joint = xa.shape[0], xa.shape[1] + ya.shape[1]
    engine, device = _ksg_backend(backend, device, n, d_joint)
    _check_memory(n, d_joint, k, engine, n_jobs)
    diagnostics = _data_diagnostics(xa, ya)
    xa, ya = _prepare(xa, ya, standardize)
    for name, array in (("x", xa), ("y", ya)):
        tails = _diagnostics.heavy_tails(array, name)
        if tails:
            diagnostics.append(tails)
    m = _subsample_count(subsamples, n, k)
    xa, ya = _add_noise(xa, ya, noise, seed)
    value, stderr, parts = _value_and_stderr(xa, ya, k, seed, m, n_jobs, engine, device)
    diagnostics += _stderr_diagnostics(n, m, subsamples is None)
    if not math.isfinite(value):  # pragma: no cover - digamma of positive integers is finite
        raise InvalidValueError(f"x, y: KSG produced a non-finite value {value}")
    ci = (value - Z95 * stderr, value + Z95 * stderr)
    diagnostics += _value_diagnostics(value, ci[1], d_joint)
    settings = {
        "k": k,
        "seed": seed,
        "noise": noise,
        "noise_stream": "ksg.noise",
        "standardize": bool(standardize),
        "norm": "max",
        "backend": engine,
        "device": None if device is None else str(device),
        "variant": "KSG estimator 1 (Kraskov et al. 2004, eq. 8)",
    }
    return Estimate(
        value=value,
        stderr=stderr,
        ci=ci,
        kind="estimate",
        method="ksg",
        n=n,
        diagnostics=diagnostics,
        history={"subsample_values": parts} if parts else {},
        settings=settings | _stderr_settings(n, m),
    )


def _paired_arrays(x: Any, y: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The samples as C-ordered 2-d float64 arrays; ``k`` must be below ``N / 2``."""
    xa, ya = as_pair(x, y, min_n=2)
    # C order: reductions then round identically whatever the input's memory layout.
    xa, ya = np.ascontiguousarray(xa), np.ascontiguousarray(ya)
    n = xa.shape[0]
    if 2 * k >= n:
        raise InvalidValueError(
            f"k: expected fewer than N / 2 = {n / 2:g} neighbours, got k = {k} for N = {n} "
            "samples (the k-th neighbour would span most of the sample and the estimate is "
            "meaningless; 3 to 10 is usual)"
        )
    return xa, ya


def _data_diagnostics(x: np.ndarray, y: np.ndarray) -> list[str]:
    """Copies of x's columns in y (an error for continuous x) and repeated ``(x, y)`` rows."""
    n = x.shape[0]
    diagnostics: list[str] = []
    distinct = distinct_rows(x, y)
    copies = same_columns(x, y)
    if copies:
        pairs = ", ".join(f"y[{j}] ~ x[{i}]" for i, j in copies[:4])
        if distinct_rows(x, np.zeros((n, 0))) == n:
            raise InvalidValueError(
                f"x, y: column(s) of y are exact affine copies of columns of x ({pairs}); for "
                "continuous data the MI is then infinite and no finite estimate is meaningful"
            )
        diagnostics.append(
            f"x identical to y: column(s) {pairs} are exact affine copies; for continuous data "
            "the MI would be infinite; for discrete data it is the entropy of the shared "
            "columns, and KSG with tie-breaking noise does not estimate entropies reliably"
        )
    duplicated = _diagnostics.duplicates(n, distinct, method="ksg")
    if duplicated:
        diagnostics.append(duplicated)
    return diagnostics


def _subsample_count(subsamples: object, n: int, k: int) -> int:
    """The number m of disjoint parts for the standard error (0: none), checked."""
    if subsamples is None:
        m = max(2, min(10, n // 50))
        return 0 if n // m < k + 1 else m
    if isinstance(subsamples, bool) or not isinstance(subsamples, (int, np.integer)):
        raise InvalidValueError(f"subsamples: expected an integer >= 2 or 0, got {subsamples!r}")
    m = int(subsamples)
    if m == 1 or m < 0 or (m > 0 and n // m < k + 1):
        raise InvalidValueError(
            f"subsamples: expected 0 or an integer >= 2 with at least k + 1 = {k + 1} "
            f"samples per part, got {subsamples!r} for n = {n}"
        )
    return m


def _add_noise(
    x: np.ndarray, y: np.ndarray, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Tie-breaking Gaussian noise of ``noise`` times each column's sd (stream "ksg.noise")."""
    if noise <= 0:
        return x, y
    rng = numpy_rng(seed, "ksg.noise")
    x = x + noise * x.std(axis=0) * rng.standard_normal(x.shape)
    y = y + noise * y.std(axis=0) * rng.standard_normal(y.shape)
    return x, y


def _value_and_stderr(
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    seed: int,
    m: int,
    n_jobs: int,
    engine: str,
    device: Any,
) -> tuple[float, float, list[float]]:
    """The full-sample value, its standard error from m disjoint parts, and the parts' values.

    The standard error is ``sd(parts) * sqrt(n_s / N)`` (NaN when ``m`` is 0).
    """
    n = x.shape[0]
    if m < 2:
        return _ksg_value(x, y, k, n_jobs, engine, device), math.nan, []
    order = numpy_rng(seed, "ksg.subsamples").permutation(n)
    size = _part_size(n, m)
    if engine == "numba" and _threads(n_jobs) > 1:
        # The parts run one after another on a thread of their own while the value uses
        # the others: no core waits for the slowest piece (the kernels release the GIL).
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(_subsample_values, x, y, order, m, size, k, 1, engine, device)
            value = _ksg_value(x, y, k, n_jobs, engine, device)
            parts = future.result()
    else:
        value = _ksg_value(x, y, k, n_jobs, engine, device)
        parts = _subsample_values(x, y, order, m, size, k, n_jobs, engine, device)
    return value, float(np.std(parts, ddof=1) * math.sqrt(size / n)), parts


def _part_size(n: int, m: int) -> int:
    """The points in each of the m standard-error parts: ``min(N // m, 50000)``."""
    return min(n // m, _PART_MAX)


def _stderr_diagnostics(n: int, m: int, default_m: bool) -> list[str]:
    """A missing or rough (under 50 points per part) standard error."""
    if m < 2:
        return [
            "no standard error: too few samples for disjoint subsamples"
            if default_m
            else "no standard error: subsamples=0"
        ]
    size = _part_size(n, m)
    if size < 50:
        return [f"rough standard error: only {size} samples in each of the {m} subsamples"]
    return []


def _value_diagnostics(value: float, upper: float, d_joint: int) -> list[str]:
    """High joint dimension (bias toward 0) and a negative value."""
    diagnostics = []
    if d_joint > 10:
        diagnostics.append(
            f"high dimension ({d_joint} joint): KSG is biased toward 0 for large MI in high "
            "dimension"
        )
    below = _diagnostics.negative(value, upper, kind="estimate")
    if below:
        diagnostics.append(below)
    return diagnostics


def _stderr_settings(n: int, m: int) -> dict[str, Any]:
    """The settings entries that describe the standard error and its interval."""
    return {
        "subsamples": m,
        "subsample_size": _part_size(n, m) if m else None,
        "stderr_method": (
            "disjoint subsamples: sd of the m part estimates times sqrt(n_s/N) for parts "
            "of n_s = min(N // m, 50000) points, assuming variance proportional to 1/N"
            if m
            else "none"
        ),
        "interval_covers": (
            "sampling noise of the estimate (from disjoint subsamples), not its bias"
        ),
    }


#: The most points in one standard-error part: from N = 500,000 the m parts are a random
#: m * 50,000 of the points (their fits cost about 5 s of CPU time together in 5 + 5 dims)
#: rather than all N, whose fits would cost about as much as the value itself.
_PART_MAX = 50_000


def _prepare(x: np.ndarray, y: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    """Overflow-safe scaling: per column to unit sd, or one power of two for all columns.

    Without ``standardize`` every column is multiplied by the same power of two (exact), so
    distances keep their ratios and the value is that of the raw data.
    """
    if standardize:
        x, y = power_of_two_scale(x), power_of_two_scale(y)
        return x / x.std(axis=0), y / y.std(axis=0)
    peak = max(float(np.max(np.abs(x))), float(np.max(np.abs(y))))
    _, exponent = math.frexp(peak if peak > 0 else 1.0)
    return np.ldexp(x, -exponent), np.ldexp(y, -exponent)


def _check_memory(n: int, d: int, k: int, backend: str, n_jobs: int) -> None:
    """Refuses a call whose k-NN buffers would not fit in memory (e.g. a huge ``k``)."""
    threads = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    # Data copies (noise, joint, trees, subsamples) plus per-thread k-NN buffers: the numba
    # tree keeps a (leaf size x k) distance block per query leaf, cKDTree a k-heap per query.
    per_thread = (64 * 8 if backend == "numba" else 16) * (k + 1)
    needed = 12.0 * n * (d + 2) * 8 + threads * per_thread
    check_memory(
        needed,
        f"k: KSG with k = {k} on N = {n} samples",
        "use a smaller k (3 to 10 is usual) or fewer samples",
    )


_GPU_MIN = 20_000  # "auto" uses a GPU from this many points (brute force is O(N^2))


def _ksg_backend(name: str, device: Any, n: int, joint_dim: int) -> tuple[str, Any]:
    """KSG's backend and its torch device (None unless torch): ``_backend`` plus torch."""
    if name not in ("auto", "numba", "scipy", "torch"):
        raise InvalidValueError(
            f"backend: expected 'auto', 'numba', 'scipy' or 'torch', got {name!r}"
        )
    if device is not None and name in ("numba", "scipy"):
        raise InvalidValueError(
            f"device: only the 'torch' backend takes a device, got backend={name!r}"
        )
    if name == "torch" or (name == "auto" and device is not None):
        try:
            from mibound._knn_torch import default_device
        except ImportError:  # pragma: no cover - torch is a dependency
            raise MissingDependencyError("backend='torch' needs torch") from None
        return "torch", default_device() if device is None else device
    if name == "auto" and n >= _GPU_MIN:
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
        else:
            if torch.cuda.is_available():
                return "torch", "cuda"
    return _backend(name, n, joint_dim), None


#: ``backend="auto"`` picks numba only where it pays for loading it. Measured on one core
#: (k = 3, best of 3, after compilation; loading numba and its on-disk cache costs about 1.1 s
#: per process, compiling on the very first call about 6 s): 2-d joint (x, y 1-d each) scipy
#: 0.05 s / numba 0.04 s at N = 10^4, 1.1 s / 0.7 s at 10^5; 10-d joint (5 + 5) scipy 0.12 s /
#: numba 0.02 s at N = 10^3, 0.75 / 0.11 at 3000, 4.3 / 0.9 at 10^4, 21 / 3.4 at 3 x 10^4.
_NUMBA_MIN_N = 5000  # joint dimension >= 4
_NUMBA_MIN_N_LOW_DIM = 200_000  # joint dimension 2 or 3


def _backend(name: str, n: int = 0, joint_dim: int = 0) -> str:
    """The CPU tree backend: numba where it pays (see above) or when asked for, else scipy."""
    if name not in ("auto", "numba", "scipy"):
        raise InvalidValueError(f"backend: expected 'auto', 'numba' or 'scipy', got {name!r}")
    if name == "scipy":
        return name
    if name == "auto" and n < (_NUMBA_MIN_N if joint_dim >= 4 else _NUMBA_MIN_N_LOW_DIM):
        return "scipy"
    try:
        import mibound._kdtree  # noqa: F401 - needs numba
    except ImportError:
        if name == "numba":
            raise MissingDependencyError(
                "backend='numba' needs numba: pip install 'mibound[fast]'"
            ) from None
        return "scipy"
    return "numba"


def _subsample_values(
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    m: int,
    size: int,
    k: int,
    n_jobs: int,
    engine: str,
    device: Any,
) -> list[float]:
    """KSG on the m disjoint parts ``order[j * size : (j + 1) * size]``, in that order.

    With the numba backend the parts run in threads, one core each (its kernels release the
    GIL); the values do not depend on the thread count.
    """
    index = [order[j * size : (j + 1) * size] for j in range(m)]
    threads = min(m, _threads(n_jobs))
    if engine != "numba" or threads <= 1:
        return [_ksg_value(x[i], y[i], k, n_jobs, engine, device) for i in index]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda i: _ksg_value(x[i], y[i], k, 1, engine), index))


def _threads(n_jobs: int) -> int:
    """The number of threads ``n_jobs`` asks for (-1: all cores)."""
    return (os.cpu_count() or 1) if n_jobs < 0 else n_jobs


def _ksg_value(
    x: np.ndarray, y: np.ndarray, k: int, n_jobs: int, backend: str = "scipy", device: Any = None
) -> float:
    """KSG estimator 1 on validated, tie-broken float64 arrays of shape (n, d)."""
    n = x.shape[0]
    if backend == "torch":
        from mibound._knn_torch import knn_counts

        eps, n_x, n_y = knn_counts(x, y, k, device)
    elif backend == "numba":
        eps, n_x, n_y = _numba_counts(x, y, k, n_jobs)
    else:
        joint = np.concatenate([x, y], axis=1)
        tree = cKDTree(joint)
        # k + 1 because every point is its own nearest neighbour at distance 0.
        eps = tree.query(joint, k=[k + 1], p=np.inf, workers=n_jobs)[0][:, 0]
        n_x = _count_closer(x, eps, n_jobs)
        n_y = _count_closer(y, eps, n_jobs)
    value = digamma(k) + digamma(n) - np.mean(digamma(n_x + 1.0) + digamma(n_y + 1.0))
    return float(value)


def _numba_counts(
    x: np.ndarray, y: np.ndarray, k: int, n_jobs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from mibound._kdtree import count_within, knn_radius_and_count

    # One search gives the joint radius and the count in the marginal the tree splits on; the
    # marginal with more coordinates holds fewer points within the radius, so it is searched.
    swap = y.shape[1] > x.shape[1]
    split, rest = (y, x) if swap else (x, y)
    eps, n_split = knn_radius_and_count(split, rest, k + 1, n_jobs)
    if rest.shape[1] == 1:
        n_rest = _count_closer_1d(rest[:, 0], eps)
    else:
        n_rest = count_within(rest, eps, n_jobs)
    return (eps, n_rest, n_split) if swap else (eps, n_split, n_rest)


def _count_closer(points: np.ndarray, radius: np.ndarray, n_jobs: int) -> np.ndarray:
    """For each i, the number of j != i with max-norm distance ``|p_j - p_i| < radius_i``."""
    if points.shape[1] == 1:
        return _count_closer_1d(points[:, 0], radius)
    tree = cKDTree(points)
    # query_ball_point counts distance <= r; the next float below radius makes it strict.
    below = np.nextafter(radius, 0.0)
    counts = tree.query_ball_point(
        points, below, p=np.inf, return_length=True, workers=n_jobs
    ).astype(np.int64)
    # The point itself (distance 0) is counted when radius > 0.
    return np.where(radius > 0, counts - 1, 0)


def _count_closer_1d(values: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Exact strict counts for 1-d points by vectorised binary search on the sorted values.

    ``fl(v_j - v_i)`` is monotone in ``v_j``, so ``{j : fl(v_j - v_i) < r_i}`` and
    ``{j : fl(v_i - v_j) < r_i}`` are contiguous in sorted order; bisecting with the exact
    floating-point predicate gives the same counts as a brute-force comparison (a plain
    ``searchsorted`` on ``v_i +- r_i`` can be off by one through rounding).
    """
    s = np.sort(values)
    hi = _first_true(lambda idx: (s[idx] - values) >= radius, values.shape[0])
    lo = _first_true(lambda idx: (values - s[idx]) < radius, values.shape[0])
    counts = hi - lo  # points strictly within radius, including i itself when radius > 0
    return np.where(radius > 0, counts - 1, 0)


def _first_true(predicate: Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """Per query i, the smallest index in [0, n] where the monotone ``predicate`` holds."""
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, n, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        ok = predicate(np.minimum(mid, n - 1))
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
