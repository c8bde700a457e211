r"""Known marginal p(z), implicit likelihood: learned lower bounds on I(X; Z) from pairs.

Only the prior density is known and x is an implicit function of z: a learned encoder
:math:`q(z|x)` and energy give Barber–Agakov and multisample lower bounds; no upper bound
exists (docs/estimators.md, "Known densities").
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from mibound._checks import InvalidTypeError, InvalidValueError, check_number, check_seed
from mibound._known import (
    _bounds,
    _mean_stderr,
)
from mibound._placement import check_device, check_dtype, place_settings
from mibound._random import seeded, torch_generator
from mibound.bounds import (
    multisample_lower,
)
from mibound.encoders import (
    GaussianEncoder,
    _check_int,
)
from mibound.results import Bounds

__all__ = ["known_marginal"]

_NO_UPPER = (
    "no upper bound: an upper bound on I needs log p(x | z) at the data (I <= E[log p(x|z0) "
    "- log p_hat(x)] with p_hat an importance-sampling lower bound on p(x)); with an implicit "
    "likelihood known only through samples, only lower bounds are valid"
)


class _PairEnergy(nn.Module):
    """f(x, z): an MLP on the standardised pair, zero at initialisation; broadcasts x and z."""

    x_shift: Tensor
    x_scale: Tensor
    z_shift: Tensor
    z_scale: Tensor

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
    multisample lower bound, then reports on the held-out split, with
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
    xs, zs, place, dtype = _checked_pairs(x, z, dtype, device)
    k = _check_int("k", k, 1)
    _check_int("steps", steps, 1)
    _check_int("batch_size", batch_size, 1)
    check_seed(seed)
    check_number("test_fraction", test_fraction, low=0.0, high=1.0)
    n = xs.shape[0]
    log_prior = _log_prior(prior, zs)

    test, val, tr = _split_pairs(n, test_fraction, seed, place)
    encoder, energy = _modules(xs[tr], zs[tr], hidden, layers, seed)
    terms = functools.partial(_marginal_terms, encoder, energy, log_prior)

    def sample_batch(step: int, generator: torch.Generator) -> Tensor:
        size = (min(batch_size, len(tr)),)
        idx = torch.randint(len(tr), size, generator=generator, device=generator.device)
        return tr[idx.to(place)]

    def objective(idx: Tensor) -> Tensor:
        return terms(xs[idx], zs[idx], k, True)[0].mean()

    def validate() -> float:
        with torch.no_grad(), seeded(seed, "validation-proposals", place):
            return float(terms(xs[val], zs[val], k, False)[0].mean())

    from mibound.train import train

    with seeded(seed, "training-proposals", place):
        result = train(
            nn.ModuleDict({"encoder": encoder, "energy": energy}),
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
    with torch.no_grad(), seeded(seed, "test-proposals", place):
        multi, ba = terms(xs[test], zs[test], k, False)
    settings: dict[str, Any] = {
        "k": k,
        "n": n,
        "n_train": len(tr),
        "n_validation": len(val),
        "n_test": len(test),
        "seed": seed,
        "steps": steps,
        "steps_run": result.steps_run,
        "best_step": result.best_step,
        "stopped_early": result.stopped_early,
        "lr": lr,
        "batch_size": batch_size,
        **place_settings(place, dtype),
    }
    return _held_out_bounds(multi, ba, settings)


def _checked_pairs(
    x: Any, z: Any, dtype: torch.dtype, device: torch.device | str | None
) -> tuple[Tensor, Tensor, torch.device, torch.dtype]:
    """x and z as tensors of the checked dtype (default float32) on the checked device, and
    that device and dtype."""
    from mibound._inputs import as_samples

    x_np = as_samples("x", x, min_n=10, check_variance=False)
    z_np = as_samples("z", z, min_n=10, check_variance=False)
    if len(x_np) != len(z_np):
        raise InvalidValueError(
            f"x, z: expected the same number of rows (pairs), got {len(x_np)} and {len(z_np)}"
        )
    dtype = check_dtype(dtype) or torch.float32
    place = check_device(device) or torch.device("cpu")
    xs = torch.as_tensor(x_np, dtype=dtype, device=place)
    return xs, torch.as_tensor(z_np, dtype=dtype, device=place), place, dtype


def _held_out_bounds(multi: Tensor, ba: Tensor, settings: dict[str, Any]) -> Bounds:
    """The held-out multisample lower bound, with Barber–Agakov in the settings."""
    lower, lower_se = _mean_stderr(multi)
    ba_value, ba_se = _mean_stderr(ba)
    if not (math.isfinite(lower) and math.isfinite(ba_value)):
        raise InvalidValueError(
            "known_marginal: the held-out bound is not finite; check the prior and the data"
        )
    diagnostics = [_NO_UPPER]
    if lower < ba_value - 2 * math.hypot(lower_se, ba_se):
        diagnostics.append(
            f"the learned energy did not improve on Barber–Agakov ({ba_value:.4f}); both are "
            "valid lower bounds, the larger population value is the better one"
        )
    return _bounds(
        (lower, lower_se),
        None,
        method="known marginal (multisample)",
        settings={**settings, "barber_agakov": ba_value, "barber_agakov_stderr": ba_se},
        diagnostics=diagnostics,
    )


def _log_prior(
    prior: Distribution | Callable[[Tensor], Tensor], zs: Tensor
) -> Callable[..., Tensor]:
    """``z -> log p(z)`` on the latents' device and dtype, checked on the given latents."""
    from mibound.models.decoder import _map_distribution

    z_dim = zs.shape[1]
    if isinstance(prior, Distribution):
        if prior.event_shape != (z_dim,):
            raise InvalidValueError(
                f"prior: expected event shape ({z_dim},) to match z, got {tuple(prior.event_shape)}"
            )
        moved = _map_distribution(
            prior,
            lambda t: (
                t.to(device=zs.device, dtype=zs.dtype) if t.is_floating_point() else t.to(zs.device)
            ),
        )
        log_prior: Callable[[Tensor], Tensor] = moved.log_prob
    elif callable(prior):
        log_prior = prior
    else:
        raise InvalidTypeError(
            "prior: expected a Distribution or a callable z -> log p(z), "
            f"got {type(prior).__name__}"
        )
    probe = log_prior(zs[:3])
    if not isinstance(probe, Tensor) or probe.shape != (3,):
        got = tuple(probe.shape) if isinstance(probe, Tensor) else type(probe).__name__
        raise InvalidValueError(f"prior: expected log p(z) of shape (3,) for 3 latents, got {got}")
    if not bool(torch.isfinite(log_prior(zs)).all()):
        raise InvalidValueError(
            "prior: log p(z) is not finite at some of the given z; wrong prior?"
        )
    return log_prior


