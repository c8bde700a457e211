r"""Plain-language diagnostics for black-box MI estimates: pure functions returning strings.

Each function returns a sentence when its warning applies and ``None`` when it does not, so
callers collect ``[d for d in (...) if d]``. The theory behind them:

- InfoNCE-type bounds never exceed their ceiling (:math:`\log B` for InfoNCE, and
  :math:`1 + \log((B - 1)/\alpha)` for interpolated α-InfoNCE as implemented in
  :func:`mibound.bounds.interpolated`); a value close to the ceiling says nothing about how
  much larger the MI is.
- NWJ/DV-type bounds estimate a partition function :math:`\mathbb{E}_{p(x)p(y)} e^{f}`; with
  the optimal critic its relative variance is at least :math:`(e^{I} - 1)/M` for M independent
  negatives, so they need on the order of :math:`e^{I}` samples per batch.
- McAllester & Stratos (2020): no distribution-free high-confidence lower bound computed from N
  samples can be much above :math:`\ln N` (precise form in :func:`mcallester_stratos_limit`).
- A critic whose held-out value was still rising when training stopped under-reports the MI.
- A critic that scores its training pairs much higher than held-out pairs has memorised them:
  the held-out value is then limited by the number of samples, not by the MI.
- Every estimator here assumes independent pairs from a continuous joint density (or, for the
  neural ones, at least distinct pairs): repeated rows look like pairs at distance zero to a
  k-NN estimator and like memorisable pairs to a critic, and both inflate the value.
- The Gaussian (CCA) MI is exact only for jointly Gaussian data; marginal skewness or excess
  kurtosis far from 0 is direct evidence against that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "MS_K",
    "duplicates",
    "exp_variance",
    "heavy_tails",
    "mcallester_stratos_limit",
    "negative",
    "non_gaussian",
    "not_converged",
    "overfitting",
    "sample_limit",
    "saturation",
]

#: The k of :func:`mcallester_stratos_limit` used by mibound's diagnostics.
MS_K: int = 20


def saturation(
    value: float, ceiling: float, *, name: str = "InfoNCE", margin: float = 0.5
) -> str | None:
    r"""Warns when an InfoNCE-type value is within ``margin`` nats of its ceiling.

    With a perfect density-ratio critic the InfoNCE value is roughly
    :math:`\log B - \log(1 + (B - 1) e^{-I})`: it is within 0.5 nats of :math:`\log B` only once
    :math:`I \gtrsim \log(B - 1) + 0.43`, and from there on it barely moves however large I is.

    Arguments:
        value: The held-out value (nats).
        ceiling: The bound's ceiling, e.g. ``log(B)``.
        name: The bound's name for the message.
        margin: Distance to the ceiling (nats) below which the value counts as saturated.

    Returns:
        The warning, or None.

    Example:
        >>> saturation(2.7, math.log(16)) is not None
        True
        >>> saturation(1.0, math.log(128)) is None
        True
    """
    if not math.isfinite(value) or value < ceiling - margin:
        return None
    return (
        f"saturated: the {name} value {value:.3f} is within {margin:g} nats of its ceiling "
        f"{ceiling:.3f} (which no critic can exceed); the true MI may be much larger; raise "
        "the batch size or use a bound with a known marginal"
    )


def exp_variance(
    batch_values: Sequence[float],
    log_partitions: Sequence[float],
    value: float,
    batch_size: int,
    *,
    name: str = "NWJ",
    spread: float = 0.3,
) -> str | None:
    r"""Warns when an NWJ/DV-type value is in the :math:`e^{I}/M` high-variance regime.

    Two signals, either one fires:

    1. The held-out minibatch estimates of the log-partition term
       :math:`\log \mathrm{mean}_{i \neq j} e^{f(x_i, y_j)}` spread with a standard deviation
       above ``spread`` nats: the partition estimate is dominated by a few large
       :math:`e^{f}` and each batch sees a different few.
    2. :math:`e^{\hat I} \ge B`: with the optimal critic the partition estimate's relative
       variance is at least :math:`(e^{I} - 1)/B` (B independent y's per batch), so even a
       perfect critic gives a value that swings by about a nat from batch to batch.

    Arguments:
        batch_values: The bound on each held-out minibatch.
        log_partitions: The log-partition term on each held-out minibatch.
        value: The reported value (nats).
        batch_size: B.
        name: The bound's name for the message.
        spread: Threshold on the standard deviation of ``log_partitions`` (nats).

    Returns:
        The warning, or None.
    """
    logs = [v for v in log_partitions if math.isfinite(v)]
    sd_log = _sd(logs)
    sd_val = _sd([v for v in batch_values if math.isfinite(v)])
    high = math.isfinite(value) and value >= math.log(batch_size)
    if not (sd_log > spread or high):
        return None
    why = (
        f"its held-out partition term varies by {sd_log:.2f} nats (sd) across minibatches"
        if sd_log > spread
        else f"exp(value) = {math.exp(min(value, 700.0)):.3g} is at least the batch size "
        f"{batch_size}"
    )
    return (
        f"high variance: {why}, and the {name} values spread by {sd_val:.2f} nats (sd); "
        "partition-function bounds (NWJ, DV, MINE, TUBA) need on the order of exp(MI) negative "
        "samples per batch "
        "(variance >= (exp(MI) - 1)/M), so this value is unreliable; raise the batch size or "
        "use smile or infonce"
    )


def mcallester_stratos_limit(n: int, k: int = MS_K) -> float:
    r"""The McAllester–Stratos ceiling :math:`\ln(2 k N^2)` on high-confidence MI lower bounds.

    McAllester & Stratos (2020), Theorem 2: let :math:`B(S, \delta)` be any distribution-free
    high-confidence lower bound on :math:`I(X; Y)` computed from a sample S of N pairs (for
    every distribution, :math:`I \ge B(S, \delta)` with probability at least :math:`1-\delta`).
    Then for every distribution, :math:`N \ge 50` and :math:`k \ge 2`, with probability at least
    :math:`1 - \delta - 1.01/k` over the sample,

    .. math:: B(S, \delta) \le \ln(2 k N^2).

    Arguments:
        n: N, the number of pairs the value was computed from (training and held-out).
        k: The theorem's k (mibound uses 20: the statement then holds with probability at
            least :math:`0.95 - \delta`).

    Returns:
        :math:`\ln(2 k N^2)` in nats.

    Example:
        >>> round(mcallester_stratos_limit(5000), 2)
        20.72

    References:
        McAllester & Stratos (2020), "Formal limitations on the measurement of mutual
        information", AISTATS, https://arxiv.org/abs/1811.04251.
    """
    return math.log(2 * k) + 2.0 * math.log(n)


def sample_limit(value: float, n: int, *, k: int = MS_K) -> str | None:
    """Warns when a value exceeds :func:`mcallester_stratos_limit` for ``n`` samples.

    Arguments:
        value: The reported value (nats).
        n: The number of pairs used (all splits).
        k: The theorem's k.

    Returns:
        The warning, or None.
    """
    limit = mcallester_stratos_limit(n, k)
    if not math.isfinite(value) or value <= limit:
        return None
    return (
        f"beyond the sample limit: {value:.3f} nats exceeds ln(2kN^2) = {limit:.3f} "
        f"(N = {n}, k = {k}); by McAllester & Stratos (2020) a distribution-free lower bound "
        f"with confidence 1 - delta from N samples exceeds this with probability at most "
        f"delta + {1.01 / k:.3f}, so this value cannot be a high-confidence lower bound; treat "
        "it as an estimate"
    )


def not_converged(
    converged: bool,
    stopped_early: bool,
    best_step: int,
    steps_run: int,
    eval_every: int,
    validation: Sequence[float] = (),
) -> str | None:
    """Warns when training ended while the held-out value was still improving.

    Fires when :class:`~mibound.train.TrainResult` says ``converged=False``, or when the run
    used all its steps without early stopping and its best validation value came at the last
    evaluation (the value was still rising when the step budget ran out).

    Arguments:
        converged: ``TrainResult.converged``.
        stopped_early: ``TrainResult.stopped_early``.
        best_step: ``TrainResult.best_step``.
        steps_run: ``TrainResult.steps_run``.
        eval_every: Steps between validations.
        validation: The validation history (for the message).

    Returns:
        The warning, or None.
    """
    late = not stopped_early and best_step >= steps_run and len(validation) > 2
    if converged and not late:
        return None
    trend = ""
    if len(validation) >= 2:
        trend = f" (validation {validation[-2]:.3f} -> {validation[-1]:.3f})"
    return (
        f"training may not have converged: the held-out value was still improving at step "
        f"{steps_run}{trend}; the value likely under-reports the MI; raise steps"
    )


def overfitting(
    train_value: float, test_value: float, stderr: float, *, margin: float = 0.5
) -> str | None:
    """Warns when the same bound is much larger on training pairs than on held-out pairs.

    The gap is the critic's memorisation of its training pairs. The held-out value stays a valid
    lower bound (or estimate), but it is then limited by the sample size rather than by the MI:
    a larger N, a smaller critic or weight decay would give a larger value.

    Arguments:
        train_value: The bound on training-split minibatches (nats).
        test_value: The same bound on the held-out test split (nats).
        stderr: The standard error of ``test_value``.
        margin: Smallest gap (nats) that counts, also at least 20% of the held-out value and
            four standard errors.

    Returns:
        The warning, or None.

    Example:
        >>> overfitting(6.0, 2.5, 0.05) is not None
        True
        >>> overfitting(1.02, 0.98, 0.03) is None
        True
    """
    if not (math.isfinite(train_value) and math.isfinite(test_value)):
        return None
    gap = train_value - test_value
    if gap <= max(margin, 0.2 * abs(test_value), 4 * stderr):
        return None
    return (
        f"over-fitting: the critic scores its training pairs {train_value:.3f} nats and held-out "
        f"pairs {test_value:.3f}; it has memorised the training data, so the value is limited "
        "by the number of samples and the MI may be much larger; more data (or a smaller "
        "critic, weight decay) is needed to say more"
    )


def _sd(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def duplicates(n: int, distinct: int, *, method: str) -> str | None:
    """Warns when rows of ``(x, y)`` repeat.

    Arguments:
        n: The number of rows.
        distinct: The number of distinct ``(x, y)`` rows.
        method: The method's name (``"ksg"``, ``"smile"``, ...), for the consequence.

    Returns:
        The warning, or None when every row is distinct.

    Example:
        >>> duplicates(500, 50, method="ksg") is not None
        True
        >>> duplicates(500, 500, method="ksg") is None
        True
    """
    if distinct >= n:
        return None
    repeated = n - distinct
    if method == "ksg":
        effect = (
            "KSG sees the copies as neighbours at distance ~0 (only the tie-breaking noise "
            "separates them), which inflates the estimate for continuous data; for discrete "
            "data use an estimator for discrete variables"
        )
    elif method == "gaussian":
        effect = "the covariance weights repeated rows as independent samples"
    else:
        effect = (
            "duplicates of a row are kept on one side of the train/validation/test split, but "
            "the value still weights them as independent pairs"
        )
    return (
        f"duplicated rows: {repeated} of the {n} (x, y) rows repeat another row ({distinct} "
        f"distinct); the estimators assume independent pairs from a continuous density: "
        f"{effect}; remove the duplicates if they are copies"
    )


def _moments(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample skewness and excess kurtosis of each column (finite for non-constant columns)."""
    centred = array - array.mean(axis=0)
    square = centred * centred  # products: much faster than ** 3 and ** 4 on large arrays
    var = np.mean(square, axis=0)
    var = np.where(var > 0, var, 1.0)
    skew = np.mean(square * centred, axis=0) / var**1.5
    kurt = np.mean(square * square, axis=0) / var**2 - 3.0
    return skew, kurt


