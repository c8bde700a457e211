"""Multivariate normal tasks: correlated pairs (the staircase), dense and sparse correlations."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mibound._checks import InvalidValueError
from mibound.tasks.base import (
    Task,
    TaskSummary,
    _check_positive_int,
    _check_real,
    _format_number,
)

__all__ = ["GaussianTask", "gaussian", "gaussian_from_covariance", "gaussian_summary"]

_LOG_2PI = math.log(2.0 * math.pi)


def _cholesky(name: str, matrix: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise InvalidValueError(f"{name}: expected a symmetric positive-definite matrix") from None


def _log_det(chol: np.ndarray) -> float:
    return 2.0 * float(np.sum(np.log(np.diag(chol))))


def _mahalanobis(v: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis norms ``v_i^T Σ^{-1} v_i`` for rows v_i, with Σ = L L^T."""
    from scipy.linalg import solve_triangular  # scipy on first use: listing tasks stays fast

    inverse = solve_triangular(chol, np.eye(chol.shape[0]), lower=True, check_finite=False)
    # Small matrices: einsum's single-threaded loop beats a multithreaded BLAS call on busy CPUs.
    z = np.einsum("nj,ij->ni", v, inverse) if v.shape[1] <= 16 else v @ inverse.T
    return np.einsum("ij,ij->i", z, z)


def _gaussian_log_density(v: np.ndarray, chol: np.ndarray) -> np.ndarray:
    d = chol.shape[0]
    return -0.5 * (_mahalanobis(v, chol) + _log_det(chol) + d * _LOG_2PI)


def canonical_correlations(covariance: np.ndarray, dim_x: int) -> np.ndarray:
    r"""Canonical correlations ρ_i: singular values of :math:`L_x^{-1} Σ_{xy} L_y^{-T}`."""
    from scipy.linalg import solve_triangular

    lx = _cholesky("covariance[:dim_x, :dim_x]", covariance[:dim_x, :dim_x])
    ly = _cholesky("covariance[dim_x:, dim_x:]", covariance[dim_x:, dim_x:])
    whitened = solve_triangular(lx, covariance[:dim_x, dim_x:], lower=True)
    whitened = solve_triangular(ly, whitened.T, lower=True).T
    return np.linalg.svd(whitened, compute_uv=False)


@dataclass(frozen=True)
class _Layout:
    """A unit-variance correlation structure: ``pairs`` pairs (x_i, y_i) with correlation ``rho``
    (all else independent), or every pair of coordinates at ``rho`` when ``pairs`` is None."""

    dim_x: int
    dim_y: int
    rho: float
    pairs: int | None
    suffix: str
    params: dict[str, Any]
    text: str

    def covariance(self) -> np.ndarray:
        d = self.dim_x + self.dim_y
        if self.pairs is None:
            return np.full((d, d), self.rho) + (1.0 - self.rho) * np.eye(d)
        cov = np.eye(d)
        for i in range(self.pairs):
            cov[i, self.dim_x + i] = cov[self.dim_x + i, i] = self.rho
        return cov

    def squared_canonical_correlations(self) -> list[float]:
        r"""The non-zero :math:`ρ_i^2` in closed form.

        Pairs: k times ρ². Dense: :math:`Σ_{xy} = ρ \mathbf 1 \mathbf 1^\top` has rank one and
        :math:`\mathbf 1^\top Σ_{xx}^{-1} \mathbf 1 = m / (1 + (m - 1) ρ)`, so the one canonical
        correlation is :math:`ρ_1^2 = ρ^2 m n / ((1 + (m-1) ρ)(1 + (n-1) ρ))`.
        """
        rho2 = self.rho * self.rho
        if self.pairs is not None:
            return [rho2] * self.pairs
        m, n = self.dim_x, self.dim_y
        return [rho2 * m * n / ((1.0 + (m - 1) * self.rho) * (1.0 + (n - 1) * self.rho))]


def _dense_layout(dim_x: int, dim_y: int, rho: float | None) -> _Layout:
    d = dim_x + dim_y
    rho = _check_real("rho", rho, -1.0 / (d - 1), 1.0)
    params = {"dim_x": dim_x, "dim_y": dim_y, "rho": rho, "structure": "dense"}
    text = f"every pair of the {d} coordinates has correlation {rho:g}"
    suffix = f"dense-{dim_x}x{dim_y}-rho-{_format_number(rho)}"
    return _Layout(dim_x, dim_y, rho, None, suffix, params, text)


