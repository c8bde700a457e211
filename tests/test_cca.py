"""Tests of mibound.cca.gaussian against the closed-form MI of Gaussians."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mibound.cca import gaussian, gaussian_bias


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
    assert abs(result.value - truth(rhos)) < 4 * result.stderr
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
    assert abs(result.value) < 4 * result.stderr


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


@pytest.mark.parametrize(("rhos", "dx", "dy"), [([0.6, 0.3], 3, 3), ([], 2, 2)])
def test_bias_correction_is_exact_for_gaussian_data(rhos: list[float], dx: int, dy: int) -> None:
    # n = 40: the plug-in bias (0.13 and 0.055 nats) is many Monte Carlo standard errors.
    values, raw = [], []
    for seed in range(400):
        x, y = canonical_sample(40, rhos, dx, dy, seed=seed)
        result = gaussian(x, y)
        values.append(result.value)
        raw.append(result.settings["uncorrected_value"])
    se = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    assert abs(float(np.mean(values)) - truth(rhos)) < 4 * se
    assert float(np.mean(raw)) - truth(rhos) > 10 * se
    assert float(np.mean(raw)) - float(np.mean(values)) == pytest.approx(
        gaussian_bias(40, dx, dy), rel=1e-9
    )


def test_gaussian_bias_is_about_dx_dy_over_2n() -> None:
    assert gaussian_bias(100000, 3, 4) == pytest.approx(12 / 200000, rel=1e-3)
    uncorrected = gaussian(*canonical_sample(300, [0.5], 2, 2, seed=0), bias_correction=False)
    assert uncorrected.settings["bias_correction"] == 0.0
    assert uncorrected.value == uncorrected.settings["uncorrected_value"]


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_huge_and_tiny_values(scale: float, recwarn: pytest.WarningsRecorder) -> None:
    x, y = canonical_sample(500, [0.6], 2, 2, seed=1)
    reference = gaussian(x, y).value
    assert gaussian(x * scale, y).value == pytest.approx(reference, rel=1e-9)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_non_gaussian_marginals_are_flagged() -> None:
    rng = np.random.default_rng(0)
    x = rng.exponential(size=2000)
    y = x + rng.standard_normal(2000)
    assert any("non-Gaussian marginals: x[0]" in d for d in gaussian(x, y).diagnostics)
    for seed in range(5):  # Gaussian data: four standard errors, so silent
        x, y = canonical_sample(2000, [0.5], 2, 2, seed=seed)
        assert not any("non-Gaussian" in d for d in gaussian(x, y).diagnostics)


def test_duplicated_rows_are_flagged() -> None:
    x, y = canonical_sample(100, [0.5], 1, 1, seed=0)
    result = gaussian(np.repeat(x, 3, axis=0), np.repeat(y, 3, axis=0))
    assert any("duplicated rows: 200 of the 300" in d for d in result.diagnostics)
