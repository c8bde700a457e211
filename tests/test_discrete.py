"""Tests of mibound.discrete (plug-in MI, Miller–Madow) and of the discrete-column resolution."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mibound
from mibound import tasks
from mibound._discrete_columns import resolve_columns
from mibound.discrete import plugin


def _h_b(eps: float) -> float:
    return -eps * math.log(eps) - (1 - eps) * math.log(1 - eps)


def _exact_bsc(n: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose empirical joint law is exactly the BSC table (n divisible by 2/eps)."""
    flips = round(n * eps / 2)
    keep = n // 2 - flips
    x = np.repeat([0, 0, 1, 1], [keep, flips, flips, keep])
    y = np.repeat([0, 1, 0, 1], [keep, flips, flips, keep])
    return x, y


# -- exact ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [0.1, 0.25, 0.5])
def test_plugin_is_exact_on_the_binary_symmetric_channel_table(eps: float) -> None:
    n = 1000
    x, y = _exact_bsc(n, eps)
    truth = math.log(2) - _h_b(eps)
    assert plugin(x, y, correction="none").value == pytest.approx(truth, abs=1e-12)
    # Miller–Madow: m_xy - m_x - m_y + 1 = 4 - 2 - 2 + 1 = 1 occupied-cell excess.
    est = plugin(x, y)
    assert est.value == pytest.approx(truth - 1 / (2 * n), abs=1e-12)
    assert est.settings["plugin_value"] == pytest.approx(truth, abs=1e-12)
    assert est.kind == "estimate" and est.method == "plugin"


def test_miller_madow_counts_only_occupied_cells() -> None:
    # 3 x 3 alphabet, only 5 cells occupied; m_x = m_y = 3.
    x = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    y = np.array([0, 1, 1, 1, 2, 2, 0, 0])
    plain = plugin(x, y, correction="none").value
    assert plugin(x, y).value == pytest.approx(plain - (5 - 3 - 3 + 1) / (2 * 8), abs=1e-14)


def test_plugin_matches_sklearn_mutual_info_score() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, 500)
    y = (x + rng.integers(0, 4, 500)) % 4
    assert plugin(x, y, correction="none").value == pytest.approx(
        metrics.mutual_info_score(x, y), abs=1e-12
    )


def test_rows_of_several_columns_are_joint_categories() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    y = (a + 2 * b + rng.integers(0, 2, 300)) % 4
    two_columns = plugin(np.column_stack([a, b]), y).value
    assert two_columns == pytest.approx(plugin(a + 2 * b, y).value, abs=1e-14)


# -- statistical ----------------------------------------------------------------------------------
def test_miller_madow_removes_the_first_order_bias() -> None:
    task = tasks.get("categorical-copy-m-4-eps-0.3")
    n, reps = 200, 300
    plain, corrected = [], []
    for seed in range(reps):
        x, y = task.sample(n, seed=seed)
        est = plugin(x, y)
        plain.append(est.settings["plugin_value"])
        corrected.append(est.value)
    se = np.std(corrected, ddof=1) / math.sqrt(reps)
    truth = task.mutual_information
    assert abs(np.mean(corrected) - truth) < 4 * se
    assert np.mean(plain) - truth > 4 * se  # the plug-in is biased up by about 9 / (2n)


def test_delta_method_stderr_matches_the_spread_over_seeds() -> None:
    task = tasks.get("bsc-eps-0.1")
    values, stderrs = [], []
    for seed in range(300):
        est = plugin(*task.sample(1000, seed=seed))
        values.append(est.value)
        stderrs.append(est.stderr)
    ratio = np.mean(stderrs) / np.std(values, ddof=1)
    assert 0.85 < ratio < 1.18  # sd of a sample sd over 300 seeds is about 4%


def test_independent_variables_get_the_null_stderr_and_no_bias() -> None:
    rng = np.random.default_rng(2)
    values = []
    for _ in range(300):
        x, y = rng.integers(0, 3, 400), rng.integers(0, 3, 400)
        est = plugin(x, y)
        assert est.stderr >= math.sqrt(4 / (2 * 400**2))
        values.append(est.value)
    assert abs(np.mean(values)) < 4 * np.std(values, ddof=1) / math.sqrt(300)


