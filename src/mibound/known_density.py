r"""Bounds when densities are known: the sandwich, Lautum, known-marginal and known-conditional.

What is known about :math:`p(x, z)` decides what can be bounded (DESIGN.md, "Known densities"):

- **known joint** (:func:`sandwich`, :func:`lautum`): :math:`p(z)` and :math:`p(x | z)` can be
  evaluated and sampled. The multisample (SNIS) lower bound and the IWAE upper bound, on the
  *same* proposal samples :math:`z_{1:K} \sim q(z | x)`, sandwich the MI; they meet as K grows
  and coincide sample by sample when q is the exact posterior. ``method="ais"`` dispatches to
  :func:`mibound.ais.ais_sandwich` (annealed importance sampling / BDMC).
- **known marginal** (:func:`known_marginal`): only :math:`p(z)` is known and x is an implicit
  function of z; learned :math:`q(z|x)` and energy give Barber–Agakov and multisample lower
  bounds; no upper bound exists.
- **known conditional** (:func:`known_conditional`): an encoder density :math:`q(z|x)` and
  samples of x; InfoNCE-type lower and upper bounds on :math:`I[q(z|x) p(x)]`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from mibound.bounds import (
    infonce,
    iwae_upper,
    lautum_lower,
    lautum_upper,
    multisample_lower,
)
from mibound.encoders import (
    ExactPosterior,
    GaussianEncoder,
    _check_int,
    _generator,
    _model_place,
    _seeded,
    fit_encoder,
    initialise_linear,
)
from mibound.models.base import LatentVariableModel
from mibound.results import Bounds

__all__ = ["known_conditional", "known_marginal", "lautum", "sandwich", "snis_terms"]

Encoder = Callable[[Tensor], Distribution]

_MEMORY_BUDGET = 1 << 22  # elements per chunk of K x batch x (data or latent) dimensions


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check_model(model: object) -> LatentVariableModel:
    if not isinstance(model, LatentVariableModel):
        raise TypeError(
            "model: expected a mibound.models.LatentVariableModel (e.g. LinearGaussian, "
            f"GaussianMixture, DecoderModel), got {type(model).__name__}"
        )
    return model


def _check_encoder(encoder: object) -> Encoder | None:
    if encoder is not None and not callable(encoder):
        raise TypeError(
            "encoder: expected None (the prior as proposal) or a callable x -> Distribution "
            f"over z, got {type(encoder).__name__}"
        )
    return encoder  # type: ignore[return-value]


def _check_seed(seed: object) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    return seed


def _check_batch_size(batch_size: object) -> int | None:
    return None if batch_size is None else _check_int("batch_size", batch_size, 1)


def _mean_stderr(terms: Tensor) -> tuple[float, float]:
    t = terms.double()
    n = t.numel()
    se = float(t.std() / math.sqrt(n)) if n > 1 else math.inf
    return float(t.mean()), se


def _place_settings(place: torch.device, dtype: torch.dtype) -> dict[str, str]:
    """The ``device`` and ``dtype`` entries of a Bounds' settings."""
    return {"device": str(place), "dtype": str(dtype).replace("torch.", "")}


def _bounds(
    lower: tuple[float, float],
    upper: tuple[float, float] | None,
    *,
    method: str,
    settings: dict[str, Any],
    diagnostics: list[str],
    truth: tuple[float | None, float | None] = (None, None),
    quantity: str = "mutual information",
) -> Bounds:
    """A Bounds from ``(value, stderr)`` pairs; a Monte Carlo truth's stderr goes to settings."""
    true_value, true_stderr = truth
    if true_stderr is not None:
        settings["true_value_stderr"] = true_stderr
    return Bounds(
        lower=lower[0],
        upper=None if upper is None else upper[0],
        lower_stderr=lower[1],
        upper_stderr=None if upper is None else upper[1],
        true_value=true_value,
        quantity=quantity,
        method=method,
        settings=settings,
        diagnostics=diagnostics,
    )


