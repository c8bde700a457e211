"""Tests of mibound.cca.gaussian against the closed-form MI of Gaussians."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mibound.cca import gaussian


def canonical_sample(
    n: int, rhos: list[float], dx: int, dy: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian (x, y) with canonical correlations ``rhos``, mixed by random invertible maps."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dx))
    y = rng.standard_normal((n, dy))
    for i, rho in enumerate(rhos):
        y[:, i] = rho * x[:, i] + math.sqrt(1 - rho**2) * y[:, i]
    a = rng.standard_normal((dx, dx)) + 3 * np.eye(dx)
    b = rng.standard_normal((dy, dy)) + 3 * np.eye(dy)
    return x @ a.T + 5.0, y @ b.T - 2.0


def truth(rhos: list[float]) -> float:
    return -0.5 * sum(math.log(1 - r**2) for r in rhos)


@pytest.mark.parametrize(
    ("rhos", "dx", "dy"), [([0.8], 1, 1), ([0.9, 0.5], 3, 2), ([0.3, 0.3, 0.3], 4, 5)]
)
def test_exact_on_gaussian_within_stderr(rhos: list[float], dx: int, dy: int) -> None:
    n = 5000
    x, y = canonical_sample(n, rhos, dx, dy, seed=len(rhos))
    result = gaussian(x, y)
    bias = dx * dy / (2 * n)
    assert abs(result.value - bias - truth(rhos)) < 4 * result.stderr
    assert result.kind == "estimate"
    assert result.method == "gaussian"
    assert result.n == n
    got = sorted(result.settings["canonical_correlations"], reverse=True)[: len(rhos)]
    assert np.allclose(got, sorted(rhos, reverse=True), atol=0.05)


def test_stderr_matches_spread_across_seeds() -> None:
    values, stderrs = [], []
    for seed in range(60):
        x, y = canonical_sample(1000, [0.7, 0.4], 2, 3, seed=seed)
        result = gaussian(x, y)
        values.append(result.value)
        stderrs.append(result.stderr)
    ratio = float(np.mean(stderrs)) / float(np.std(values, ddof=1))
    assert 0.7 < ratio < 1.4


def test_independent_data_has_positive_stderr_and_small_value() -> None:
    rng = np.random.default_rng(0)
    result = gaussian(rng.standard_normal((2000, 3)), rng.standard_normal((2000, 2)))
    assert result.stderr > 0
    assert 0 <= result.value < 3 * 6 / (2 * 2000) + 4 * result.stderr


def test_affine_invariance() -> None:
    x, y = canonical_sample(500, [0.6], 2, 2, seed=1)
    reference = gaussian(x, y).value
    assert gaussian(3 * x - 1, -2 * y + 7).value == pytest.approx(reference, rel=1e-9)


def test_too_few_samples() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"x, y: .*n > d_x \+ d_y = 5, got n = 5"):
        gaussian(rng.standard_normal((5, 3)), rng.standard_normal((5, 2)))


def test_linearly_dependent_columns() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 2))
    x = np.c_[x, x[:, 0] + x[:, 1]]
    with pytest.raises(ValueError, match="x: columns are"):
        gaussian(x, rng.standard_normal(100))


def test_perfect_dependence_is_an_error_not_inf() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 2))
    with pytest.raises(ValueError, match="infinite"):
        gaussian(x, 2 * x[:, 0] - x[:, 1])