def _layout(
    dim_x: int,
    dim_y: int,
    *,
    rho: float | None,
    mi: float | None,
    pairs: int | None,
    dense: bool,
) -> _Layout:
    """The checked correlation structure with its name suffix, parameters and description."""
    dim_x = _check_positive_int("dim_x", dim_x)
    dim_y = _check_positive_int("dim_y", dim_y)
    if (rho is None) == (mi is None):
        raise InvalidValueError(
            f"rho, mi: expected exactly one of them, got rho={rho!r}, mi={mi!r}"
        )
    if dense:
        if pairs is not None or mi is not None:
            raise InvalidValueError("pairs, mi: not used with dense=True (give rho only)")
        return _dense_layout(dim_x, dim_y, rho)
    most = min(dim_x, dim_y)
    k = most if pairs is None else _check_positive_int("pairs", pairs)
    if k > most:
        raise InvalidValueError(f"pairs: expected at most min(dim_x, dim_y) = {most}, got {k}")
    if mi is not None:
        mi = _check_real("mi", mi, 0.0, math.inf)
        rho = math.sqrt(-math.expm1(-2.0 * mi / k))
        label = f"mi-{_format_number(mi)}"
    else:
        rho = _check_real("rho", rho, -1.0, 1.0)
        label = f"rho-{_format_number(rho)}"
    params = {"dim_x": dim_x, "dim_y": dim_y, "rho": rho, "pairs": k, "structure": "pairs"}
    if mi is not None:
        params["mi"] = mi
    text = f"x_i and y_i have correlation {rho:.6g} for i < {k}, all else independent"
    dims = f"{dim_x}x{dim_y}"
    suffix = f"{dims}-{label}" if k == most else f"sparse-{dims}-pairs-{k}-{label}"
    return _Layout(dim_x, dim_y, rho, k, suffix, params, text)


def _gaussian_truths(layout: _Layout) -> tuple[float, float]:
    """MI and Lautum information of the layout's normal, from its canonical correlations."""
    rho2 = layout.squared_canonical_correlations()
    mi = -0.5 * sum(math.log1p(-r) for r in rho2)
    return mi, sum(r / (1.0 - r) for r in rho2) - mi


class GaussianTask(Task):
    r"""(x, y) jointly normal with zero mean and covariance Σ.

    .. math:: I = \tfrac12 (\log\det Σ_{xx} + \log\det Σ_{yy} - \log\det Σ)
        = -\tfrac12 \sum_i \log(1 - ρ_i^2)

    .. math:: LI = \sum_i \Big[\frac{ρ_i^2}{1 - ρ_i^2} + \tfrac12 \log(1 - ρ_i^2)\Big]

    with ρ_i the canonical correlations.

    Arguments:
        covariance: The joint covariance of shape ``(dim_x + dim_y, dim_x + dim_y)``,
            x first.
        dim_x: The dimension of x.
        name: The task's name.
        params: Parameters recorded with the task.
        description: One sentence for people.
    """

    def __init__(
        self,
        covariance: np.ndarray,
        dim_x: int,
        *,
        name: str,
        params: dict[str, Any] | None = None,
        description: str = "",
        family: str = "gaussian",
    ) -> None:
        cov = np.array(covariance, dtype=np.float64)
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not np.all(np.isfinite(cov)):
            raise InvalidValueError(
                f"covariance: expected a finite square matrix, got shape {cov.shape}"
            )
        if not np.allclose(cov, cov.T, rtol=0, atol=1e-12):
            raise InvalidValueError("covariance: expected a symmetric matrix")
        dim_x = _check_positive_int("dim_x", dim_x)
        if dim_x >= cov.shape[0]:
            raise InvalidValueError(
                f"dim_x: expected < {cov.shape[0]} (covariance size), got {dim_x}"
            )
        super().__init__(
            name=name,
            family=family,
            dim_x=dim_x,
            dim_y=cov.shape[0] - dim_x,
            params=params if params is not None else {"dim_x": dim_x},
            description=description or "jointly normal (x, y)",
        )
        self.covariance = cov
        self._chol = _cholesky("covariance", cov)
        self._chol_x = _cholesky("covariance[:dim_x, :dim_x]", cov[:dim_x, :dim_x])
        self._chol_y = _cholesky("covariance[dim_x:, dim_x:]", cov[dim_x:, dim_x:])
        self._mi = 0.5 * (_log_det(self._chol_x) + _log_det(self._chol_y) - _log_det(self._chol))
        rho2 = canonical_correlations(cov, dim_x) ** 2
        self._lautum = float(np.sum(rho2 / (1.0 - rho2) + 0.5 * np.log1p(-rho2)))

    @property
    def mutual_information(self) -> float:
        return self._mi

    @property
    def lautum_information(self) -> float:
        return self._lautum

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        v = rng.standard_normal((n, self.dim_x + self.dim_y)) @ self._chol.T
        return v[:, : self.dim_x], v[:, self.dim_x :]

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        joint = _gaussian_log_density(np.concatenate([x, y], axis=1), self._chol)
        marginals = _gaussian_log_density(x, self._chol_x) + _gaussian_log_density(y, self._chol_y)
        return joint - marginals


