r"""Shared pieces of the known-density bounds: argument checks, placement, chunked evaluation.

Used by :mod:`mibound.known_joint` (the SNIS sandwich), :mod:`mibound.lautum_bounds`,
:mod:`mibound.known_prior` (known marginal) and :mod:`mibound.known_encoder` (known
conditional); the bounds themselves are in :mod:`mibound.bounds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.distributions import Distribution

from mibound._checks import InvalidTypeError, InvalidValueError
from mibound._placement import place_settings
from mibound._progress import track
from mibound._random import seeded
from mibound._stats import mean_stderr as _mean_stderr
from mibound.encoders import (
    ExactPosterior,
    _check_int,
)
from mibound.models.base import LatentVariableModel
from mibound.results import Bounds

Encoder = Callable[[Tensor], Distribution]

_MEMORY_BUDGET = 1 << 22  # elements per chunk of K x batch x (data or latent) dimensions


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check_model(model: object) -> LatentVariableModel:
    if not isinstance(model, LatentVariableModel):
        raise InvalidTypeError(
            "model: expected a mibound.models.LatentVariableModel (e.g. LinearGaussian, "
            f"GaussianMixture, DecoderModel), got {type(model).__name__}"
        )
    return model


def _check_encoder(encoder: Any) -> Encoder | None:
    if encoder is not None and not callable(encoder):
        raise InvalidTypeError(
            "encoder: expected None (the prior as proposal) or a callable x -> Distribution "
            f"over z, got {type(encoder).__name__}"
        )
    return encoder


def _check_batch_size(batch_size: object) -> int | None:
    return None if batch_size is None else _check_int("batch_size", batch_size, 1)


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
    except (NotImplementedError, AttributeError):
        return None, None
    stderr = getattr(model, f"{what}_stderr", None)
    return value, (float(stderr) if stderr is not None else None)


def _chunks(n: int, size: int) -> Iterable[slice]:
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


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
    with seeded(seed, stream, place), torch.no_grad():
        for part in track(list(_chunks(n, size)), progress, description):
            outputs.append(terms(part))
    return tuple(torch.cat(column) for column in zip(*outputs, strict=True))


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
        **place_settings(place, dtype),
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
        raise InvalidTypeError(
            "encoder: expected it to return a torch.distributions.Distribution over z, "
            f"got {type(q).__name__}"
        )
    batch = z0.shape[: z0.ndim - len(prior.event_shape)]
    if q.batch_shape != batch or q.event_shape != prior.event_shape:
        raise InvalidValueError(
            f"encoder: expected a Distribution with batch shape {tuple(batch)} and event shape "
            f"{tuple(prior.event_shape)} (the prior's), got batch shape {tuple(q.batch_shape)} "
            f"and event shape {tuple(q.event_shape)}"
        )
    z = q.sample((k,))
    log_w = prior.log_prob(z) + model.likelihood(z).log_prob(x) - q.log_prob(z)
    log_w0 = prior.log_prob(z0) + log_lik0 - q.log_prob(z0)
    return log_w, log_w0, log_lik0
