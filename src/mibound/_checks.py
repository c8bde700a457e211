"""Checks of user arguments, shared by every module: one error type per kind of mistake.

A value of the wrong type (a float ``seed``, a string ``k``) raises :class:`InvalidTypeError`
(a :class:`TypeError`); a value of the right type outside its range (``k=0``) raises
:class:`InvalidValueError` (a :class:`ValueError`). Both carry the :class:`InputError` marker,
which the CLI turns into a one-line message and exit status 2; any other exception is a bug and
shows its traceback. Messages read ``"<argument>: expected <what>, got <what came>"``.
"""

from __future__ import annotations

import importlib
import math
import numbers
from typing import Any

__all__ = [
    "InputError",
    "InvalidTypeError",
    "InvalidValueError",
    "MissingDependencyError",
    "check_bool",
    "check_int",
    "check_knn_options",
    "check_number",
    "check_seed",
    "error_name",
    "optional_import",
]


class InputError(Exception):
    """Marker of a mistake in what the user passed (arguments, files, data)."""


class InvalidValueError(InputError, ValueError):
    """An argument of the right type with a value outside what is allowed."""


class InvalidTypeError(InputError, TypeError):
    """An argument of the wrong type."""


class MissingDependencyError(InputError, ImportError):
    """An optional dependency (an extra) that a feature needs is not installed."""


def error_name(err: BaseException) -> str:
    """The name to show for an exception: the built-in one (``TypeError``) for input errors."""
    if isinstance(err, InputError):
        builtin = next(c for c in type(err).__mro__ if c.__module__ == "builtins")
        return builtin.__name__
    return type(err).__name__


def optional_import(module: str, extra: str, feature: str) -> Any:
    """Imports an optional dependency, or raises an error naming the extra that provides it.

    Arguments:
        module: The module to import, e.g. ``"matplotlib.figure"``.
        extra: The mibound extra that installs it, e.g. ``"plot"``.
        feature: What needs it, for the message, e.g. ``"figures"``.

    Raises:
        MissingDependencyError: The module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{feature}: needs {module.split('.')[0]}, which is not installed; "
            f"pip install 'mibound[{extra}]'"
        ) from None


def check_int(name: str, value: object, minimum: int | None = 1) -> int:
    """``value`` as an int (numpy integers accepted), or an error naming ``name``.

    Raises:
        InvalidTypeError: Not an integer (bools and floats such as ``3.0`` included).
        InvalidValueError: Below ``minimum``.
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise InvalidTypeError(f"{name}: expected {expected}, got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_knn_options(k: object, noise: object, n_jobs: object) -> int:
    """Checks the options the k-NN estimators share; returns ``k`` as an int.

    Raises:
        InvalidValueError: ``k`` not a positive integer, ``noise`` not a finite number >= 0,
            ``n_jobs`` not a non-zero integer (-1: all cores).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise InvalidValueError(f"k: expected a positive integer, got {k!r}")
    if not isinstance(noise, numbers.Real) or not (float(noise) >= 0 and math.isfinite(noise)):
        raise InvalidValueError(f"noise: expected a finite number >= 0, got {noise!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise InvalidValueError(
            f"n_jobs: expected a non-zero integer (-1 for all cores), got {n_jobs!r}"
        )
    return int(k)


def check_seed(seed: object) -> int:
    """A seed: a non-negative integer (a float or bool: type error; a negative int: value error)."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise InvalidTypeError(f"seed: expected a non-negative integer, got {seed!r}")
    if seed < 0:
        raise InvalidValueError(f"seed: expected a non-negative integer, got {seed!r}")
    return int(seed)


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is True or False."""
    if not isinstance(value, bool):
        raise InvalidTypeError(f"{name}: expected True or False, got {value!r}")
    return value


def check_number(
    name: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = True,
    high_open: bool = True,
    finite: bool = True,
) -> float:
    """A real number in the interval from ``low`` to ``high`` (open ends by default), finite
    unless ``finite`` is False (then an infinite end inside the interval is allowed).

    Raises:
        InvalidTypeError: Not a real number (bools included).
        InvalidValueError: NaN, infinite, or outside the interval.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name}: expected a number, got {value!r}")
    number = float(value)
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if math.isnan(number) or (finite and math.isinf(number)) or below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise InvalidValueError(
            f"{name}: expected a finite number in {left}{low:g}, {high:g}{right}, got {value!r}"
        )
    return number