def gaussian(
    dim_x: int,
    dim_y: int | None = None,
    *,
    rho: float | None = None,
    mi: float | None = None,
    pairs: int | None = None,
    dense: bool = False,
) -> GaussianTask:
    r"""A multivariate normal task with unit variances.

    - ``dense=False`` (default): ``pairs`` coordinate pairs (x_i, y_i) have correlation ρ, all
      other coordinates are independent; ``pairs`` defaults to ``min(dim_x, dim_y)`` (the
      Poole et al. 2019 staircase when ``dim_x = dim_y = 20``). Give ``rho`` or the MI
      ``mi``, then :math:`ρ = \sqrt{1 - e^{-2I/k}}` and :math:`I = -\tfrac{k}{2}\log(1-ρ^2)`.
      Names: ``gaussian-20x20-mi-2``, ``gaussian-128x128-rho-0.5``,
      ``gaussian-sparse-10x10-pairs-2-rho-0.8``.
    - ``dense=True``: every pair of the ``dim_x + dim_y`` coordinates has correlation ρ
      (within and across x and y). Name: ``gaussian-dense-5x5-rho-0.5``.

    Arguments:
        dim_x: The dimension of x.
        dim_y: The dimension of y; defaults to ``dim_x``.
        rho: The correlation.
        mi: The MI in nats instead of ``rho`` (pairs structure only).
        pairs: The number k of interacting pairs.
        dense: Equicorrelated instead of paired.

    Example:
        >>> round(gaussian(128, rho=0.5).mutual_information, 2)
        18.41

    References:
        Poole et al., "On Variational Bounds of Mutual Information", ICML 2019,
        https://arxiv.org/abs/1905.06922; Czyż et al., "Beyond Normal", NeurIPS 2023,
        https://arxiv.org/abs/2306.11078.
    """
    dim_y = dim_x if dim_y is None else dim_y
    layout = _layout(dim_x, dim_y, rho=rho, mi=mi, pairs=pairs, dense=dense)
    return GaussianTask(
        layout.covariance(),
        dim_x,
        name=f"gaussian-{layout.suffix}",
        params=layout.params,
        description=f"Multivariate normal, unit variances: {layout.text}.",
    )


def gaussian_summary(
    dim_x: int,
    dim_y: int | None = None,
    *,
    rho: float | None = None,
    mi: float | None = None,
    pairs: int | None = None,
    dense: bool = False,
) -> TaskSummary:
    r"""The summary of ``gaussian(...)`` with the same arguments, without building the task.

    .. math:: I = -\tfrac12 \sum_i \log(1 - ρ_i^2), \qquad
        LI = \sum_i \frac{ρ_i^2}{1 - ρ_i^2} - I

    with the canonical correlations in closed form (see :func:`gaussian`): k times ρ for
    pairs, one :math:`ρ_1^2 = ρ^2 m n / ((1 + (m-1) ρ)(1 + (n-1) ρ))` when dense.
    """
    dim_y = dim_x if dim_y is None else dim_y
    layout = _layout(dim_x, dim_y, rho=rho, mi=mi, pairs=pairs, dense=dense)
    mi_value, lautum = _gaussian_truths(layout)
    return TaskSummary(
        f"gaussian-{layout.suffix}", "gaussian", layout.dim_x, layout.dim_y, mi_value, 0.0, lautum
    )


def gaussian_from_covariance(covariance: Any, dim_x: int, *, name: str) -> GaussianTask:
    """A normal task with any joint covariance (x first); MI and LI from canonical correlations."""
    cov = np.array(covariance, dtype=np.float64)
    return GaussianTask(
        cov,
        dim_x,
        name=name,
        params={"dim_x": int(dim_x), "covariance": cov.tolist()},
        description="Multivariate normal with a given joint covariance.",
    )
