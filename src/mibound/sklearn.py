"""Drop-ins for scikit-learn's ``mutual_info_regression`` and ``mutual_info_classif``.

Same signatures, same definitions and preprocessing (KSG estimator 1 for continuous pairs, Ross
(2014) for a discrete–continuous pair, the plug-in for a discrete pair; continuous columns scaled
to unit variance, tiny noise added, negative values clipped to 0), computed on mibound's k-NN
machinery, in threads, with optional standard errors. Usable wherever scikit-learn's are, e.g.
``SelectKBest(functools.partial(mutual_info_classif, random_state=0), k=10)``.

Where they differ from scikit-learn (documented per function): the noise comes from a named
stream of the seed (never the user's raw seed), ``random_state=None`` means seed 0 (the result
is reproducible) and ``n_jobs=None`` means all cores (the values do not depend on it).
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from mibound import _neighbours
from mibound._checks import InvalidTypeError, InvalidValueError
from mibound._random import numpy_rng
from mibound.discrete import category_codes, plugin_codes
from mibound.knn import _ksg_value

__all__ = ["mutual_info_classif", "mutual_info_regression"]


def mutual_info_regression(
    X: Any,
    y: Any,
    *,
    discrete_features: Any = "auto",
    n_neighbors: int = 3,
    copy: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
    return_stderr: bool = False,
    clip: bool = True,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""MI (nats) between each feature of ``X`` and a continuous target ``y``.

    The same definitions as ``sklearn.feature_selection.mutual_info_regression``: for a
    continuous feature KSG estimator 1 with ``n_neighbors`` neighbours (max-norm),

    .. math:: \hat I = \psi(N) + \psi(k) - \langle \psi(n_x + 1) + \psi(n_y + 1) \rangle,

    for a discrete feature the Ross (2014) estimator against ``y``; continuous columns and ``y``
    are scaled to unit variance (without centring) and get Gaussian noise of standard deviation
    :math:`10^{-10} \max(1, \overline{|x|})` to break ties; each value is then clipped at 0.

    Differences from scikit-learn: the noise is drawn from the stream ``"sklearn.noise"`` of the
    seed (so values agree with scikit-learn's to about 1e-9 on tie-free data, not bit for bit);
    ``random_state=None`` means seed 0, not a fresh random state; ``n_jobs=None`` means all cores
    (features are computed in threads; the numbers do not depend on it); ``return_stderr`` and
    ``clip`` are additions.

    Arguments:
        X: Features, array-like or scipy sparse of shape ``(n_samples, n_features)``.
        y: Target, shape ``(n_samples,)``.
        discrete_features: ``"auto"`` (discrete when ``X`` is sparse), a bool, a boolean mask
            of length ``n_features`` or an array of feature indices.
        n_neighbors: k of the k-NN estimators.
        copy: Accepted for compatibility; ``X`` is never modified (always True in effect).
        random_state: int, ``numpy.random.RandomState``/``Generator`` (a seed is drawn from it)
            or None (seed 0).
        n_jobs: Threads; None or -1 for all cores.
        return_stderr: Also return standard errors (disjoint subsamples for k-NN values, the
            delta method for discrete pairs; of the unclipped value).
        clip: Clip negative values at 0, as scikit-learn does; False returns the raw estimate
            (an unbiased-looking value can be negative).

    Returns:
        ``mi`` of shape ``(n_features,)``, or ``(mi, stderr)`` with ``return_stderr``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((1000, 3))
        >>> y = X[:, 0] + 0.5 * rng.standard_normal(1000)
        >>> mi = mutual_info_regression(X, y, random_state=0)
        >>> int(np.argmax(mi)), bool(mi[1] < 0.05)
        (0, True)

    References:
        A. Kraskov, H. Stögbauer, P. Grassberger. Phys. Rev. E 69, 066138 (2004).
        B. C. Ross. PLoS ONE 9 (2014). https://doi.org/10.1371/journal.pone.0087357
    """
    return _estimate_mi(
        X, y, False, discrete_features, n_neighbors, random_state, n_jobs, return_stderr, clip
    )


