r"""Known joint p(z) p(x | z): the SNIS sandwich of I(X; Z), with AIS/BDMC on request.

The multisample (SNIS) lower bound and the IWAE upper bound, on the *same* proposal samples
:math:`z_{1:K} \sim q(z | x)`, sandwich the MI; they meet as K grows and coincide sample by
sample when q is the exact posterior (docs/estimators.md, "Known densities").
``method="ais"`` dispatches to :func:`mibound.ais.ais_sandwich` (annealed importance sampling /
BDMC).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from typing import TYPE_CHECKING, Any, Literal

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

if TYPE_CHECKING:
    from mibound.ais import AISOptions

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


#: The fields of :class:`mibound.ais.AISOptions` (AIS-only options of :func:`sandwich`).
_AIS_FIELDS = (
    "steps",
    "chains",
    "schedule",
    "hmc_steps",
    "step_size",
    "target_accept",
    "adapt",
    "pilot_chains",
)


def sandwich(
    model: LatentVariableModel,
    encoder: Encoder | None = None,
    *,
    method: Literal["snis", "ais"] | None = None,
    k: int | None = None,
    ais: AISOptions | None = None,
    n: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    fit: bool = False,
    fit_steps: int = 2000,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    progress: bool = False,
    **ais_fields: Any,
) -> Bounds:
    r"""Lower and upper bounds on I(X; Z) of a model with known p(z) and p(x | z).

    With ``method="snis"`` (the default), for :math:`(x, z_0) \sim p(x, z)` and
    :math:`z_{1:K} \sim q(z|x)`, :math:`w_k = p(x, z_k) / q(z_k | x)`:

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

    With ``method="ais"`` (implied by ``ais=``) the call goes to :func:`mibound.ais.ais_sandwich`
    (forward AIS chains from q for the upper bound, reverse chains from :math:`z_0` for the
    lower bound) with the fields of ``ais`` and ``n``, ``seed``, ``batch_size``, ``progress``.

    SNIS takes ``k``; AIS takes ``ais``: passing one method's option to the other is an error
    naming it. The AIS fields as keywords (``method="ais", steps=200, chains=4``) still work
    but are deprecated in favour of ``ais=AISOptions(steps=200, chains=4)``.

    Arguments:
        model: The latent-variable model (never moved or cast: a copy is, when asked).
        encoder: The proposal q(z | x): a callable ``x -> Distribution`` over z with batch
            shape ``x.shape[:-1]`` (see :mod:`mibound.encoders`); None for the prior.
        method: ``"snis"`` or ``"ais"``; default ``"ais"`` when ``ais`` is given, else
            ``"snis"``.
        k: SNIS proposal samples per data point (default 64); SNIS only.
        ais: :class:`mibound.ais.AISOptions` (annealing steps T, chains M, schedule, HMC
            settings); AIS only, default ``AISOptions()``.
        n: Number of data points (default 4096 for SNIS, 256 for AIS).
        seed: Seed of every random choice (data, proposals, fitting, chains).
        batch_size: Data points per chunk (default: from a memory budget for SNIS, all n for
            AIS).
        fit: Fit (a copy of) the encoder first with :func:`mibound.encoders.fit_encoder` (a new
            :class:`~mibound.encoders.GaussianEncoder` started by
            :func:`~mibound.encoders.initialise_linear` when ``encoder`` is None).
        fit_steps: Training steps when ``fit`` is True.
        device: Device for the computation.
        dtype: Floating dtype for the computation (float64 for precision).
        progress: Show progress bars.
        **ais_fields: Deprecated: fields of :class:`~mibound.ais.AISOptions` with
            ``method="ais"``.

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
    ais = _ais_options(method, k, ais, ais_fields)
    check_seed(seed)
    model, encoder, place, model_dtype = placed(model, encoder, device, dtype)
    settings: dict[str, Any] = {}
    if ais is not None:
        with seeded(seed, "fit", place):
            encoder = _fit_if_asked(model, encoder, fit, fit_steps, 16, seed, progress, settings)
        from mibound.ais import ais_sandwich

        options: dict[str, Any] = {"seed": seed, "batch_size": batch_size, "progress": progress}
        result = ais_sandwich(model, encoder, **options, **_ais_keywords(ais, n))
        result.settings.update(settings)
        return result
    k = 64 if k is None else _check_int("k", k, 1)
    n = 4096 if n is None else _check_int("n", n, 2)
    _check_batch_size(batch_size)
    settings.update({"k": k, "n": n, "seed": seed})
    with seeded(seed, "data", place), torch.no_grad():
        x, z0 = model.sample(n, generator=torch_generator(seed, "data", place))
    with seeded(seed, "fit", place):
        encoder = _fit_if_asked(
            model, encoder, fit, fit_steps, min(k, 16), seed, progress, settings
        )
    return _snis(model, encoder, x, z0, k, batch_size, place, model_dtype, progress, settings)


