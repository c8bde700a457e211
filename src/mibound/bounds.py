r"""Bounds on mutual information as pure, differentiable torch functions (nats).

Two families live here.

**Sample-based bounds** take a score matrix ``scores[..., i, j] = f(x_i, z_j)`` whose diagonal
holds the B joint pairs and whose off-diagonal entries are product-of-marginals pairs. Every
bound uses one critic convention: the optimal critic is the pointwise mutual information
:math:`f^\star(x, z) = \log p(x, z) / (p(x) p(z))` (for InfoNCE-type bounds, up to a function
of x). A critic trained with one objective can therefore be evaluated with another without
offsets.

**Known-density bounds** take log-weights ``log_w[k, ..., n] = log ρ̂(x_n, z_k) - log q(z_k | x_n)``
for proposal samples :math:`z_k \sim q(\cdot | x_n)`, and the exact posterior sample ``z0`` that
generated ``x_n`` (which is what makes lower bounds and sandwiches possible on simulated data).

Every function returns the bound averaged over the data dimension (the rows ``i`` of a score
matrix, or the last dimension ``n`` of log-weights), keeping leading batch dimensions. Pass
``reduction="none"`` for the per-sample terms, whose mean is the bound; later estimators use
them for standard errors. Pass ``validate=False`` inside hot loops once inputs are known good.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from mibound._checks import InvalidTypeError, InvalidValueError

__all__ = [
    "MineAverage",
    "barber_agakov",
    "dv",
    "infonce",
    "interpolated",
    "interpolated_ceiling",
    "iwae_upper",
    "js",
    "lautum_lower",
    "lautum_upper",
    "log_mean_exp",
    "multisample_lower",
    "nwj",
    "smile",
    "tuba",
]

Reduction = Literal["mean", "none"]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def log_mean_exp(x: Tensor, dim: int | tuple[int, ...] = -1, keepdim: bool = False) -> Tensor:
    r"""Numerically stable :math:`\log \frac{1}{n} \sum_i e^{x_i}` over ``dim``."""
    dims = (dim,) if isinstance(dim, int) else dim
    n = math.prod(x.shape[d] for d in dims)
    return torch.logsumexp(x, dim=dims, keepdim=keepdim) - math.log(n)


def _check_tensor(name: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise InvalidTypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise InvalidTypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")
    return value


def _check_no_nan(name: str, value: Tensor, allow_neg_inf: bool = False) -> None:
    bad = torch.isnan(value) | (value == math.inf)
    if not allow_neg_inf:
        bad = bad | (value == -math.inf)
    if bool(bad.any()):
        what = "NaN or +inf" if allow_neg_inf else "NaN or inf"
        raise InvalidValueError(
            f"{name}: expected finite values, found {int(bad.sum())} {what} entries"
        )


def _check_scores(scores: object, validate: bool) -> Tensor:
    scores = _check_tensor("scores", scores)
    if scores.ndim < 2 or scores.shape[-1] != scores.shape[-2]:
        raise InvalidValueError(
            "scores: expected a square score matrix of shape (..., B, B) with "
            f"scores[..., i, j] = f(x_i, z_j), got shape {tuple(scores.shape)}"
        )
    if scores.shape[-1] < 2:
        raise InvalidValueError(
            "scores: expected a batch of at least 2 pairs (B >= 2) to have negatives, "
            f"got B = {scores.shape[-1]}"
        )
    if validate:
        _check_no_nan("scores", scores)
    return scores


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "none"):
        raise InvalidValueError(f"reduction: expected 'mean' or 'none', got {reduction!r}")


def _reduce(terms: Tensor, reduction: str) -> Tensor:
    return terms.mean(dim=-1) if reduction == "mean" else terms


def _diag(scores: Tensor) -> Tensor:
    return torch.diagonal(scores, dim1=-2, dim2=-1)


def _off_diagonal_mask(b: int, device: torch.device) -> Tensor:
    return ~torch.eye(b, dtype=torch.bool, device=device)


def _row_lme_off_diagonal(scores: Tensor) -> Tensor:
    """Per row i: log mean_{j != i} exp(scores[..., i, j]), shape (..., B)."""
    b = scores.shape[-1]
    masked = scores.masked_fill(~_off_diagonal_mask(b, scores.device), -math.inf)
    return torch.logsumexp(masked, dim=-1) - math.log(b - 1)


def _lme_off_diagonal(scores: Tensor) -> Tensor:
    """log mean_{i != j} exp(scores[..., i, j]), shape (...)."""
    b = scores.shape[-1]
    masked = scores.masked_fill(~_off_diagonal_mask(b, scores.device), -math.inf)
    return torch.logsumexp(masked, dim=(-2, -1)) - math.log(b * (b - 1))


# --------------------------------------------------------------------------------------------
# Sample-based bounds on score matrices
# --------------------------------------------------------------------------------------------


def nwj(scores: Tensor, *, reduction: Reduction = "mean", validate: bool = True) -> Tensor:
    r"""NWJ (f-GAN KL, MINE-f) lower bound.

    .. math:: I_\mathrm{NWJ} = \frac{1}{B} \sum_i f(x_i, z_i)
        - \frac{1}{B(B-1)} \sum_{i \neq j} e^{f(x_i, z_j)} + 1

    Side: **lower bound**, tight at the pointwise MI critic (with this convention; papers that
    write :math:`e^{f - 1}` use a critic shifted by one). Unbiased for its population value,
    but the variance of the second term is at least :math:`(e^{I} - 1) / M` with M negative
    pairs, so it needs on the order of :math:`e^{I}` samples (McAllester & Stratos, 2020).

    Arguments:
        scores: Score matrix of shape ``(..., B, B)``, joint pairs on the diagonal.
        reduction: ``"mean"`` for the bound, shape ``(...)``; ``"none"`` for per-row terms
            :math:`f(x_i, z_i) - \mathrm{mean}_{j \neq i} e^{f(x_i, z_j)} + 1`, shape ``(..., B)``.
        validate: Check inputs (costs a device sync on GPU).

    Returns:
        The bound in nats.

    Example:
        >>> s = torch.zeros(8, 8)
        >>> nwj(s)
        tensor(0.)

    References:
        Nguyen, Wainwright & Jordan (2010), https://arxiv.org/abs/0809.0853;
        Poole et al. (2019), https://arxiv.org/abs/1905.06922.
    """
    scores = _check_scores(scores, validate)
    _check_reduction(reduction)
    terms = _diag(scores) - torch.exp(_row_lme_off_diagonal(scores)) + 1.0
    return _reduce(terms, reduction)


def dv(scores: Tensor, *, reduction: Reduction = "mean", validate: bool = True) -> Tensor:
    r"""Donsker–Varadhan lower bound.

    .. math:: I_\mathrm{DV} = \frac{1}{B} \sum_i f(x_i, z_i)
        - \log \frac{1}{B(B-1)} \sum_{i \neq j} e^{f(x_i, z_j)}

    Side: **lower bound** in the population (it dominates NWJ for every critic); the minibatch
    plug-in is biased *upward* by about :math:`\chi^2 / (2M)` through the log of a sample mean,
    and like NWJ needs on the order of :math:`e^{I}` samples.

    Arguments:
        scores: Score matrix of shape ``(..., B, B)``.
        reduction: ``"mean"`` or ``"none"`` (per-row :math:`f(x_i, z_i)` minus the shared
            log-partition term; these are not independent across rows).
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Donsker & Varadhan (1983); Belghazi et al. (2018), https://arxiv.org/abs/1801.04062.
    """
    scores = _check_scores(scores, validate)
    _check_reduction(reduction)
    terms = _diag(scores) - _lme_off_diagonal(scores).unsqueeze(-1)
    return _reduce(terms, reduction)


def infonce(scores: Tensor, *, reduction: Reduction = "mean", validate: bool = True) -> Tensor:
    r"""InfoNCE (CPC) lower bound.

    .. math:: I_\mathrm{NCE} = \log B + \frac{1}{B} \sum_i \Big( f(x_i, z_i)
        - \log \sum_j e^{f(x_i, z_j)} \Big)

    Side: **lower bound** with low variance, but it can never exceed :math:`\log B`: every
    per-row term is at most :math:`\log B`. When the true MI is above :math:`\log B` the value
    saturates, whatever the critic. The optimal critic is the pointwise MI up to a function of x.

    Arguments:
        scores: Score matrix of shape ``(..., B, B)``.
        reduction: ``"mean"`` or ``"none"`` (per-row terms, each at most :math:`\log B`).
        validate: Check inputs.

    Returns:
        The bound in nats.

    Example:
        >>> infonce(torch.eye(4) * 100.0)  # a perfect critic hits the ceiling log 4
        tensor(1.3863)

    References:
        van den Oord et al. (2018), https://arxiv.org/abs/1807.03748;
        Poole et al. (2019), https://arxiv.org/abs/1905.06922.
    """
    scores = _check_scores(scores, validate)
    _check_reduction(reduction)
    b = scores.shape[-1]
    terms = math.log(b) + _diag(scores) - torch.logsumexp(scores, dim=-1)
    return _reduce(terms, reduction)


def _check_log_baseline(log_baseline: object, scores: Tensor, validate: bool) -> Tensor:
    if isinstance(log_baseline, (int, float)):
        log_baseline = torch.tensor(float(log_baseline), dtype=scores.dtype, device=scores.device)
    log_baseline = _check_tensor("log_baseline", log_baseline)
    try:
        torch.broadcast_shapes(log_baseline.shape, scores.shape[:-1])
    except RuntimeError:
        raise InvalidValueError(
            "log_baseline: expected a shape broadcastable to the rows of scores "
            f"{tuple(scores.shape[:-1])} (one value log a(x_i) per row), "
            f"got shape {tuple(log_baseline.shape)}"
        ) from None
    if validate:
        _check_no_nan("log_baseline", log_baseline)
    return log_baseline


def tuba(
    scores: Tensor,
    log_baseline: Tensor | float = 0.0,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""TUBA lower bound with a baseline :math:`a(x) > 0` given as :math:`\log a(x)`.

    .. math:: I_\mathrm{TUBA} = 1 + \frac{1}{B} \sum_i \big(f(x_i, z_i) - \log a(x_i)\big)
        - \frac{1}{B(B-1)} \sum_{i \neq j} \frac{e^{f(x_i, z_j)}}{a(x_i)}

    Side: **lower bound** for any critic and any positive baseline; tight when
    :math:`e^{f(x, z)} / a(x) = p(z | x) / p(z)`. With ``log_baseline = 0`` it is :func:`nwj`.

    Arguments:
        scores: Score matrix of shape ``(..., B, B)``.
        log_baseline: :math:`\log a(x_i)`, broadcastable to ``(..., B)``; a float for a constant.
        reduction: ``"mean"`` or ``"none"`` (per-row terms).
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Poole et al. (2019), https://arxiv.org/abs/1905.06922, eq. (8).
    """
    scores = _check_scores(scores, validate)
    log_baseline = _check_log_baseline(log_baseline, scores, validate)
    _check_reduction(reduction)
    log_a = torch.broadcast_to(log_baseline, scores.shape[:-1])
    terms = 1.0 + _diag(scores) - log_a - torch.exp(_row_lme_off_diagonal(scores) - log_a)
    return _reduce(terms, reduction)


