"""Which columns of x / y / z are discrete: declared, pandas categoricals, or a reported guess.

A column is discrete when the user says so (``discrete_x=True``, a list of column indices or a
boolean mask), when it is a pandas ``Categorical`` or string column, or, with the default
``None`` ("auto"), when every value is an integer and there are few distinct values (at most
:data:`MAX_GUESSED_LEVELS`, and at most one per :data:`MIN_ROWS_PER_LEVEL` rows). A guess is
always reported (``Columns.notes``) so that it can be overridden. Ties in a non-integer column
never make it discrete, and a declared-discrete column is never jittered like a continuous one.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from mibound._checks import InvalidTypeError, InvalidValueError
from mibound._inputs import as_samples

__all__ = ["MAX_GUESSED_LEVELS", "MIN_ROWS_PER_LEVEL", "Columns", "resolve_columns"]

#: The most distinct values a column may have to be guessed discrete.
MAX_GUESSED_LEVELS = 20
#: A guessed-discrete column has at least this many rows per distinct value.
MIN_ROWS_PER_LEVEL = 5


@dataclass(frozen=True)
class Columns:
    """Validated samples and which of their columns are discrete.

    Attributes:
        values: float64 array of shape ``(n, d)``; discrete columns hold their numeric codes
            (pandas categories and strings become codes 0, 1, ... in category order).
        discrete: bool array of shape ``(d,)``.
        source: Per column, ``"declared"``, ``"categorical"``, ``"guessed"`` or
            ``"continuous"`` (not discrete).
        notes: Plain-language notes on guesses, for the result's diagnostics.
    """

    values: np.ndarray
    discrete: np.ndarray
    source: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def all_discrete(self) -> bool:
        """Every column is discrete."""
        return bool(self.discrete.all())

    @property
    def any_discrete(self) -> bool:
        """At least one column is discrete."""
        return bool(self.discrete.any())

    def record(self) -> dict[str, Any]:
        """What :func:`resolve_columns` decided, for a result's ``settings``."""
        return {
            "discrete_columns": np.flatnonzero(self.discrete).tolist(),
            "source": list(self.source),
        }


def _declared_mask(arg: str, spec: Any, d: int) -> np.ndarray | None:
    """The user's ``discrete_<name>`` (``arg``) as a boolean mask, or None for "auto"."""
    if spec is None or (isinstance(spec, str) and spec == "auto"):
        return None
    if isinstance(spec, (bool, np.bool_)):
        return np.full(d, bool(spec))
    if isinstance(spec, str):
        raise InvalidValueError(
            f"{arg}: expected None/'auto', a bool, column indices or a mask, got {spec!r}"
        )
    try:
        items = list(spec)
    except TypeError:
        raise InvalidTypeError(
            f"{arg}: expected None/'auto', a bool, column indices or a boolean mask, "
            f"got {type(spec).__name__}"
        ) from None
    if items and all(isinstance(v, (bool, np.bool_)) for v in items):
        if len(items) != d:
            raise InvalidValueError(
                f"{arg}: a boolean mask needs {d} entries (one per column), got {len(items)}"
            )
        return np.asarray(items, dtype=bool)
    mask = np.zeros(d, dtype=bool)
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise InvalidTypeError(f"{arg}: expected integer column indices, got {v!r}")
        if not -d <= int(v) < d:
            raise InvalidValueError(f"{arg}: column index {int(v)} out of range for {d} column(s)")
        mask[int(v)] = True
    return mask


def _pandas_columns(name: str, value: Any) -> tuple[list[np.ndarray], list[bool], list[str]]:
    """Splits a DataFrame/Series into float columns; categoricals and strings become codes."""
    import pandas as pd

    frame = value.to_frame() if value.ndim == 1 else value
    arrays: list[np.ndarray] = []
    categorical: list[bool] = []
    labels: list[str] = []
    for label, column in frame.items():
        labels.append(str(label))
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            if column.isna().any():
                raise InvalidValueError(f"{name}: categorical column {label!r} has missing values")
            arrays.append(column.cat.codes.to_numpy(dtype=np.float64))
            categorical.append(True)
        elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            arrays.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
            categorical.append(False)
        elif pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
            values = column.to_numpy(dtype=object)
            is_text = np.array([isinstance(v, str) for v in values])
            if not is_text.any():
                try:
                    arrays.append(values.astype(np.float64))
                except (TypeError, ValueError):
                    raise InvalidTypeError(
                        f"{name}: column {label!r} holds non-numeric objects"
                    ) from None
                categorical.append(False)
                continue
            if not is_text.all():
                number = next((v for v in values if not isinstance(v, str)), None)
                text = next((v for v in values if isinstance(v, str)), None)
                raise InvalidTypeError(
                    f"{name}: column {label!r} mixes categories and numbers (e.g. {text!r} "
                    f"and {number!r}); convert it to numbers, or to a pandas Categorical "
                    "to treat it as discrete"
                )
            codes = pd.Categorical(values).codes
            arrays.append(codes.astype(np.float64))
            categorical.append(True)
        else:
            raise InvalidTypeError(f"{name}: column {label!r} has unsupported dtype {dtype}")
    return arrays, categorical, labels