def _split_pairs(
    n: int, test_fraction: float, seed: int, place: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """Indices of the test, validation and training pairs, shuffled from ``seed``."""
    perm = torch.randperm(n, generator=torch_generator(seed, "split")).to(place)
    n_test = max(2, round(test_fraction * n))
    n_val = max(2, (n - n_test) // 5)
    if n - n_test - n_val < 2:
        raise InvalidValueError(f"x, z: too few pairs ({n}) for a train/validation/test split")
    return perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]


def _modules(
    x_tr: Tensor, z_tr: Tensor, hidden: int, layers: int, seed: int
) -> tuple[GaussianEncoder, _PairEnergy]:
    """The encoder and the energy, initialised from ``seed``, standardised on the training pairs."""
    x_dim, z_dim = x_tr.shape[1], z_tr.shape[1]
    place, dtype = x_tr.device, x_tr.dtype
    with seeded(seed, "initialisation", place):
        encoder = GaussianEncoder(x_dim, z_dim, hidden, layers).to(device=place, dtype=dtype)
        energy = _PairEnergy(x_dim, z_dim, hidden, layers).to(device=place, dtype=dtype)
    with torch.no_grad():
        for module in (encoder, energy):
            module.x_shift.copy_(x_tr.mean(0))
            module.x_scale.copy_(x_tr.std(0).clamp(min=1e-12))
        energy.z_shift.copy_(z_tr.mean(0))
        energy.z_scale.copy_(z_tr.std(0).clamp(min=1e-12))
    return encoder, energy
