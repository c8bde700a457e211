r"""A permutation test of independence: is there any dependence between X and Y at all?

Estimates of MI near 0 are hard to read: KSG and SMILE are biased (their value under
independence is often slightly negative or positive, with an interval that need not contain
0), and a lower bound near 0 says nothing. When the question is only *whether* X and Y are
dependent, a permutation test answers it with a valid p-value whatever the estimator's bias:
under :math:`H_0: X \perp Y`, shuffling the rows of y gives data sets with the same
distribution as the observed one, so

.. math::
    p = \frac{1 + \#\{b : T_b \ge T_{\mathrm{obs}}\}}{1 + B}

(Phipson & Smyth 2010) is a valid p-value for any statistic T, here an MI estimate computed
on the observed pairs and on B permutations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mibound._checks import InvalidTypeError, InvalidValueError, check_seed
from mibound._inputs import as_pair
from mibound._random import numpy_rng
from mibound.results import IndependenceTest

__all__ = ["STATISTICS", "independence_test"]

#: The MI estimates usable as the test statistic.
STATISTICS: tuple[str, ...] = ("ksg", "gaussian")


def independence_test(
    x: Any,
    y: Any,
    *,
    statistic: str = "ksg",
    permutations: int = 199,
    seed: int = 0,
    k: int = 3,
) -> IndependenceTest:
    r"""Permutation test of :math:`H_0: X \perp Y` with an MI estimate as the statistic.

    The statistic is computed on the observed pairs and on ``permutations`` data sets whose y
    rows are shuffled (random stream ``"independence.permutations"`` under ``seed``); the
    p-value is :math:`(1 + \#\{T_b \ge T_{obs}\}) / (1 + B)`, valid in finite samples for
    exchangeable rows (i.i.d. pairs). It tests for *any* dependence the statistic can see:
    ``"ksg"`` (the default) detects nonlinear dependence, ``"gaussian"`` (canonical
    correlations) only linear dependence, with more power against it. A small p-value says
    that X and Y are dependent, not how much MI they share.

    Arguments:
        x: Samples of X, shape ``(n,)`` or ``(n, d_x)``.
        y: Samples of Y, shape ``(n,)`` or ``(n, d_y)``, paired with ``x``.
        statistic: ``"ksg"`` or ``"gaussian"``.
        permutations: B, the number of shuffles (at least 19; the smallest possible p-value is
            ``1 / (B + 1)``).
        seed: Seed of the shuffles and of KSG's tie-breaking noise.
        k: KSG's number of neighbours.

    Returns:
        An :class:`~mibound.results.IndependenceTest` with the observed statistic (nats), the
        p-value and the permutation statistics.

    Raises:
        ValueError: Bad arguments or data (as :func:`mibound.ksg` / :func:`mibound.gaussian`).
        TypeError: Non-numeric data, non-integer seed or counts.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal(300)
        >>> independence_test(x, x**2 + 0.5 * rng.standard_normal(300)).p_value < 0.05
        True
        >>> independence_test(x, rng.standard_normal(300)).p_value > 0.05
        True

    References:
        B. Phipson, G. K. Smyth. Permutation p-values should never be zero. Statistical
        Applications in Genetics and Molecular Biology 9 (2010).
        https://arxiv.org/abs/1603.05766
    """
    if not isinstance(statistic, str) or statistic not in STATISTICS:
        raise InvalidValueError(
            f"statistic: expected one of {', '.join(STATISTICS)}, got {statistic!r}"
        )
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)):
        raise InvalidTypeError(f"permutations: expected an integer >= 19, got {permutations!r}")
    if permutations < 19:
        raise InvalidValueError(
            f"permutations: expected an integer >= 19 (so that p can reach 0.05), got "
            f"{permutations!r}"
        )
    seed = check_seed(seed)
    xa, ya = as_pair(x, y)
    n = xa.shape[0]
    if statistic == "ksg":
        from mibound.knn import ksg

        observed = ksg(xa, ya, k=k, seed=seed, subsamples=0)
        compute = _ksg_statistic(xa, ya, k, seed, observed.settings["backend"])
    else:
        from mibound.cca import gaussian

        observed = gaussian(xa, ya)
        compute = _gaussian_statistic(xa, ya)
    value = compute(np.arange(n))  # the estimator's value, computed as the null ones are
    rng = numpy_rng(seed, "independence.permutations")
    null = np.array([compute(rng.permutation(n)) for _ in range(int(permutations))])
    exceed = int(np.sum(null >= value - 1e-12 * max(1.0, abs(value))))
    p_value = (1 + exceed) / (1 + int(permutations))
    notes = [d for d in observed.diagnostics if not d.startswith("no standard error")]
    return IndependenceTest(
        statistic=value,
        p_value=p_value,
        permutations=int(permutations),
        method=statistic,
        n=n,
        null_mean=float(null.mean()),
        null_sd=float(null.std(ddof=1)),
        null=null.tolist(),
        diagnostics=notes,
        settings={"k": k if statistic == "ksg" else None, "seed": seed},
    )


def _ksg_statistic(x: np.ndarray, y: np.ndarray, k: int, seed: int, backend: str) -> Any:
    """KSG on permuted y, with the same preparation and noise as :func:`mibound.ksg`."""
    from mibound.knn import _ksg_value, _prepare

    xp, yp = _prepare(x, y, True)
    rng = numpy_rng(seed, "ksg.noise")
    xp = xp + 1e-10 * xp.std(axis=0) * rng.standard_normal(xp.shape)
    yp = yp + 1e-10 * yp.std(axis=0) * rng.standard_normal(yp.shape)
    return lambda perm: _ksg_value(xp, np.ascontiguousarray(yp[perm]), k, -1, backend)


def _gaussian_statistic(x: np.ndarray, y: np.ndarray) -> Any:
    """The Gaussian MI on permuted y (bias-corrected, as :func:`mibound.gaussian`)."""
    from mibound._inputs import power_of_two_scale
    from mibound.cca import gaussian_bias

    n, dx = x.shape
    dy = y.shape[1]
    bias = gaussian_bias(n, dx, dy)

    def whiten(a: np.ndarray) -> np.ndarray:
        a = power_of_two_scale(a)
        a = a - a.mean(axis=0)
        q, _ = np.linalg.qr(a)
        return q

    qx, qy = whiten(x), whiten(y)

    def value(perm: np.ndarray) -> float:
        rho = np.clip(np.linalg.svd(qx.T @ qy[perm], compute_uv=False), 0.0, 1.0 - 1e-15)
        return float(-0.5 * np.sum(np.log1p(-(rho**2)))) - bias

    return value
