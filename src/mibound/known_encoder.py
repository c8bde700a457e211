r"""Known conditional q(z | x) and samples of x: InfoNCE-type bounds on :math:`I[q(z|x) p(x)]`.

The encoder's log-density is the critic: the InfoNCE lower bound and its leave-one-out upper
counterpart on blocks of K+1 samples (docs/estimators.md, "Known densities").
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from mibound._checks import InvalidTypeError, InvalidValueError, check_seed
from mibound._known import (
    _MEMORY_BUDGET,
    Encoder,
    _bounds,
    _check_batch_size,
    _chunked,
    _mean_stderr,
)
from mibound._placement import check_device, check_dtype, module_place, place_settings
from mibound._random import torch_generator
from mibound.bounds import (
    infonce,
)
from mibound.encoders import (
    _check_int,
)
from mibound.results import Bounds

__all__ = ["known_conditional"]


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
        raise InvalidTypeError(
            f"encoder: expected a callable x -> Distribution over z, got {type(encoder).__name__}"
        )
    k = _check_int("k", k, 1)
    check_seed(seed)
    x_np = as_samples("x", x, min_n=2, check_variance=False)
    total = len(x_np)
    if n is not None:
        n = _check_int("n", n, 2)
        if n > total:
            raise InvalidValueError(f"n: expected at most the {total} given samples, got {n}")
    else:
        n = total
    blocks = n // (k + 1)
    if blocks < 2:
        raise InvalidValueError(
            f"k: expected at least two blocks of K+1 points from {n} samples, got K = {k} "
            f"(use K <= {n // 2 - 1})"
        )
    _check_batch_size(batch_size)
    own = module_place(encoder) if isinstance(encoder, nn.Module) else None
    own_device, own_dtype = own if own is not None else (torch.device("cpu"), torch.float64)
    dtype = check_dtype(dtype) or own_dtype
    place = check_device(device) or own_device
    if own is not None and own[0] != place:
        module: Any = copy.deepcopy(encoder)
        encoder = module.to(place)  # a copy: the caller's encoder is not moved
    perm = torch.randperm(total, generator=torch_generator(seed, "shuffle"))[: blocks * (k + 1)]
    xs = torch.as_tensor(x_np[perm.numpy()], dtype=dtype, device=place)
    xs = xs.reshape(blocks, k + 1, -1)
    size = batch_size or max(1, _MEMORY_BUDGET // ((k + 1) ** 2 * max(1, xs.shape[-1])))

    def terms(part: slice) -> tuple[Tensor, Tensor]:
        return _block_terms(encoder, xs[part], k)

    lower_terms, upper_terms = _chunked(
        terms, blocks, size, seed=seed, stream="encoder-samples", place=place
    )
    lower, lower_se = _mean_stderr(lower_terms)
    upper, upper_se = _mean_stderr(upper_terms)
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise InvalidValueError(
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
        **place_settings(place, dtype),
    }
    return _bounds(
        (lower, lower_se),
        (upper, upper_se),
        method="known conditional",
        settings=settings,
        diagnostics=diagnostics,
    )


def _block_terms(encoder: Encoder, blocks: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Lower (InfoNCE) and upper (leave-self-out) terms of each block of K+1 points."""
    q = encoder(blocks.unsqueeze(1))
    if not isinstance(q, Distribution):
        raise InvalidTypeError(
            "encoder: expected it to return a torch.distributions.Distribution, "
            f"got {type(q).__name__}"
        )
    z = q.sample().transpose(1, 2)  # z[b, i, 0] ~ q(. | x_{b,i})
    scores = q.log_prob(z)  # scores[b, i, j] = log q(z_{b,i} | x_{b,j})
    if scores.shape[-2:] != (k + 1, k + 1):
        raise InvalidValueError(
            "encoder: expected log_prob to broadcast to a (K+1, K+1) score matrix, got "
            f"shape {tuple(scores.shape)}; its batch shape must be x.shape[:-1]"
        )
    mask = torch.eye(k + 1, dtype=torch.bool, device=scores.device)
    off = torch.logsumexp(scores.masked_fill(mask, -math.inf), -1) - math.log(k)
    return (
        infonce(scores, reduction="none").mean(-1),
        (torch.diagonal(scores, dim1=-2, dim2=-1) - off).mean(-1),
    )
