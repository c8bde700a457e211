"""Discrete X against continuous Y: a uniform shift (closed form), class label vs Gaussian mixture
(Monte Carlo truth with its standard error)."""

from __future__ import annotations

import math

import numpy as np

from mibound._checks import InvalidValueError
from mibound.tasks.base import Task, _check_positive_int, _check_real, _format_number

__all__ = ["LabelMixtureTask", "UniformShiftTask", "label_mixture", "uniform_shift"]

#: Draws and seed of the Monte Carlo ground truth of :class:`LabelMixtureTask`.
GROUND_TRUTH_N = 400_000
GROUND_TRUTH_SEED = 1_414_213

#: Ground truths of the curated tasks by name (the Monte Carlo above, stored so that listing tasks
#: is instant; a test recomputes them).
_CACHED_GROUND_TRUTHS: dict[str, tuple[float, float]] = {
    "label-mixture-d-1-k-3-sep-2": (0.6183525762127482, 0.001011215173380652),
    "label-mixture-d-4-k-4-sep-2": (0.846167141598308, 0.0010520018610025688),
}


class UniformShiftTask(Task):
    r"""X uniform on {0, …, m − 1} (integer codes), Y | X ~ U[X, X + 2].

    .. math:: I = \log m - \frac{m - 1}{m} \log 2

    (Y has density 1/(2m) on the two end intervals and 1/m inside, where two values of X
    overlap.) The example of Gao et al. (NeurIPS 2017). Name ``uniform-shift-m-4``.
    """

    def __init__(self, m: int) -> None:
        m = _check_positive_int("m", m)
        if m < 2:
            raise InvalidValueError(f"m: expected at least 2 values, got {m}")
        super().__init__(
            name=f"uniform-shift-m-{m}",
            family="discrete-continuous",
            dim_x=1,
            dim_y=1,
            params={"m": m},
            description=f"X uniform on {m} integers, Y uniform on [X, X + 2].",
        )
        self.m = m

    @property
    def mutual_information(self) -> float:
        return math.log(self.m) - (self.m - 1) / self.m * math.log(2.0)

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, self.m, n).astype(np.float64)
        return x, x + rng.uniform(0.0, 2.0, n)

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v = y[:, 0]
        inside = (v >= x[:, 0]) & (v <= x[:, 0] + 2.0)
        overlap = (v >= 1.0) & (v <= self.m)
        log_py = np.where(overlap, -math.log(self.m), -math.log(2 * self.m))
        return np.where(inside, -math.log(2.0) - log_py, -np.inf)


class LabelMixtureTask(Task):
    r"""A class label X uniform on {0, …, k − 1} and Y | X = c ~ N(μ_c, I_d).

    The means :math:`μ_c = s (c - \tfrac{k-1}{2}) \mathbf 1/\sqrt d` are spaced ``separation``
    apart on the diagonal. The MI

    .. math:: I = \mathbb E \log \frac{p(y \mid c)}{\frac1k \sum_{c'} p(y \mid c')} < \log k

    has no closed form: it is a Monte Carlo mean over 400,000 draws from a fixed seed, and
    :attr:`mutual_information_stderr` is its standard error. This is the everyday case of
    class labels against a representation. Name ``label-mixture-d-1-k-3-sep-2``.
    """

    def __init__(self, dim: int, k: int, separation: float) -> None:
        dim = _check_positive_int("dim", dim)
        k = _check_positive_int("k", k)
        if k < 2:
            raise InvalidValueError(f"k: expected at least 2 classes, got {k}")
        sep = _check_real("separation", separation, 0.0, math.inf)
        super().__init__(
            name=f"label-mixture-d-{dim}-k-{k}-sep-{_format_number(sep)}",
            family="discrete-continuous",
            dim_x=1,
            dim_y=dim,
            params={"dim": dim, "k": k, "separation": sep},
            description=(
                f"Class label uniform on {k} classes (integer codes) vs a {dim}-d unit-variance "
                f"normal around its class mean, means {sep:g} apart; MI by Monte Carlo."
            ),
        )
        self.k = k
        offsets = sep * (np.arange(k) - 0.5 * (k - 1))
        self.means = np.outer(offsets, np.ones(dim) / math.sqrt(dim))
        self._truth: tuple[float, float] | None = _CACHED_GROUND_TRUTHS.get(self.name)

    def compute_ground_truth(self) -> tuple[float, float]:
        """The Monte Carlo mean pointwise MI and its standard error (no cache)."""
        x, y = self.sample(GROUND_TRUTH_N, seed=GROUND_TRUTH_SEED)
        pmi = self._pointwise_mutual_information(x, y)
        return float(pmi.mean()), float(pmi.std(ddof=1) / math.sqrt(pmi.size))

    @property
    def mutual_information(self) -> float:
        if self._truth is None:
            self._truth = self.compute_ground_truth()
        return self._truth[0]

    @property
    def mutual_information_stderr(self) -> float:
        if self._truth is None:
            self._truth = self.compute_ground_truth()
        return self._truth[1]

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, self.k, n)
        y = self.means[labels] + rng.standard_normal((n, self.means.shape[1]))
        return labels.astype(np.float64), y

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy.special import logsumexp  # scipy on first use: listing tasks stays fast

        labels = x[:, 0]
        if not np.all((labels == np.round(labels)) & (labels >= 0) & (labels < self.k)):
            raise InvalidValueError(f"x: expected class labels 0..{self.k - 1}")
        # log p(y | c) up to the shared normaliser, for every class c: shape (n, k).
        sq = ((y[:, None, :] - self.means[None, :, :]) ** 2).sum(axis=2)
        log_lik = -0.5 * sq
        own = log_lik[np.arange(y.shape[0]), labels.astype(np.int64)]
        return own - (logsumexp(log_lik, axis=1) - math.log(self.k))


def uniform_shift(m: int) -> UniformShiftTask:
    """X uniform on {0, …, m − 1}, Y ~ U[X, X + 2]: closed-form MI (:class:`UniformShiftTask`)."""
    return UniformShiftTask(m)


def label_mixture(dim: int = 1, *, k: int = 3, separation: float = 2.0) -> LabelMixtureTask:
    """Class label vs Gaussian mixture, Monte Carlo MI (see :class:`LabelMixtureTask`)."""
    return LabelMixtureTask(dim, k, separation)
