r"""Known joint p(z) p(x | z): the SNIS sandwich of I(X; Z), with AIS/BDMC on request.

The multisample (SNIS) lower bound and the IWAE upper bound, on the *same* proposal samples
:math:`z_{1:K} \sim q(z | x)`, sandwich the MI; they meet as K grows and coincide sample by
sample when q is the exact posterior (docs/estimators.md, "Known densities").
``method="ais"`` dispatches to :func:`mibound.ais.ais_sandwich` (annealed importance sampling /
BDMC).
"""

from __future__ import annotations

import copy
import math
from typing import Any, Literal

import torch
from torch import Tensor, nn

from mibound._checks import InvalidTypeError, InvalidValueError, check_seed
from mibound._known import (
    Encoder,
    _bounds,
    _check_batch_size,
    _check_encoder,
    _check_model,
    _chunked,
    _default_batch,
    _known,
    _paired,
    _proposal_name,
    _proposal_samples,
    _snis_settings,
)
from mibound._placement import model_place, placed
from mibound._random import seeded, torch_generator
from mibound.bounds import (
    iwae_upper,
    multisample_lower,
)
from mibound.encoders import (
    GaussianEncoder,
    _check_int,
    fit_encoder,
    initialise_linear,
)
from mibound.models.base import LatentVariableModel
from mibound.results import Bounds

__all__ = ["sandwich", "snis_terms"]