def interpolated(
    scores: Tensor,
    alpha: float,
    log_baseline: Tensor | float = 0.0,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""Interpolated α-InfoNCE lower bound of Poole et al. (2019).

    TUBA applied to a multi-sample critic whose baseline interpolates the InfoNCE partition
    estimate and a learned baseline :math:`a(x)`:

    .. math:: g(x, z_1; z_{2:K}) = \frac{e^{f(x, z_1)}}{\alpha \frac{1}{K} \sum_{k=1}^K
        e^{f(x, z_k)} + (1 - \alpha) a(x)}, \qquad
        I_\alpha = 1 + \mathbb{E}_{p(x, z_1) p(z_{2:K})}[\log g]
        - \mathbb{E}_{p(x) p(z_{1:K})}[g]

    Row i of the batch gives x; its marginal term needs K independent z's, which leaves
    :math:`K = B - 1` (every z but :math:`z_i`). The joint term is averaged over which of the
    other B-1 z's is left out. With this K the marginal term for row i is exactly
    :math:`m_i / (\alpha m_i + (1 - \alpha) a(x_i))` with :math:`m_i = \mathrm{mean}_{j \neq i}
    e^{f(x_i, z_j)}`.

    Side: **lower bound** for every α in (0, 1]; ceiling :func:`interpolated_ceiling`:
    :math:`1 + \log((B - 1)/\alpha)` for α < 1 and :math:`\log(B - 1)` at α = 1 (one sample
    is spent on independence). α = 1 is InfoNCE with B-1 candidates (its marginal term is
    exactly 1); α → 0 approaches TUBA/NWJ: less bias, more variance.

    Arguments:
        scores: Score matrix of shape ``(..., B, B)``, B >= 3.
        alpha: Interpolation weight in (0, 1].
        log_baseline: :math:`\log a(x_i)`, broadcastable to ``(..., B)``.
        reduction: ``"mean"`` or ``"none"`` (per-row terms).
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Poole et al. (2019), https://arxiv.org/abs/1905.06922, section 2.4.
    """
    scores = _check_scores(scores, validate)
    if not isinstance(alpha, (int, float)) or not (0.0 < float(alpha) <= 1.0):
        raise InvalidValueError(f"alpha: expected a number in (0, 1], got {alpha!r}")
    b = scores.shape[-1]
    if b < 3:
        raise InvalidValueError(
            f"scores: interpolated needs a batch of at least 3 pairs, got B = {b}"
        )
    log_baseline = _check_log_baseline(log_baseline, scores, validate)
    _check_reduction(reduction)
    alpha = float(alpha)
    log_a = torch.broadcast_to(log_baseline, scores.shape[:-1])
    eye = torch.eye(b, dtype=torch.bool, device=scores.device)
    diag = _diag(scores)  # (..., B)
    # Log of the sum over j != i of exp(S_ij): (..., B)
    log_sum_off = torch.logsumexp(scores.masked_fill(eye, -math.inf), dim=-1)
    # Joint term: the candidate set is {z_i} ∪ {z_k : k ∉ {i, l}} for each l != i, i.e. row i
    # without column l; its log-sum is computed directly (no subtraction, which cancels when
    # S_il dominates the row): (..., B, B) indexed [i, l].
    log_mean_set = _leave_one_out_logsumexp(scores) - math.log(b - 1)
    log_den = _log_interp(log_mean_set, log_a.unsqueeze(-1), alpha)
    joint = (diag.unsqueeze(-1) - log_den).masked_fill(eye, 0.0).sum(-1) / (b - 1)
    # Marginal term: candidate set {z_k : k != i}; its mean is m_i.
    log_m = log_sum_off - math.log(b - 1)
    marginal = torch.exp(log_m - _log_interp(log_m, log_a, alpha))
    terms = 1.0 + joint - marginal
    return _reduce(terms, reduction)


def interpolated_ceiling(batch: int, alpha: float) -> float:
    r"""The supremum of :func:`interpolated` over critics for a batch of B pairs.

    With :math:`K = B - 1` candidates, :math:`\log g \le \log(K / \alpha)` and the marginal
    term is non-negative, so :math:`I_\alpha \le 1 + \log(K/\alpha)` (approached as the
    positive score grows and :math:`a(x) \to \infty` slower). At α = 1 the marginal term is
    exactly 1 (the candidates are exchangeable), so the ceiling is InfoNCE's
    :math:`\log K = \log(B - 1)`.

    Arguments:
        batch: The batch size B >= 3.
        alpha: The interpolation weight in (0, 1].

    Returns:
        The ceiling in nats.
    """
    if alpha == 1.0:
        return math.log(batch - 1)
    return 1.0 + math.log((batch - 1) / alpha)


def _log_interp(log_m: Tensor, log_a: Tensor, alpha: float) -> Tensor:
    """log(alpha * exp(log_m) + (1 - alpha) * exp(log_a))."""
    if alpha == 1.0:
        return log_m + 0.0 * log_a
    return torch.logaddexp(log_m + math.log(alpha), log_a + math.log1p(-alpha))


def _leave_one_out_logsumexp(values: Tensor) -> Tensor:
    """``out[..., l] = log sum_{j != l} exp(values[..., j])``, from prefix and suffix log-sums.

    Exact and stable however one entry dominates (no log of a difference); O(B) per row.
    """
    empty = torch.full_like(values[..., :1], -math.inf)
    prefix = torch.logcumsumexp(values, dim=-1)[..., :-1]  # log-sum of values[..., :l]
    suffix = torch.logcumsumexp(values.flip(-1), dim=-1).flip(-1)[..., 1:]  # of values[l+1:]
    return torch.logaddexp(torch.cat([empty, prefix], -1), torch.cat([suffix, empty], -1))


def js(scores: Tensor, *, reduction: Reduction = "mean", validate: bool = True) -> Tensor:
    r"""Jensen–Shannon training objective for a critic (not itself an MI bound).

    .. math:: J = \frac{1}{B} \sum_i -\mathrm{softplus}(-f(x_i, z_i))
        - \frac{1}{B(B-1)} \sum_{i \neq j} \mathrm{softplus}(f(x_i, z_j))

    This is the logistic-regression (f-GAN JS) objective that separates joint from product
    pairs; its maximiser is exactly the pointwise MI :math:`\log p(x,z)/(p(x)p(z))`, so a critic
    trained with it is evaluated with :func:`nwj` or :func:`smile` with **no** :math:`-1` or
    :math:`1/e` offset. Its value equals :math:`2\,\mathrm{JSD} - 2\log 2` at the optimum.

    Arguments:
        scores: Score matrix of shape ``(..., B, B)``.
        reduction: ``"mean"`` or ``"none"`` (per-row terms).
        validate: Check inputs.

    Returns:
        The objective (to maximise).

    References:
        Nowozin et al. (2016), https://arxiv.org/abs/1606.00709;
        Hjelm et al. (2019), https://arxiv.org/abs/1808.06670;
        Poole et al. (2019), https://arxiv.org/abs/1905.06922.
    """
    scores = _check_scores(scores, validate)
    _check_reduction(reduction)
    b = scores.shape[-1]
    off = torch.nn.functional.softplus(scores).masked_fill(
        ~_off_diagonal_mask(b, scores.device), 0.0
    )
    terms = -torch.nn.functional.softplus(-_diag(scores)) - off.sum(-1) / (b - 1)
    return _reduce(terms, reduction)


def smile(
    scores: Tensor,
    tau: float = 5.0,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""SMILE estimate: DV with the partition term clipped to :math:`[e^{-\tau}, e^{\tau}]`.

    .. math:: \hat I_\mathrm{SMILE} = \frac{1}{B} \sum_i f(x_i, z_i)
        - \log \frac{1}{B(B-1)} \sum_{i \neq j} \mathrm{clip}(e^{f(x_i, z_j)}, e^{-\tau}, e^{\tau})

    Side: **estimate**, not a bound. Clipping trades the :math:`e^{I}` variance of DV for a
    bias that vanishes as τ grows; τ = ∞ is :func:`dv`.

    Arguments:
        scores: Score matrix of shape ``(..., B, B)``.
        tau: Clipping threshold τ > 0 (``math.inf`` for DV).
        reduction: ``"mean"`` or ``"none"`` (per-row terms with the shared partition term).
        validate: Check inputs.

    Returns:
        The estimate in nats.

    References:
        Song & Ermon (2020), https://arxiv.org/abs/1910.06222.
    """
    scores = _check_scores(scores, validate)
    if not isinstance(tau, (int, float)) or not float(tau) > 0:
        raise InvalidValueError(f"tau: expected a positive number (math.inf for DV), got {tau!r}")
    _check_reduction(reduction)
    clipped = scores.clamp(-float(tau), float(tau)) if math.isfinite(tau) else scores
    terms = _diag(scores) - _lme_off_diagonal(clipped).unsqueeze(-1)
    return _reduce(terms, reduction)


class MineAverage:
    r"""MINE's bias-corrected gradient for the DV bound, as a small stateful helper.

    The gradient of :math:`\log \mathbb{E}[e^{f}]` estimated on a minibatch is biased; MINE
    replaces the minibatch denominator by an exponential moving average :math:`\bar m`:

    .. math:: \nabla \hat I = \overline{\nabla f}_\mathrm{joint}
        - \frac{\overline{\nabla e^{f}}_\mathrm{marginal}}{\bar m}

    Calling the helper returns a tensor whose **value** is the minibatch :func:`dv` bound and
    whose **gradient** is MINE's corrected gradient; the average is kept in log space.

    Arguments:
        rate: Weight of the newest minibatch in the moving average, in (0, 1].

    Example:
        >>> mine = MineAverage(rate=0.01)
        >>> s = torch.randn(16, 16, requires_grad=True)
        >>> value = mine(s)
        >>> value.backward()

    References:
        Belghazi et al. (2018), https://arxiv.org/abs/1801.04062, section 3.2.
    """

    def __init__(self, rate: float = 0.01) -> None:
        if not isinstance(rate, (int, float)) or not (0.0 < float(rate) <= 1.0):
            raise InvalidValueError(f"rate: expected a number in (0, 1], got {rate!r}")
        self.rate = float(rate)
        self.log_average: Tensor | None = None

    def __call__(self, scores: Tensor, *, validate: bool = True) -> Tensor:
        scores = _check_scores(scores, validate)
        log_partition = _lme_off_diagonal(scores)
        current = log_partition.detach()
        if self.log_average is None or self.rate == 1.0:
            self.log_average = current
        else:
            self.log_average = torch.logaddexp(
                self.log_average + math.log1p(-self.rate), current + math.log(self.rate)
            )
        joint = _diag(scores).mean(-1)
        surrogate = joint - torch.exp(log_partition - self.log_average)
        value = joint - log_partition
        return value.detach() + (surrogate - surrogate.detach())

    def reset(self) -> None:
        """Forgets the moving average."""
        self.log_average = None


# --------------------------------------------------------------------------------------------
# Known-density bounds on log-densities and log-weights
# --------------------------------------------------------------------------------------------


def _check_log_weights(log_w: object, validate: bool, min_k: int) -> Tensor:
    log_w = _check_tensor("log_w", log_w)
    if log_w.ndim < 1:
        raise InvalidValueError(
            "log_w: expected log-weights of shape (K, ..., n) with the K proposal samples "
            "first, got a scalar"
        )
    if log_w.shape[0] < min_k:
        raise InvalidValueError(
            f"log_w: expected at least K = {min_k} proposal samples along dim 0, "
            f"got K = {log_w.shape[0]} (shape {tuple(log_w.shape)})"
        )
    if validate:
        _check_no_nan("log_w", log_w, allow_neg_inf=True)
    return log_w


def _check_per_sample(name: str, value: object, shape: torch.Size, validate: bool) -> Tensor:
    value = _check_tensor(name, value)
    try:
        torch.broadcast_shapes(value.shape, shape)
    except RuntimeError:
        raise InvalidValueError(
            f"{name}: expected a shape broadcastable to {tuple(shape)} "
            f"(one value per data point), got shape {tuple(value.shape)}"
        ) from None
    if validate:
        _check_no_nan(name, value, allow_neg_inf=True)
    return value


def _finish(terms: Tensor, reduction: str, validate: bool, name: str) -> Tensor:
    out = _reduce(terms, reduction)
    if validate and not bool(torch.isfinite(out).all()):
        raise InvalidValueError(
            f"{name}: the result is not finite; check that log-weights are not all -inf "
            "and that the proposal covers the posterior"
        )
    return out


def barber_agakov(
    log_q_z0: Tensor,
    log_p_z0: Tensor,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""Barber–Agakov lower bound with a variational posterior q(z | x) and known prior p(z).

    .. math:: I(X; Z) \ge \mathbb{E}_{p(x, z_0)}\big[\log q(z_0 | x) - \log p(z_0)\big]

    Side: **lower bound**; its gap is :math:`\mathbb{E}_x \mathrm{KL}(p(z|x) \| q(z|x))`.
    It is :func:`multisample_lower` with K = 0.

    Arguments:
        log_q_z0: :math:`\log q(z_{0,n} | x_n)`, shape ``(..., n)``.
        log_p_z0: :math:`\log p(z_{0,n})`, broadcastable to the same shape.
        reduction: ``"mean"`` over n, or ``"none"``.
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Barber & Agakov (2003), "The IM algorithm"; Poole et al. (2019), eq. (2).
    """
    log_q_z0 = _check_tensor("log_q_z0", log_q_z0)
    if log_q_z0.ndim < 1:
        raise InvalidValueError("log_q_z0: expected shape (..., n), got a scalar")
    log_p_z0 = _check_per_sample("log_p_z0", log_p_z0, log_q_z0.shape, validate)
    if validate:
        _check_no_nan("log_q_z0", log_q_z0, allow_neg_inf=True)
    _check_reduction(reduction)
    return _finish(log_q_z0 - log_p_z0, reduction, validate, "barber_agakov")


def multisample_lower(
    log_w: Tensor,
    log_w0: Tensor,
    log_lik0: Tensor,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""Multisample (self-normalised importance sampling) lower bound with a known prior.

    For :math:`(x, z_0) \sim p(x, z)`, :math:`z_{1:K} \sim q(z | x)` and any energy
    :math:`\hat\rho(x, z) > 0`, with :math:`w_k = \hat\rho(x, z_k) / q(z_k | x)`:

    .. math:: I(X; Z) \ge \mathbb{E}\Big[\log \frac{\hat\rho(x, z_0)}
        {\frac{1}{K+1} \sum_{k=0}^{K} w_k}\Big] - \mathbb{E}[\log p(z_0)]

    Side: **lower bound** for every K >= 0. K = 0 is :func:`barber_agakov`; q = p(z) with
    :math:`\hat\rho = e^{f} p(z)` is InfoNCE. With :math:`\hat\rho = p(x, z)` (known joint)
    the numerator is :math:`\log p(x | z_0)` and the bound is non-decreasing in K, reaching the
    truth as K → ∞; it equals the MI sample by sample when q is the exact posterior.

    Arguments:
        log_w: :math:`\log w_k` for the K proposal samples, shape ``(K, ..., n)``.
        log_w0: :math:`\log w_0 = \log \hat\rho(x, z_0) - \log q(z_0 | x)`, shape ``(..., n)``.
        log_lik0: :math:`\log \hat\rho(x, z_0) - \log p(z_0)`; equals :math:`\log p(x | z_0)`
            when :math:`\hat\rho = p(x, z)`. Shape ``(..., n)``.
        reduction: ``"mean"`` over n, or ``"none"``.
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Poole et al. (2019), https://arxiv.org/abs/1905.06922, section 2.5;
        Grosse (talk), "Estimating and bounding mutual information".
    """
    log_w = _check_log_weights(log_w, validate, min_k=0)
    shape = log_w.shape[1:]
    log_w0 = _check_per_sample("log_w0", log_w0, shape, validate)
    log_lik0 = _check_per_sample("log_lik0", log_lik0, shape, validate)
    _check_reduction(reduction)
    all_w = torch.cat([torch.broadcast_to(log_w0, shape).unsqueeze(0), log_w], dim=0)
    terms = log_lik0 - log_mean_exp(all_w, dim=0)
    return _finish(terms, reduction, validate, "multisample_lower")


def iwae_upper(
    log_w: Tensor,
    log_lik0: Tensor,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""Importance-weighted upper bound on MI with a known joint p(z) p(x | z).

    With :math:`w_k = p(x, z_k) / q(z_k | x)`, :math:`z_{1:K} \sim q(z | x)` and
    :math:`\log \frac{1}{K} \sum_k w_k` the IWAE lower bound on :math:`\log p(x)`:

    .. math:: I(X; Z) \le \mathbb{E}\Big[\log p(x | z_0)
        - \log \frac{1}{K} \sum_{k=1}^{K} w_k\Big]

    Side: **upper bound**, non-increasing in K, equal to the MI sample by sample when q is the
    exact posterior. Paired with :func:`multisample_lower` on the same :math:`z_{1:K}`, the
    sandwich width shrinks like :math:`\mathbb{E}_x \chi^2(p(z|x) \| q(z|x)) / K`. With the
    prior as proposal it needs K on the order of :math:`e^{I}`.

    Arguments:
        log_w: :math:`\log w_k`, shape ``(K, ..., n)`` with K >= 1.
        log_lik0: :math:`\log p(x_n | z_{0,n})`, shape ``(..., n)``.
        reduction: ``"mean"`` over n, or ``"none"``.
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Burda et al. (2016), https://arxiv.org/abs/1509.00519;
        Poole et al. (2019), https://arxiv.org/abs/1905.06922.
    """
    log_w = _check_log_weights(log_w, validate, min_k=1)
    log_lik0 = _check_per_sample("log_lik0", log_lik0, log_w.shape[1:], validate)
    _check_reduction(reduction)
    terms = log_lik0 - log_mean_exp(log_w, dim=0)
    return _finish(terms, reduction, validate, "iwae_upper")


def lautum_lower(
    log_w: Tensor,
    log_lik_marginal: Tensor,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""Lower bound on the Lautum information :math:`LI = \mathrm{KL}(p(x)p(z) \| p(x, z))`.

    :math:`LI = \mathbb{E}_{p(x)} \log p(x) - \mathbb{E}_{p(x)p(z)} \log p(x | z)`. Replacing
    :math:`\log p(x)` by the IWAE estimate :math:`\log \frac{1}{K} \sum_k w_k` (a stochastic
    lower bound on it for any normalised proposal) gives

    .. math:: LI \ge \mathbb{E}\Big[\log \frac{1}{K} \sum_{k=1}^{K} w_k
        - \log p(x | z')\Big], \qquad z' \sim p(z) \text{ independent of } x

    Side: **lower bound**, non-decreasing in K.

    Arguments:
        log_w: :math:`\log w_k = \log p(x, z_k) - \log q(z_k | x)`, shape ``(K, ..., n)``,
            K >= 1 (a normalised joint, e.g. :math:`p(z) p(x|z)`).
        log_lik_marginal: :math:`\log p(x_n | z'_n)` with :math:`z'_n \sim p(z)` drawn
            independently of :math:`x_n`, shape ``(..., n)``.
        reduction: ``"mean"`` over n, or ``"none"``.
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Palomar & Verdú (2008), "Lautum information"; Burda et al. (2016).
    """
    log_w = _check_log_weights(log_w, validate, min_k=1)
    log_lik_marginal = _check_per_sample(
        "log_lik_marginal", log_lik_marginal, log_w.shape[1:], validate
    )
    _check_reduction(reduction)
    terms = log_mean_exp(log_w, dim=0) - log_lik_marginal
    return _finish(terms, reduction, validate, "lautum_lower")


def lautum_upper(
    log_w: Tensor,
    log_w0: Tensor,
    log_lik_marginal: Tensor,
    *,
    reduction: Reduction = "mean",
    validate: bool = True,
) -> Tensor:
    r"""Upper bound on the Lautum information using the exact posterior sample :math:`z_0`.

    With :math:`z_0 \sim p(z | x)` (the latent that generated x) and
    :math:`z_{1:K} \sim q(z | x)`, :math:`\mathbb{E} \log \frac{1}{K+1} \sum_{k=0}^{K} w_k \ge
    \log p(x)` (the IWHVI / SIVI bound), so

    .. math:: LI \le \mathbb{E}\Big[\log \frac{1}{K+1} \sum_{k=0}^{K} w_k
        - \log p(x | z')\Big]

    Side: **upper bound**, non-increasing in K. With q = p(z) it is the SIVI-type bound.

    Arguments:
        log_w: :math:`\log w_k`, shape ``(K, ..., n)``, K >= 0.
        log_w0: :math:`\log p(x, z_0) - \log q(z_0 | x)`, shape ``(..., n)``.
        log_lik_marginal: :math:`\log p(x_n | z'_n)`, :math:`z'_n \sim p(z)` independent.
        reduction: ``"mean"`` over n, or ``"none"``.
        validate: Check inputs.

    Returns:
        The bound in nats.

    References:
        Sobolev & Vetrov (2019), https://arxiv.org/abs/1810.02789;
        Yin & Zhou (2018), https://arxiv.org/abs/1805.11183.
    """
    log_w = _check_log_weights(log_w, validate, min_k=0)
    shape = log_w.shape[1:]
    log_w0 = _check_per_sample("log_w0", log_w0, shape, validate)
    log_lik_marginal = _check_per_sample("log_lik_marginal", log_lik_marginal, shape, validate)
    _check_reduction(reduction)
    all_w = torch.cat([torch.broadcast_to(log_w0, shape).unsqueeze(0), log_w], dim=0)
    terms = log_mean_exp(all_w, dim=0) - log_lik_marginal
    return _finish(terms, reduction, validate, "lautum_upper")
