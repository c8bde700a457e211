"""k-NN MI between discrete and continuous variables: Ross (2014) and Gao et al. (2017)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import digamma

from mibound import _neighbours
from mibound._checks import InvalidTypeError, InvalidValueError, check_knn_options
from mibound._discrete_columns import Columns, resolve_columns
from mibound._random import numpy_rng
from mibound._stats import interval95
from mibound.discrete import category_codes, plugin_codes
from mibound.results import Estimate

__all__ = ["VARIANTS", "mixed", "mixed_columns"]

VARIANTS: tuple[str, ...] = ("auto", "ross", "gao")


def mixed(
    x: Any,
    y: Any,
    k: int = 3,
    *,
    discrete_x: Any = None,
    discrete_y: Any = None,
    variant: str = "auto",
    seed: int = 0,
    noise: float = 1e-10,
    subsamples: int | None = None,
    n_jobs: int = -1,
    backend: str = "auto",
) -> Estimate:
    r"""k-NN estimate of :math:`I(X;Y)` when some columns are discrete (an estimate, no side).

    **Ross** (one side discrete, the other continuous; the side roles are symmetric). For each
    point i with label :math:`c_i` shared by :math:`N_{c_i} \ge 2` points, :math:`d_i` is the
    max-norm distance (in the continuous variable) to its :math:`k_i = \min(k, N_{c_i} - 1)`-th
    neighbour *of the same label*, and :math:`m_i` counts the points of any label within
    :math:`d_i` (the k-th neighbour included, i itself not):

    .. math::
        \hat I = \psi(N) - \langle \psi(N_{c_i}) \rangle + \langle \psi(k_i) \rangle
                 - \langle \psi(m_i) \rangle

    Points whose label occurs once are dropped (and N counts the rest), as in the paper.

    **Gao** (mixtures of discrete and continuous values in any column). :math:`\rho_i` is the
    max-norm distance to the k-th neighbour in the joint space. When :math:`\rho_i = 0` (the
    point is repeated at least k times) :math:`\tilde k_i` is the number of its repeats and
    :math:`n_{x,i}`, :math:`n_{y,i}` count the other points equal to it in each marginal;
    otherwise :math:`\tilde k_i = k` and the counts are of the other points strictly within
    :math:`\rho_i`:

    .. math::
        \hat I = \frac1N \sum_i \left[\psi(\tilde k_i) + \psi(N) - \psi(n_{x,i} + 1)
                 - \psi(n_{y,i} + 1)\right]

    On continuous data this is exactly KSG estimator 1. The paper writes logarithms for the
    last three terms and inclusive counts (:math:`\le \rho_i`); on a discrete X uniform on
    {0..3} with :math:`Y \sim U[X, X+2]` (I = 0.866) that literal form gave 0.54 at
    N = 4000 (marginal counts there are small, where :math:`\log(n+1)` and
    :math:`\psi(n+1)` differ), this form 0.864.

    Discrete columns enter the Gao distance through their category index times a spacing
    larger than every continuous range, so two points of different categories are never
    neighbours before all points of the same category are (a discrete metric).

    ``variant="auto"`` picks Ross when one side is all discrete and the other all continuous,
    Gao otherwise. Continuous columns get the same tie-breaking noise as :func:`mibound.ksg`
    (relative size ``noise``, from the seed's ``"mixed.noise"`` stream): ties in continuous data
    are never read as discrete atoms unless ``noise=0`` and ``variant="gao"`` ask for it.
    Discrete columns are never jittered. The standard error comes from disjoint subsamples as in
    :func:`mibound.ksg`.

    Arguments:
        x: Samples of X, shape ``(N,)`` or ``(N, d_x)`` (numpy, torch, pandas, lists);
            pandas categorical or string columns are discrete.
        y: Samples of Y, paired with ``x``.
        k: The number of neighbours.
        discrete_x: Which columns of x are discrete: None (guess integer columns with few
            values, reported in the diagnostics), a bool, column indices, or a boolean mask.
        discrete_y: The same for y.
        variant: ``"auto"``, ``"ross"`` or ``"gao"``.
        seed: Seed of the tie-breaking noise and of the subsample split.
        noise: Relative size of the tie-breaking noise on continuous columns; 0 disables it.
        subsamples: Disjoint parts for the standard error (None: automatic; 0: none).
        n_jobs: Threads for the tree queries (-1: all cores).
        backend: ``"auto"``, ``"numba"`` or ``"scipy"`` (as in :func:`mibound.ksg`).

    Returns:
        An :class:`~mibound.results.Estimate` of kind ``"estimate"`` in nats; ``method`` is
        ``"mixed-ross"`` or ``"mixed-gao"`` and ``settings["discrete"]`` records which columns
        were discrete and why.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> label = rng.integers(0, 4, 4000)
        >>> y = label + rng.uniform(0, 2, 4000)  # I = log 4 - (3/4) log 2 = 0.866
        >>> round(mixed(label, y).value, 1)
        0.9

    References:
        B. C. Ross. Mutual information between discrete and continuous data sets. PLoS ONE 9
        (2014). https://doi.org/10.1371/journal.pone.0087357
        W. Gao, S. Kannan, S. Oh, P. Viswanath. Estimating mutual information for
        discrete-continuous mixtures. NeurIPS 2017. https://arxiv.org/abs/1709.06212
    """
    cols_x = resolve_columns("x", x, discrete_x)
    cols_y = resolve_columns("y", y, discrete_y)
    return mixed_columns(
        cols_x,
        cols_y,
        k,
        variant=variant,
        seed=seed,
        noise=noise,
        subsamples=subsamples,
        n_jobs=n_jobs,
        backend=backend,
    )


def _check_options(k: Any, noise: Any, n_jobs: Any, variant: Any) -> int:
    k = check_knn_options(k, noise, n_jobs)
    if variant not in VARIANTS:
        raise InvalidValueError(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
    return k


def mixed_columns(
    cols_x: Columns,
    cols_y: Columns,
    k: int = 3,
    *,
    variant: str = "auto",
    seed: int = 0,
    noise: float = 1e-10,
    subsamples: int | None = None,
    n_jobs: int = -1,
    backend: str = "auto",
) -> Estimate:
    """:func:`mixed` on columns already resolved by :func:`resolve_columns`."""
    k = _check_options(k, noise, n_jobs, variant)
    xa, ya = cols_x.values, cols_y.values
    if xa.shape[0] != ya.shape[0]:
        raise InvalidValueError(
            f"x, y: expected the same number of samples (rows), got {xa.shape[0]} and {ya.shape[0]}"
        )
    n = xa.shape[0]
    if n < k + 1:
        raise InvalidValueError(f"x: expected at least k + 1 = {k + 1} samples (rows), got {n}")
    variant = _variant(variant, cols_x, cols_y)
    engine = _neighbours.backend(backend)
    rng = numpy_rng(seed, "mixed.noise")
    xa = _jitter(xa, cols_x.discrete, noise, rng)
    ya = _jitter(ya, cols_y.discrete, noise, rng)
    diagnostics = [*cols_x.notes, *cols_y.notes]
    settings: dict[str, Any] = {"k": k, "seed": seed, "noise": noise, "norm": "max"}
    if variant == "ross":
        labels, cont = (xa, ya) if cols_x.all_discrete else (ya, xa)
        value, compute, n_used, dropped = _ross(labels, cont, k, n_jobs, engine)
        diagnostics += dropped
        settings["variant"] = "Ross 2014 (discrete label vs continuous, max-norm)"
    else:
        gx = _spaced(xa, cols_x.discrete, cols_x, cols_y)
        gy = _spaced(ya, cols_y.discrete, cols_x, cols_y)

        def compute(idx: np.ndarray) -> float:
            return _gao_value(gx[idx], gy[idx], k, n_jobs, engine)

        value = _gao_value(gx, gy, k, n_jobs, engine)
        n_used = n
        settings["variant"] = "Gao et al. 2017 (discrete-continuous mixtures, max-norm)"
    stderr, parts, m, notes = _neighbours.subsample_stderr(
        compute, n_used, numpy_rng(seed, "mixed.subsamples"), subsamples, min_size=k + 2
    )
    diagnostics += notes
    if not math.isfinite(value):  # pragma: no cover - counts are positive
        raise InvalidValueError(f"x, y: the mixed k-NN estimate is not finite ({value})")
    settings.update(
        {
            "backend": engine,
            "subsamples": m,
            "discrete": {"x": cols_x.record(), "y": cols_y.record()},
            "stderr_method": "disjoint subsamples (as ksg)" if m else "none",
        }
    )
    return Estimate(
        value=value,
        stderr=stderr,
        ci=interval95(value, stderr),
        kind="estimate",
        method=f"mixed-{variant}",
        n=n_used,
        diagnostics=diagnostics,
        history={"subsample_values": parts} if parts else {},
        settings=settings,
    )


def _variant(variant: str, cols_x: Columns, cols_y: Columns) -> str:
    """The variant to run: ``"auto"`` is Ross when one side is all discrete and the other all
    continuous, else Gao; Ross on other data is an error."""
    split = (cols_x.all_discrete and not cols_y.any_discrete) or (
        cols_y.all_discrete and not cols_x.any_discrete
    )
    if variant == "auto":
        return "ross" if split else "gao"
    if variant == "ross" and not split:
        raise InvalidValueError(
            "variant: 'ross' needs one side all discrete and the other all continuous; "
            f"discrete columns are x {np.flatnonzero(cols_x.discrete).tolist()}, "
            f"y {np.flatnonzero(cols_y.discrete).tolist()} (use variant='gao')"
        )
    return variant


def _ross(
    discrete: np.ndarray, cont: np.ndarray, k: int, n_jobs: int, engine: str
) -> tuple[float, Callable[[np.ndarray], float], int, list[str]]:
    """Ross's estimate on the points whose label occurs more than once: the value, the value on
    a subsample's indices (for the standard error), the points used and a note on the dropped."""
    n = discrete.shape[0]
    labels, _ = category_codes(discrete)
    _, dropped = _drop_single_labels(labels)
    keep = np.flatnonzero(dropped == 0)
    labels, cont = labels[keep], cont[keep]
    if cont.shape[0] < 2:
        raise InvalidValueError("x, y: every discrete value occurs once; no neighbours to compare")
    notes = []
    if keep.size < n:
        notes.append(
            f"{n - keep.size} point(s) whose discrete value occurs once were dropped (Ross 2014)"
        )

    def compute(idx: np.ndarray) -> float:
        lab, _ = _drop_single_labels(labels[idx])
        sub = idx[lab >= 0]
        return _ross_value(labels[sub], cont[sub], k, n_jobs, engine)

    return _ross_value(labels, cont, k, n_jobs, engine), compute, int(keep.size), notes


def _jitter(
    values: np.ndarray, discrete: np.ndarray, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """Adds relative tie-breaking noise to the continuous columns only."""
    out = np.array(values, dtype=np.float64, order="C")
    cont = np.flatnonzero(~discrete)
    if noise > 0 and cont.size:
        block = out[:, cont]
        out[:, cont] = block + noise * block.std(axis=0) * rng.standard_normal(block.shape)
    return out


def _spaced(values: np.ndarray, discrete: np.ndarray, *sides: Columns) -> np.ndarray:
    """Discrete columns as category index times a spacing beyond every continuous range."""
    if not discrete.any():
        return values
    ranges = [np.ptp(s.values[:, ~s.discrete], axis=0) for s in sides if (~s.discrete).any()]
    spacing = 1.0 + 2.0 * max((float(r.max()) for r in ranges), default=0.0)
    out = values.copy()
    for j in np.flatnonzero(discrete):
        _, codes = np.unique(values[:, j], return_inverse=True)
        out[:, j] = codes.reshape(-1) * spacing
    return out


def _drop_single_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels re-indexed among points whose label occurs at least twice (-1 for the others),
    and a 0/1 array marking the dropped points."""
    counts = np.bincount(labels)
    single = counts[labels] < 2
    return np.where(single, -1, labels), single.astype(np.int64)


def _ross_value(labels: np.ndarray, cont: np.ndarray, k: int, n_jobs: int, engine: str) -> float:
    n = labels.shape[0]
    counts = np.bincount(labels)
    radius = np.empty(n)
    k_i = np.empty(n)
    for c in np.flatnonzero(counts >= 2):
        idx = np.flatnonzero(labels == c)
        kc = min(k, idx.size - 1)
        radius[idx] = _neighbours.kth_distances(np.ascontiguousarray(cont[idx]), kc, n_jobs, engine)
        k_i[idx] = kc
    m = _neighbours.strict_counts(cont, np.nextafter(radius, np.inf), n_jobs, engine)
    value = (
        digamma(n)
        - np.mean(digamma(counts[labels].astype(np.float64)))
        + np.mean(digamma(k_i))
        - np.mean(digamma(m.astype(np.float64)))
    )
    return float(value)


def _gao_value(x: np.ndarray, y: np.ndarray, k: int, n_jobs: int, engine: str) -> float:
    n = x.shape[0]
    joint = np.ascontiguousarray(np.concatenate([x, y], axis=1))
    rho = _neighbours.kth_distances(joint, k, n_jobs, engine)
    k_tilde = np.full(n, float(k))
    repeated = rho == 0
    if repeated.any():
        tiny = np.full(n, np.nextafter(0.0, 1.0))
        k_tilde[repeated] = _neighbours.strict_counts(joint, tiny, n_jobs, engine)[repeated]
    # Strict counts (< rho) where rho > 0, as KSG estimator 1; the repeats where rho == 0.
    radius = np.where(repeated, np.nextafter(0.0, 1.0), rho)
    n_x = _neighbours.strict_counts(np.ascontiguousarray(x), radius, n_jobs, engine)
    n_y = _neighbours.strict_counts(np.ascontiguousarray(y), radius, n_jobs, engine)
    value = np.mean(digamma(k_tilde) + digamma(n) - digamma(n_x + 1.0) - digamma(n_y + 1.0))
    return float(value)


def plugin_columns(cols_x: Columns, cols_y: Columns, *, correction: str = "miller-madow"):
    """:func:`mibound.discrete.plugin` on resolved all-discrete columns, with their record."""
    est = plugin_codes(
        *category_codes(cols_x.values), *category_codes(cols_y.values), correction=correction
    )
    est.diagnostics[:0] = [*cols_x.notes, *cols_y.notes]
    est.settings["discrete"] = {"x": cols_x.record(), "y": cols_y.record()}
    return est


_KSG_OPTIONS = ("k", "noise", "subsamples", "n_jobs", "backend")

#: Discrete columns with more categories than this are not one-hot encoded.
MAX_ONE_HOT = 64


def encode_categories(
    cols: Columns, *, drop_first: bool = False
) -> tuple[np.ndarray, list[str], list[str]]:
    """Replaces each discrete column by indicator columns of its categories.

    Arguments:
        cols: Resolved columns.
        drop_first: Leave out the first category's indicator (m - 1 columns, no collinearity).

    Returns:
        ``(values, encoded, kept)``: the new float64 array, and the descriptions of the columns
        encoded and of those kept as codes (more than :data:`MAX_ONE_HOT` categories).
    """
    if not cols.any_discrete:
        return cols.values, [], []
    blocks: list[np.ndarray] = []
    encoded: list[str] = []
    kept: list[str] = []
    for j in range(cols.values.shape[1]):
        column = cols.values[:, j]
        if not cols.discrete[j]:
            blocks.append(column[:, None])
            continue
        levels, codes = np.unique(column, return_inverse=True)
        if levels.size > MAX_ONE_HOT:
            blocks.append(column[:, None])
            kept.append(f"{j} ({levels.size} categories)")
            continue
        one_hot = np.eye(levels.size)[codes.reshape(-1)]
        blocks.append(one_hot[:, 1:] if drop_first else one_hot)
        encoded.append(f"{j} ({levels.size} categories)")
    return np.ascontiguousarray(np.concatenate(blocks, axis=1)), encoded, kept


def discrete_aware(
    x: Any,
    y: Any,
    method: str,
    discrete_x: Any,
    discrete_y: Any,
    seed: int,
    options: dict[str, Any],
) -> tuple[Estimate | None, tuple[np.ndarray, np.ndarray], dict[str, Any]]:
    """Routes :func:`mibound.estimate` on data with discrete columns.

    Returns:
        ``(result, (x, y), record)``: the result when ``method`` is ``"ksg"`` or ``"auto"``
        and met a discrete column
        (plug-in or mixed k-NN), else None with the validated arrays (categories as codes) for
        the method itself; ``record`` says which columns are discrete, with ``"notes"`` for the
        diagnostics.
    """
    cols_x = resolve_columns("x", x, discrete_x)
    cols_y = resolve_columns("y", y, discrete_y)
    record: dict[str, Any] = {"x": cols_x.record(), "y": cols_y.record()}
    notes = [*cols_x.notes, *cols_y.notes]
    if not (cols_x.any_discrete or cols_y.any_discrete):
        return None, (cols_x.values, cols_y.values), {**record, "notes": notes}
    if method == "auto":  # the default: discrete columns get the discrete-aware estimators
        unused = sorted(set(options) - {"k"})
        options = {key: value for key, value in options.items() if key == "k"}
        if unused:
            notes.append(
                f"option(s) {', '.join(unused)} unused: with discrete columns method 'auto' "
                "uses the plug-in or mixed k-NN estimator, not a critic"
            )
    if method in ("ksg", "auto"):
        unknown = sorted(set(options) - set(_KSG_OPTIONS))
        if unknown:
            raise InvalidTypeError(
                f"options: method 'ksg' got unexpected option(s) {', '.join(unknown)}"
            )
        if cols_x.all_discrete and cols_y.all_discrete:
            result = plugin_columns(cols_x, cols_y)
            if options:
                result.diagnostics.append(
                    f"option(s) {', '.join(sorted(options))} unused: x and y are both "
                    "discrete, so the estimate is the plug-in count, not k-NN"
                )
        else:
            result = mixed_columns(cols_x, cols_y, seed=seed, **options)
        result.settings["requested_method"] = method
        result.diagnostics[:0] = notes
        return result, (cols_x.values, cols_y.values), record
    # Other methods: categories become indicator columns (an invertible encoding, so the MI is
    # unchanged): one-hot for a critic, whose first linear layer is then an embedding of the
    # categories; one column fewer for the Gaussian method (no collinear columns).
    drop_first = method == "gaussian"
    encoded = []
    for side, cols in (("x", cols_x), ("y", cols_y)):
        values, described, kept = encode_categories(cols, drop_first=drop_first)
        encoded.append(values)
        if not cols.any_discrete:
            continue
        record[side]["encoding"] = "dummy (drop-first)" if drop_first else "one-hot"
        if described:
            what = "indicator columns (drop-first)" if drop_first else "one-hot columns"
            notes.append(
                f"{side}: discrete column(s) {', '.join(described)} encoded as {what}, not "
                "used as numbers"
                + ("" if drop_first else ": the critic's first layer embeds the categories")
            )
        if kept:
            notes.append(
                f"{side}: discrete column(s) {', '.join(kept)} have more than "
                f"{MAX_ONE_HOT} categories and are used as numeric codes (an order categories "
                "do not have); method='ksg' estimates MI with discrete columns properly"
            )
    return None, (encoded[0], encoded[1]), {**record, "notes": notes}
