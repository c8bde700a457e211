"""Tests of mibound.independence_test: validity of the permutation p-value, power, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import mibound
from mibound.cli import main


def test_p_values_are_uniform_under_independence() -> None:
    # 300 independent data sets, B = 19: P(p <= 0.05) = 1/20 and E p = 0.525 exactly.
    p_values = []
    for seed in range(300):
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal((60, 2)), rng.standard_normal(60)
        p_values.append(
            mibound.independence_test(
                x, y, statistic="gaussian", permutations=19, seed=seed
            ).p_value
        )
    p = np.array(p_values)
    assert set(np.round(p * 20).astype(int)) <= set(range(1, 21))
    rejections = int(np.sum(p <= 0.05))
    # Binomial(300, 0.05): mean 15, sd 3.8.
    assert 3 <= rejections <= 30
    assert abs(float(p.mean()) - 0.525) < 4 * math.sqrt((399 / 1200) / 300)


def test_ksg_statistic_detects_nonlinear_dependence_gaussian_does_not() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(400)
    y = x**2 + 0.5 * rng.standard_normal(400)  # uncorrelated with x, but dependent
    ksg = mibound.independence_test(x, y, permutations=99)
    assert ksg.p_value == pytest.approx(0.01)
    assert ksg.statistic > ksg.null_mean + 4 * ksg.null_sd
    assert mibound.independence_test(x, y, statistic="gaussian", permutations=99).p_value > 0.05


def test_statistic_equals_the_estimators_value_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 2))
    y = x[:, :1] + rng.standard_normal((300, 1))
    test = mibound.independence_test(x, y, permutations=19, seed=4)
    assert test.statistic == pytest.approx(mibound.ksg(x, y, seed=4).value, abs=1e-12)
    assert test.null == mibound.independence_test(x, y, permutations=19, seed=4).null
    gaussian = mibound.independence_test(x, y, statistic="gaussian", permutations=19)
    assert gaussian.statistic == pytest.approx(mibound.gaussian(x, y).value, abs=1e-10)
    assert json.loads(json.dumps(test.to_dict()))["p_value"] == test.p_value


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"statistic": "smile"}, ValueError, "statistic: expected one of ksg, gaussian"),
        ({"permutations": 5}, ValueError, "permutations: expected an integer >= 19"),
        ({"permutations": 99.0}, TypeError, "permutations: expected an integer"),
        ({"seed": -2}, ValueError, "seed: expected a non-negative integer"),
    ],
)
def test_bad_arguments(options: dict, error: type, match: str) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(error, match=match):
        mibound.independence_test(rng.standard_normal(50), rng.standard_normal(50), **options)


def test_cli(tmp_path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(300)
    np.savetxt(tmp_path / "d.csv", np.c_[x, x + rng.standard_normal(300)], delimiter=",")
    assert main(["independence", str(tmp_path / "d.csv"), "--permutations", "19", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["p_value"] == pytest.approx(0.05) and out["permutations"] == 19
    assert main(["independence", str(tmp_path / "d.csv"), "--permutations", "3"]) == 2
    assert "--permutations" in capsys.readouterr().err


def test_significantly_negative_estimates_carry_a_diagnostic() -> None:
    # KSG on independent 2 + 2-dimensional data, n = 200: its interval (sampling noise only)
    # lies below 0 for about one data set in eight; every such value says so.
    flagged = 0
    for seed in range(80):
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal((200, 2)), rng.standard_normal((200, 2))
        result = mibound.ksg(x, y, seed=seed)
        negative = result.ci[1] < 0
        assert negative == any(d.startswith("significantly negative") for d in result.diagnostics)
        flagged += negative
    assert flagged > 0