def heavy_tails(array: np.ndarray, name: str, *, threshold: float = 6.0) -> str | None:
    """Warns when a column's sample excess kurtosis exceeds ``threshold`` (heavy tails).

    A Student-t with 5 degrees of freedom has excess kurtosis 6, a Gaussian 0. Heavy tails
    stretch the max-norm neighbourhoods of k-NN estimators (KSG): a few extreme points set the
    scale of every column, and the estimate can be far off at moderate n (Czyż et al. 2023).

    Arguments:
        array: Samples of shape ``(n, d)`` (rescaled to avoid overflow).
        name: ``"x"`` or ``"y"``.
        threshold: Smallest excess kurtosis that counts.

    Returns:
        The warning, or None.
    """
    _, kurt = _moments(array)
    bad = np.flatnonzero(kurt > threshold)
    if bad.size == 0:
        return None
    shown = ", ".join(f"{int(c)} ({kurt[c]:.1f})" for c in bad[:5])
    return (
        f"heavy tails: column(s) {shown} of {name} have excess kurtosis above {threshold:g} "
        "(0 for a Gaussian); KSG's neighbourhoods are then set by a few extreme points and the "
        "estimate can be biased; the MI is unchanged by monotone maps of each column, so a rank "
        "(copula) transform of each column removes the tails"
    )


