"""The Gaussian (canonical-correlation) MI: the MI of the Gaussian with the data's covariance."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import digamma

from mibound import diagnostics as _diagnostics
from mibound._checks import InvalidTypeError, InvalidValueError
from mibound._inputs import as_pair, power_of_two_scale, row_groups
from mibound._stats import Z95, interval95
from mibound.results import Estimate

__all__ = ["gaussian", "gaussian_bias"]


def gaussian(x: Any, y: Any, *, bias_correction: bool = True) -> Estimate:
    r"""Gaussian MI from canonical correlations (an estimate; exact for jointly Gaussian data).

    .. math::
        \hat I_G = -\frac12 \sum_i \log(1 - \hat\rho_i^2)
                 = \frac12 \left[\log\det \hat R_{xx} + \log\det \hat R_{yy}
                                 - \log\det \hat R\right]

    where :math:`\hat\rho_i` are the sample canonical correlations between X and Y and
    :math:`\hat R` the sample correlation matrix of :math:`(X, Y)`. This is the MI of the
    Gaussian distribution with the same covariance. For other than jointly Gaussian data it
    captures only linear dependence and is *neither* a lower nor an upper bound in general (it
    misses nonlinear dependence, and heavy tails can inflate sample correlations), hence kind
    ``"estimate"``; a diagnostic fires when a marginal is clearly not Gaussian.

    For jointly Gaussian data the plug-in value is biased upward by a known amount whatever the
    true covariance: :math:`n \hat\Sigma` is Wishart with :math:`n - 1` degrees of freedom, so
    :math:`\mathbb{E} \log\det \hat\Sigma_d = \log\det\Sigma_d + d \log(2/n)
    + \sum_{i=1}^{d} \psi((n - i)/2)` and

    .. math::
        \mathbb{E}\hat I_G - I = \frac12 \left[\sum_{i=1}^{d_y} \psi\left(\frac{n-i}{2}\right)
            - \sum_{i=d_x+1}^{d_x+d_y} \psi\left(\frac{n-i}{2}\right)\right]
            \approx \frac{d_x d_y}{2n}.

    With ``bias_correction`` (the default) this amount is subtracted, which makes the value
    exactly unbiased for Gaussian data (it can then be negative under independence); the
    uncorrected value is kept in ``settings["uncorrected_value"]``.

    The standard error is the nonparametric delta method (the influence function of the
    log-determinants, valid without Gaussianity) plus the null-distribution term
    :math:`d_x d_y / (2 n^2)` (under independence :math:`2 n \hat I_G \sim \chi^2_{d_x d_y}`,
    where the first-order term vanishes).

    Arguments:
        x: Samples of X, shape ``(n,)`` or ``(n, d_x)`` (numpy, torch or pandas).
        y: Samples of Y, shape ``(n,)`` or ``(n, d_y)``; ``n > d_x + d_y`` is required.
        bias_correction: Subtract the exact Gaussian small-sample bias (see above).

    Returns:
        An :class:`~mibound.results.Estimate` of kind ``"estimate"`` in nats, with the
        canonical correlations in ``settings["canonical_correlations"]``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal((5000, 2))
        >>> y = 0.6 * x + 0.8 * rng.standard_normal((5000, 2))
        >>> round(gaussian(x, y).value, 1)  # truth: -log(1 - 0.36) = 0.446
        0.4

    The interval covers the sampling noise of the value; the bias correction is exact only for
    Gaussian data, and for other data the value's distance to the true MI is not covered.

    References:
        H. Hotelling. Relations between two sets of variates. Biometrika 28 (1936).
        I. M. Gelfand, A. M. Yaglom. Calculation of the amount of information about a random
        function contained in another such function. AMS Transl. 12 (1959).
    """
    if not isinstance(bias_correction, (bool, np.bool_)):
        raise InvalidTypeError(f"bias_correction: expected True or False, got {bias_correction!r}")
    xa, ya = as_pair(x, y, min_n=2)
    # C order: reductions then round identically whatever the input's memory layout.
    # Exact power-of-two rescaling: x * 1e300 would overflow the variances otherwise.
    xa = np.ascontiguousarray(power_of_two_scale(xa))
    ya = np.ascontiguousarray(power_of_two_scale(ya))
    n, dx = xa.shape
    dy = ya.shape[1]
    if n <= dx + dy:
        raise InvalidValueError(
            f"x, y: the Gaussian (CCA) estimate needs more samples than dimensions, "
            f"n > d_x + d_y = {dx + dy}, got n = {n}"
        )
    z, corr = _standardised_correlation(np.concatenate([xa, ya], axis=1))
    chol = _cholesky_blocks(corr, dx)
    # Canonical correlations: singular values of Lx^{-1} Rxy Ly^{-T}.
    whitened = np.linalg.solve(chol["x"], corr[:dx, dx:])
    whitened = np.linalg.solve(chol["y"], whitened.T).T
    rho = np.clip(np.linalg.svd(whitened, compute_uv=False), 0.0, 1.0)
    uncorrected = float(-0.5 * np.sum(np.log1p(-(rho**2))))
    bias = gaussian_bias(n, dx, dy)
    value = uncorrected - bias if bias_correction else uncorrected
    stderr = _delta_method_stderr(chol, z, dx, dy)
    diagnostics = [
        d
        for d in (
            _diagnostics.non_gaussian(xa, ya),
            _diagnostics.duplicates(n, row_groups(xa, ya)[1], method="gaussian"),
            _diagnostics.negative(value, value + Z95 * stderr, kind="estimate"),
        )
        if d
    ]
    if not bias_correction and bias > 0.5 * stderr and bias > 0.01:
        diagnostics.append(
            f"small-sample bias: +{bias:.3f} nats (about d_x d_y / 2n) for Gaussian data, not "
            "subtracted (bias_correction=False)"
        )
    return Estimate(
        value=value,
        stderr=stderr,
        ci=interval95(value, stderr),
        kind="estimate",
        method="gaussian",
        n=n,
        diagnostics=diagnostics,
        settings=_settings(rho, bias, bias_correction, uncorrected),
    )


def _standardised_correlation(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The columns centred and scaled to unit variance, and their correlation matrix."""
    v = v - v.mean(axis=0)
    v = v / v.std(axis=0)
    return v, v.T @ v / v.shape[0]


