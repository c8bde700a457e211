"""The linear-Gaussian latent model as a task: (x, z) with z ~ N(0, I_k), x = W z + σ ε."""

from __future__ import annotations

import math

import numpy as np

from mibound.tasks.base import TaskSummary, _check_positive_int, _check_real, _format_number
from mibound.tasks.gaussian import GaussianTask

__all__ = ["LinearGaussianTask", "linear_gaussian", "linear_gaussian_summary"]


class LinearGaussianTask(GaussianTask):
    r"""Pairs (x, z) of :class:`mibound.models.LinearGaussian`: x is the observation (d-dim),
    y the latent z (k-dim).

    .. math:: I = \tfrac12 \log\det(I + W^\top W / σ^2), \qquad LI = \|W\|_F^2 / σ^2 - I

    The truths come from the model; the joint covariance
    :math:`\begin{pmatrix} W W^\top + σ^2 I & W \\ W^\top & I \end{pmatrix}` gives the
    densities. ``model`` is the torch model itself (float64), for the known-joint sandwich.
    """

    def __init__(self, model, *, name: str, params: dict, description: str) -> None:
        W = model.W.detach().cpu().double().numpy()
        sigma = float(model.sigma)
        d, k = W.shape
        cov = np.block([[W @ W.T + sigma**2 * np.eye(d), W], [W.T, np.eye(k)]])
        super().__init__(
            cov, d, name=name, params=params, description=description, family="linear-gaussian"
        )
        self.model = model
        self.W = W
        self.sigma = sigma
        self._mi = float(model.mutual_information())
        self._lautum = float(model.lautum_information())

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        d, k = self.W.shape
        z = rng.standard_normal((n, k))
        x = z @ self.W.T + self.sigma * rng.standard_normal((n, d))
        return x, z


def _checked(
    k: int, d: int, mi: float, sigma: float, seed: int
) -> tuple[str, int, int, float, float]:
    """The task's name and the checked ``k, d, mi, sigma``."""
    k = _check_positive_int("k", k)
    d = _check_positive_int("d", d)
    mi = _check_real("mi", mi, 0.0, float("inf"))
    sigma = _check_real("sigma", sigma, 0.0, float("inf"))
    name = f"linear-gaussian-k-{k}-d-{d}-mi-{_format_number(mi)}"
    if sigma != 1.0:
        name += f"-sigma-{_format_number(sigma)}"
    if seed != 0:
        name += f"-seed-{seed}"
    return name, k, d, mi, sigma


def linear_gaussian(
    k: int, d: int, *, mi: float, sigma: float = 1.0, seed: int = 0
) -> LinearGaussianTask:
    """The linear-Gaussian latent model with MI ``mi`` nats.

    W comes from ``mibound.models.LinearGaussian.with_mutual_information(mi, k, d, ...)``.

    Name ``linear-gaussian-k-2-d-10-mi-1`` (``-sigma-…``/``-seed-…`` added when not 1 / 0).

    Example:
        >>> round(linear_gaussian(2, 10, mi=1.0).mutual_information, 6)
        1.0
    """
    from mibound.models import LinearGaussian

    name, k, d, mi, sigma = _checked(k, d, mi, sigma, seed)
    model = LinearGaussian.with_mutual_information(mi, k, d, sigma=sigma, seed=seed)
    return LinearGaussianTask(
        model,
        name=name,
        params={"k": k, "d": d, "mi": mi, "sigma": sigma, "seed": seed},
        description=(
            f"Linear-Gaussian latent model: z ~ N(0, I_{k}), x = W z + {sigma:g} ε in {d} "
            f"dimensions; x is x, z is y; {mi:g} nats."
        ),
    )


def linear_gaussian_summary(
    k: int, d: int, *, mi: float, sigma: float = 1.0, seed: int = 0
) -> TaskSummary:
    r"""The summary of ``linear_gaussian(...)`` with the same arguments, without building W.

    W has k orthogonal columns of norm s with :math:`\tfrac12 \log(1 + s^2/σ^2) = I/k`, so
    :math:`\|W\|_F^2 / σ^2 = k (e^{2I/k} - 1)` and

    .. math:: LI = k \,\mathrm{expm1}(2 I / k) - I

    whatever the rotation (that is, whatever the seed); the MI is ``mi``.
    """
    name, k, d, mi, _ = _checked(k, d, mi, sigma, seed)
    return TaskSummary(name, "linear-gaussian", d, k, mi, 0.0, k * math.expm1(2.0 * mi / k) - mi)