def non_gaussian(x: np.ndarray, y: np.ndarray) -> str | None:
    """Warns when a column's marginal is clearly not Gaussian (for the Gaussian/CCA MI).

    Fires when a column's sample skewness exceeds ``max(0.5, 4 sqrt(6/n))`` in magnitude or
    its excess kurtosis ``max(1, 4 sqrt(24/n))`` (four standard errors under Gaussianity, so
    Gaussian data rarely trigger it).

    Arguments:
        x: Samples of X, shape ``(n, d_x)`` (rescaled to avoid overflow).
        y: Samples of Y, shape ``(n, d_y)``.

    Returns:
        The warning, or None.
    """
    n = x.shape[0]
    skew_limit = max(0.5, 4.0 * math.sqrt(6.0 / n))
    kurt_limit = max(1.0, 4.0 * math.sqrt(24.0 / n))
    found = []
    for name, array in (("x", x), ("y", y)):
        skew, kurt = _moments(array)
        for c in np.flatnonzero((np.abs(skew) > skew_limit) | (np.abs(kurt) > kurt_limit)):
            found.append(
                f"{name}[{int(c)}] (skewness {skew[c]:.2f}, excess kurtosis {kurt[c]:.2f})"
            )
    if not found:
        return None
    shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
    return (
        f"non-Gaussian marginals: {shown}; the Gaussian MI sees only linear dependence and is "
        "neither a lower nor an upper bound for non-Gaussian data; use ksg or a neural method"
    )