def resolve_columns(
    name: str, value: Any, spec: Any = None, *, min_n: int = 2, option: str | None = None
) -> Columns:
    """Validates samples and decides which columns are discrete.

    Arguments:
        name: The argument's name (``"x"``, ``"y"``, ``"z"``), used in messages; the option is
            ``discrete_<name>``.
        value: The samples (numpy, torch, pandas or lists), shape ``(n,)`` or ``(n, d)``.
        spec: ``None`` or ``"auto"`` (guess, and report the guess), ``True``/``False`` (every
            column), a sequence of column indices, or a boolean mask of length ``d``.
        min_n: The fewest rows accepted.
        option: The option's name in messages (default ``discrete_<name>``).

    Raises:
        TypeError: Non-numeric data in a column declared continuous, a column mixing
            categories and numbers, a bad ``spec``.
        ValueError: Constant columns (a discrete column with one value), NaN/inf, a declared
            discrete column with more distinct values than half the rows.
    """
    arg = option or f"discrete_{name}"
    categorical: list[bool] | None = None
    labels: list[str] | None = None
    if type(value).__module__.startswith("pandas") and getattr(value, "ndim", 0) in (1, 2):
        arrays, categorical, labels = _pandas_columns(name, value)
        value = np.column_stack(arrays) if arrays else np.empty((len(value), 0))
    values = as_samples(name, value, min_n=min_n, check_variance=False)
    n, d = values.shape
    if labels is None:
        labels = [str(i) for i in range(d)]
    if categorical is None:
        categorical = [False] * d
    declared = _declared_mask(arg, spec, d)
    discrete = np.zeros(d, dtype=bool)
    source: list[str] = []
    notes: list[str] = []
    guessed: list[str] = []
    for j in range(d):
        column = values[:, j]
        if categorical[j]:
            if declared is not None and not declared[j]:
                raise InvalidTypeError(
                    f"{name}: column {labels[j]!r} holds categories but {arg} declares it "
                    "continuous; categories have no distances"
                )
            discrete[j] = True
            source.append("categorical")
        elif declared is not None:
            discrete[j] = bool(declared[j])
            source.append("declared" if discrete[j] else "continuous")
        else:
            # np.unique (a sort) only for integer-valued columns: cheap on continuous data.
            integer = bool(np.all(column == np.round(column)))
            levels_n = np.unique(column).size if integer else MAX_GUESSED_LEVELS + 1
            few = levels_n <= min(MAX_GUESSED_LEVELS, n // MIN_ROWS_PER_LEVEL)
            discrete[j] = integer and few and levels_n >= 2
            source.append("guessed" if discrete[j] else "continuous")
            if discrete[j]:
                guessed.append(f"{labels[j]} ({levels_n} integer values)")
        if not discrete[j]:
            if np.ptp(column) == 0:
                raise InvalidValueError(
                    f"{name}: column(s) [{j}] are constant (zero variance); "
                    "drop them: they carry no information"
                )
            continue
        levels_n = np.unique(column).size
        if levels_n < 2:
            raise InvalidValueError(
                f"{name}: discrete column {labels[j]!r} takes a single value ({column[0]:g}); "
                "it carries no information: drop it"
            )
        if discrete[j] and source[j] == "declared" and levels_n > n / 2:
            raise InvalidValueError(
                f"{arg}: column {labels[j]!r} is declared discrete but has {levels_n} distinct "
                f"values in {n} rows (most values occur once): it looks continuous; declare it "
                "continuous or bin it"
            )
    if guessed:
        notes.append(
            f"{name}: guessed discrete column(s) {', '.join(guessed)}; pass {arg}=False "
            "(or a list of column indices; CLI: --discrete) to override"
        )
    return Columns(values=values, discrete=discrete, source=tuple(source), notes=tuple(notes))
