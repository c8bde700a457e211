r"""Encoders q(z | x): an amortised Gaussian MLP, the exact posterior, and fitting to a model.

The encoder contract used by :func:`mibound.sandwich`, :func:`mibound.lautum` and the AIS
sandwich: an encoder is a callable ``x -> torch.distributions.Distribution`` over z whose
``event_shape`` is the latent's event shape and whose ``batch_shape`` is the batch shape of x
(``x.shape[:-1]`` for vector data), supporting ``.sample((K,))`` (and ``.rsample((K,))`` to be
fitted by gradient) and ``.log_prob(z)`` with broadcasting. A model's exact
``model.posterior`` satisfies it; so does :class:`GaussianEncoder`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor, nn
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal

from mibound._checks import InvalidTypeError, InvalidValueError
from mibound._checks import check_int as _check_int
from mibound._placement import model_place
from mibound._random import seeded, torch_generator
from mibound.bounds import iwae_upper, multisample_lower
from mibound.models.base import LatentVariableModel

if TYPE_CHECKING:
    from mibound.train import TrainResult

__all__ = ["ExactPosterior", "GaussianEncoder", "fit_encoder", "initialise_linear"]

Covariance = Literal["diagonal", "full"]


def _inverse_softplus(y: Tensor) -> Tensor:
    return y + torch.log(-torch.expm1(-y))


class GaussianEncoder(nn.Module):
    r"""Amortised Gaussian encoder :math:`q(z | x) = \mathcal{N}(\mu(x), \Sigma(x))`.

    .. math:: \mu(x) = A \tilde x + \mathrm{MLP}_\mu(\tilde x), \qquad
        \Sigma(x) = L(x) L(x)^\top, \qquad \tilde x = (x - \text{shift}) / \text{scale}

    An MLP with a linear skip connection for the mean (so linear posteriors are easy), and
    a diagonal (``Independent(Normal)``) or full (``MultivariateNormal`` with ``scale_tril``)
    covariance whose diagonal is ``softplus(.) + min_scale``. At initialisation the output is
    :math:`\mathcal{N}(0, I)`, the standard-normal prior, so the sandwich is valid (if wide)
    before any training. ``x_shift`` / ``x_scale`` are buffers for input standardisation,
    set by :func:`fit_encoder` and :func:`initialise_linear`.

    Arguments:
        x_dim: Data dimension d.
        z_dim: Latent dimension k.
        hidden: Width of the hidden layers.
        layers: Number of hidden layers (0 gives a linear-Gaussian encoder).
        covariance: ``"diagonal"`` or ``"full"``.
        min_scale: Floor on the standard deviations.

    Example:
        >>> encoder = GaussianEncoder(5, 2)
        >>> q = encoder(torch.randn(7, 5))
        >>> q.batch_shape, q.event_shape, q.rsample((3,)).shape
        (torch.Size([7]), torch.Size([2]), torch.Size([3, 7, 2]))
    """

    x_shift: Tensor
    x_scale: Tensor
    _rows: Tensor
    _cols: Tensor

    def __init__(
        self,
        x_dim: int,
        z_dim: int,
        hidden: int = 128,
        layers: int = 2,
        covariance: Covariance = "diagonal",
        *,
        min_scale: float = 1e-4,
    ) -> None:
        super().__init__()
        _check_int("x_dim", x_dim, 1)
        _check_int("z_dim", z_dim, 1)
        _check_int("hidden", hidden, 1)
        _check_int("layers", layers, 0)
        if covariance not in ("diagonal", "full"):
            raise InvalidValueError(
                f"covariance: expected 'diagonal' or 'full', got {covariance!r}"
            )
        if not (isinstance(min_scale, (int, float)) and min_scale > 0):
            raise InvalidValueError(f"min_scale: expected a positive number, got {min_scale!r}")
        self.x_dim, self.z_dim, self.covariance = x_dim, z_dim, covariance
        self.min_scale = float(min_scale)
        self.register_buffer("x_shift", torch.zeros(x_dim))
        self.register_buffer("x_scale", torch.ones(x_dim))
        trunk: list[nn.Module] = []
        width = x_dim
        for _ in range(layers):
            trunk += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        self.trunk = nn.Sequential(*trunk)
        n_tril = z_dim * (z_dim - 1) // 2 if covariance == "full" else 0
        self.head = nn.Linear(width, 2 * z_dim + n_tril)
        self.skip = nn.Linear(x_dim, z_dim, bias=False)
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()
            one = torch.tensor(1.0 - self.min_scale)
            self.head.bias[z_dim : 2 * z_dim] = _inverse_softplus(one)
            self.skip.weight.zero_()
        rows, cols = torch.tril_indices(z_dim, z_dim, offset=-1)
        self.register_buffer("_rows", rows, persistent=False)
        self.register_buffer("_cols", cols, persistent=False)

    def forward(self, x: Tensor) -> Distribution:
        if not isinstance(x, Tensor):
            raise InvalidTypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim < 1 or x.shape[-1] != self.x_dim:
            raise InvalidValueError(
                f"x: expected shape (..., {self.x_dim}), got shape {tuple(x.shape)}"
            )
        h = (x - self.x_shift) / self.x_scale
        out = self.head(self.trunk(h))
        z = self.z_dim
        mean = out[..., :z] + self.skip(h)
        scale = nn.functional.softplus(out[..., z : 2 * z]) + self.min_scale
        if self.covariance == "diagonal":
            return Independent(Normal(mean, scale), 1)
        off = out.new_zeros(*out.shape[:-1], z, z)
        off[..., self._rows, self._cols] = out[..., 2 * z :]
        tril = off + torch.diag_embed(scale)
        return MultivariateNormal(mean, scale_tril=tril)

    def extra_repr(self) -> str:
        return f"x_dim={self.x_dim}, z_dim={self.z_dim}, covariance={self.covariance!r}"


class ExactPosterior(nn.Module):
    r"""The model's exact posterior :math:`p(z | x)` as an encoder (for tests and references).

    With it as the proposal, every importance weight equals :math:`p(x)`, so the SNIS lower
    and upper bounds both equal the pointwise MI :math:`\log p(x | z_0) - \log p(x)` sample by
    sample.

    Arguments:
        model: A model whose :meth:`~LatentVariableModel.posterior` is implemented.

    Raises:
        TypeError: The model has no closed-form posterior.
    """

    def __init__(self, model: LatentVariableModel) -> None:
        super().__init__()
        if not isinstance(model, LatentVariableModel):
            raise InvalidTypeError(
                f"model: expected a LatentVariableModel, got {type(model).__name__}"
            )
        try:
            with torch.no_grad():
                x, _ = model.sample(1)
                model.posterior(x)
        except NotImplementedError:
            raise InvalidTypeError(
                f"model: {type(model).__name__} has no closed-form posterior; "
                "use a GaussianEncoder fitted with fit_encoder instead"
            ) from None
        self.model = model

    def forward(self, x: Tensor) -> Distribution:
        return self.model.posterior(x)


def _latent_dims(model: LatentVariableModel) -> tuple[int, int]:
    """(x_dim, z_dim) of a model with vector data and a continuous vector latent."""
    with torch.no_grad():
        x, z0 = model.sample(2)
    if z0.ndim != 2 or not z0.is_floating_point():
        raise InvalidValueError(
            f"model: expected a continuous vector latent of shape (n, k) for a Gaussian "
            f"encoder, got latents of shape {tuple(z0.shape)} and dtype {z0.dtype}"
        )
    if x.ndim != 2:
        raise InvalidValueError(
            f"model: expected vector data of shape (n, d) for a Gaussian encoder, "
            f"got shape {tuple(x.shape)}"
        )
    return int(x.shape[1]), int(z0.shape[1])


@torch.no_grad()
def initialise_linear(
    encoder: GaussianEncoder, model: LatentVariableModel, *, n: int = 20_000, seed: int = 0
) -> GaussianEncoder:
    r"""Sets a :class:`GaussianEncoder` to the best linear-Gaussian posterior for ``model``.

    Draws n pairs :math:`(x, z_0)` from the model, standardises x, regresses :math:`z_0` on x
    by least squares and sets the encoder to :math:`\mathcal{N}(B \tilde x + b, \hat\Sigma)`
    with :math:`\hat\Sigma` the residual covariance (its diagonal for a diagonal encoder); the
    MLP's output layer is zeroed. For a jointly Gaussian model (e.g. :class:`LinearGaussian`)
    this *is* the exact posterior up to Monte Carlo error; for others it is a good start for
    :func:`fit_encoder`.

    Arguments:
        encoder: The encoder to set, in place.
        model: A model with vector data and a continuous vector latent.
        n: Number of pairs for the regression.
        seed: Seed of the draws.

    Returns:
        The same encoder.
    """
    if not isinstance(encoder, GaussianEncoder):
        raise InvalidTypeError(f"encoder: expected a GaussianEncoder, got {type(encoder).__name__}")
    x_dim, z_dim = _latent_dims(model)
    if (x_dim, z_dim) != (encoder.x_dim, encoder.z_dim):
        raise InvalidValueError(
            f"encoder: expected x_dim={x_dim}, z_dim={z_dim} to match the model, "
            f"got x_dim={encoder.x_dim}, z_dim={encoder.z_dim}"
        )
    _check_int("n", n, x_dim + z_dim + 2)
    device, _ = model_place(model)
    g = torch_generator(seed, "initialise-data", device)
    with seeded(seed, "initialise-data", device):
        x, z0 = model.sample(n, generator=g)
    x, z0 = x.double(), z0.double()
    shift = x.mean(0)
    scale = x.std(0).clamp(min=1e-12)
    h = (x - shift) / scale
    design = torch.cat([h, torch.ones(n, 1, dtype=h.dtype, device=h.device)], dim=1)
    coef = torch.linalg.lstsq(design, z0).solution
    resid = z0 - design @ coef
    cov = resid.T @ resid / (n - x_dim - 1)
    p = encoder.head.weight
    encoder.x_shift.copy_(shift.to(encoder.x_shift))
    encoder.x_scale.copy_(scale.to(encoder.x_scale))
    encoder.skip.weight.copy_(coef[:x_dim].T.to(p))
    encoder.head.weight.zero_()
    bias = torch.zeros_like(encoder.head.bias, dtype=torch.float64)
    bias[:z_dim] = coef[x_dim]
    if encoder.covariance == "diagonal":
        std = cov.diagonal().sqrt()
        bias[z_dim : 2 * z_dim] = _inverse_softplus((std - encoder.min_scale).clamp(min=1e-8))
    else:
        chol = torch.linalg.cholesky(cov)
        diag = chol.diagonal()
        bias[z_dim : 2 * z_dim] = _inverse_softplus((diag - encoder.min_scale).clamp(min=1e-8))
        rows, cols = torch.tril_indices(z_dim, z_dim, offset=-1)
        bias[2 * z_dim :] = chol[rows, cols]
    encoder.head.bias.copy_(bias.to(p))
    return encoder


def _snis_objective(
    model: LatentVariableModel,
    encoder: nn.Module,
    x: Tensor,
    z0: Tensor,
    k: int,
    objective: str,
) -> Tensor:
    q = encoder(x)
    if not isinstance(q, Distribution):
        raise InvalidTypeError(
            f"encoder: expected it to return a torch.distributions.Distribution, "
            f"got {type(q).__name__}"
        )
    if not q.has_rsample:
        raise InvalidTypeError(
            f"encoder: expected a reparameterisable distribution (has_rsample) to be fitted "
            f"by gradient, got {type(q).__name__}"
        )
    z = q.rsample((k,))
    log_w = model.log_joint(x, z) - q.log_prob(z)
    log_lik0 = model.likelihood(z0).log_prob(x)
    if objective == "iwae":
        return -iwae_upper(log_w, log_lik0, validate=False)
    log_w0 = model.prior().log_prob(z0) + log_lik0 - q.log_prob(z0)
    return multisample_lower(log_w, log_w0, log_lik0, validate=False)


def fit_encoder(
    model: LatentVariableModel,
    encoder: nn.Module,
    *,
    k: int = 16,
    objective: Literal["multisample", "iwae"] = "multisample",
    steps: int = 2000,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
    validation_size: int = 2048,
    eval_every: int = 100,
    patience: int = 10,
) -> TrainResult:
    r"""Fits an encoder q(z | x) to a model by maximising a known-joint SNIS bound.

    Every step draws a fresh minibatch :math:`(x, z_0) \sim p(x, z)` from the model and
    :math:`z_{1:K} \sim q(z | x)` by reparameterisation, and ascends either

    - ``"multisample"``: the multisample lower bound on I (Poole et al. 2019), whose gap is
      closed by making q close to the posterior where it matters for the lower side; or
    - ``"iwae"``: the IWAE bound on :math:`\log p(x)`, i.e. descends the IWAE *upper* bound
      on I (the recorded objective is minus that upper bound).

    Validation is the same objective on a fixed held-out batch with fixed proposal noise;
    the training loop (:func:`mibound.train.train`) keeps the best validation state, and the
    starting state is kept (``best_step == 0``) when no evaluated state beats it. The
    model's parameters are not trained (their ``requires_grad`` is restored afterwards).
    A :class:`GaussianEncoder` with default standardisation gets ``x_shift``/``x_scale``
    from the held-out batch first.

    Arguments:
        model: The latent-variable model (moved to ``device`` in place when given).
        encoder: The encoder to fit in place (an nn.Module returning a reparameterisable
            Distribution).
        k: Proposal samples per data point.
        objective: ``"multisample"`` or ``"iwae"``.
        steps: Maximum number of optimisation steps.
        batch_size: Data points per step.
        lr: Adam learning rate.
        seed: Seed of every random choice.
        device: Where to train; the model and encoder are moved there.
        progress: Show a progress bar.
        validation_size: Held-out data points.
        eval_every: Steps between validations.
        patience: Validations without improvement before stopping early.

    Returns:
        The :class:`~mibound.train.TrainResult` (history, best step, early stopping).
    """
    from mibound.train import train

    if not isinstance(model, LatentVariableModel):
        raise InvalidTypeError(f"model: expected a LatentVariableModel, got {type(model).__name__}")
    if not isinstance(encoder, nn.Module):
        raise InvalidTypeError(
            f"encoder: expected an nn.Module with parameters to fit, got {type(encoder).__name__}"
        )
    if not any(True for _ in encoder.parameters()):
        raise InvalidValueError("encoder: has no parameters to fit")
    _check_int("k", k, 1)
    _check_int("steps", steps, 1)
    _check_int("batch_size", batch_size, 1)
    _check_int("validation_size", validation_size, 1)
    if objective not in ("multisample", "iwae"):
        raise InvalidValueError(f"objective: expected 'multisample' or 'iwae', got {objective!r}")
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise InvalidValueError(f"lr: expected a positive learning rate, got {lr!r}")
    if device is not None:
        model.to(device)
    place, dtype = model_place(model)
    encoder.to(device=place, dtype=dtype)

    g_val = torch_generator(seed, "validation-data", place)
    with torch.no_grad(), seeded(seed, "validation-data", place):
        x_val, z0_val = model.sample(validation_size, generator=g_val)
    if (
        isinstance(encoder, GaussianEncoder)
        and bool((encoder.x_shift == 0).all())
        and bool((encoder.x_scale == 1).all())
        and x_val.ndim == 2
        and validation_size > 1
    ):
        encoder.x_shift.copy_(x_val.mean(0))
        encoder.x_scale.copy_(x_val.std(0).clamp(min=1e-12))

    def sample_batch(step: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            return model.sample(batch_size, generator=_on(generator, place))

    def loss(batch: tuple[Tensor, Tensor]) -> Tensor:
        x, z0 = batch
        return _snis_objective(model, encoder, x, z0, k, objective)

    def validate() -> float:
        with torch.no_grad(), seeded(seed, "validation-proposals", place):
            return float(_snis_objective(model, encoder, x_val, z0_val, k, objective))

    flags = [p.requires_grad for p in model.parameters()]
    initial_state = {key: value.clone() for key, value in encoder.state_dict().items()}
    try:
        for p in model.parameters():
            p.requires_grad_(False)
        initial_value = validate()
        with seeded(seed, "training-proposals", place):
            result = train(
                encoder,
                loss,
                sample_batch,
                validate=validate,
                steps=steps,
                lr=lr,
                eval_every=min(eval_every, steps),
                patience=patience,
                seed=seed,
                device=place,
                progress=progress,
                description=f"fitting encoder ({objective}, K={k})",
            )
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)
    if initial_value >= max(result.history.get("validation") or [-math.inf]):
        # Training never beat the starting point (e.g. initialise_linear's exact posterior):
        # keep the starting point.
        encoder.load_state_dict(initial_state)
        result.best_step = 0
    return result


def _on(generator: torch.Generator, device: torch.device) -> torch.Generator | None:
    """The training loop's generator if it lives on ``device``, else a derived one."""
    if generator is None or generator.device == device:
        return generator
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    return torch.Generator(device=device).manual_seed(seed)