def test_estimate_routes_discrete_pairs_to_the_plugin() -> None:
    x, y = tasks.get("bsc-eps-0.1").sample(2000, seed=0)
    est = mibound.estimate(x, y, method="ksg")
    assert est.method == "plugin" and est.value == plugin(x, y).value
    assert any("guessed discrete" in d for d in est.diagnostics)
    assert est.settings["discrete"]["x"]["source"] == ["guessed"]
    continuous = mibound.estimate(x, y, method="ksg", discrete_x=False, discrete_y=False)
    assert continuous.method == "ksg"
    assert continuous.settings["discrete"]["x"]["discrete_columns"] == []


# -- which columns are discrete -------------------------------------------------------------------
def test_guess_integer_columns_with_few_values_and_report_it() -> None:
    rng = np.random.default_rng(3)
    data = np.column_stack(
        [
            rng.integers(0, 4, 500),  # few integer values: discrete
            rng.integers(0, 400, 500),  # many integer values: continuous
            np.round(rng.standard_normal(500), 1),  # ties, but not integers: continuous
            rng.standard_normal(500),
        ]
    )
    cols = resolve_columns("x", data)
    assert cols.discrete.tolist() == [True, False, False, False]
    assert cols.source == ("guessed", "continuous", "continuous", "continuous")
    assert len(cols.notes) == 1 and "discrete_x=False" in cols.notes[0]
    declared = resolve_columns("x", data, [0])
    assert declared.discrete.tolist() == [True, False, False, False] and not declared.notes
    assert declared.source[0] == "declared"
    assert resolve_columns("x", data, False).discrete.tolist() == [False] * 4
    mask = resolve_columns("x", data, [True, False, False, False])
    assert mask.discrete.tolist() == [True, False, False, False]


def test_declared_discrete_continuous_column_is_an_error() -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(
        ValueError, match=r"discrete_y: column '0' is declared discrete but has 300"
    ):
        resolve_columns("y", rng.standard_normal(300), True)


def test_pandas_categoricals_and_strings_are_discrete() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "colour": pd.Categorical(["red", "green", "blue"] * 20),
            "name": ["a", "b"] * 30,
            "v": np.linspace(0, 1, 60),
        }
    )
    cols = resolve_columns("x", frame)
    assert cols.discrete.tolist() == [True, True, False]
    assert cols.source[:2] == ("categorical", "categorical")
    with pytest.raises(TypeError, match=r"x: column 'colour' holds categories but discrete_x"):
        resolve_columns("x", frame, [1])


@pytest.mark.parametrize(
    ("value", "spec", "error", "match"),
    [
        (np.r_[np.zeros(50), np.ones(50)], "yes", ValueError, "discrete_x: expected None"),
        (np.r_[np.zeros(50), np.ones(50)], 1.5, TypeError, "discrete_x: expected None"),
        (np.r_[np.zeros(50), np.ones(50)], [2], ValueError, "discrete_x: column index 2"),
        (np.r_[np.zeros(50), np.ones(50)], [True, False], ValueError, "needs 1 entries"),
        (np.zeros(100), True, ValueError, "x: discrete column '0' takes a single value"),
        (np.zeros(100), None, ValueError, r"x: column\(s\) \[0\] are constant"),
    ],
)
def test_bad_discrete_specs_name_the_argument(value, spec, error, match) -> None:
    with pytest.raises(error, match=match):
        resolve_columns("x", value, spec)


def test_categories_in_a_numeric_column_are_an_error() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"v": [1.5, 2.0, "?", 3.0] * 10})
    with pytest.raises(TypeError, match="x: column 'v' mixes categories and numbers"):
        mibound.estimate(frame, np.arange(40.0), method="ksg")


def test_plugin_rejects_a_single_category() -> None:
    with pytest.raises(ValueError, match="y: a discrete variable with a single category"):
        plugin(np.arange(10) % 2, np.zeros(10))