def _known(model: LatentVariableModel, what: str) -> tuple[float | None, float | None]:
    """(truth, its stderr) from ``model.<what>()`` where the model knows it."""
    try:
        value = float(getattr(model, what)())
    except NotImplementedError:
        return None, None
    stderr = getattr(model, f"{what}_stderr", None)
    return value, (float(stderr) if stderr is not None else None)


def _chunks(n: int, size: int) -> Iterable[slice]:
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _progress(items: list[slice], show: bool, description: str) -> Iterable[slice]:
    if not show:
        return items
    from rich.console import Console
    from rich.progress import track

    return track(items, description=description, transient=True, console=Console(stderr=True))


def _chunked(
    terms: Callable[[slice], tuple[Tensor, ...]],
    n: int,
    size: int,
    *,
    seed: int,
    stream: str,
    place: torch.device,
    progress: bool = False,
    description: str = "",
) -> tuple[Tensor, ...]:
    """Concatenated ``terms(part)`` over chunks of ``size`` of ``n`` points.

    Runs without gradients and with torch's global RNG on the named ``stream`` of ``seed``.
    """
    outputs = []
    with _seeded(seed, stream, place), torch.no_grad():
        for part in _progress(list(_chunks(n, size)), progress, description):
            outputs.append(terms(part))
    return tuple(torch.cat(column) for column in zip(*outputs, strict=True))


def _prepare(
    model: LatentVariableModel,
    encoder: Encoder | None,
    device: torch.device | str | None,
    dtype: torch.dtype | None,
) -> tuple[torch.device, torch.dtype]:
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
    if device is not None or dtype is not None:
        model.to(device=device, dtype=dtype)
    place, model_dtype = _model_place(model)
    if isinstance(encoder, nn.Module):
        encoder.to(device=place, dtype=model_dtype)
    return place, model_dtype


def _proposal_name(encoder: Encoder | None) -> str:
    if encoder is None:
        return "prior"
    if isinstance(encoder, ExactPosterior):
        return "exact posterior"
    owner = getattr(encoder, "__self__", None)
    if isinstance(owner, LatentVariableModel) and getattr(encoder, "__name__", "") == "posterior":
        return "exact posterior"
    return type(encoder).__name__


