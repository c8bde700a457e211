"""Normal scores: exact invariances and the Gaussian MI left unchanged within Monte Carlo error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtri

from mibound.cca import gaussian
from mibound.copula import normal_scores, tie_fraction


def test_scores_are_inverse_normal_of_ranks_over_n_plus_1() -> None:
    a = np.array([[3.0, -1.0], [1.0, 5.0], [2.0, 0.0], [10.0, 2.0]])
    expected_first = ndtri(np.array([3, 1, 2, 4]) / 5.0)
    expected_second = ndtri(np.array([1, 4, 2, 3]) / 5.0)
    u = normal_scores(a)
    assert np.allclose(u[:, 0], expected_first, atol=0, rtol=1e-15)
    assert np.allclose(u[:, 1], expected_second, atol=0, rtol=1e-15)


def test_every_strictly_increasing_map_of_a_column_gives_identical_scores() -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((500, 3))
    warped = np.column_stack([np.sinh(3 * a[:, 0]), a[:, 1] ** 3, 1 / (1 + np.exp(-a[:, 2]))])
    assert np.array_equal(normal_scores(a), normal_scores(warped))


def test_ties_get_the_average_rank_and_are_counted() -> None:
    a = np.array([[1.0], [2.0], [2.0], [3.0]])
    u = normal_scores(a)
    assert u[1, 0] == u[2, 0] == ndtri(2.5 / 5.0)
    assert tie_fraction(a).tolist() == [0.25]
    assert tie_fraction(np.arange(10.0)[:, None]).tolist() == [0.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gaussian_mi_of_the_scores_equals_the_truth_within_monte_carlo_error(seed: int) -> None:
    # Correlated pairs, rho = 0.7 in each of 2 pairs: I = -log(1 - 0.49) = 0.6733 nats.
    # After warping the marginals, the Gaussian MI of the raw data is wrong, of the scores right.
    rng = np.random.default_rng(seed)
    n, rho = 4000, 0.7
    x = rng.standard_normal((n, 2))
    y = rho * x + math.sqrt(1 - rho**2) * rng.standard_normal((n, 2))
    truth = -math.log(1 - rho**2)
    xw, yw = np.exp(2 * x), y**3
    est = gaussian(normal_scores(xw), normal_scores(yw))
    # The ranks add O(1/n) to the variance; 4 standard errors plus the d_x d_y / 2n bias.
    assert abs(est.value - 4 / (2 * n) - truth) < 4 * est.stderr
    assert abs(gaussian(xw, yw).value - truth) > 10 * est.stderr
