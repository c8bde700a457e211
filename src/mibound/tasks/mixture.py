"""Gaussian mixture tasks whose MI is a Monte Carlo ground truth with its standard error."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from mibound._checks import InvalidValueError
from mibound.tasks.base import Task, _check_positive_int, _check_real, _format_number
from mibound.tasks.gaussian import _cholesky, _gaussian_log_density

__all__ = ["GaussianMixtureTask", "gaussian_mixture", "gaussian_mixture_clusters", "x_mixture"]

#: Pairs drawn for the ground truth, and the seed used (distinct from typical user seeds).
GROUND_TRUTH_N = 200_000
GROUND_TRUTH_SEED = 2_718_281

#: Ground truths of the curated mixtures, keyed by :meth:`GaussianMixtureTask.fingerprint`
#: (the Monte Carlo above, stored so that listing tasks is instant; a test recomputes them).
_CACHED_GROUND_TRUTHS: dict[str, tuple[float, float]] = {
    "628d49d31ff9ac2e": (0.9552336472200719, 0.0015063477142461094),  # 1x1-k-4-sep-3
    "707190b712beb10b": (0.40815403280422763, 0.0016742411620807966),  # 1x1-x-rho-0.9
    "6dbcc921c05787e7": (0.9537343712805589, 0.001503577892735229),  # 2x2-k-4-sep-3
    "4309e74b3691c940": (1.8786040573129104, 0.0012499749452102328),  # 5x5-k-8-sep-4
}


class GaussianMixtureTask(Task):
    r"""(x, y) from a mixture of normals :math:`\sum_k π_k \mathcal{N}(μ_k, Σ_k)` in the
    joint space.

    The densities are exact (the marginals are mixtures of the marginal normals), the MI is

    .. math:: I ≈ \frac1N \sum_{i=1}^N \log \frac{p(x_i, y_i)}{p(x_i) p(y_i)},
        \quad (x_i, y_i) \sim p

    with N = 200,000 pairs from a fixed seed, computed on first use and cached;
    :attr:`mutual_information_stderr` is the standard error of that mean.

    Arguments:
        weights: Mixture weights of shape ``(K,)`` (normalised here).
        means: Component means of shape ``(K, dim_x + dim_y)``.
        covariances: Component covariances of shape ``(K, d, d)``.
        dim_x: The dimension of x.
        name: The task's name.
    """

    def __init__(
        self,
        weights: Any,
        means: Any,
        covariances: Any,
        dim_x: int,
        *,
        name: str,
        params: dict[str, Any] | None = None,
        description: str = "",
        ground_truth_n: int = GROUND_TRUTH_N,
    ) -> None:
        weights = np.asarray(weights, dtype=np.float64)
        means = np.asarray(means, dtype=np.float64)
        covariances = np.asarray(covariances, dtype=np.float64)
        if weights.ndim != 1 or np.any(weights <= 0) or not np.all(np.isfinite(weights)):
            raise InvalidValueError(
                f"weights: expected positive finite weights of shape (K,), got {weights}"
            )
        k = weights.shape[0]
        if means.ndim != 2 or means.shape[0] != k:
            raise InvalidValueError(f"means: expected shape ({k}, d), got {means.shape}")
        d = means.shape[1]
        if covariances.shape != (k, d, d):
            raise InvalidValueError(
                f"covariances: expected shape ({k}, {d}, {d}), got {covariances.shape}"
            )
        dim_x = _check_positive_int("dim_x", dim_x)
        if dim_x >= d:
            raise InvalidValueError(f"dim_x: expected < {d}, got {dim_x}")
        super().__init__(
            name=name,
            family="gaussian-mixture",
            dim_x=dim_x,
            dim_y=d - dim_x,
            params=params
            if params is not None
            else {
                "dim_x": dim_x,
                "weights": weights.tolist(),
                "means": means.tolist(),
                "covariances": covariances.tolist(),
            },
            description=description or f"mixture of {k} normals in (x, y)",
        )
        self.weights = weights / weights.sum()
        self.means = means
        self.covariances = covariances
        self._chols = [_cholesky(f"covariances[{i}]", c) for i, c in enumerate(covariances)]
        self._chols_x = [_cholesky("covariances", c[:dim_x, :dim_x]) for c in covariances]
        self._chols_y = [_cholesky("covariances", c[dim_x:, dim_x:]) for c in covariances]
        self._ground_truth_n = _check_positive_int("ground_truth_n", ground_truth_n)
        self._truth: tuple[float, float] | None = None

    def fingerprint(self) -> str:
        """A hash of everything the Monte Carlo ground truth depends on."""
        digest = hashlib.sha256()
        for array in (self.weights, self.means, self.covariances):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        digest.update(f"{self.dim_x}|{self._ground_truth_n}|{GROUND_TRUTH_SEED}".encode())
        return digest.hexdigest()[:16]

    def compute_ground_truth(self) -> tuple[float, float]:
        """Runs the Monte Carlo: the mean pointwise MI and its standard error (no cache)."""
        x, y = self.sample(self._ground_truth_n, seed=GROUND_TRUTH_SEED)
        pmi = self._pointwise_mutual_information(x, y)
        return float(pmi.mean()), float(pmi.std(ddof=1) / math.sqrt(pmi.size))

    def _ground_truth(self) -> tuple[float, float]:
        if self._truth is None:
            cached = _CACHED_GROUND_TRUTHS.get(self.fingerprint())
            self._truth = cached if cached is not None else self.compute_ground_truth()
        return self._truth

    @property
    def mutual_information(self) -> float:
        return self._ground_truth()[0]

    @property
    def mutual_information_stderr(self) -> float:
        return self._ground_truth()[1]

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.choice(self.weights.shape[0], size=n, p=self.weights)
        v = rng.standard_normal((n, self.dim_x + self.dim_y))
        for k, chol in enumerate(self._chols):
            rows = labels == k
            v[rows] = self.means[k] + v[rows] @ chol.T
        return v[:, : self.dim_x], v[:, self.dim_x :]

    def _log_mixture(self, v: np.ndarray, means: np.ndarray, chols: list[np.ndarray]) -> np.ndarray:
        from scipy.special import logsumexp  # scipy on first use: listing tasks stays fast

        terms = [
            math.log(w) + _gaussian_log_density(v - mu, chol)
            for w, mu, chol in zip(self.weights, means, chols, strict=True)
        ]
        return logsumexp(np.stack(terms), axis=0)

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        dx = self.dim_x
        joint = self._log_mixture(np.concatenate([x, y], axis=1), self.means, self._chols)
        px = self._log_mixture(x, self.means[:, :dx], self._chols_x)
        py = self._log_mixture(y, self.means[:, dx:], self._chols_y)
        return joint - px - py


def gaussian_mixture(
    weights: Any, means: Any, covariances: Any, dim_x: int, *, name: str
) -> GaussianMixtureTask:
    """A mixture of normals in the joint (x, y) space with a Monte Carlo ground truth."""
    return GaussianMixtureTask(weights, means, covariances, dim_x, name=name)


def gaussian_mixture_clusters(
    dim_x: int, dim_y: int | None = None, *, k: int, separation: float
) -> GaussianMixtureTask:
    r"""k equally weighted clusters shared by x and y, unit covariance.

    Cluster c has mean :math:`s (c - \tfrac{k-1}{2}) \mathbf{1}/\sqrt{d}` in x and in y, so
    x and y share the cluster label; I < log k and I → log k as the separation s grows.
    Name ``gaussian-mixture-2x2-k-4-sep-3``.
    """
    dim_x = _check_positive_int("dim_x", dim_x)
    dim_y = dim_x if dim_y is None else _check_positive_int("dim_y", dim_y)
    k = _check_positive_int("k", k)
    if k < 2:
        raise InvalidValueError(f"k: expected at least 2 clusters, got {k}")
    sep = _check_real("separation", separation, 0.0, math.inf)
    offsets = sep * (np.arange(k) - 0.5 * (k - 1))
    means = np.concatenate(
        [
            np.outer(offsets, np.ones(dim_x) / math.sqrt(dim_x)),
            np.outer(offsets, np.ones(dim_y) / math.sqrt(dim_y)),
        ],
        axis=1,
    )
    d = dim_x + dim_y
    return GaussianMixtureTask(
        np.full(k, 1.0 / k),
        means,
        np.broadcast_to(np.eye(d), (k, d, d)),
        dim_x,
        name=f"gaussian-mixture-{dim_x}x{dim_y}-k-{k}-sep-{_format_number(sep)}",
        params={"dim_x": dim_x, "dim_y": dim_y, "k": k, "separation": sep},
        description=(
            f"{k} equally weighted unit-covariance normal clusters spaced {sep:g} apart, "
            "shared by x and y (I < log k); MI by Monte Carlo."
        ),
    )


def x_mixture(rho: float) -> GaussianMixtureTask:
    """The "X" task: ½ N(0, [[1, ρ], [ρ, 1]]) + ½ N(0, [[1, −ρ], [−ρ, 1]]) in 1×1.

    x and y are uncorrelated yet dependent, so Gaussian/CCA estimates say 0.
    Name ``gaussian-mixture-1x1-x-rho-0.9``.
    """
    rho = _check_real("rho", rho, -1.0, 1.0)
    covs = np.array([[[1.0, rho], [rho, 1.0]], [[1.0, -rho], [-rho, 1.0]]])
    return GaussianMixtureTask(
        [0.5, 0.5],
        np.zeros((2, 2)),
        covs,
        1,
        name=f"gaussian-mixture-1x1-x-rho-{_format_number(rho)}",
        params={"dim_x": 1, "dim_y": 1, "rho": rho, "shape": "x"},
        description=(
            f"Equal mixture of two zero-mean unit-variance normals with correlation ±{rho:g}: "
            "uncorrelated but dependent (an X shape); MI by Monte Carlo."
        ),
    )
