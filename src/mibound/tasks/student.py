"""Multivariate Student-t tasks: the Gaussian MI plus a closed-form tail-dependence term."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mibound.tasks.base import Task, TaskSummary, _check_real, _format_number
from mibound.tasks.gaussian import _cholesky, _gaussian_truths, _layout, _log_det, _mahalanobis

__all__ = ["StudentTTask", "student_t", "student_t_correction", "student_t_summary"]


def _digamma(x: float) -> float:
    r"""The digamma function ψ(x) = Γ'(x)/Γ(x) for x > 0 (pure Python, so that listing tasks
    needs no scipy; agrees with ``scipy.special.digamma`` to ~1e-15 in the tests).

    The recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the asymptotic series
    :math:`ψ(x) = \log x - \frac1{2x} - \sum_{j \ge 1} \frac{B_{2j}}{2j x^{2j}}` to j = 7
    (the next term is below 1e-17 at x = 10).
    """
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    u = 1.0 / (x * x)
    # B_2/2, B_4/4, ..., B_14/14 with B_2 = 1/6, B_4 = -1/30, B_6 = 1/42, B_8 = -1/30,
    # B_10 = 5/66, B_12 = -691/2730, B_14 = 7/6.
    coefficients = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
    series = 0.0
    for c in reversed(coefficients):
        series = (series + c) * u
    return shift + math.log(x) - 0.5 / x - series


def _entropy_term(df: float, d: int) -> float:
    """The part of the entropy of a d-variate t that depends on ν and d but not on the scale."""
    half = 0.5 * (df + d)
    return math.lgamma(0.5 * df) - math.lgamma(half) + half * (_digamma(half) - _digamma(0.5 * df))


def student_t_correction(df: float, dim_x: int, dim_y: int) -> float:
    r"""MI of a multivariate t minus the MI of the normal with the same scale matrix.

    .. math:: c(ν, m, n) = \log Γ(\tfrac{ν}{2}) + \log Γ(\tfrac{ν+m+n}{2})
        - \log Γ(\tfrac{ν+m}{2}) - \log Γ(\tfrac{ν+n}{2})
        + \tfrac{ν+m}{2} ψ(\tfrac{ν+m}{2}) + \tfrac{ν+n}{2} ψ(\tfrac{ν+n}{2})
        - \tfrac{ν+m+n}{2} ψ(\tfrac{ν+m+n}{2}) - \tfrac{ν}{2} ψ(\tfrac{ν}{2})

    Derived from h(t_d(ν, Σ)) = ½ log det Σ + (d/2) log(νπ) + log Γ(ν/2) − log Γ((ν+d)/2)
    + ((ν+d)/2)(ψ((ν+d)/2) − ψ(ν/2)) in I = h(X) + h(Y) − h(X, Y); it is positive and
    tends to 0 as ν → ∞.

    References:
        Arellano-Valle, Contreras-Reyes and Genton, "Shannon entropy and mutual information
        for multivariate skew-elliptical distributions", Scand. J. Stat. 2013.
    """
    return _entropy_term(df, dim_x) + _entropy_term(df, dim_y) - _entropy_term(df, dim_x + dim_y)


class StudentTTask(Task):
    r"""(x, y) multivariate Student-t with ν degrees of freedom and scale matrix Σ.

    Sampled as :math:`v = g \sqrt{ν / w}` with :math:`g \sim \mathcal{N}(0, Σ)` and
    :math:`w \sim χ^2_ν`; the marginals are t with the same ν. Even with Σ = I the
    coordinates are dependent (a shared scale), so MI > 0.

    .. math:: I = I_{\mathcal{N}}(Σ) + c(ν, d_x, d_y)

    (see :func:`student_t_correction`). No closed form for the Lautum information.
    """

    def __init__(
        self,
        scale: np.ndarray,
        dim_x: int,
        df: float,
        *,
        name: str,
        params: dict[str, Any] | None = None,
        description: str = "",
    ) -> None:
        scale = np.array(scale, dtype=np.float64)
        df = _check_real("df", df, 0.0, math.inf)
        super().__init__(
            name=name,
            family="student-t",
            dim_x=dim_x,
            dim_y=scale.shape[0] - dim_x,
            params=params if params is not None else {"dim_x": dim_x, "df": df},
            description=description or f"multivariate Student-t, {df:g} degrees of freedom",
        )
        self.scale = scale
        self.df = df
        self._chol = _cholesky("scale", scale)
        self._chol_x = _cholesky("scale[:dim_x, :dim_x]", scale[:dim_x, :dim_x])
        self._chol_y = _cholesky("scale[dim_x:, dim_x:]", scale[dim_x:, dim_x:])
        gaussian_mi = 0.5 * (_log_det(self._chol_x) + _log_det(self._chol_y) - _log_det(self._chol))
        self.gaussian_mutual_information = gaussian_mi
        self._mi = gaussian_mi + student_t_correction(df, self.dim_x, self.dim_y)

    @property
    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        g = rng.standard_normal((n, self.dim_x + self.dim_y)) @ self._chol.T
        w = rng.chisquare(self.df, size=n)
        v = g * np.sqrt(self.df / w)[:, None]
        return v[:, : self.dim_x], v[:, self.dim_x :]

    def _log_density(self, v: np.ndarray, chol: np.ndarray) -> np.ndarray:
        from scipy.special import gammaln  # scipy on first use: listing tasks stays fast

        d = chol.shape[0]
        nu = self.df
        const = (
            gammaln(0.5 * (nu + d))
            - gammaln(0.5 * nu)
            - 0.5 * d * math.log(nu * math.pi)
            - 0.5 * _log_det(chol)
        )
        return const - 0.5 * (nu + d) * np.log1p(_mahalanobis(v, chol) / nu)

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        joint = self._log_density(np.concatenate([x, y], axis=1), self._chol)
        return joint - self._log_density(x, self._chol_x) - self._log_density(y, self._chol_y)


def student_t(
    dim_x: int,
    dim_y: int | None = None,
    *,
    df: float,
    rho: float,
    pairs: int | None = None,
    dense: bool = False,
) -> StudentTTask:
    """A multivariate Student-t task whose scale matrix is that of :func:`gaussian`.

    Names: ``student-t-df-3-5x5-rho-0.5``, ``student-t-df-5-dense-5x5-rho-0.5``,
    ``student-t-df-3-sparse-10x10-pairs-2-rho-0.8``, ``student-t-df-3-1x1-rho-0``.

    Arguments:
        dim_x: The dimension of x.
        dim_y: The dimension of y; defaults to ``dim_x``.
        df: Degrees of freedom ν > 0.
        rho: The correlation parameter of the scale matrix (see :func:`gaussian`).
        pairs: The number of interacting pairs (paired structure).
        dense: Equicorrelated scale matrix.

    Example:
        >>> task = student_t(1, df=3, rho=0.0)
        >>> task.mutual_information > 0  # dependent through the shared scale
        True
    """
    dim_y = dim_x if dim_y is None else dim_y
    df = _check_real("df", df, 0.0, math.inf)
    layout = _layout(dim_x, dim_y, rho=rho, mi=None, pairs=pairs, dense=dense)
    return StudentTTask(
        layout.covariance(),
        dim_x,
        df,
        name=f"student-t-df-{_format_number(df)}-{layout.suffix}",
        params={**layout.params, "df": df},
        description=(
            f"Multivariate Student-t, {df:g} degrees of freedom, scale matrix: {layout.text}."
        ),
    )


def student_t_summary(
    dim_x: int,
    dim_y: int | None = None,
    *,
    df: float,
    rho: float,
    pairs: int | None = None,
    dense: bool = False,
) -> TaskSummary:
    """The summary of ``student_t(...)`` with the same arguments, without building the task:
    the normal MI of the scale matrix (canonical correlations in closed form, see
    :func:`mibound.tasks.gaussian_summary`) plus :func:`student_t_correction`."""
    dim_y = dim_x if dim_y is None else dim_y
    df = _check_real("df", df, 0.0, math.inf)
    layout = _layout(dim_x, dim_y, rho=rho, mi=None, pairs=pairs, dense=dense)
    mi = _gaussian_truths(layout)[0] + student_t_correction(df, layout.dim_x, layout.dim_y)
    name = f"student-t-df-{_format_number(df)}-{layout.suffix}"
    return TaskSummary(name, "student-t", layout.dim_x, layout.dim_y, mi)
