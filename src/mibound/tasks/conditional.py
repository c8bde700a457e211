"""Triples (x, y, z) with a known conditional mutual information I(X;Y|Z), and their names."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mibound._checks import InvalidValueError
from mibound.tasks.base import _check_positive_int, _check_real, _check_seed, _format_number

__all__ = [
    "ConditionalGaussianTask",
    "conditional_gaussian",
    "conditional_names",
    "get_conditional",
]


def _logdet(matrix: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(matrix)
    if sign <= 0:  # pragma: no cover - the covariances built here are positive definite
        raise InvalidValueError("covariance: expected a positive definite matrix")
    return float(value)


class ConditionalGaussianTask:
    r"""Z ~ N(0, I), X = c A Z + e_x, Y = c B Z + e_y with :math:`(e_x, e_y)` in d correlated pairs.

    Each pair :math:`(e_{x,i}, e_{y,i})` is standard normal with correlation ρ, independent of Z,
    and A, B are fixed matrices with entries ±1 (a fixed pattern), so that Z drives
    both X and Y (a common cause) and

    .. math::
        I(X;Y \mid Z) = -\frac d2 \log(1 - ρ^2)
        = \tfrac12\left[\log\det Σ_{XZ} + \log\det Σ_{YZ} - \log\det Σ_Z
        - \log\det Σ_{XYZ}\right]

    (the second form, from the joint covariance, is checked against the first in the tests).
    With ρ = 0, X and Y are dependent but conditionally independent given Z.

    Attributes:
        name: e.g. ``conditional-gaussian-d-2-dz-2-rho-0.6-c-1``.
        dim_x, dim_y, dim_z: Dimensions (``dim_x = dim_y = d``).
        covariance: The joint covariance of (x, y, z).
    """

    def __init__(self, d: int, dz: int, rho: float, coupling: float) -> None:
        d = _check_positive_int("d", d)
        dz = _check_positive_int("dz", dz)
        rho = _check_real("rho", rho, -1.0, 1.0)
        coupling = _check_real("coupling", coupling, -math.inf, math.inf)
        self.name = (
            f"conditional-gaussian-d-{d}-dz-{dz}-rho-{_format_number(rho)}"
            f"-c-{_format_number(coupling)}"
        )
        self.dim_x = self.dim_y = d
        self.dim_z = dz
        self.rho = rho
        self.coupling = coupling
        pattern_x = np.array([[1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, 1.0, 1.0]])
        pattern_y = np.array([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]])
        self.a = coupling * np.resize(pattern_x, (d, dz))
        self.b = coupling * np.resize(pattern_y, (d, dz))
        noise = np.block([[np.eye(d), rho * np.eye(d)], [rho * np.eye(d), np.eye(d)]])
        loading = np.vstack([self.a, self.b, np.eye(dz)])  # (x, y, z) = loading z + noise
        cov = loading @ loading.T
        cov[: 2 * d, : 2 * d] += noise
        self.covariance = cov
        self.params = {"d": d, "dz": dz, "rho": rho, "coupling": coupling}

    @property
    def conditional_mutual_information(self) -> float:
        """:math:`I(X;Y|Z)` in nats (closed form)."""
        return -0.5 * self.dim_x * math.log1p(-(self.rho**2))

    @property
    def mutual_information(self) -> float:
        """The unconditional :math:`I(X;Y)` in nats (from the covariance; > 0 with coupling)."""
        d, cov = self.dim_x, self.covariance
        return 0.5 * (
            _logdet(cov[:d, :d])
            + _logdet(cov[d : 2 * d, d : 2 * d])
            - _logdet(cov[: 2 * d, : 2 * d])
        )

    def conditional_mutual_information_from_covariance(self) -> float:
        """:math:`I(X;Y|Z)` from log-determinants of the joint covariance (an independent route)."""
        d = self.dim_x
        cov = self.covariance
        xz = np.r_[0:d, 2 * d : cov.shape[0]]
        yz = np.r_[d : cov.shape[0]]
        z = np.r_[2 * d : cov.shape[0]]
        return 0.5 * (
            _logdet(cov[np.ix_(xz, xz)])
            + _logdet(cov[np.ix_(yz, yz)])
            - _logdet(cov[np.ix_(z, z)])
            - _logdet(cov)
        )

    def sample(self, n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draws n triples ``(x, y, z)`` of shapes ``(n, d)``, ``(n, d)``, ``(n, dz)``."""
        n = _check_positive_int("n", n)
        rng = np.random.Generator(np.random.PCG64(_check_seed(seed)))
        d = self.dim_x
        z = rng.standard_normal((n, self.dim_z))
        e_x = rng.standard_normal((n, d))
        e_y = self.rho * e_x + math.sqrt(1.0 - self.rho**2) * rng.standard_normal((n, d))
        return z @ self.a.T + e_x, z @ self.b.T + e_y, z

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable record."""
        return {
            "name": self.name,
            "family": "conditional-gaussian",
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "dim_z": self.dim_z,
            "conditional_mutual_information": self.conditional_mutual_information,
            "mutual_information": self.mutual_information,
            "params": self.params,
        }

    def __repr__(self) -> str:
        cmi = self.conditional_mutual_information
        return f"ConditionalGaussianTask({self.name!r}, conditional_mutual_information={cmi:.4g})"


def conditional_gaussian(
    d: int = 1, dz: int = 1, *, rho: float = 0.6, coupling: float = 1.0
) -> ConditionalGaussianTask:
    """A Gaussian common-cause triple with closed-form I(X;Y|Z) (see the class)."""
    return ConditionalGaussianTask(d, dz, rho, coupling)


def _curated() -> dict[str, ConditionalGaussianTask]:
    tasks = [
        conditional_gaussian(1, 1, rho=0.6),
        conditional_gaussian(1, 1, rho=0.0),
        conditional_gaussian(2, 2, rho=0.6),
        conditional_gaussian(3, 3, rho=0.8, coupling=2.0),
    ]
    return {task.name: task for task in tasks}


_CONDITIONAL = _curated()


def conditional_names() -> list[str]:
    """The names of the curated conditional tasks, sorted."""
    return sorted(_CONDITIONAL)


def get_conditional(name: str) -> ConditionalGaussianTask:
    """The curated conditional task named ``name``.

    Raises:
        ValueError: Unknown name (the message lists the names).
    """
    if name not in _CONDITIONAL:
        raise InvalidValueError(
            f"name: unknown conditional task {name!r}; expected one of "
            f"{', '.join(conditional_names())}"
        )
    return _CONDITIONAL[name]
