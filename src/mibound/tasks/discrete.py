"""Discrete tasks with exact truths by enumeration: binary symmetric channel, categorical copy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mibound._checks import InvalidValueError
from mibound.tasks.base import Task, _check_positive_int, _check_real, _format_number

__all__ = ["DiscreteTask", "binary_symmetric_channel", "categorical_copy"]

_ENCODINGS = ("integer", "one-hot")


class DiscreteTask(Task):
    r"""(x, y) on a finite grid with joint probability table P (shape ``(m_x, m_y)``).

    .. math:: I = \sum_{a,b} P_{ab} \log \frac{P_{ab}}{P_a P_b}, \qquad
        LI = \sum_{a,b} P_a P_b \log \frac{P_a P_b}{P_{ab}}

    by enumeration (LI is infinite when some :math:`P_{ab} = 0 < P_a P_b`).

    Encoding: ``"integer"`` gives float arrays of shape ``(n, 1)`` holding the category
    index 0, 1, …, m − 1 (integer-valued floats); ``"one-hot"`` gives float arrays of
    shape ``(n, m)``. Both are invertible encodings, so the MI is the same. Continuous
    estimators (KSG, critics) see ties; plug-in estimators are the natural comparison.
    """

    def __init__(
        self,
        table: Any,
        *,
        name: str,
        params: dict[str, Any],
        description: str,
        encoding: str = "integer",
    ) -> None:
        table = np.asarray(table, dtype=np.float64)
        if table.ndim != 2 or np.any(table < 0) or not math.isclose(table.sum(), 1.0):
            raise InvalidValueError(
                "table: expected a non-negative 2-d probability table summing to 1"
            )
        if encoding not in _ENCODINGS:
            raise InvalidValueError(f"encoding: expected one of {_ENCODINGS}, got {encoding!r}")
        mx, my = table.shape
        one_hot = encoding == "one-hot"
        super().__init__(
            name=name,
            family="discrete",
            dim_x=mx if one_hot else 1,
            dim_y=my if one_hot else 1,
            params={**params, "encoding": encoding},
            description=description,
        )
        self.table = table
        self.encoding = encoding
        px, py = table.sum(axis=1), table.sum(axis=0)
        product = np.outer(px, py)
        positive = table > 0
        self._mi = float(np.sum(table[positive] * np.log(table[positive] / product[positive])))
        if np.any(~positive & (product > 0)):
            self._lautum = math.inf
        else:
            self._lautum = float(np.sum(product * np.log(product / np.where(positive, table, 1.0))))
        with np.errstate(divide="ignore"):
            self._pmi_table = np.log(table) - np.log(product)

    @property
    def mutual_information(self) -> float:
        return self._mi

    @property
    def lautum_information(self) -> float:
        return self._lautum

    def _encode(self, index: np.ndarray, m: int) -> np.ndarray:
        if self.encoding == "integer":
            return index.astype(np.float64)[:, None]
        return np.eye(m)[index]

    def _decode(self, name: str, v: np.ndarray, m: int) -> np.ndarray:
        index = v[:, 0] if self.encoding == "integer" else np.argmax(v, axis=1).astype(np.float64)
        valid = (index == np.round(index)) & (index >= 0) & (index < m)
        if self.encoding == "one-hot":
            valid &= np.all((v == 0) | (v == 1), axis=1) & (v.sum(axis=1) == 1)
        if not np.all(valid):
            raise InvalidValueError(f"{name}: expected {self.encoding} codes of {m} categories")
        return index.astype(np.int64)

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        mx, my = self.table.shape
        flat = rng.choice(mx * my, size=n, p=self.table.ravel())
        return self._encode(flat // my, mx), self._encode(flat % my, my)

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        mx, my = self.table.shape
        return self._pmi_table[self._decode("x", x, mx), self._decode("y", y, my)]


def binary_symmetric_channel(eps: float, *, encoding: str = "integer") -> DiscreteTask:
    r"""X uniform on {0, 1}, Y = X flipped with probability ε.

    .. math:: I = \log 2 - H_b(ε), \qquad LI = -\log 2 - \tfrac12 \log(ε(1 - ε))

    (both checked against enumeration in the tests). Name ``bsc-eps-0.1``.

    Example:
        >>> round(binary_symmetric_channel(0.5).mutual_information, 12)
        0.0
    """
    eps = _check_real("eps", eps, 0.0, 1.0)
    table = 0.5 * np.array([[1.0 - eps, eps], [eps, 1.0 - eps]])
    suffix = "" if encoding == "integer" else f"-{encoding}"
    return DiscreteTask(
        table,
        name=f"bsc-eps-{_format_number(eps)}{suffix}",
        params={"eps": eps},
        description=(
            f"Binary symmetric channel: X uniform on {{0, 1}}, flipped with probability {eps:g}."
        ),
        encoding=encoding,
    )


def categorical_copy(m: int, eps: float, *, encoding: str = "integer") -> DiscreteTask:
    r"""X uniform on m categories; Y = X with probability 1 − ε, else uniform on the others.

    .. math:: I = \log m + (1-ε)\log(1-ε) + ε \log\frac{ε}{m-1}

    Name ``categorical-copy-m-10-eps-0.1`` (``-one-hot`` appended for one-hot encoding).
    """
    m = _check_positive_int("m", m)
    if m < 2:
        raise InvalidValueError(f"m: expected at least 2 categories, got {m}")
    eps = _check_real("eps", eps, 0.0, 1.0)
    table = np.full((m, m), eps / (m * (m - 1)))
    np.fill_diagonal(table, (1.0 - eps) / m)
    suffix = "" if encoding == "integer" else f"-{encoding}"
    return DiscreteTask(
        table,
        name=f"categorical-copy-m-{m}-eps-{_format_number(eps)}{suffix}",
        params={"m": m, "eps": eps},
        description=(
            f"X uniform on {m} categories, Y = X with probability {1 - eps:g}, "
            "else uniform on the other categories."
        ),
        encoding=encoding,
    )
