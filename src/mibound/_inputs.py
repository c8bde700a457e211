"""Validation and conversion of user arrays (numpy, torch, pandas, lists) at the public boundary."""

from __future__ import annotations

from typing import Any

import numpy as np

from mibound._checks import InvalidTypeError, InvalidValueError

__all__ = [
    "as_pair",
    "as_samples",
    "distinct_rows",
    "power_of_two_scale",
    "row_groups",
    "same_columns",
]


def _type_name(value: Any) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}".replace("builtins.", "")


def as_samples(
    name: str,
    value: Any,
    *,
    min_n: int = 2,
    check_variance: bool = True,
) -> np.ndarray:
    """Converts samples to a float64 array of shape ``(n, d)`` or raises a clear error.

    Accepts numpy arrays, torch tensors, pandas DataFrames/Series and nested lists of shape
    ``(n,)`` or ``(n, d)``.

    Arguments:
        name: The argument's name, used in error messages.
        value: The samples.
        min_n: The fewest samples the caller can work with.
        check_variance: Reject columns that are constant (no information, and they break
            standardisation and distance-based estimators).

    Raises:
        TypeError: Not array-like, or non-numeric (e.g. string columns).
        ValueError: Wrong dimensionality, too few samples, NaN/inf, constant columns.
    """
    if value is None:
        raise InvalidTypeError(f"{name}: expected an array of shape (n,) or (n, d), got None")
    module = type(value).__module__
    if module.startswith("torch"):
        value = value.detach().cpu().numpy()
    elif module.startswith("pandas"):
        frame = value.to_frame() if value.ndim == 1 else value
        bad = [str(c) for c, t in frame.dtypes.items() if not _is_numeric_dtype(t)]
        if bad:
            raise InvalidTypeError(
                f"{name}: expected numeric columns, got non-numeric column(s) {', '.join(bad)}"
            )
        missing = frame.isna().sum()
        if missing.any():
            shown = ", ".join(f"{c} ({int(k)})" for c, k in missing.items() if k)
            raise InvalidValueError(
                f"{name}: expected no missing values, got missing values (NA/NaN) in "
                f"column(s) {shown}; drop the rows from x and y together (e.g. "
                "frame.dropna() before splitting) or fill them in"
            )
        value = frame.to_numpy(dtype=np.float64)
    try:
        array = np.asarray(value)
    except Exception as err:  # ragged lists and the like
        raise InvalidTypeError(
            f"{name}: expected an array of shape (n,) or (n, d): {err}"
        ) from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise InvalidTypeError(f"{name}: expected numeric data, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise InvalidTypeError(f"{name}: expected real numbers, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InvalidValueError(
            f"{name}: expected shape (n,) or (n, d), got shape {array.shape} ({_type_name(value)})"
        )
    array = array.astype(np.float64, copy=False)
    n, d = array.shape
    if d < 1:
        raise InvalidValueError(f"{name}: expected at least one column, got shape {array.shape}")
    if n < min_n:
        raise InvalidValueError(f"{name}: expected at least {min_n} samples (rows), got {n}")
    finite = np.isfinite(array)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        raise InvalidValueError(
            f"{name}: expected finite values, found NaN or inf in {rows.size} row(s), "
            f"first at row {rows[0]}"
        )
    if check_variance:
        constant = np.flatnonzero(np.ptp(array, axis=0) == 0)
        if constant.size:
            raise InvalidValueError(
                f"{name}: column(s) {constant.tolist()} are constant (zero variance); "
                "drop them: they carry no information"
            )
    return array


def _is_numeric_dtype(dtype: Any) -> bool:
    try:
        return bool(np.issubdtype(np.dtype(dtype), np.number) or np.dtype(dtype) == np.bool_)
    except TypeError:
        # pandas extension dtypes (nullable Int64, Float64, boolean) know their own kind.
        return getattr(dtype, "kind", "") in ("i", "u", "f", "b")


def as_pair(
    x: Any, y: Any, *, min_n: int = 2, check_variance: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validates paired samples ``x`` and ``y``: both as :func:`as_samples`, same n."""
    xa = as_samples("x", x, min_n=min_n, check_variance=check_variance)
    ya = as_samples("y", y, min_n=min_n, check_variance=check_variance)
    if xa.shape[0] != ya.shape[0]:
        raise InvalidValueError(
            f"x, y: expected the same number of samples (rows), got {xa.shape[0]} and {ya.shape[0]}"
        )
    return xa, ya


def power_of_two_scale(array: np.ndarray, *, outside: float | None = None) -> np.ndarray:
    """Divides each column by the power of two nearest above its largest magnitude.

    Multiplying by a power of two is exact in floating point (barring underflow below
    ``2**-1022`` times the column's largest value), so the data are unchanged up to scale while
    every later sum of squares, standard deviation or distance stays far from overflow: with
    ``x * 1e300`` a variance would be ``inf``. Mutual information is invariant to rescaling
    each column, so estimators that standardise their inputs give the same value.

    Arguments:
        array: A finite float64 array of shape ``(n, d)``.
        outside: When given, only columns whose largest magnitude lies outside
            ``[1 / outside, outside]`` are rescaled (the others are returned bit for bit).

    Returns:
        A new array whose (rescaled) columns have largest magnitude in ``[0.5, 1)``; zero
        columns stay 0.
    """
    peak = np.max(np.abs(array), axis=0)
    _, exponent = np.frexp(np.where(peak > 0, peak, 1.0))
    if outside is not None:
        extreme = (peak > outside) | ((peak > 0) & (peak < 1.0 / outside))
        exponent = np.where(extreme, exponent, 0)
    return np.ldexp(array, -exponent[None, :])


def row_groups(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels each row by its distinct ``(x, y)`` pair: equal rows get the same label.

    Arguments:
        x: Samples of shape ``(n, d_x)``.
        y: Samples of shape ``(n, d_y)``.

    Returns:
        ``(labels, distinct)``: integer labels of shape ``(n,)`` in ``[0, distinct)``.
    """
    joint = np.ascontiguousarray(np.concatenate([x, y], axis=1))
    # Compare bit patterns: -0.0 and 0.0 are the same number, so normalise them first.
    joint = joint + 0.0
    _, labels = np.unique(joint, axis=0, return_inverse=True)
    labels = np.asarray(labels).reshape(-1)
    return labels, int(labels.max()) + 1 if labels.size else 0


def distinct_rows(x: np.ndarray, y: np.ndarray) -> int:
    """The number of distinct ``(x, y)`` rows, as counted by :func:`row_groups`.

    Continuous data rarely repeat a value, so a column whose values are all distinct settles
    it with one O(N log N) sort of N numbers; only otherwise are whole rows compared.
    """
    n = x.shape[0]
    for array in (x, y):
        if array.shape[1] and np.unique(array[:, 0]).size == n:
            return n
    return row_groups(x, y)[1]


def same_columns(x: np.ndarray, y: np.ndarray) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` where column j of y is an exact affine function of column i of x.

    Detects ``y = x`` and its rescaled or shifted copies (the MI of continuous data with such
    a copy is infinite). A column pair qualifies when their Pearson correlation is 1 or -1 to
    within 1e-12.
    """

    def standardised(a: np.ndarray) -> np.ndarray:
        a = power_of_two_scale(a)
        a = a - a.mean(axis=0)
        norm = np.sqrt(np.sum(a * a, axis=0))
        return a / np.where(norm > 0, norm, 1.0)

    corr = standardised(x).T @ standardised(y)
    hits = np.argwhere(np.abs(corr) > 1.0 - 1e-12)
    return [(int(i), int(j)) for i, j in hits]
