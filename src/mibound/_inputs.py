"""Validation and conversion of user arrays (numpy, torch, pandas, lists) at the public boundary."""

from __future__ import annotations

from typing import Any

import numpy as np

from mibound._checks import InvalidTypeError, InvalidValueError

__all__ = ["as_pair", "as_samples"]


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
        return False


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
