"""Tests of mibound.mixed: Ross and Gao k-NN MI with discrete and continuous columns."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mibound
from mibound import tasks
from mibound.cca import gaussian_bias
from mibound.mixed import mixed

# Finite-sample bias allowed on top of the statistical tolerance (measured over 12 seeds at
# N = 4000: |bias| <= 0.006 in 1-d, 0.015 in 4-d).
BIAS_1D = 0.01
BIAS_4D = 0.025


def _mean_estimate(task, n: int, seeds: int, **options) -> tuple[float, float]:
    values, stderrs = [], []
    for seed in range(seeds):
        x, y = task.sample(n, seed=100 + seed)
        est = mixed(x, y, discrete_x=True, discrete_y=False, seed=seed, **options)
        values.append(est.value)
        stderrs.append(est.stderr)
    return float(np.mean(values)), float(np.mean(stderrs) / math.sqrt(seeds))


@pytest.mark.parametrize("variant", ["ross", "gao"])
def test_uniform_shift_closed_form(variant: str) -> None:
    task = tasks.get("uniform-shift-m-4")
    value, se = _mean_estimate(task, 4000, 4, variant=variant)
    assert abs(value - task.mutual_information) < 4 * se + BIAS_1D


@pytest.mark.parametrize(
    ("name", "bias"),
    [("label-mixture-d-1-k-3-sep-2", BIAS_1D), ("label-mixture-d-4-k-4-sep-2", BIAS_4D)],
)
def test_class_label_vs_gaussian_mixture_monte_carlo_truth(name: str, bias: float) -> None:
    task = tasks.get(name)
    value, se = _mean_estimate(task, 4000, 4)
    tol = 4 * math.hypot(se, task.mutual_information_stderr) + bias
    assert abs(value - task.mutual_information) < tol


def test_the_check_can_fail() -> None:
    # The paper's literal Gao form (logarithms of inclusive counts) is 0.33 nats low here.
    task = tasks.get("uniform-shift-m-4")
    value, se = _mean_estimate(task, 4000, 2)
    assert abs(value - 0.54) > 4 * se + BIAS_1D


def test_ross_equals_sklearn_mutual_info_classif() -> None:
    fs = pytest.importorskip("sklearn.feature_selection")
    x, y = tasks.get("label-mixture-d-1-k-3-sep-2").sample(3000, seed=7)
    ours = mixed(x, y, k=3, discrete_x=True).value
    theirs = fs.mutual_info_classif(y, x[:, 0], n_neighbors=3, random_state=0)[0]
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_a_mixed_vector_uses_gao_and_ignores_an_independent_column() -> None:
    task = tasks.get("label-mixture-d-1-k-3-sep-2")
    x, y = task.sample(4000, seed=3)
    noise = np.random.default_rng(3).standard_normal(4000)
    est = mixed(np.column_stack([x[:, 0], noise]), y, discrete_x=[0])
    assert est.method == "mixed-gao"
    assert est.settings["discrete"]["x"]["discrete_columns"] == [0]
    # An independent extra column leaves the MI unchanged but costs k-NN accuracy.
    tol = 4 * math.hypot(est.stderr, task.mutual_information_stderr) + 0.05
    assert abs(est.value - task.mutual_information) < tol


def test_sides_are_symmetric_and_backends_agree() -> None:
    x, y = tasks.get("label-mixture-d-1-k-3-sep-2").sample(1500, seed=1)
    a = mixed(x, y, discrete_x=True, discrete_y=False, backend="scipy")
    b = mixed(y, x, discrete_x=False, discrete_y=True, backend="scipy")
    assert a.value == pytest.approx(b.value, abs=1e-12)
    c = mixed(x, y, discrete_x=True, discrete_y=False, backend="auto")
    assert c.value == pytest.approx(a.value, abs=1e-12)


def test_stderr_matches_the_spread_over_seeds() -> None:
    task = tasks.get("uniform-shift-m-4")
    values, stderrs = [], []
    for seed in range(30):
        est = mixed(*task.sample(1000, seed=seed), discrete_x=True, seed=seed)
        values.append(est.value)
        stderrs.append(est.stderr)
    assert 0.6 < np.mean(stderrs) / np.std(values, ddof=1) < 1.6


def test_discrete_columns_are_not_jittered_and_continuous_ties_are() -> None:
    rng = np.random.default_rng(5)
    label = rng.integers(0, 3, 2000)
    y = np.round(label + rng.standard_normal(2000), 1)  # ties in a continuous column
    est = mixed(label, y)
    assert est.method == "mixed-ross"
    assert est.settings["discrete"]["y"]["discrete_columns"] == []
    assert est.settings["noise"] > 0
    with pytest.raises(ValueError, match="variant: 'ross' needs one side all discrete"):
        mixed(label, np.column_stack([y, label]), discrete_y=[1], variant="ross")


def test_estimate_ksg_routes_labels_to_the_mixed_estimator() -> None:
    pd = pytest.importorskip("pandas")
    x, y = tasks.get("label-mixture-d-1-k-3-sep-2").sample(2000, seed=2)
    names = pd.Series(np.array(["a", "b", "c"])[x[:, 0].astype(int)], name="label")
    by_name = mibound.estimate(names, y, method="ksg")
    by_code = mibound.estimate(x, y, method="ksg", discrete_x=True)
    assert by_name.method == by_code.method == "mixed-ross"
    assert by_name.value == pytest.approx(by_code.value, abs=1e-12)
    assert by_name.settings["discrete"]["x"]["source"] == ["categorical"]
    gaussian_note = mibound.estimate(x, y, method="gaussian").diagnostics
    assert any("encoded as indicator columns" in d for d in gaussian_note)


def test_gaussian_on_categories_is_the_correlation_ratio() -> None:
    rng = np.random.default_rng(8)
    c = rng.integers(0, 4, 3000)
    y = np.array([0.0, 3.0, -3.0, 0.5])[c] + rng.standard_normal(3000)
    within = sum(np.sum((y[c == k] - y[c == k].mean()) ** 2) for k in range(4))
    eta2 = 1 - within / np.sum((y - y.mean()) ** 2)
    est = mibound.estimate(c, y, method="gaussian")
    # The plug-in value (before the Gaussian small-sample bias correction) is exactly eta^2's.
    assert est.settings["uncorrected_value"] == pytest.approx(-0.5 * math.log(1 - eta2), abs=1e-10)
    assert est.value == pytest.approx(est.settings["uncorrected_value"] - gaussian_bias(3000, 3, 1))
    assert est.settings["discrete"]["x"]["encoding"] == "dummy (drop-first)"
    # Read as numbers, the non-monotone class means are nearly invisible: the check can fail.
    assert mibound.estimate(c, y, method="gaussian", discrete_x=False).value < 0.1


def test_neural_methods_get_one_hot_categories(monkeypatch: pytest.MonkeyPatch) -> None:
    import mibound.neural as neural

    seen = []

    def fake(x, y, method, *, seed, **options):
        seen.append((x.copy(), y.shape))
        return mibound.results.Estimate(0.0, 0.0, (0, 0), "estimate", method, len(x))

    monkeypatch.setattr(neural, "neural_estimate", fake)
    rng = np.random.default_rng(9)
    c = rng.integers(0, 3, 500)
    est = mibound.estimate(
        np.c_[c, rng.standard_normal(500)], rng.standard_normal(500), method="smile", discrete_x=[0]
    )
    x_seen, _ = seen[0]
    assert x_seen.shape == (500, 4)
    np.testing.assert_array_equal(x_seen[:, :3], np.eye(3)[c])
    assert est.settings["discrete"]["x"]["encoding"] == "one-hot"
    many = rng.integers(0, 100, 500)
    mibound.estimate(many, rng.standard_normal(500), method="smile", discrete_x=True)
    assert seen[1][0].shape == (500, 1)  # more than 64 categories stay codes, with a note


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"k": 0}, ValueError, "k: expected a positive integer"),
        ({"variant": "x"}, ValueError, "variant: expected one of auto, ross, gao"),
        ({"noise": -1.0}, ValueError, "noise: expected a finite number"),
    ],
)
def test_bad_options_name_the_argument(kwargs, error, match) -> None:
    x, y = tasks.get("uniform-shift-m-4").sample(100, seed=0)
    with pytest.raises(error, match=match):
        mixed(x, y, **kwargs)


def test_different_rows_are_an_error() -> None:
    x, y = tasks.get("uniform-shift-m-4").sample(100, seed=0)
    with pytest.raises(ValueError, match="x, y: expected the same number of samples"):
        mixed(x, y[:50])