def mutual_info_classif(
    X: Any,
    y: Any,
    *,
    discrete_features: Any = "auto",
    n_neighbors: int = 3,
    copy: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
    return_stderr: bool = False,
    clip: bool = True,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """MI (nats) between each feature of ``X`` and class labels ``y``.

    As ``sklearn.feature_selection.mutual_info_classif``: Ross (2014) for a continuous feature,
    the plug-in (``sklearn.metrics.mutual_info_score``, no bias correction) for a discrete one;
    preprocessing, clipping and the differences from scikit-learn as in
    :func:`mutual_info_regression`. ``y`` holds class labels (any hashable values; float
    labels must be integer-valued).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(0, 3, 1000)
        >>> X = np.column_stack([y + rng.standard_normal(1000), rng.standard_normal(1000)])
        >>> mi = mutual_info_classif(X, y, random_state=0)
        >>> bool(mi[0] > 0.3 and mi[1] < 0.05)
        True
    """
    return _estimate_mi(
        X, y, True, discrete_features, n_neighbors, random_state, n_jobs, return_stderr, clip
    )


def _check_inputs(X: Any, y: Any, discrete_target: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    sparse = False
    try:
        import scipy.sparse as sp

        if sp.issparse(X):
            sparse = True
            X = X.toarray()
    except ImportError:  # pragma: no cover - scipy is a dependency
        pass
    if type(X).__module__.startswith("pandas"):
        X = X.to_numpy()
    try:
        xa = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            "X: expected numeric features of shape (n_samples, n_features)"
        ) from None
    if xa.ndim != 2:
        raise InvalidValueError(f"X: expected shape (n_samples, n_features), got {xa.shape}")
    if not np.all(np.isfinite(xa)):
        raise InvalidValueError("X: expected finite values, found NaN or inf")
    ya = np.asarray(y.to_numpy() if type(y).__module__.startswith("pandas") else y)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1:
        raise InvalidValueError(f"y: expected shape (n_samples,), got {ya.shape}")
    if ya.shape[0] != xa.shape[0]:
        raise InvalidValueError(
            f"X, y: expected the same number of samples, got {xa.shape[0]} and {ya.shape[0]}"
        )
    if discrete_target:
        if ya.dtype.kind == "f" and (not np.all(np.isfinite(ya)) or np.any(ya != np.round(ya))):
            raise InvalidValueError(
                "y: expected class labels, got continuous values; use "
                "mutual_info_regression for a continuous target"
            )
        _, codes = np.unique(ya, return_inverse=True)
        ya = codes.reshape(-1).astype(np.float64)
    else:
        try:
            ya = ya.astype(np.float64)
        except (TypeError, ValueError):
            raise InvalidTypeError("y: expected a numeric target") from None
        if not np.all(np.isfinite(ya)):
            raise InvalidValueError("y: expected finite values, found NaN or inf")
    return xa, ya, sparse


def _discrete_mask(spec: Any, n_features: int, sparse: bool) -> np.ndarray:
    if isinstance(spec, str):
        if spec != "auto":
            raise InvalidValueError(
                f"discrete_features: expected 'auto', a bool or an array, got {spec!r}"
            )
        return np.full(n_features, sparse)
    if isinstance(spec, (bool, np.bool_)):
        return np.full(n_features, bool(spec))
    array = np.asarray(spec)
    if array.dtype == bool:
        if array.shape != (n_features,):
            raise InvalidValueError(
                f"discrete_features: a boolean mask needs shape ({n_features},), got {array.shape}"
            )
        return array.copy()
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise InvalidValueError(
            "discrete_features: expected 'auto', a bool, a boolean mask or feature indices, "
            f"got {spec!r}"
        )
    mask = np.zeros(n_features, dtype=bool)
    if np.any((array < -n_features) | (array >= n_features)):
        raise InvalidValueError(f"discrete_features: index out of range for {n_features} features")
    mask[array] = True
    return mask


def _seed(random_state: Any) -> int:
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InvalidValueError(
                f"random_state: expected a non-negative integer, got {random_state}"
            )
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise InvalidTypeError(
        f"random_state: expected None, an int, a RandomState or a Generator, got {random_state!r}"
    )


def _scaled_with_noise(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit variance without centring, then noise 1e-10 * max(1, mean |v|) (scikit-learn's)."""
    sd = values.std(axis=0)
    sd[sd == 0] = 1.0
    out = values / sd
    scale = np.maximum(1.0, np.mean(np.abs(out), axis=0))
    return out + 1e-10 * scale * rng.standard_normal(out.shape)


def _ross(labels: np.ndarray, cont: np.ndarray, k: int, threads: int, engine: str) -> float:
    from mibound.mixed import _ross_value

    counts = np.bincount(labels)
    keep = counts[labels] > 1
    if keep.sum() < 2:
        return 0.0
    kept = np.unique(labels[keep], return_inverse=True)[1].reshape(-1)
    return _ross_value(kept, np.ascontiguousarray(cont[keep]), k, threads, engine)


def _pair_value(
    col: np.ndarray,
    col_discrete: bool,
    target: np.ndarray,
    target_discrete: bool,
    k: int,
    threads: int,
    engine: str,
) -> float:
    if col_discrete and target_discrete:
        cx, mx = category_codes(col[:, None])
        cy, my = category_codes(target[:, None])
        if mx < 2 or my < 2:
            return 0.0
        return plugin_codes(cx, mx, cy, my, correction="none").settings["plugin_value"]
    if col_discrete or target_discrete:
        labels_src, cont = (col, target) if col_discrete else (target, col)
        labels, _ = category_codes(labels_src[:, None])
        return _ross(labels, cont[:, None], k, threads, engine)
    return _ksg_value(col[:, None], target[:, None], k, threads, engine)


def _estimate_mi(
    X: Any,
    y: Any,
    discrete_target: bool,
    discrete_features: Any,
    n_neighbors: Any,
    random_state: Any,
    n_jobs: Any,
    return_stderr: bool,
    clip: bool,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    if (
        isinstance(n_neighbors, bool)
        or not isinstance(n_neighbors, numbers.Integral)
        or n_neighbors < 1
    ):
        raise InvalidValueError(f"n_neighbors: expected a positive integer, got {n_neighbors!r}")
    k = int(n_neighbors)
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0
    ):
        raise InvalidValueError(f"n_jobs: expected None, -1 or a positive integer, got {n_jobs!r}")
    threads = (os.cpu_count() or 1) if n_jobs is None or n_jobs < 0 else int(n_jobs)
    xa, ya, sparse = _check_inputs(X, y, discrete_target)
    n, p = xa.shape
    if n <= k:
        raise InvalidValueError(f"X: expected more than n_neighbors = {k} samples, got {n}")
    mask = _discrete_mask(discrete_features, p, sparse)
    seed = _seed(random_state)
    rng = numpy_rng(seed, "sklearn.noise")
    cont = ~mask
    if cont.any():
        xa = xa.copy()
        xa[:, cont] = _scaled_with_noise(xa[:, cont], rng)
    if not discrete_target:
        ya = _scaled_with_noise(ya[:, None], rng)[:, 0]
    engine = _neighbours.backend("auto")
    # Threads across features; each feature's tree then runs single-threaded.
    inner = 1 if p > 1 else threads

    def one(j: int) -> tuple[float, float]:
        col = np.ascontiguousarray(xa[:, j])
        value = _pair_value(col, bool(mask[j]), ya, discrete_target, k, inner, engine)
        if not return_stderr:
            return value, math.nan
        if mask[j] and discrete_target:
            cx, mx = category_codes(col[:, None])
            cy, my = category_codes(ya[:, None])
            if mx < 2 or my < 2:
                return value, 0.0
            return value, plugin_codes(cx, mx, cy, my, correction="none").stderr

        def compute(idx: np.ndarray) -> float:
            return _pair_value(col[idx], bool(mask[j]), ya[idx], discrete_target, k, inner, engine)

        stderr, _, _, _ = _neighbours.subsample_stderr(
            compute, n, numpy_rng(seed, f"sklearn.subsamples.{j}"), None, min_size=k + 2
        )
        return value, stderr

    if threads > 1 and p > 1:
        with ThreadPoolExecutor(min(threads, p)) as pool:
            pairs = list(pool.map(one, range(p)))
    else:
        pairs = [one(j) for j in range(p)]
    mi = np.array([v for v, _ in pairs])
    if clip:
        mi = np.maximum(mi, 0.0)
    if return_stderr:
        return mi, np.array([s for _, s in pairs])
    return mi
