"""Additive uniform noise: X ~ U(0, 1), Y = X + N, N ~ U(-ε, ε), with a closed-form MI."""

from __future__ import annotations

import math

import numpy as np

from mibound.tasks.base import Task, _check_real, _format_number

__all__ = ["UniformNoiseTask", "uniform_noise"]


class UniformNoiseTask(Task):
    r"""X ~ U(0, 1), Y = X + N with N ~ U(−ε, ε) independent of X.

    p(y) is a trapezoid; :math:`I = h(Y) - \log(2ε)` gives

    .. math:: I = \begin{cases} ε - \log(2ε) & ε \le \tfrac12 \\
        \dfrac{1}{4ε} & ε \ge \tfrac12 \end{cases}

    The Lautum information is infinite: p(x, y) = 0 where p(x) p(y) > 0.
    The pointwise MI is :math:`-\log |[y-ε, y+ε] ∩ [0, 1]|` on the support.
    """

    def __init__(self, eps: float) -> None:
        eps = _check_real("eps", eps, 0.0, math.inf)
        super().__init__(
            name=f"uniform-noise-1x1-eps-{_format_number(eps)}",
            family="uniform-noise",
            dim_x=1,
            dim_y=1,
            params={"eps": eps},
            description=f"X ~ U(0, 1), Y = X + N, N ~ U(-{eps:g}, {eps:g}).",
        )
        self.eps = eps

    @property
    def mutual_information(self) -> float:
        eps = self.eps
        return eps - math.log(2.0 * eps) if eps <= 0.5 else 0.25 / eps

    @property
    def lautum_information(self) -> float:
        return math.inf

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(0.0, 1.0, size=(n, 1))
        return x, x + rng.uniform(-self.eps, self.eps, size=(n, 1))

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = x[:, 0], y[:, 0]
        overlap = np.minimum(y + self.eps, 1.0) - np.maximum(y - self.eps, 0.0)
        inside = (np.abs(y - x) <= self.eps) & (x >= 0.0) & (x <= 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(inside, -np.log(np.where(inside, overlap, 1.0)), -np.inf)


def uniform_noise(eps: float) -> UniformNoiseTask:
    """Additive uniform noise of half-width ``eps``; name ``uniform-noise-1x1-eps-0.1``.

    Example:
        >>> round(uniform_noise(0.1).mutual_information, 4)  # 0.1 - log 0.2
        1.7094
    """
    return UniformNoiseTask(eps)
