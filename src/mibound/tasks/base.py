"""The :class:`Task` interface: a joint distribution of (x, y) with known mutual information."""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from mibound._checks import InvalidTypeError, InvalidValueError, check_int
from mibound._checks import check_seed as _check_seed

__all__ = ["Task", "TaskSummary"]


def _format_number(value: float) -> str:
    """Formats a parameter for a task name: ``0.5 -> '0.5'``, ``2.0 -> '2'``."""
    return f"{float(value):g}"


def _check_positive_int(name: str, value: Any) -> int:
    return check_int(name, value, 1)


def _check_real(name: str, value: Any, low: float, high: float, *, closed: bool = False) -> float:
    """Checks ``low < value < high`` (``<=`` on both sides when ``closed``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(
            f"{name}: expected a real number, got {type(value).__name__} {value!r}"
        )
    value = float(value)
    inside = low <= value <= high if closed else low < value < high
    if not (math.isfinite(value) and inside):
        brackets = "[]" if closed else "()"
        raise InvalidValueError(
            f"{name}: expected a number in {brackets[0]}{low:g}, {high:g}{brackets[1]}, "
            f"got {value!r}"
        )
    return value


def _json_float(value: float | None) -> float | str | None:
    """A float that ``json.dumps`` writes as valid JSON (infinities become strings)."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "inf" if value > 0 else "-inf" if value < 0 else "nan"


@dataclass(frozen=True)
class TaskSummary:
    """What a listing shows of a task: its name, family, dimensions and truths (nats).

    The registry knows its tasks by summaries so that listing them builds no task (see
    :func:`mibound.tasks.summaries`); :meth:`Task.summary` gives the same for a built task.
    """

    name: str
    family: str
    dim_x: int
    dim_y: int
    mutual_information: float
    mutual_information_stderr: float = 0.0
    lautum_information: float | None = None


class Task(ABC):
    r"""A joint distribution p(x, y) whose mutual information is known.

    .. math:: I(X; Y) = \mathbb{E}_{p(x, y)} \log \frac{p(x, y)}{p(x) p(y)}, \qquad
        LI(X; Y) = \mathbb{E}_{p(x) p(y)} \log \frac{p(x) p(y)}{p(x, y)}

    Both in nats. Subclasses implement :meth:`_sample` (and, when the densities are known,
    :meth:`_pointwise_mutual_information`); everything else is shared.

    Attributes:
        name: The registry name, which says what the task is (family, dimensions, parameter).
        family: The family, e.g. ``"gaussian"``, ``"student-t"``, ``"transformed"``.
        dim_x: The dimension of x.
        dim_y: The dimension of y.
        params: The parameters that define the task (JSON-serialisable).
        description: One sentence for people.
    """

    def __init__(
        self,
        *,
        name: str,
        family: str,
        dim_x: int,
        dim_y: int,
        params: dict[str, Any],
        description: str,
    ) -> None:
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise InvalidValueError(
                f"name: expected a non-empty string without spaces, got {name!r}"
            )
        self.name = name
        self.family = family
        self.dim_x = _check_positive_int("dim_x", dim_x)
        self.dim_y = _check_positive_int("dim_y", dim_y)
        self.params = dict(params)
        self.description = description

    # -- truths -------------------------------------------------------------------------------
    @property
    @abstractmethod
    def mutual_information(self) -> float:
        """The mutual information I(X; Y) in nats."""

    @property
    def mutual_information_stderr(self) -> float:
        """Standard error of :attr:`mutual_information`: 0.0 for closed forms, > 0 for Monte Carlo
        ground truths."""
        return 0.0

    @property
    def lautum_information(self) -> float | None:
        """The Lautum information KL(p(x)p(y) || p(x,y)) in nats, or None without a closed form.

        ``math.inf`` when p(x, y) vanishes where p(x) p(y) does not.
        """
        return None

    # -- sampling -----------------------------------------------------------------------------
    def sample(self, n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Draws n independent pairs.

        Arguments:
            n: The number of pairs.
            seed: A non-negative integer; the generator is ``numpy.random.Generator(PCG64(seed))``
                and the same seed gives the same arrays.

        Returns:
            ``(x, y)``, float64 arrays of shapes ``(n, dim_x)`` and ``(n, dim_y)``.
        """
        n = _check_positive_int("n", n)
        rng = np.random.Generator(np.random.PCG64(_check_seed(seed)))
        x, y = self._sample(rng, n)
        x = np.ascontiguousarray(x, dtype=np.float64).reshape(n, self.dim_x)
        y = np.ascontiguousarray(y, dtype=np.float64).reshape(n, self.dim_y)
        return x, y

    @abstractmethod
    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Draws n pairs with ``rng``."""

    # -- densities ----------------------------------------------------------------------------
    @property
    def has_density(self) -> bool:
        """Whether :meth:`pointwise_mutual_information` is available."""
        return type(self)._pointwise_mutual_information is not Task._pointwise_mutual_information

    def pointwise_mutual_information(self, x: Any, y: Any) -> np.ndarray:
        r"""The pointwise MI :math:`\log p(x, y) - \log p(x) - \log p(y)` of each pair.

        This is the optimal critic of every sample-based bound (Poole et al. 2019); its
        mean under p(x, y) is the MI and minus its mean under p(x) p(y) is the Lautum
        information.

        Arguments:
            x: Array of shape ``(n, dim_x)`` (or ``(n,)`` when ``dim_x == 1``).
            y: Array of shape ``(n, dim_y)`` (or ``(n,)`` when ``dim_y == 1``).

        Returns:
            Array of shape ``(n,)`` (``-inf`` where p(x, y) = 0 < p(x) p(y)).

        Raises:
            NotImplementedError: The task has no tractable density.
        """
        if not self.has_density:
            raise NotImplementedError(f"task {self.name!r} has no tractable density")
        x = self._as_points("x", x, self.dim_x)
        y = self._as_points("y", y, self.dim_y)
        if x.shape[0] != y.shape[0]:
            raise InvalidValueError(
                f"x, y: expected the same number of rows, got {x.shape[0]} and {y.shape[0]}"
            )
        return self._pointwise_mutual_information(x, y)

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _as_points(name: str, value: Any, dim: int) -> np.ndarray:
        array = np.asarray(value, dtype=np.float64)
        if array.ndim == 1 and dim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != dim:
            raise InvalidValueError(f"{name}: expected shape (n, {dim}), got {array.shape}")
        return array

    # -- records ------------------------------------------------------------------------------
    def summary(self) -> TaskSummary:
        """The task's :class:`TaskSummary` (computes a Monte Carlo truth if not yet known)."""
        return TaskSummary(
            self.name,
            self.family,
            self.dim_x,
            self.dim_y,
            self.mutual_information,
            self.mutual_information_stderr,
            self.lautum_information,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable record (infinite values are written as the string ``"inf"``)."""
        return {
            "name": self.name,
            "family": self.family,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "mutual_information": _json_float(self.mutual_information),
            "mutual_information_stderr": _json_float(self.mutual_information_stderr),
            "lautum_information": _json_float(self.lautum_information),
            "params": self.params,
            "description": self.description,
        }

    def __repr__(self) -> str:
        mi = self.mutual_information
        return f"{type(self).__name__}({self.name!r}, mutual_information={mi:.4g})"