def _paired(
    lower_terms: Tensor, upper_terms: Tensor
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """``((lower, stderr), (upper, stderr), width stderr)`` of per-point terms on shared samples."""
    _, width_se = _mean_stderr(upper_terms - lower_terms)
    return _mean_stderr(lower_terms), _mean_stderr(upper_terms), width_se


def _snis_settings(
    encoder: Encoder | None,
    size: int,
    place: torch.device,
    dtype: torch.dtype,
    width_se: float,
) -> dict[str, Any]:
    """The settings that the SNIS sandwich and Lautum bounds share after their options."""
    return {
        "proposal": _proposal_name(encoder),
        "batch_size": size,
        **_place_settings(place, dtype),
        "width_stderr": width_se,
    }


def _default_batch(k: int, x: Tensor, z0: Tensor, n: int) -> int:
    per_point = max(1, x[0].numel(), z0[0].numel()) * (k + 1)
    return max(1, min(n, _MEMORY_BUDGET // per_point))


def _proposal_samples(
    model: LatentVariableModel,
    encoder: Encoder | None,
    x: Tensor,
    z0: Tensor,
    k: int,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(log_w (K, m), log_w0 (m,), log_lik0 (m,))`` for a chunk of data."""
    prior = model.prior()
    log_lik0 = model.likelihood(z0).log_prob(x)
    if encoder is None:
        batch = z0.shape[: z0.ndim - len(prior.event_shape)]
        z = prior.sample((k, *batch))
        return model.likelihood(z).log_prob(x), log_lik0, log_lik0
    q = encoder(x)
    if not isinstance(q, Distribution):
        raise TypeError(
            "encoder: expected it to return a torch.distributions.Distribution over z, "
            f"got {type(q).__name__}"
        )
    batch = z0.shape[: z0.ndim - len(prior.event_shape)]
    if q.batch_shape != batch or q.event_shape != prior.event_shape:
        raise ValueError(
            f"encoder: expected a Distribution with batch shape {tuple(batch)} and event shape "
            f"{tuple(prior.event_shape)} (the prior's), got batch shape {tuple(q.batch_shape)} "
            f"and event shape {tuple(q.event_shape)}"
        )
    z = q.sample((k,))
    log_w = prior.log_prob(z) + model.likelihood(z).log_prob(x) - q.log_prob(z)
    log_w0 = prior.log_prob(z0) + log_lik0 - q.log_prob(z0)
    return log_w, log_w0, log_lik0


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
        raise TypeError(f"fit: expected True or False, got {type(fit).__name__}")
    if not fit:
        return encoder
    _check_int("fit_steps", fit_steps, 1)
    if encoder is None:
        from mibound.encoders import _latent_dims

        x_dim, z_dim = _latent_dims(model)
        place, dtype = _model_place(model)
        encoder = GaussianEncoder(x_dim, z_dim).to(device=place, dtype=dtype)
        initialise_linear(encoder, model, seed=seed)
    elif not isinstance(encoder, nn.Module):
        raise TypeError(
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


# --------------------------------------------------------------------------------------------
# Known joint: sandwich and Lautum
# --------------------------------------------------------------------------------------------


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
        raise ValueError(f"method: expected 'snis' or 'ais', got {method!r}")
    _check_seed(seed)
    if method == "ais":
        if k is not None:
            raise ValueError("k: applies to method='snis' only (AIS uses steps and chains)")
        if fit:
            _prepare(model, encoder, device, dtype)
            encoder = _fit_if_asked(model, encoder, fit, fit_steps, 16, seed, progress, {})
        from mibound.ais import ais_sandwich

        options: dict[str, Any] = {
            "seed": seed,
            "device": device,
            "dtype": dtype,
            "batch_size": batch_size,
            "progress": progress,
            **ais_options,
        }
        for name, value in (("n", n), ("steps", steps), ("chains", chains)):
            if value is not None:
                options[name] = value
        return ais_sandwich(model, encoder, **options)

    if ais_options:
        raise TypeError(
            f"sandwich: unexpected keyword argument(s) {', '.join(sorted(ais_options))} "
            "for method='snis'"
        )
    for name, value in (("steps", steps), ("chains", chains)):
        if value is not None:
            raise ValueError(f"{name}: applies to method='ais' only")
    k = 64 if k is None else _check_int("k", k, 1)
    n = 4096 if n is None else _check_int("n", n, 2)
    _check_batch_size(batch_size)
    place, model_dtype = _prepare(model, encoder, device, dtype)
    settings: dict[str, Any] = {"k": k, "n": n, "seed": seed}

    with _seeded(seed, "data", place), torch.no_grad():
        x, z0 = model.sample(n, generator=_generator(seed, "data", place))
    with _seeded(seed, "fit", place):
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
    truth, truth_se = _known(model, "mutual_information")
    settings.update(_snis_settings(encoder, size, place, model_dtype, width_se))
    settings["mean_ess"] = mean_ess
    diagnostics = _snis_diagnostics(
        encoder, k, lower, upper, width_se, mean_ess, truth, truth_se, lower_se, upper_se
    )
    return _bounds(
        (lower, lower_se),
        (upper, upper_se),
        method="snis",
        settings=settings,
        diagnostics=diagnostics,
        truth=(truth, truth_se),
    )


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
    if encoder is None:
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


def lautum(
    model: LatentVariableModel,
    encoder: Encoder | None = None,
    *,
    k: int = 64,
    n: int = 4096,
    seed: int = 0,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    progress: bool = False,
) -> Bounds:
    r"""Lower and upper bounds on the Lautum information :math:`LI = KL(p(x)p(z) \| p(x,z))`.

    :math:`LI = \mathbb{E}_{p(x)} \log p(x) - \mathbb{E}_{p(x)p(z)} \log p(x | z)`. With
    :math:`z' \sim p(z)` drawn independently of x and :math:`w_k = p(x, z_k)/q(z_k|x)`,
    :math:`z_{1:K} \sim q(z|x)` (a normalised proposal), and :math:`z_0` the exact posterior
    sample:

    .. math:: \mathbb{E}\Big[\log \tfrac1K \textstyle\sum_{k=1}^K w_k - \log p(x|z')\Big]
        \le LI \le
        \mathbb{E}\Big[\log \tfrac{1}{K+1} \textstyle\sum_{k=0}^K w_k - \log p(x|z')\Big]

    (IWAE below, IWHVI/SIVI above; with q = p(z) the upper side is the SIVI-type bound). Both
    sides share :math:`z_{1:K}` and :math:`z'`; they coincide sample by sample for the exact
    posterior. The :math:`\log p(x|z')` term can have a large variance when LI is large; the
    standard errors say so.

    Arguments:
        model: The latent-variable model.
        encoder: Proposal q(z | x), or None for the prior.
        k: Proposal samples per data point.
        n: Number of data points.
        seed: Seed of every random choice.
        batch_size: Data points per chunk.
        device: Device for the computation.
        dtype: Floating dtype for the computation.
        progress: Show a progress bar.

    Returns:
        :class:`~mibound.results.Bounds` with ``quantity="lautum information"``.

    References:
        Palomar & Verdú (2008), "Lautum information"; Sobolev & Vetrov (2019),
        https://arxiv.org/abs/1810.02789; Yin & Zhou (2018), https://arxiv.org/abs/1805.11183.
    """
    model = _check_model(model)
    encoder = _check_encoder(encoder)
    k = _check_int("k", k, 1)
    n = _check_int("n", n, 2)
    _check_seed(seed)
    _check_batch_size(batch_size)
    place, model_dtype = _prepare(model, encoder, device, dtype)
    with _seeded(seed, "data", place), torch.no_grad():
        g = _generator(seed, "data", place)
        x, z0 = model.sample(n, generator=g)
        _, z_indep = model.sample(n, generator=g)
    size = batch_size or _default_batch(k, x, z0, n)

    def terms(part: slice) -> tuple[Tensor, Tensor]:
        log_w, log_w0, _ = _proposal_samples(model, encoder, x[part], z0[part], k)
        log_lik_marginal = model.likelihood(z_indep[part]).log_prob(x[part])
        return (
            lautum_lower(log_w, log_lik_marginal, reduction="none"),
            lautum_upper(log_w, log_w0, log_lik_marginal, reduction="none"),
        )

    lower_terms, upper_terms = _chunked(
        terms,
        n,
        size,
        seed=seed,
        stream="proposals",
        place=place,
        progress=progress,
        description="Lautum bounds",
    )
    lower, upper, width_se = _paired(lower_terms, upper_terms)
    settings: dict[str, Any] = {
        "k": k,
        "n": n,
        "seed": seed,
        **_snis_settings(encoder, size, place, model_dtype, width_se),
    }
    diagnostics = []
    if encoder is None:
        diagnostics.append(
            "proposal is the prior p(z): the gap of both sides closes only when K is of the "
            "order of e^I; pass an encoder for tight bounds"
        )
    return _bounds(
        lower,
        upper,
        method="snis",
        settings=settings,
        diagnostics=diagnostics,
        truth=_known(model, "lautum_information"),
        quantity="lautum information",
    )


# --------------------------------------------------------------------------------------------
# Known marginal: prior density known, likelihood implicit
# --------------------------------------------------------------------------------------------

_NO_UPPER = (
    "no upper bound: an upper bound on I needs log p(x | z) at the data (I <= E[log p(x|z0) "
    "- log p_hat(x)] with p_hat an importance-sampling lower bound on p(x)); with an implicit "
    "likelihood known only through samples, only lower bounds are valid"
)


class _PairEnergy(nn.Module):
    """f(x, z): an MLP on the standardised pair, zero at initialisation; broadcasts x and z."""

    def __init__(self, x_dim: int, z_dim: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.register_buffer("x_shift", torch.zeros(x_dim))
        self.register_buffer("x_scale", torch.ones(x_dim))
        self.register_buffer("z_shift", torch.zeros(z_dim))
        self.register_buffer("z_scale", torch.ones(z_dim))
        mods: list[nn.Module] = []
        width = x_dim + z_dim
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        last = nn.Linear(width, 1)
        with torch.no_grad():
            last.weight.zero_()
            last.bias.zero_()
        self.net = nn.Sequential(*mods, last)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        shape = torch.broadcast_shapes(x.shape[:-1], z.shape[:-1])
        hx = ((x - self.x_shift) / self.x_scale).expand(*shape, x.shape[-1])
        hz = ((z - self.z_shift) / self.z_scale).expand(*shape, z.shape[-1])
        return self.net(torch.cat([hx, hz], dim=-1)).squeeze(-1)


def _marginal_terms(
    encoder: nn.Module,
    energy: _PairEnergy,
    log_prior: Callable[[Tensor], Tensor],
    x: Tensor,
    z0: Tensor,
    k: int,
    reparameterise: bool,
) -> tuple[Tensor, Tensor]:
    """Per-pair multisample (energy ρ̂ = q e^f) and Barber–Agakov terms."""
    q = encoder(x)
    z = q.rsample((k,)) if reparameterise else q.sample((k,))
    f = energy(x, z)
    f0 = energy(x, z0)
    log_q0 = q.log_prob(z0)
    log_p0 = log_prior(z0)
    log_lik0 = log_q0 + f0 - log_p0
    multi = multisample_lower(f, f0, log_lik0, reduction="none", validate=False)
    return multi, log_q0 - log_p0


def known_marginal(
    x: Any,
    z: Any,
    prior: Distribution | Callable[[Tensor], Tensor],
    *,
    k: int = 16,
    steps: int = 2000,
    batch_size: int = 128,
    lr: float = 1e-3,
    hidden: int = 128,
    layers: int = 2,
    test_fraction: float = 0.3,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
) -> Bounds:
    r"""Lower bounds on I(X; Z) from paired samples when only the prior density p(z) is known.

    Learns a Gaussian encoder :math:`q(z | x)` and an energy
    :math:`\hat\rho(x, z) = q(z | x) e^{f(x, z)}` on a training split by maximising the
    multisample lower bound (DESIGN.md), then reports on the held-out split, with
    :math:`z_{1:K} \sim q(z | x)`:

    .. math:: I \ge \mathbb{E}\Big[\log \frac{\hat\rho(x, z_0)}
        {\frac{1}{K+1}\sum_{k=0}^{K} e^{f(x, z_k)}}\Big] - \mathbb{E} \log p(z_0)
        \qquad \text{(multisample, reported as ``lower``)}

    .. math:: I \ge \mathbb{E}[\log q(z_0 | x) - \log p(z_0)]
        \qquad \text{(Barber–Agakov, in ``settings``)}

    Both are valid lower bounds for any q and f fixed before the held-out evaluation; the
    multisample bound equals BA at f = 0 (the initialisation) and is tight when
    :math:`\hat\rho \propto p(x, z)`. There is **no upper bound** (``upper`` is None): it would
    need :math:`\log p(x | z)`, which an implicit likelihood does not give.

    Arguments:
        x: Samples of x, shape ``(n, d)`` (numpy, torch, pandas).
        z: The paired latents :math:`z_0`, shape ``(n, k)`` (continuous).
        prior: The prior p(z): a Distribution with event shape ``(k,)`` or a callable
            ``z -> log p(z)``.
        k: Proposal samples per pair.
        steps: Maximum training steps.
        batch_size: Pairs per step.
        lr: Adam learning rate.
        hidden: Width of the encoder and energy MLPs.
        layers: Hidden layers of the encoder and energy MLPs.
        test_fraction: Fraction of pairs held out for the reported bounds.
        seed: Seed of every random choice (split, initialisation, minibatches, proposals).
        device: Device for training and evaluation.
        dtype: Floating dtype.
        progress: Show a progress bar.

    Returns:
        :class:`~mibound.results.Bounds` with ``upper=None``; ``settings`` holds the BA bound
        (``barber_agakov``, ``barber_agakov_stderr``) and the training summary.

    References:
        Barber & Agakov (2003); Poole et al. (2019), https://arxiv.org/abs/1905.06922.
    """
    from mibound._inputs import as_samples
    from mibound.models.decoder import _map_distribution
    from mibound.train import train

    x_np = as_samples("x", x, min_n=10, check_variance=False)
    z_np = as_samples("z", z, min_n=10, check_variance=False)
    if len(x_np) != len(z_np):
        raise ValueError(
            f"x, z: expected the same number of rows (pairs), got {len(x_np)} and {len(z_np)}"
        )
    k = _check_int("k", k, 1)
    _check_int("steps", steps, 1)
    _check_int("batch_size", batch_size, 1)
    _check_seed(seed)
    if not (isinstance(test_fraction, float) and 0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction: expected a float in (0, 1), got {test_fraction!r}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
    place = torch.device(device) if device is not None else torch.device("cpu")
    xs = torch.as_tensor(x_np, dtype=dtype, device=place)
    zs = torch.as_tensor(z_np, dtype=dtype, device=place)
    n, x_dim = xs.shape
    z_dim = zs.shape[1]
    if isinstance(prior, Distribution):
        if prior.event_shape != (z_dim,):
            raise ValueError(
                f"prior: expected event shape ({z_dim},) to match z, got {tuple(prior.event_shape)}"
            )
        moved = _map_distribution(
            prior,
            lambda t: t.to(device=place, dtype=dtype) if t.is_floating_point() else t.to(place),
        )
        log_prior: Callable[[Tensor], Tensor] = moved.log_prob
    elif callable(prior):
        log_prior = prior
    else:
        raise TypeError(
            "prior: expected a Distribution or a callable z -> log p(z), "
            f"got {type(prior).__name__}"
        )
    probe = log_prior(zs[:3])
    if not isinstance(probe, Tensor) or probe.shape != (3,):
        got = tuple(probe.shape) if isinstance(probe, Tensor) else type(probe).__name__
        raise ValueError(f"prior: expected log p(z) of shape (3,) for 3 latents, got {got}")
    if not bool(torch.isfinite(log_prior(zs)).all()):
        raise ValueError("prior: log p(z) is not finite at some of the given z; wrong prior?")

    perm = torch.randperm(n, generator=_generator(seed, "split")).to(place)
    n_test = max(2, round(test_fraction * n))
    n_val = max(2, (n - n_test) // 5)
    n_train = n - n_test - n_val
    if n_train < 2:
        raise ValueError(f"x, z: too few pairs ({n}) for a train/validation/test split")
    test, val, tr = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]

    with _seeded(seed, "initialisation", place):
        encoder = GaussianEncoder(x_dim, z_dim, hidden, layers).to(device=place, dtype=dtype)
        energy = _PairEnergy(x_dim, z_dim, hidden, layers).to(device=place, dtype=dtype)
    with torch.no_grad():
        for module in (encoder, energy):
            module.x_shift.copy_(xs[tr].mean(0))
            module.x_scale.copy_(xs[tr].std(0).clamp(min=1e-12))
        energy.z_shift.copy_(zs[tr].mean(0))
        energy.z_scale.copy_(zs[tr].std(0).clamp(min=1e-12))
    both = nn.ModuleDict({"encoder": encoder, "energy": energy})

    def sample_batch(step: int, generator: torch.Generator) -> Tensor:
        size = (min(batch_size, len(tr)),)
        idx = torch.randint(len(tr), size, generator=generator, device=generator.device)
        return tr[idx.to(place)]

    def objective(idx: Tensor) -> Tensor:
        multi, _ = _marginal_terms(encoder, energy, log_prior, xs[idx], zs[idx], k, True)
        return multi.mean()

    def validate() -> float:
        with torch.no_grad(), _seeded(seed, "validation-proposals", place):
            multi, _ = _marginal_terms(encoder, energy, log_prior, xs[val], zs[val], k, False)
            return float(multi.mean())

    with _seeded(seed, "training-proposals", place):
        result = train(
            both,
            objective,
            sample_batch,
            validate=validate,
            steps=steps,
            lr=lr,
            eval_every=min(100, steps),
            seed=seed,
            device=place,
            progress=progress,
            description=f"known marginal (K={k})",
        )
    with torch.no_grad(), _seeded(seed, "test-proposals", place):
        multi, ba = _marginal_terms(encoder, energy, log_prior, xs[test], zs[test], k, False)
    lower, lower_se = _mean_stderr(multi)
    ba_value, ba_se = _mean_stderr(ba)
    if not (math.isfinite(lower) and math.isfinite(ba_value)):
        raise ValueError(
            "known_marginal: the held-out bound is not finite; check the prior and the data"
        )
    diagnostics = [_NO_UPPER]
    if lower < ba_value - 2 * math.hypot(lower_se, ba_se):
        diagnostics.append(
            f"the learned energy did not improve on Barber–Agakov ({ba_value:.4f}); both are "
            "valid lower bounds, the larger population value is the better one"
        )
    settings: dict[str, Any] = {
        "k": k,
        "n": n,
        "n_train": n_train,
        "n_validation": n_val,
        "n_test": n_test,
        "seed": seed,
        "barber_agakov": ba_value,
        "barber_agakov_stderr": ba_se,
        "steps": steps,
        "steps_run": result.steps_run,
        "best_step": result.best_step,
        "stopped_early": result.stopped_early,
        "lr": lr,
        "batch_size": batch_size,
        **_place_settings(place, dtype),
    }
    return _bounds(
        (lower, lower_se),
        None,
        method="known marginal (multisample)",
        settings=settings,
        diagnostics=diagnostics,
    )


# --------------------------------------------------------------------------------------------
# Known conditional: an encoder density and samples of x
# --------------------------------------------------------------------------------------------


def known_conditional(
    encoder: Encoder,
    x: Any,
    *,
    k: int = 127,
    n: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Bounds:
    r"""Lower and upper bounds on :math:`I[q(z | x) p(x)]` from an encoder and samples of x.

    The data are shuffled into blocks of K+1 points :math:`x_{0:K} \sim p(x)`; each point of a
    block in turn is the anchor :math:`x_0` with :math:`z \sim q(z | x_0)`, and the other K are
    its negatives:

    .. math:: \mathbb{E}\Big[\log \frac{q(z|x_0)}{\frac{1}{K+1}\sum_{k=0}^{K} q(z|x_k)}\Big]
        \le I \le
        \mathbb{E}\Big[\log \frac{q(z|x_0)}{\frac{1}{K}\sum_{k=1}^{K} q(z|x_k)}\Big]

    The lower side is InfoNCE with the encoder's log-density as critic and cannot exceed
    :math:`\log(K+1)`; the upper side is tight only for K on the order of :math:`e^{I}`. The
    expectation over x is the empirical distribution of the given samples. Standard errors come
    from the independent block means. (A learned inverse proposal for a known p(x) is not
    implemented.)

    Arguments:
        encoder: A callable ``x -> Distribution`` over z with batch shape ``x.shape[:-1]``.
        x: Samples of x, shape ``(N, d)`` (numpy, torch, pandas).
        k: Negatives per anchor K (blocks of K+1 points).
        n: Use only the first n points after shuffling (default: all).
        seed: Seed of the shuffle and of the encoder's samples.
        batch_size: Blocks per chunk (default: from a memory budget).
        device: Device for the computation.
        dtype: Floating dtype of x (default: the encoder's parameter dtype, else float64).

    Returns:
        :class:`~mibound.results.Bounds` (``method="known conditional"``).

    References:
        van den Oord et al. (2018), https://arxiv.org/abs/1807.03748; Poole et al. (2019),
        https://arxiv.org/abs/1905.06922 (section 2.4).
    """
    from mibound._inputs import as_samples

    if not callable(encoder):
        raise TypeError(
            f"encoder: expected a callable x -> Distribution over z, got {type(encoder).__name__}"
        )
    k = _check_int("k", k, 1)
    _check_seed(seed)
    x_np = as_samples("x", x, min_n=2, check_variance=False)
    total = len(x_np)
    if n is not None:
        n = _check_int("n", n, 2)
        if n > total:
            raise ValueError(f"n: expected at most the {total} given samples, got {n}")
    else:
        n = total
    blocks = n // (k + 1)
    if blocks < 2:
        raise ValueError(
            f"k: expected at least two blocks of K+1 points from {n} samples, got K = {k} "
            f"(use K <= {n // 2 - 1})"
        )
    _check_batch_size(batch_size)
    if dtype is None:
        params = [p for p in getattr(encoder, "parameters", lambda: [])() if p.is_floating_point()]
        dtype = params[0].dtype if params else torch.float64
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
    if device is None:
        params = list(getattr(encoder, "parameters", lambda: [])())
        place = params[0].device if params else torch.device("cpu")
    else:
        place = torch.device(device)
        if isinstance(encoder, nn.Module):
            encoder.to(place)
    perm = torch.randperm(total, generator=_generator(seed, "shuffle"))[: blocks * (k + 1)]
    xs = torch.as_tensor(x_np[perm.numpy()], dtype=dtype, device=place)
    xs = xs.reshape(blocks, k + 1, -1)
    size = batch_size or max(1, _MEMORY_BUDGET // ((k + 1) ** 2 * max(1, xs.shape[-1])))
    mask = torch.eye(k + 1, dtype=torch.bool, device=place)

    def terms(part: slice) -> tuple[Tensor, Tensor]:
        q = encoder(xs[part].unsqueeze(1))
        if not isinstance(q, Distribution):
            raise TypeError(
                "encoder: expected it to return a torch.distributions.Distribution, "
                f"got {type(q).__name__}"
            )
        z = q.sample().transpose(1, 2)  # z[b, i, 0] ~ q(. | x_{b,i})
        scores = q.log_prob(z)  # scores[b, i, j] = log q(z_{b,i} | x_{b,j})
        if scores.shape[-2:] != (k + 1, k + 1):
            raise ValueError(
                "encoder: expected log_prob to broadcast to a (K+1, K+1) score matrix, got "
                f"shape {tuple(scores.shape)}; its batch shape must be x.shape[:-1]"
            )
        off = torch.logsumexp(scores.masked_fill(mask, -math.inf), -1) - math.log(k)
        return (
            infonce(scores, reduction="none").mean(-1),
            (torch.diagonal(scores, dim1=-2, dim2=-1) - off).mean(-1),
        )

    lower_terms, upper_terms = _chunked(
        terms, blocks, size, seed=seed, stream="encoder-samples", place=place
    )
    lower, lower_se = _mean_stderr(lower_terms)
    upper, upper_se = _mean_stderr(upper_terms)
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise ValueError(
            "known_conditional: non-finite bounds; the encoder's log_prob returned NaN or inf"
        )
    ceiling = math.log(k + 1)
    diagnostics = [
        f"the lower bound cannot exceed log(K+1) = {ceiling:.3f} nats and the upper bound "
        "is tight only for K of the order of e^I; raise k for a narrower interval"
    ]
    if lower > ceiling - 0.5:
        diagnostics.append(
            f"the lower bound ({lower:.3f}) is near its ceiling log(K+1); the MI may be larger"
        )
    settings = {
        "k": k,
        "n": blocks * (k + 1),
        "blocks": blocks,
        "seed": seed,
        **_place_settings(place, dtype),
    }
    return _bounds(
        (lower, lower_se),
        (upper, upper_se),
        method="known conditional",
        settings=settings,
        diagnostics=diagnostics,
    )
