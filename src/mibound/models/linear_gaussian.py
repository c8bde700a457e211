"""The linear-Gaussian latent model z ~ N(0, I_k), x = W z + σ ε, with every quantity exact."""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.distributions import Independent, MultivariateNormal, Normal

from mibound._checks import InvalidValueError, check_int
from mibound.models.base import LatentVariableModel

__all__ = ["LinearGaussian"]


class LinearGaussian(LatentVariableModel):
    r"""Linear-Gaussian latent model with closed-form MI, Lautum information and posterior.

    .. math:: z \sim \mathcal{N}(0, I_k), \quad x \mid z \sim \mathcal{N}(W z, \sigma^2 I_d)

    .. math:: p(x) = \mathcal{N}(0, W W^\top + \sigma^2 I), \quad
        p(z \mid x) = \mathcal{N}(S W^\top x / \sigma^2, S), \quad
        S = (I + W^\top W / \sigma^2)^{-1}

    .. math:: I = \tfrac12 \log\det(I + W^\top W / \sigma^2), \qquad
        LI = \|W\|_F^2 / \sigma^2 - I

    Arguments:
        W: Loading matrix of shape ``(d, k)``.
        sigma: Noise standard deviation σ > 0.

    Example:
        >>> model = LinearGaussian(torch.eye(2) * 3.0, 1.0)
        >>> round(model.mutual_information(), 4)  # 2 * 0.5 * log(10)
        2.3026
    """

    W: Tensor
    sigma: Tensor

    def __init__(self, W: Tensor, sigma: float | Tensor) -> None:
        super().__init__()
        if not isinstance(W, Tensor):
            W = torch.as_tensor(W)
        if W.ndim != 2:
            raise InvalidValueError(
                f"W: expected a matrix of shape (d, k), got shape {tuple(W.shape)}"
            )
        if not W.is_floating_point():
            W = W.to(torch.get_default_dtype())
        if not bool(torch.isfinite(W).all()):
            raise InvalidValueError("W: expected finite entries, found NaN or inf")
        sigma_t = torch.as_tensor(sigma, dtype=W.dtype)
        if sigma_t.ndim != 0 or not bool(sigma_t > 0) or not bool(torch.isfinite(sigma_t)):
            raise InvalidValueError(f"sigma: expected a positive finite scalar, got {sigma!r}")
        self.register_buffer("W", W.clone())
        self.register_buffer("sigma", sigma_t.clone())

    @classmethod
    def with_mutual_information(
        cls,
        mi: float,
        k: int,
        d: int,
        *,
        sigma: float = 1.0,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ) -> LinearGaussian:
        """A model with a random orthonormal-column W (d >= k) scaled to have MI ``mi`` nats.

        Each of the k latent directions carries ``mi / k`` nats:
        ``½ log(1 + s² / σ²) = mi / k``.
        """
        if not (isinstance(k, int) and isinstance(d, int) and 1 <= k <= d):
            raise InvalidValueError(
                f"k, d: expected integers with 1 <= k <= d, got k={k!r}, d={d!r}"
            )
        if not (isinstance(mi, (int, float)) and mi > 0 and math.isfinite(mi)):
            raise InvalidValueError(f"mi: expected a positive finite number of nats, got {mi!r}")
        # Each direction has s / sigma = sqrt(exp(2 mi / k) - 1), and the posterior's spread
        # along it is sigma / s relative to |z| ~ 1: beyond ~1/eps no float can tell the
        # latents apart and every sampled log-density cancels catastrophically (the sandwich
        # then returns noise such as [-1e12, 1e12]). Keep exp(mi / k) below eps^-0.8.
        limit = k * 0.8 * math.log(1.0 / torch.finfo(dtype).eps)
        if mi > limit:
            name = str(dtype).replace("torch.", "")
            raise InvalidValueError(
                f"mi: {mi!r} nats over k = {k} latent directions ({mi / k:.4g} nats each) makes "
                f"the posterior narrower than {name} can resolve; expected at most "
                f"{limit:.1f} nats for k = {k} in {name} (use a larger k, or float64)"
            )
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(d, k, generator=g, dtype=dtype))
        scale = sigma * math.sqrt(math.expm1(2.0 * mi / k))
        return cls(q * scale, sigma)

    @property
    def latent_dim(self) -> int:
        return int(self.W.shape[1])

    @property
    def data_dim(self) -> int:
        return int(self.W.shape[0])

    def prior(self) -> Independent:
        zeros = torch.zeros(self.latent_dim, dtype=self.W.dtype, device=self.W.device)
        return Independent(Normal(zeros, torch.ones_like(zeros)), 1)

    def likelihood(self, z: Tensor) -> Independent:
        mean = z @ self.W.T
        return Independent(Normal(mean, self.sigma.expand_as(mean)), 1)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        n = check_int("n", n, 1)
        dtype, device = self.W.dtype, self.W.device
        z0 = torch.randn(n, self.latent_dim, dtype=dtype, device=device, generator=generator)
        noise = torch.randn(n, self.data_dim, dtype=dtype, device=device, generator=generator)
        x = z0 @ self.W.T + self.sigma * noise
        return x, z0

    def _posterior_cov(self) -> Tensor:
        eye = torch.eye(self.latent_dim, dtype=self.W.dtype, device=self.W.device)
        return torch.linalg.inv(eye + self.W.T @ self.W / self.sigma**2)

    def posterior(self, x: Tensor) -> MultivariateNormal:
        cov = self._posterior_cov()
        mean = x @ (self.W @ cov) / self.sigma**2  # (S W^T x / σ²)^T = x^T W S / σ²
        return MultivariateNormal(mean, covariance_matrix=cov)

    def marginal(self) -> MultivariateNormal:
        eye = torch.eye(self.data_dim, dtype=self.W.dtype, device=self.W.device)
        cov = self.W @ self.W.T + self.sigma**2 * eye
        zeros = torch.zeros(self.data_dim, dtype=self.W.dtype, device=self.W.device)
        return MultivariateNormal(zeros, covariance_matrix=cov)

    def mutual_information(self) -> float:
        eye = torch.eye(self.latent_dim, dtype=self.W.dtype, device=self.W.device)
        return 0.5 * float(torch.logdet(eye + self.W.T @ self.W / self.sigma**2))

    def lautum_information(self) -> float:
        return float((self.W**2).sum() / self.sigma**2) - self.mutual_information()

    def extra_repr(self) -> str:
        return f"d={self.data_dim}, k={self.latent_dim}, sigma={float(self.sigma):.4g}"