def _checked_cholesky(matrix: np.ndarray, singular: str) -> np.ndarray:
    """The Cholesky factor of a correlation block; ``singular`` is the error's message when
    the block is (nearly) singular (a pivot below 1e-7)."""
    try:
        factor = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise InvalidValueError(singular) from None
    if np.min(np.abs(np.diag(factor))) < 1e-7:
        raise InvalidValueError(singular)
    return factor


def _quadratic_forms(chol: np.ndarray, rows: np.ndarray) -> np.ndarray:
    r"""The quadratic forms :math:`v_i^\top R^{-1} v_i` of the rows, with :math:`R = L L^\top`.

    They make the influence function of a log-determinant (up to a constant), whose variance
    gives the delta-method standard errors here and in
    :func:`mibound.conditional.conditional_gaussian`.
    """
    w = np.linalg.solve(chol, rows.T)
    return np.sum(w * w, axis=0)


def _cholesky_blocks(corr: np.ndarray, dx: int) -> dict[str, np.ndarray]:
    """Cholesky factors of R_xx, R_yy and R; a (nearly) singular one is an error naming it."""
    redundant = "columns are (nearly) linearly dependent; drop redundant columns"
    return {
        "x": _checked_cholesky(corr[:dx, :dx], f"x: {redundant}"),
        "y": _checked_cholesky(corr[dx:, dx:], f"y: {redundant}"),
        "x, y": _checked_cholesky(
            corr,
            "x, y: x and y are (nearly) perfectly linearly dependent: a canonical correlation "
            "is 1 and the Gaussian MI is infinite",
        ),
    }


def _delta_method_stderr(chol: dict[str, np.ndarray], z: np.ndarray, dx: int, dy: int) -> float:
    """The delta-method standard error plus the chi-square null term d_x d_y / (2 n^2).

    The influence function of 1/2 [logdet Rxx + logdet Ryy - logdet R] at each sample is
    1/2 [x' Rxx^-1 x + y' Ryy^-1 y - z' R^-1 z] (up to a constant, which the variance ignores).
    """
    n = z.shape[0]
    influence = 0.5 * (
        _quadratic_forms(chol["x"], z[:, :dx])
        + _quadratic_forms(chol["y"], z[:, dx:])
        - _quadratic_forms(chol["x, y"], z)
    )
    variance = float(np.var(influence, ddof=1)) / n + dx * dy / (2.0 * n**2)
    return math.sqrt(variance)


def _settings(
    rho: np.ndarray, bias: float, bias_correction: bool, uncorrected: float
) -> dict[str, Any]:
    return {
        "canonical_correlations": rho.tolist(),
        "bias_correction": bias if bias_correction else 0.0,
        "gaussian_bias": bias,
        "uncorrected_value": uncorrected,
        "interval_covers": (
            "sampling noise of the value (delta method); the Gaussian small-sample bias "
            + ("is subtracted" if bias_correction else "is not subtracted")
            + "; the bias for non-Gaussian data is not covered"
        ),
        "stderr_method": (
            "nonparametric delta method (influence function of the log-determinants) "
            "plus the chi-square null term d_x d_y / (2 n^2)"
        ),
        "note": (
            "MI of the Gaussian with the sample covariance: exact for jointly Gaussian "
            "data, not a bound otherwise"
        ),
    }


def gaussian_bias(n: int, dx: int, dy: int) -> float:
    r"""The exact bias :math:`\mathbb{E}\hat I_G - I` of the plug-in Gaussian MI on Gaussian data.

    .. math::
        \frac12 \left[\sum_{i=1}^{d_y} \psi\left(\frac{n-i}{2}\right)
            - \sum_{i=d_x+1}^{d_x+d_y} \psi\left(\frac{n-i}{2}\right)\right]

    from :math:`\mathbb{E}\log\det(n\hat\Sigma) = \log\det\Sigma + d\log 2
    + \sum_{i=1}^{d}\psi((n-i)/2)` for the Wishart matrix :math:`n\hat\Sigma` with
    :math:`n - 1` degrees of freedom; it does not depend on the covariance and is about
    :math:`d_x d_y / (2n)`.

    Arguments:
        n: Samples (``n > d_x + d_y``).
        dx: Dimension of X.
        dy: Dimension of Y.

    Returns:
        The bias in nats (positive).

    Example:
        >>> round(gaussian_bias(1000, 2, 3), 5), 2 * 3 / (2 * 1000)
        (0.00302, 0.003)

    References:
        T. W. Anderson. An Introduction to Multivariate Statistical Analysis, 3rd ed. (2003),
        Theorem 7.5.3 (the determinant of a Wishart matrix as a product of chi-squares).
    """
    i_y = np.arange(1, dy + 1)
    i_xy = np.arange(dx + 1, dx + dy + 1)
    return float(0.5 * (np.sum(digamma((n - i_y) / 2.0)) - np.sum(digamma((n - i_xy) / 2.0))))
