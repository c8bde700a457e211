"""Tests of mibound.conditional: I(X;Y|Z) by Frenzel–Pompe k-NN, Gaussian closed form, neural."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mibound
from mibound import tasks
from mibound.conditional import conditional, conditional_gaussian, conditional_ksg
from mibound.discrete import plugin
from mibound.results import Estimate

CONDITIONAL = tasks.conditional_names()


# -- tasks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CONDITIONAL)
def test_task_closed_form_equals_the_covariance_route(name: str) -> None:
    task = tasks.get_conditional(name)
    assert task.conditional_mutual_information == pytest.approx(
        task.conditional_mutual_information_from_covariance(), abs=1e-10
    )
    x, _, z = task.sample(50, seed=0)
    assert x.shape == (50, task.dim_x) and z.shape == (50, task.dim_z)
    np.testing.assert_array_equal(task.sample(50, seed=0)[2], z)
    with pytest.raises(ValueError, match="unknown conditional task"):
        tasks.get_conditional("nope")


def test_sample_covariance_matches_the_task_covariance() -> None:
    task = tasks.get_conditional("conditional-gaussian-d-2-dz-2-rho-0.6-c-1")
    v = np.concatenate(task.sample(200_000, seed=1), axis=1)
    np.testing.assert_allclose(np.cov(v.T), task.covariance, atol=0.03)


# -- Gaussian -------------------------------------------------------------------------------------
def test_gaussian_is_the_chain_rule_of_gaussian_mi() -> None:
    x, y, z = tasks.get_conditional("conditional-gaussian-d-2-dz-2-rho-0.6-c-1").sample(
        3000, seed=2
    )
    chain = mibound.gaussian(x, np.c_[y, z]).value - mibound.gaussian(x, z).value
    assert conditional_gaussian(x, y, z).value == pytest.approx(chain, abs=1e-10)
    rho = conditional_gaussian(x, y, z).settings["partial_canonical_correlations"]
    assert conditional_gaussian(x, y, z).settings["uncorrected_value"] == pytest.approx(
        -0.5 * np.sum(np.log1p(-np.square(rho))), abs=1e-10
    )


@pytest.mark.parametrize("name", CONDITIONAL)
def test_gaussian_matches_the_closed_form(name: str) -> None:
    task = tasks.get_conditional(name)
    n = 5000
    est = conditional_gaussian(*task.sample(n, seed=3))
    bias = task.dim_x * task.dim_y / (2 * n)
    assert abs(est.value - task.conditional_mutual_information) < 4 * est.stderr + bias


def test_gaussian_stderr_matches_the_spread_over_seeds() -> None:
    task = tasks.get_conditional("conditional-gaussian-d-2-dz-2-rho-0.6-c-1")
    values, stderrs = [], []
    for seed in range(150):
        est = conditional_gaussian(*task.sample(1000, seed=seed))
        values.append(est.value)
        stderrs.append(est.stderr)
    assert 0.8 < np.mean(stderrs) / np.std(values, ddof=1) < 1.25


# -- k-NN -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["conditional-gaussian-d-1-dz-1-rho-0.6-c-1", "conditional-gaussian-d-1-dz-1-rho-0-c-1"]
)
def test_ksg_matches_the_closed_form_in_low_dimension(name: str) -> None:
    task = tasks.get_conditional(name)
    ests = [conditional_ksg(*task.sample(4000, seed=10 + s), seed=s) for s in range(3)]
    value = np.mean([e.value for e in ests])
    se = np.mean([e.stderr for e in ests]) / math.sqrt(3)
    assert abs(value - task.conditional_mutual_information) < 4 * se + 0.01


def test_ksg_conditioning_removes_the_common_cause() -> None:
    # X and Y are dependent (I = 0.144) but independent given Z: the check can fail.
    task = tasks.get_conditional("conditional-gaussian-d-1-dz-1-rho-0-c-1")
    x, y, z = task.sample(4000, seed=4)
    assert mibound.ksg(x, y).value > 0.1
    assert abs(conditional_ksg(x, y, z).value) < 0.03


def test_ksg_backends_agree_and_estimate_dispatches() -> None:
    x, y, z = tasks.get_conditional("conditional-gaussian-d-2-dz-2-rho-0.6-c-1").sample(
        1500, seed=5
    )
    a = conditional_ksg(x, y, z, backend="scipy", k=4)
    b = conditional_ksg(x, y, z, backend="auto", k=4)
    assert a.value == pytest.approx(b.value, abs=1e-12)
    c = mibound.estimate(x, y, method="ksg", z=z, k=4)
    assert c.value == pytest.approx(a.value, abs=1e-12) and c.method == "ksg-conditional"
    assert c.settings["quantity"].startswith("conditional mutual information")
    assert any("converges slowly" in d for d in c.diagnostics)  # 6 joint dimensions


def test_ksg_is_frenzel_pompe_by_brute_force() -> None:
    rng = np.random.default_rng(6)
    x, y, z = rng.standard_normal((3, 200, 1))
    y = y + x + z
    k = 3
    from scipy.special import digamma

    v = np.concatenate([x, y, z], axis=1)
    dist = np.max(np.abs(v[:, None, :] - v[None, :, :]), axis=2)
    eps = np.sort(dist, axis=1)[:, k]

    def count(cols: list[int]) -> np.ndarray:
        d = np.max(np.abs(v[:, None, cols] - v[None, :, cols]), axis=2)
        return (d < eps[:, None]).sum(axis=1) - 1

    expected = digamma(k) - np.mean(
        digamma(count([0, 2]) + 1) + digamma(count([1, 2]) + 1) - digamma(count([2]) + 1)
    )
    got = conditional_ksg(x, y, z, k=k, noise=0, subsamples=0)
    assert got.value == pytest.approx(expected, abs=1e-12)


# -- discrete -------------------------------------------------------------------------------------
def test_all_discrete_is_the_plugin_per_stratum() -> None:
    rng = np.random.default_rng(7)
    z = rng.integers(0, 3, 3000)
    x = (z + rng.integers(0, 2, 3000)) % 3
    y = np.where(rng.random(3000) < 0.7, x, rng.integers(0, 3, 3000))
    est = conditional(x, y, z)
    assert est.method == "plugin-conditional"
    strata = sum(
        np.mean(z == level) * plugin(x[z == level], y[z == level], correction="none").value
        for level in range(3)
    )
    assert est.settings["plugin_value"] == pytest.approx(strata, abs=1e-12)


# -- neural ---------------------------------------------------------------------------------------
def test_neural_is_the_difference_of_two_estimates(monkeypatch: pytest.MonkeyPatch) -> None:
    import mibound.estimation as estimation

    calls = []

    def fake(x, y, method, *, seed, **options):
        calls.append((y.shape[1], method, seed, options))
        value = 1.5 if y.shape[1] == 3 else 0.5
        return Estimate(value, 0.3 if value > 1 else 0.4, (0, 0), "lower bound", method, len(x))

    monkeypatch.setattr(estimation, "estimate", fake)
    task = tasks.get_conditional("conditional-gaussian-d-1-dz-1-rho-0.6-c-1")
    x, y, z = task.sample(100, seed=0)
    est = conditional(x, y, np.c_[z, z[::-1]], "smile", seed=4, steps=7)
    assert est.value == pytest.approx(1.0) and est.stderr == pytest.approx(0.5)
    assert est.kind == "estimate" and est.method == "smile-difference"
    assert [c[:3] for c in calls] == [(3, "smile", 4), (2, "smile", 4)]
    assert all(c[3]["steps"] == 7 for c in calls)
    assert "not a bound" in est.diagnostics[0]


def test_neural_difference_runs() -> None:
    task = tasks.get_conditional("conditional-gaussian-d-1-dz-1-rho-0.6-c-1")
    x, y, z = task.sample(600, seed=0)
    est = mibound.estimate(x, y, method="smile", z=z, steps=30, batch_size=32, device="cpu")
    assert math.isfinite(est.value) and est.method == "smile-difference"
    assert set(est.settings["terms"]) == {"x;yz", "x;z"}


# -- errors ---------------------------------------------------------------------------------------
def test_z_with_different_rows_is_an_error() -> None:
    x, y, z = tasks.get_conditional("conditional-gaussian-d-1-dz-1-rho-0.6-c-1").sample(100, seed=0)
    with pytest.raises(ValueError, match=r"z: expected the same number of samples \(rows\) as x"):
        mibound.estimate(x, y, method="ksg", z=z[:90])
    with pytest.raises(ValueError, match=r"z: expected the same number of samples \(rows\) as x"):
        conditional_gaussian(x, y, z[:90])
    with pytest.raises(ValueError, match="method: expected one of"):
        conditional(x, y, z, "foo")
    with pytest.raises(TypeError, match="options: method 'gaussian' takes no options"):
        conditional(x, y, z, "gaussian", k=3)
    with pytest.raises(TypeError, match="discrete_z: only with a conditioning variable"):
        mibound.estimate(x, y, method="ksg", discrete_z=True)
    with pytest.raises(ValueError, match=r"z: column\(s\) \[0\] are constant"):
        conditional(x, y, np.ones(100))


def test_gaussian_conditions_on_categories_through_indicators() -> None:
    rng = np.random.default_rng(8)
    z = rng.integers(0, 3, 4000)
    shift = np.array([0.0, 3.0, -2.0])[z]  # non-monotone in the code
    x = shift + rng.standard_normal(4000)
    y = shift + rng.standard_normal(4000)
    est = conditional(x, y, z, "gaussian")
    assert abs(est.value) < 4 * est.stderr + 0.002  # X and Y are independent given Z
    assert any("indicator columns" in d for d in est.diagnostics)
    as_numbers = conditional(x, y, z, "gaussian", discrete_z=False)
    assert as_numbers.value > 0.3  # a code read as a number does not remove Z's effect