def snis_terms(
    model: LatentVariableModel,
    encoder: Encoder | None,
    x: Tensor,
    z0: Tensor,
    k: int,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Per-data-point SNIS sandwich terms on one set of proposal samples.

    For each :math:`(x_n, z_{0,n})`, draws :math:`z_{1:K} \sim q(z | x_n)` (the prior when
    ``encoder`` is None) with torch's global RNG, and returns

    .. math:: \ell_n = \log p(x_n | z_0) - \log \tfrac{1}{K+1} \textstyle\sum_{k=0}^{K} w_k,
        \qquad u_n = \log p(x_n | z_0) - \log \tfrac{1}{K} \textstyle\sum_{k=1}^{K} w_k

    whose means are the multisample lower and IWAE upper bounds on I, and the effective sample
    size :math:`(\sum_k w_k)^2 / \sum_k w_k^2` of the K proposal weights.

    Arguments:
        model: The latent-variable model.
        encoder: The proposal q(z | x) or None for the prior.
        x: Data of shape ``(m, ...)`` drawn from the model with ``z0``.
        z0: The latents that generated x, shape ``(m, ...)``.
        k: Number of proposal samples K >= 1.

    Returns:
        ``(lower_terms, upper_terms, ess)``, each of shape ``(m,)``.
    """
    log_w, log_w0, log_lik0 = _proposal_samples(model, encoder, x, z0, k)
    lower = multisample_lower(log_w, log_w0, log_lik0, reduction="none")
    upper = iwae_upper(log_w, log_lik0, reduction="none")
    ess = torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0))
    return lower, upper, ess


def _fit_if_asked(
    model: LatentVariableModel,
    encoder: Encoder | None,
    fit: bool,
    fit_steps: int,
    k: int,
    seed: int,
    progress: bool,
    settings: dict[str, Any],
) -> Encoder | None:
    if not isinstance(fit, bool):
        raise InvalidTypeError(f"fit: expected True or False, got {type(fit).__name__}")
    if not fit:
        return encoder
    _check_int("fit_steps", fit_steps, 1)
    if encoder is None:
        from mibound.encoders import _latent_dims

        x_dim, z_dim = _latent_dims(model)
        place, dtype = model_place(model)
        encoder = GaussianEncoder(x_dim, z_dim).to(device=place, dtype=dtype)
        initialise_linear(encoder, model, seed=seed)
    elif isinstance(encoder, nn.Module):
        encoder = copy.deepcopy(encoder)  # fit a copy: the caller's encoder is left as it is
    else:
        raise InvalidTypeError(
            f"encoder: fit=True needs an nn.Module encoder (or None), got {type(encoder).__name__}"
        )
    result = fit_encoder(model, encoder, k=k, steps=fit_steps, seed=seed, progress=progress)
    settings["fit"] = {
        "steps": fit_steps,
        "steps_run": result.steps_run,
        "best_step": result.best_step,
        "stopped_early": result.stopped_early,
        "objective": "multisample",
        "k": k,
    }
    return encoder


def sandwich(
    model: LatentVariableModel,
    encoder: Encoder | None = None,
    *,
    method: Literal["snis", "ais"] = "snis",
    k: int | None = None,
    n: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    fit: bool = False,
    fit_steps: int = 2000,
    steps: int | None = None,
    chains: int | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    progress: bool = False,
    **ais_options: Any,
) -> Bounds:
    r"""Lower and upper bounds on I(X; Z) of a model with known p(z) and p(x | z).

    With ``method="snis"``, for :math:`(x, z_0) \sim p(x, z)` and :math:`z_{1:K} \sim q(z|x)`,
    :math:`w_k = p(x, z_k) / q(z_k | x)`:

    .. math:: \mathbb{E}\Big[\log \frac{p(x | z_0)}{\frac{1}{K+1}\sum_{k=0}^{K} w_k}\Big]
        \;\le\; I(X; Z) \;\le\;
        \mathbb{E}\Big[\log \frac{p(x | z_0)}{\frac{1}{K}\sum_{k=1}^{K} w_k}\Big]

    Both sides use the same :math:`z_{1:K}`; the lower side adds the weight of the exact
    posterior sample :math:`z_0`. The lower bound is non-decreasing and the upper bound
    non-increasing in K; the width shrinks like :math:`\mathbb{E}_x \chi^2(p(z|x) \| q(z|x))/K`.
    With q the exact posterior both sides equal the pointwise MI for every sample. With the
    prior as proposal (``encoder=None``) the lower bound cannot exceed :math:`\log(K+1)` and the
    upper bound needs K on the order of :math:`e^{I}`. The ``n`` data points are processed in
    chunks of ``batch_size`` to bound memory.

    With ``method="ais"`` the call is forwarded to :func:`mibound.ais.ais_sandwich`
    (forward AIS chains from q for the upper bound, reverse chains from :math:`z_0` for the
    lower bound) with ``n``, ``steps``, ``chains``, ``seed``, ``device``, ``dtype``,
    ``batch_size``, ``progress`` and ``ais_options``.

    Arguments:
        model: The latent-variable model (moved to ``device``/``dtype`` in place when given).
        encoder: The proposal q(z | x): a callable ``x -> Distribution`` over z with batch
            shape ``x.shape[:-1]`` (see :mod:`mibound.encoders`); None for the prior. An
            nn.Module encoder is moved in place to the model's device and dtype.
        method: ``"snis"`` or ``"ais"``.
        k: SNIS proposal samples per data point (default 64); SNIS only.
        n: Number of data points (default 4096 for SNIS).
        seed: Seed of every random choice (data, proposals, fitting).
        batch_size: Data points per chunk (default: from a memory budget).
        fit: Fit the encoder first with :func:`mibound.encoders.fit_encoder` (a new
            :class:`~mibound.encoders.GaussianEncoder` started by
            :func:`~mibound.encoders.initialise_linear` when ``encoder`` is None).
        fit_steps: Training steps when ``fit`` is True.
        steps: AIS annealing steps T; AIS only.
        chains: AIS chains M per data point; AIS only.
        device: Device for the computation.
        dtype: Floating dtype for the computation (float64 for precision).
        progress: Show progress bars.
        **ais_options: Further options of :func:`mibound.ais.ais_sandwich`.

    Returns:
        :class:`~mibound.results.Bounds` with ``lower``, ``upper``, their standard errors,
        ``true_value`` when the model knows its MI, the settings (including the width's paired
        standard error and the mean effective sample size) and diagnostics.

    Example:
        >>> from mibound.models import LinearGaussian
        >>> model = LinearGaussian.with_mutual_information(2.0, k=2, d=4)
        >>> b = sandwich(model, model.posterior, k=8, n=256)
        >>> abs(b.lower - b.upper) < 1e-9
        True

    References:
        Burda et al. (2016), https://arxiv.org/abs/1509.00519; Poole et al. (2019),
        https://arxiv.org/abs/1905.06922; Grosse et al. (2015), https://arxiv.org/abs/1511.02543.
    """
    model = _check_model(model)
    encoder = _check_encoder(encoder)
    if method not in ("snis", "ais"):
        raise InvalidValueError(f"method: expected 'snis' or 'ais', got {method!r}")
    check_seed(seed)
    if method == "ais" and k is not None:
        raise InvalidValueError("k: applies to method='snis' only (AIS uses steps and chains)")
    model, encoder, place, model_dtype = placed(model, encoder, device, dtype)
    if method == "ais":
        fitted: dict[str, Any] = {}
        with seeded(seed, "fit", place):
            encoder = _fit_if_asked(model, encoder, fit, fit_steps, 16, seed, progress, fitted)
        from mibound.ais import ais_sandwich

        options: dict[str, Any] = {
            "seed": seed,
            "batch_size": batch_size,
            "progress": progress,
            **ais_options,
        }
        for name, value in (("n", n), ("steps", steps), ("chains", chains)):
            if value is not None:
                options[name] = value
        result = ais_sandwich(model, encoder, **options)
        result.settings.update(fitted)
        return result

    if ais_options:
        raise InvalidTypeError(
            f"sandwich: unexpected keyword argument(s) {', '.join(sorted(ais_options))} "
            "for method='snis'"
        )
    for name, value in (("steps", steps), ("chains", chains)):
        if value is not None:
            raise InvalidValueError(f"{name}: applies to method='ais' only")
    k = 64 if k is None else _check_int("k", k, 1)
    n = 4096 if n is None else _check_int("n", n, 2)
    _check_batch_size(batch_size)
    settings: dict[str, Any] = {"k": k, "n": n, "seed": seed}

    with seeded(seed, "data", place), torch.no_grad():
        x, z0 = model.sample(n, generator=torch_generator(seed, "data", place))
    with seeded(seed, "fit", place):
        encoder = _fit_if_asked(
            model, encoder, fit, fit_steps, min(k, 16), seed, progress, settings
        )
    size = batch_size or _default_batch(k, x, z0, n)
    lower_terms, upper_terms, ess = _chunked(
        lambda part: snis_terms(model, encoder, x[part], z0[part], k),
        n,
        size,
        seed=seed,
        stream="proposals",
        place=place,
        progress=progress,
        description="SNIS sandwich",
    )
    (lower, lower_se), (upper, upper_se), width_se = _paired(lower_terms, upper_terms)
    mean_ess = float(ess.double().mean())
    precision = _exact_posterior_gap(encoder, lower_terms, upper_terms)
    truth, truth_se = _known(model, "mutual_information")
    settings.update(_snis_settings(encoder, size, place, model_dtype, width_se))
    settings["mean_ess"] = mean_ess
    diagnostics = _snis_diagnostics(
        encoder, k, lower, upper, width_se, mean_ess, truth, truth_se, lower_se, upper_se
    )
    if precision:
        diagnostics.insert(0, precision)
    return _bounds(
        (lower, lower_se),
        (upper, upper_se),
        method="snis",
        settings=settings,
        diagnostics=diagnostics,
        truth=(truth, truth_se),
    )


def _exact_posterior_gap(encoder: Encoder | None, lower: Tensor, upper: Tensor) -> str | None:
    """With the exact posterior both sides equal I pointwise; a gap means lost precision."""
    if _proposal_name(encoder) != "exact posterior":
        return None
    eps = torch.finfo(lower.dtype).eps
    gap = float((upper.double() - lower.double()).abs().max())
    scale = float(torch.maximum(lower.double().abs(), upper.double().abs()).max())
    if not math.isfinite(gap) or gap > max(1e-3, 100 * eps * scale):
        return (
            f"lost precision: with the exact posterior the lower and upper terms must agree "
            f"for every x, but they differ by up to {gap:.3g} nats; the log-densities cancel "
            "in this dtype (a posterior almost narrower than the floating-point resolution "
            f"of z), so the bounds are accurate only to about {gap:.3g} nats; use float64"
        )
    return None


def _snis_diagnostics(
    encoder: Encoder | None,
    k: int,
    lower: float,
    upper: float,
    width_se: float,
    mean_ess: float,
    truth: float | None,
    truth_se: float | None,
    lower_se: float,
    upper_se: float,
) -> list[str]:
    notes = []
    ceiling = math.log(k + 1)
    wide = upper - lower > max(0.05, 4 * width_se)
    if encoder is None and wide:
        notes.append(
            f"proposal is the prior p(z): the lower bound cannot exceed log(K+1) = {ceiling:.3f} "
            f"nats and the upper bound needs K on the order of e^I (e^{upper:.1f} ≈ "
            f"{math.exp(min(upper, 700)):.3g} here); pass an encoder or fit=True for tight bounds"
        )
    if mean_ess < 0.1 * k:
        notes.append(
            f"importance weights are degenerate (mean effective sample size {mean_ess:.1f} of "
            f"K = {k}): q(z|x) is far from the posterior; fit the encoder or raise K"
        )
    # float rounding: with the exact posterior both sides agree to ~1e-12 and width_se ~ 0
    if upper - lower < -4 * width_se - 1e-9 * max(1.0, abs(lower)):
        notes.append(
            "upper < lower by more than 4 paired standard errors: the likelihood or the "
            "encoder's log_prob is probably not a normalised density"
        )
    if truth is not None:
        slack = 4 * math.hypot(max(lower_se, upper_se), truth_se or 0.0)
        if truth < lower - slack or truth > upper + slack:
            notes.append(
                f"the model's known MI {truth:.4f} lies outside [{lower:.4f}, {upper:.4f}] by "
                "more than 4 standard errors: check that log p(x|z) and log q(z|x) are "
                "normalised densities"
            )
    return notes