def negative(value: float, ci_high: float, *, kind: str) -> str | None:
    """Warns when a value's whole 95% interval lies below 0 (MI is never negative).

    An estimate (KSG, SMILE, the bias-corrected Gaussian MI) significantly below 0 shows the
    estimator's bias at this sample size, or a bound whose interval leaves out its bias; the
    MI is then probably close to 0. A lower bound below 0 is valid but says nothing.

    Arguments:
        value: The reported value (nats).
        ci_high: The upper end of its 95% interval.
        kind: ``"estimate"`` or ``"lower bound"``.

    Returns:
        The warning, or None.

    Example:
        >>> negative(-0.05, -0.01, kind="estimate") is not None
        True
        >>> negative(-0.05, 0.02, kind="estimate") is None
        True
    """
    if not (math.isfinite(ci_high) and ci_high < 0):
        return None
    if kind == "lower bound":
        why = "a lower bound below 0 is valid but says nothing (MI >= 0)"
    else:
        why = (
            "MI is never negative, so this is the estimator's bias, which the interval "
            "(sampling noise only) does not cover; the MI is probably close to 0"
        )
    return (
        f"significantly negative: {value:.4f} nats with its 95% interval below 0; {why}; "
        "mibound.independence_test gives a p-value for any dependence"
    )
