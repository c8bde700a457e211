"""Plug-in MI between discrete variables, with the Miller–Madow bias correction."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mibound._checks import InvalidValueError
from mibound._inputs import as_samples
from mibound._stats import interval95
from mibound.results import Estimate

__all__ = ["category_codes", "plugin", "plugin_codes"]


def category_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Joint category index of each row of a float array ``(n, d)`` and the number of them."""
    _, codes = np.unique(values, axis=0, return_inverse=True)
    codes = codes.reshape(-1)
    return codes.astype(np.int64), int(codes.max()) + 1


def plugin(x: Any, y: Any, *, correction: str = "miller-madow") -> Estimate:
    r"""Plug-in MI of discrete X and Y (an estimate), with the Miller–Madow correction.

    With :math:`N_{ab}` the count of rows with X = a and Y = b (a row of several columns is
    one category),

    .. math::
        \hat I = \sum_{a,b} \frac{N_{ab}}{N} \log \frac{N N_{ab}}{N_a N_b}, \qquad
        \hat I_{MM} = \hat I - \frac{m_{XY} - m_X - m_Y + 1}{2N}

    where :math:`m` counts the occupied cells. :math:`\hat I_{MM}` is
    :math:`\hat H_{MM}(X) + \hat H_{MM}(Y) - \hat H_{MM}(X, Y)` with the Miller–Madow entropy
    :math:`\hat H + (m - 1)/(2N)`, which removes the :math:`O(1/N)` bias of the plug-in
    entropies; the plug-in MI itself is biased upward by about
    :math:`(m_X - 1)(m_Y - 1)/(2N)` under independence. Neither is a bound. With every cell
    well filled (``N`` much larger than the number of cells) the remaining bias is
    :math:`O(1/N^2)`; with many unseen or singleton cells both are biased and a diagnostic says so.

    The standard error is the delta method, :math:`\sqrt{\widehat{\mathrm{Var}}[\log
    \hat p_{ab}/(\hat p_a \hat p_b)]/N}` (the influence function of the MI is the pointwise MI
    minus I), plus the null term :math:`(m_X - 1)(m_Y - 1)/(2N^2)` in the variance (under
    independence :math:`2N\hat I \sim \chi^2_{(m_X-1)(m_Y-1)}` and the first-order term
    vanishes).

    Arguments:
        x: Discrete samples of X, shape ``(N,)`` or ``(N, d_x)``, any numeric codes.
        y: Discrete samples of Y, shape ``(N,)`` or ``(N, d_y)``, paired with ``x``.
        correction: ``"miller-madow"`` (default) or ``"none"`` (the plain plug-in, which is
            what ``sklearn.metrics.mutual_info_score`` computes).

    Returns:
        An :class:`~mibound.results.Estimate` of kind ``"estimate"`` in nats; the plain plug-in
        value is in ``settings["plugin_value"]`` and the cell counts in ``settings``.

    Example:
        >>> x = np.array([0] * 50 + [1] * 50)
        >>> y = np.array([0] * 45 + [1] * 5 + [0] * 5 + [1] * 45)  # BSC with ε = 0.1
        >>> round(plugin(x, y, correction="none").value, 6)  # log 2 - H_b(0.1)
        0.368064

    References:
        G. A. Miller. Note on the bias of information estimates. In Information Theory in
        Psychology (1955). L. Paninski. Estimation of entropy and mutual information.
        Neural Computation 15 (2003). https://doi.org/10.1162/089976603321780272
    """
    if correction not in ("miller-madow", "none"):
        raise InvalidValueError(
            f"correction: expected 'miller-madow' or 'none', got {correction!r}"
        )
    xa = as_samples("x", x, check_variance=False)
    ya = as_samples("y", y, check_variance=False)
    if xa.shape[0] != ya.shape[0]:
        raise InvalidValueError(
            f"x, y: expected the same number of samples (rows), got {xa.shape[0]} and {ya.shape[0]}"
        )
    return plugin_codes(*category_codes(xa), *category_codes(ya), correction=correction)


def plugin_codes(
    cx: np.ndarray, mx: int, cy: np.ndarray, my: int, *, correction: str = "miller-madow"
) -> Estimate:
    """:func:`plugin` on category indices ``cx`` in ``[0, mx)`` and ``cy`` in ``[0, my)``."""
    n = cx.shape[0]
    for name, m in (("x", mx), ("y", my)):
        if m < 2:
            raise InvalidValueError(
                f"{name}: a discrete variable with a single category carries no information"
            )
    joint = np.bincount(cx * my + cy, minlength=mx * my).reshape(mx, my).astype(np.float64)
    nx = joint.sum(axis=1)
    ny = joint.sum(axis=0)
    occupied = joint > 0
    # Pointwise plug-in MI log(N N_ab / (N_a N_b)) of every occupied cell.
    pmi = np.zeros_like(joint)
    pmi[occupied] = np.log(n * joint[occupied]) - np.log(np.outer(nx, ny)[occupied])
    weights = joint[occupied] / n
    value_plugin = float(np.sum(weights * pmi[occupied]))
    m_xy, m_x, m_y = int(occupied.sum()), int((nx > 0).sum()), int((ny > 0).sum())
    shift = (m_xy - m_x - m_y + 1) / (2.0 * n) if correction == "miller-madow" else 0.0
    value = value_plugin - shift
    second = float(np.sum(weights * pmi[occupied] ** 2))
    df = (m_x - 1) * (m_y - 1)
    variance = max(second - value_plugin**2, 0.0) / n + df / (2.0 * n**2)
    stderr = math.sqrt(variance)
    diagnostics = []
    cells = m_x * m_y
    if n < 5 * cells:
        diagnostics.append(
            f"few samples per cell ({n} samples, {m_x} x {m_y} = {cells} cells): the plug-in "
            "bias is not O(1/N) yet and the correction is only approximate"
        )
    singletons = int(np.sum(joint == 1))
    if singletons > 0.2 * m_xy:
        diagnostics.append(
            f"{singletons} of {m_xy} occupied cells hold one sample: the alphabet is "
            "undersampled; treat the value with caution"
        )
    return Estimate(
        value=value,
        stderr=stderr,
        ci=interval95(value, stderr),
        kind="estimate",
        method="plugin",
        n=n,
        diagnostics=diagnostics,
        settings={
            "correction": correction,
            "plugin_value": value_plugin,
            "categories_x": m_x,
            "categories_y": m_y,
            "occupied_cells": m_xy,
            "stderr_method": (
                "delta method (variance of the plug-in pointwise MI / N) plus the chi-square "
                "null term (m_x - 1)(m_y - 1) / (2 N^2)"
            ),
        },
    )
