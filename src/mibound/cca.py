"""The Gaussian (canonical-correlation) MI: the MI of the Gaussian with the data's covariance."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mibound._checks import InvalidValueError
from mibound._inputs import as_pair
from mibound._stats import Z95
from mibound.results import Estimate

__all__ = ["gaussian"]


def gaussian(x: Any, y: Any) -> Estimate:
    r"""Gaussian MI from canonical correlations (an estimate; exact for jointly Gaussian data).

    .. math::
        \hat I_G = -\frac12 \sum_i \log(1 - \hat\rho_i^2)
                 = \frac12 \left[\log\det \hat R_{xx} + \log\det \hat R_{yy}
                                 - \log\det \hat R\right]

    where :math:`\hat\rho_i` are the sample canonical correlations between X and Y and
    :math:`\hat R` the sample correlation matrix of :math:`(X, Y)`. This is the MI of the
    Gaussian distribution with the same covariance. For jointly Gaussian data it is consistent
    (bias about :math:`d_x d_y / (2n)` upward); for other data it captures only linear
    dependence and is *neither* a lower nor an upper bound in general (it misses nonlinear
    dependence, and heavy tails can inflate sample correlations), hence kind ``"estimate"``.

    The standard error is the nonparametric delta method (the influence function of the
    log-determinants, valid without Gaussianity) plus the null-distribution term
    :math:`d_x d_y / (2 n^2)` (under independence :math:`2 n \hat I_G \sim \chi^2_{d_x d_y}`,
    where the first-order term vanishes).

    Arguments:
        x: Samples of X, shape ``(n,)`` or ``(n, d_x)`` (numpy, torch or pandas).
        y: Samples of Y, shape ``(n,)`` or ``(n, d_y)``; ``n > d_x + d_y`` is required.

    Returns:
        An :class:`~mibound.results.Estimate` of kind ``"estimate"`` in nats, with the
        canonical correlations in ``settings["canonical_correlations"]``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal((5000, 2))
        >>> y = 0.6 * x + 0.8 * rng.standard_normal((5000, 2))
        >>> round(gaussian(x, y).value, 1)  # truth: -log(1 - 0.36) = 0.446
        0.4

    References:
        H. Hotelling. Relations between two sets of variates. Biometrika 28 (1936).
        I. M. Gelfand, A. M. Yaglom. Calculation of the amount of information about a random
        function contained in another such function. AMS Transl. 12 (1959).
    """
    xa, ya = as_pair(x, y, min_n=2)
    # C order: reductions then round identically whatever the input's memory layout.
    xa, ya = np.ascontiguousarray(xa), np.ascontiguousarray(ya)
    n, dx = xa.shape
    dy = ya.shape[1]
    if n <= dx + dy:
        raise InvalidValueError(
            f"x, y: the Gaussian (CCA) estimate needs more samples than dimensions, "
            f"n > d_x + d_y = {dx + dy}, got n = {n}"
        )
    z = np.concatenate([xa, ya], axis=1)
    z = z - z.mean(axis=0)
    z = z / z.std(axis=0)
    corr = z.T @ z / n
    chol: dict[str, Any] = {}
    for name, block in (("x", corr[:dx, :dx]), ("y", corr[dx:, dx:]), ("x, y", corr)):
        try:
            chol[name] = np.linalg.cholesky(block)
        except np.linalg.LinAlgError:
            chol[name] = None
        if chol[name] is None or np.min(np.abs(np.diag(chol[name]))) < 1e-7:
            if name == "x, y":
                raise InvalidValueError(
                    "x, y: x and y are (nearly) perfectly linearly dependent: a canonical "
                    "correlation is 1 and the Gaussian MI is infinite"
                )
            raise InvalidValueError(
                f"{name}: columns are (nearly) linearly dependent; drop redundant columns"
            )
    # Canonical correlations: singular values of Lx^{-1} Rxy Ly^{-T}.
    whitened = np.linalg.solve(chol["x"], corr[:dx, dx:])
    whitened = np.linalg.solve(chol["y"], whitened.T).T
    rho = np.clip(np.linalg.svd(whitened, compute_uv=False), 0.0, 1.0)
    value = float(-0.5 * np.sum(np.log1p(-(rho**2))))

    # Influence function of 1/2 [logdet Rxx + logdet Ryy - logdet R] at each sample:
    # 1/2 [x' Rxx^-1 x + y' Ryy^-1 y - z' R^-1 z] (up to a constant, which the variance ignores).
    def quad(block_chol: np.ndarray, cols: np.ndarray) -> np.ndarray:
        w = np.linalg.solve(block_chol, cols.T)
        return np.sum(w * w, axis=0)

    influence = 0.5 * (
        quad(chol["x"], z[:, :dx]) + quad(chol["y"], z[:, dx:]) - quad(chol["x, y"], z)
    )
    variance = float(np.var(influence, ddof=1)) / n + dx * dy / (2.0 * n**2)
    stderr = math.sqrt(variance)
    diagnostics = []
    bias = dx * dy / (2.0 * n)
    if bias > 0.5 * stderr and bias > 0.01:
        diagnostics.append(
            f"small-sample bias: about +{bias:.3f} nats (d_x d_y / 2n) for Gaussian data"
        )
    return Estimate(
        value=value,
        stderr=stderr,
        ci=(value - Z95 * stderr, value + Z95 * stderr),
        kind="estimate",
        method="gaussian",
        n=n,
        diagnostics=diagnostics,
        settings={
            "canonical_correlations": rho.tolist(),
            "stderr_method": (
                "nonparametric delta method (influence function of the log-determinants) "
                "plus the chi-square null term d_x d_y / (2 n^2)"
            ),
            "note": (
                "MI of the Gaussian with the sample covariance: exact for jointly Gaussian "
                "data, not a bound otherwise"
            ),
        },
    )