def _ais_options(
    method: str | None, k: int | None, ais: AISOptions | None, ais_fields: dict[str, Any]
) -> AISOptions | None:
    """The AIS options, or None for SNIS; an option of the other method is an error that
    names it."""
    if method is None:
        method = "ais" if ais is not None else "snis"
    if method not in ("snis", "ais"):
        raise InvalidValueError(f"method: expected 'snis' or 'ais', got {method!r}")
    unknown = sorted(set(ais_fields) - set(_AIS_FIELDS))
    if unknown:
        raise InvalidTypeError(
            f"sandwich: unexpected keyword argument(s) {', '.join(unknown)} (SNIS takes k; "
            f"AIS takes ais=AISOptions({', '.join(_AIS_FIELDS)}))"
        )
    if method == "snis":
        other = (["ais"] if ais is not None else []) + sorted(ais_fields)
        if other:
            raise InvalidValueError(
                f"{other[0]}: applies to method='ais' only (SNIS takes k; for AIS pass "
                "method='ais' or ais=AISOptions(...))"
            )
        return None
    if k is not None:
        raise InvalidValueError(
            "k: applies to method='snis' only (AIS takes ais=AISOptions(steps=..., chains=...))"
        )
    if ais_fields:
        if ais is not None:
            raise InvalidValueError(
                f"{', '.join(sorted(ais_fields))}: given both in ais= and as keywords; "
                "put them in ais=AISOptions(...)"
            )
        given = ", ".join(f"{name}=..." for name in sorted(ais_fields))
        warnings.warn(
            f"sandwich(method='ais', {given}): AIS fields as keywords are deprecated; pass "
            f"ais=AISOptions({given})",
            DeprecationWarning,
            stacklevel=3,
        )
    from mibound.ais import AISOptions

    if ais is None:
        return AISOptions(**ais_fields)
    if not isinstance(ais, AISOptions):
        raise InvalidTypeError(
            f"ais: expected mibound.ais.AISOptions or None, got {type(ais).__name__}"
        )
    return ais


def _ais_keywords(ais: AISOptions, n: int | None) -> dict[str, Any]:
    """The keywords of :func:`mibound.ais.ais_sandwich` for these options and n."""
    keywords = {field.name: getattr(ais, field.name) for field in dataclasses.fields(ais)}
    if isinstance(ais.schedule, tuple):
        keywords["schedule"] = torch.tensor(ais.schedule, dtype=torch.float64)
    return keywords if n is None else {**keywords, "n": n}


def _snis(
    model: LatentVariableModel,
    encoder: Encoder | None,
    x: Tensor,
    z0: Tensor,
    k: int,
    batch_size: int | None,
    place: torch.device,
    model_dtype: torch.dtype,
    progress: bool,
    settings: dict[str, Any],
) -> Bounds:
    """The SNIS sandwich on the simulated data (x, z0), with its settings and diagnostics."""
    n = x.shape[0]
    size = batch_size or _default_batch(k, x, z0, n)
    lower_terms, upper_terms, ess = _chunked(
        lambda part: snis_terms(model, encoder, x[part], z0[part], k),
        n,
        size,
        seed=settings["seed"],
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
