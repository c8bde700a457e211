"""Tests for mibound.tasks: every registered task's sampler agrees with its stated truth."""

from __future__ import annotations

import itertools
import json
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from mibound import tasks
from mibound.cli import main
from mibound.tasks.registry import _REGISTRY

NAMES = tasks.names()
SRC = Path(__file__).resolve().parents[1] / "src"
K_SIGMA = 4.0  # tolerance in standard errors of the Monte Carlo mean (fixed seeds)
N_MC = 20_000
N_MC_HIGH_DIM = 5_000  # for dim_x + dim_y > 64 (scipy log-densities in 256 dimensions are slow)
N_DISCRETE = 200_000


def _n_mc(task: tasks.Task) -> int:
    return N_MC if task.dim_x + task.dim_y <= 64 else N_MC_HIGH_DIM


def _independent_pmi(task: tasks.Task, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log p(x, y) - log p(x) - log p(y) from scipy densities (not the task's own code)."""
    if isinstance(task, tasks.TransformedTask):
        return _independent_pmi(task.base, *task.invert(x, y))
    dx = task.dim_x
    v = np.concatenate([x, y], axis=1)
    if isinstance(task, tasks.LinearGaussianTask):
        w, s2 = task.W, task.sigma**2
        d, k = w.shape
        cov = np.block([[w @ w.T + s2 * np.eye(d), w], [w.T, np.eye(k)]])
    elif isinstance(task, tasks.GaussianTask):
        cov = task.covariance
    if isinstance(task, tasks.GaussianTask):
        mvn = stats.multivariate_normal
        return (
            mvn(cov=cov).logpdf(v)
            - mvn(cov=cov[:dx, :dx]).logpdf(x)
            - mvn(cov=cov[dx:, dx:]).logpdf(y)
        )
    if isinstance(task, tasks.StudentTTask):
        s, df = task.scale, task.df
        mvt = stats.multivariate_t
        return (
            mvt(shape=s, df=df).logpdf(v)
            - mvt(shape=s[:dx, :dx], df=df).logpdf(x)
            - mvt(shape=s[dx:, dx:], df=df).logpdf(y)
        )
    if isinstance(task, tasks.GaussianMixtureTask):

        def log_mixture(points: np.ndarray, sl: slice) -> np.ndarray:
            terms = [
                math.log(w) + stats.multivariate_normal(mean=mu[sl], cov=c[sl, sl]).logpdf(points)
                for w, mu, c in zip(task.weights, task.means, task.covariances, strict=True)
            ]
            return logsumexp(np.stack(terms), axis=0)

        full = slice(None)
        return log_mixture(v, full) - log_mixture(x, slice(0, dx)) - log_mixture(y, slice(dx, None))
    if isinstance(task, tasks.UniformNoiseTask):
        eps, xs, ys = task.eps, x[:, 0], y[:, 0]
        log_conditional = np.where(np.abs(ys - xs) <= eps, -np.log(2 * eps), -np.inf)
        # p(y) = ∫_0^1 p(y | x) dx = |[y - eps, y + eps] ∩ [0, 1]| / (2 eps)
        p_y = (np.clip(ys + eps, 0, 1) - np.clip(ys - eps, 0, 1)) / (2 * eps)
        return log_conditional - np.log(p_y)
    if isinstance(task, tasks.UniformShiftTask):
        m, xs, ys = task.m, x[:, 0], y[:, 0]
        log_conditional = stats.uniform(loc=xs, scale=2.0).logpdf(ys)
        p_y = np.mean([stats.uniform(loc=c, scale=2.0).pdf(ys) for c in range(m)], axis=0)
        return log_conditional - np.log(p_y)
    if isinstance(task, tasks.LabelMixtureTask):
        log_lik = np.stack(
            [stats.multivariate_normal(mean=mu).logpdf(y) for mu in task.means], axis=1
        ).reshape(y.shape[0], -1)
        own = log_lik[np.arange(y.shape[0]), x[:, 0].astype(int)]
        return own - logsumexp(log_lik, axis=1) + math.log(task.k)
    raise AssertionError(f"no independent density for {task.name}")


def _plug_in(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Empirical plug-in MI of integer-coded samples, and its delta-method standard error."""
    _, xi = np.unique(x[:, 0], return_inverse=True)
    _, yi = np.unique(y[:, 0], return_inverse=True)
    counts = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(counts, (xi, yi), 1.0)
    p = counts / counts.sum()
    pmi = np.log(p) - np.log(np.outer(p.sum(1), p.sum(0)))
    values = pmi[xi, yi]
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


# -- the registry -------------------------------------------------------------------------------
def test_names_sorted_stable_and_many():
    assert sorted(NAMES) == NAMES
    assert tasks.names() == NAMES
    assert len(NAMES) >= 30
    assert len(set(NAMES)) == len(NAMES)
    for name in NAMES:
        assert tasks.get(name).name == name


def test_registry_covers_the_issue_families():
    needed = [
        *(f"gaussian-20x20-mi-{level}" for level in (2, 4, 6, 8, 10)),
        "gaussian-1x1-rho-0.75",
        "gaussian-dense-50x50-rho-0.5",
        "gaussian-sparse-10x10-pairs-2-rho-0.8",
        "gaussian-128x128-rho-0.5",
        "student-t-df-3-5x5-rho-0.5",
        "half-cube(gaussian-dense-5x5-rho-0.5)",
        "asinh(student-t-df-3-5x5-rho-0.5)",
        "normal-cdf(gaussian-dense-5x5-rho-0.5)",
        "spiral(gaussian-dense-5x5-rho-0.5)",
        "wiggly(gaussian-dense-5x5-rho-0.5)",
        "cube-y(gaussian-20x20-mi-2)",
        "uniform-noise-1x1-eps-0.1",
        "gaussian-mixture-1x1-x-rho-0.9",
        "linear-gaussian-k-2-d-10-mi-1",
        "bsc-eps-0.1",
        "categorical-copy-m-10-eps-0.1",
    ]
    missing = [name for name in needed if name not in NAMES]
    assert not missing
    assert set(tasks.families()) == {
        "discrete",
        "discrete-continuous",
        "gaussian",
        "gaussian-mixture",
        "linear-gaussian",
        "student-t",
        "transformed",
        "uniform-noise",
    }
    assert tasks.names("student-t") == [n for n in NAMES if n.startswith("student-t")]


def _assert_same_summary(summary: tasks.TaskSummary, task: tasks.Task) -> None:
    built = task.summary()
    assert (summary.name, summary.family, summary.dim_x, summary.dim_y) == (
        built.name,
        built.family,
        built.dim_x,
        built.dim_y,
    )
    assert summary.mutual_information == pytest.approx(built.mutual_information, rel=1e-12)
    assert summary.mutual_information_stderr == built.mutual_information_stderr
    if built.lautum_information is None:
        assert summary.lautum_information is None
    else:
        assert summary.lautum_information == pytest.approx(built.lautum_information, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_listed_summary_is_the_built_task(name):
    """What ``mibound tasks`` lists (closed forms, nothing built) is what the task says."""
    (summary,) = [s for s in tasks.summaries() if s.name == name]
    _assert_same_summary(summary, tasks.get(name))


@pytest.mark.parametrize(
    "arguments",
    [
        {"dim_x": 3, "dim_y": 7, "rho": 0.4},
        {"dim_x": 6, "dim_y": 2, "mi": 1.5},
        {"dim_x": 6, "dim_y": 4, "rho": -0.7, "pairs": 3},
        {"dim_x": 3, "dim_y": 4, "rho": 0.3, "dense": True},
        {"dim_x": 5, "dim_y": 2, "rho": -0.1, "dense": True},
        {"dim_x": 1, "dim_y": 1, "rho": 0.999},
    ],
)
def test_gaussian_and_student_summaries_in_closed_form(arguments):
    """Canonical correlations in closed form against the built covariance's log-determinants
    (and, for dense layouts, a rank-one cross-covariance)."""
    _assert_same_summary(tasks.gaussian_summary(**arguments), tasks.gaussian(**arguments))
    if "mi" not in arguments:
        t_args = {**arguments, "df": 2.5}
        _assert_same_summary(tasks.student_t_summary(**t_args), tasks.student_t(**t_args))


@pytest.mark.parametrize(
    ("k", "d", "mi", "sigma", "seed"),
    [(1, 1, 0.3, 1.0, 0), (3, 7, 2.5, 0.4, 5), (5, 5, 8.0, 2.0, 1)],
)
def test_linear_gaussian_lautum_in_closed_form(k, d, mi, sigma, seed):
    """LI = k expm1(2 I / k) - I whatever W's rotation (seed) and σ, against ||W||²/σ² - I of
    the built model."""
    summary = tasks.linear_gaussian_summary(k, d, mi=mi, sigma=sigma, seed=seed)
    task = tasks.linear_gaussian(k, d, mi=mi, sigma=sigma, seed=seed)
    _assert_same_summary(summary, task)
    frobenius = float(np.sum(task.W**2)) / task.sigma**2
    assert summary.lautum_information == pytest.approx(frobenius - mi, rel=1e-12)


def test_digamma_against_scipy():
    from scipy.special import digamma

    from mibound.tasks.student import _digamma

    for x in [1e-3, 0.5, 1.0, 1.5, 2.0, 3.7, 9.99, 10.0, 12.5, 50.5, 1e3, 1e6]:
        assert _digamma(x) == pytest.approx(float(digamma(x)), rel=1e-14, abs=1e-14)


def test_register_leaves_a_monte_carlo_truth_for_first_use():
    snapshot = dict(_REGISTRY)
    try:
        task = tasks.GaussianMixtureTask(
            [0.5, 0.5],
            [[0.0, 0.0], [2.0, 2.0]],
            [np.eye(2)] * 2,
            1,
            name="mc-lazy",
            ground_truth_n=500,
        )
        tasks.register(task)
        assert "mc-lazy" in tasks.names("gaussian-mixture") and task._truth is None
        (summary,) = [s for s in tasks.summaries("gaussian-mixture") if s.name == "mc-lazy"]
        assert task._truth is not None
        assert summary.mutual_information == task.mutual_information > 0
        assert summary.mutual_information_stderr == task.mutual_information_stderr > 0
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(snapshot)


def test_listing_imports_neither_scipy_nor_torch():
    """``mibound tasks`` lists from summaries: no task that needs scipy or torch is built."""
    code = (
        "import sys\n"
        "from mibound.cli import main\n"
        "assert main(['tasks']) == 0\n"
        "print(sorted(m for m in ('scipy', 'torch') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "linear-gaussian-k-8-d-32-mi-10" in result.stdout and "79.4600" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_get_unknown_name_lists_near_matches():
    with pytest.raises(ValueError, match=r"unknown task 'gaussian-20x20-mi-3'.*gaussian-20x20-mi-"):
        tasks.get("gaussian-20x20-mi-3")
    with pytest.raises(ValueError, match="unknown task"):
        tasks.get("zzzzzz")
    with pytest.raises(TypeError, match="name"):
        tasks.get(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="family"):
        tasks.names("nope")


def test_register():
    snapshot = dict(_REGISTRY)
    try:
        task = tasks.gaussian(3, rho=0.3)
        assert tasks.register(task) is task
        assert tasks.get("gaussian-3x3-rho-0.3") is task
        assert "gaussian-3x3-rho-0.3" in tasks.names()
        with pytest.raises(ValueError, match="already registered"):
            tasks.register(tasks.gaussian(3, rho=0.3))
        tasks.register(tasks.gaussian(3, rho=0.3), replace=True)
        with pytest.raises(TypeError, match="Task"):
            tasks.register("gaussian")  # type: ignore[arg-type]
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(snapshot)
    assert tasks.names() == NAMES


# -- every task: shapes, determinism, records ---------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_seeds(name):
    task = tasks.get(name)
    x, y = task.sample(64, seed=3)
    assert x.shape == (64, task.dim_x) and y.shape == (64, task.dim_y)
    assert x.dtype == np.float64 and y.dtype == np.float64
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    x2, y2 = task.sample(64, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    clone = pickle.loads(pickle.dumps(task))  # tasks travel to worker processes
    np.testing.assert_array_equal(clone.sample(64, seed=3)[1], y)
    x3, y3 = task.sample(64, seed=4)
    assert not np.array_equal(x, x3)
    assert not np.array_equal(y, y3)
    record = json.loads(json.dumps(task.to_dict(), allow_nan=False))
    assert record["name"] == name and record["family"] == task.family
    assert record["mutual_information"] == pytest.approx(task.mutual_information)
    assert task.mutual_information >= 0 and math.isfinite(task.mutual_information)
    assert task.mutual_information_stderr >= 0
    assert task.description and name in repr(task)


# -- every task: the sampler agrees with the stated MI by an independent route ------------------
@pytest.mark.parametrize("name", NAMES)
def test_sampler_agrees_with_mutual_information(name):
    task = tasks.get(name)
    if isinstance(task, tasks.DiscreteTask):
        x, y = task.sample(N_DISCRETE, seed=11)
        estimate, se = _plug_in(x, y)
        mx, my = task.table.shape
        bias = (mx - 1) * (my - 1) / (2 * N_DISCRETE)  # plug-in bias, first order
        assert abs(estimate - task.mutual_information) < K_SIGMA * se + bias
        np.testing.assert_allclose(
            task.pointwise_mutual_information(x[:100], y[:100]),
            (np.log(task.table) - np.log(np.outer(task.table.sum(1), task.table.sum(0))))[
                x[:100, 0].astype(int), y[:100, 0].astype(int)
            ],
        )
        return
    n = _n_mc(task)
    x, y = task.sample(n, seed=11)
    pmi = _independent_pmi(task, x, y)
    assert np.all(np.isfinite(pmi))
    se = pmi.std(ddof=1) / math.sqrt(n)
    tol = K_SIGMA * math.hypot(se, task.mutual_information_stderr)
    assert abs(pmi.mean() - task.mutual_information) < tol, (pmi.mean(), se)
    # the task's own pointwise MI (the optimal critic) equals the scipy densities
    np.testing.assert_allclose(task.pointwise_mutual_information(x, y), pmi, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize(
    "name", [n for n in NAMES if tasks.get(n).lautum_information not in (None, math.inf)]
)
def test_sampler_agrees_with_lautum_information(name):
    task = tasks.get(name)
    n = N_DISCRETE if isinstance(task, tasks.DiscreteTask) else _n_mc(task)
    x, _ = task.sample(n, seed=21)
    _, y = task.sample(n, seed=22)  # an independent draw: (x, y) ~ p(x) p(y)
    if isinstance(task, tasks.DiscreteTask):
        minus_pmi = -task.pointwise_mutual_information(x, y)
    else:
        minus_pmi = -_independent_pmi(task, x, y)
    se = minus_pmi.std(ddof=1) / math.sqrt(n)
    assert abs(minus_pmi.mean() - task.lautum_information) < K_SIGMA * se


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [n for n in NAMES if isinstance(tasks.get(n), tasks.LabelMixtureTask)]
)
def test_cached_label_mixture_truths_are_the_monte_carlo(name):
    task = tasks.get(name)
    assert task.compute_ground_truth() == (task.mutual_information, task.mutual_information_stderr)


def test_the_check_can_fail():
    task = tasks.get("gaussian-1x1-rho-0.75")
    x, y = task.sample(N_MC, seed=11)
    pmi = _independent_pmi(task, x, y)
    se = pmi.std(ddof=1) / math.sqrt(N_MC)
    assert abs(pmi.mean() - 1.1 * task.mutual_information) > K_SIGMA * se


# -- transforms ---------------------------------------------------------------------------------
TRANSFORMED = [n for n in NAMES if isinstance(tasks.get(n), tasks.TransformedTask)]


@pytest.mark.parametrize("name", TRANSFORMED)
def test_transformed_task_inverts_to_base_samples(name):
    task = tasks.get(name)
    x, y = task.sample(2000, seed=5)
    bx, by = task.base.sample(2000, seed=5)
    rx, ry = task.invert(x, y)
    np.testing.assert_allclose(rx, bx, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ry, by, rtol=1e-9, atol=1e-9)
    assert not (np.allclose(x, bx) and np.allclose(y, by))
    assert task.mutual_information == task.base.mutual_information
    assert task.lautum_information == task.base.lautum_information
    assert task.mutual_information_stderr == task.base.mutual_information_stderr


@pytest.mark.parametrize(
    "transform",
    [tasks.CUBE, tasks.HALF_CUBE, tasks.ASINH, tasks.NORMAL_CDF, tasks.wiggly(), tasks.spiral()],
    ids=lambda t: t.name,
)
def test_transforms_are_invertible(transform):
    # Φ saturates in float64: beyond |x| ≈ 5 its inverse loses digits, so stay inside for it
    scale = 1.0 if transform.name == "normal-cdf" else 2.0
    v = np.random.default_rng(0).normal(size=(500, 4)) * scale
    np.testing.assert_allclose(transform.inverse(transform(v)), v, rtol=1e-9, atol=1e-9)
    if transform.name != "spiral":  # elementwise maps are strictly increasing
        grid = np.linspace(-5, 5, 1001)[:, None]
        assert np.all(np.diff(transform(grid)[:, 0]) > 0)
    else:
        np.testing.assert_allclose(
            np.linalg.norm(transform(v), axis=1), np.linalg.norm(v, axis=1), rtol=1e-12
        )


def test_transform_names_and_errors():
    g = tasks.gaussian(2, rho=0.5)
    same = tasks.transformed(g, x_map=tasks.CUBE, y_map=tasks.CUBE)
    assert same.name == "cube(gaussian-2x2-rho-0.5)"
    assert tasks.transformed(g, y_map=tasks.CUBE).name == "cube-y(gaussian-2x2-rho-0.5)"
    both = tasks.transformed(g, x_map=tasks.ASINH, y_map=tasks.CUBE)
    assert both.name == "asinh-x-cube-y(gaussian-2x2-rho-0.5)"
    with pytest.raises(ValueError, match="x_map, y_map"):
        tasks.transformed(g)
    with pytest.raises(ValueError, match="y_map: 'spiral' needs dimension >= 2"):
        tasks.transformed(tasks.gaussian(1, rho=0.5), y_map=tasks.spiral())
    with pytest.raises(ValueError, match="amplitude \\* frequency < 1"):
        tasks.wiggly(1.0, 1.0)
    with pytest.raises(TypeError, match="x_map"):
        tasks.transformed(g, x_map=np.tanh)  # type: ignore[arg-type]


# -- closed forms -------------------------------------------------------------------------------
@pytest.mark.parametrize("level", tasks.STAIRCASE)
def test_staircase_rho_and_mi(level):
    task = tasks.get(f"gaussian-20x20-mi-{level}")
    rho = task.params["rho"]
    assert rho == pytest.approx(math.sqrt(1 - math.exp(-2 * level / 20)), rel=1e-12)
    assert -10 * math.log(1 - rho**2) == pytest.approx(level, rel=1e-12)
    assert task.mutual_information == pytest.approx(level, rel=1e-12)
    lautum = 20 * (rho**2 / (1 - rho**2) + 0.5 * math.log(1 - rho**2))
    assert task.lautum_information == pytest.approx(lautum, rel=1e-10)


def test_high_mi_gaussian():
    task = tasks.get("gaussian-128x128-rho-0.5")
    assert round(task.mutual_information, 2) == 18.41
    assert task.mutual_information == pytest.approx(-64 * math.log(0.75), rel=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if isinstance(tasks.get(n), tasks.GaussianTask)])
def test_gaussian_lautum_equals_kl(name):
    """LI from canonical correlations equals KL(N(0, D) || N(0, Σ)) computed directly."""
    task = tasks.get(name)
    cov, dx = task.covariance, task.dim_x
    block = np.zeros_like(cov)
    block[:dx, :dx], block[dx:, dx:] = cov[:dx, :dx], cov[dx:, dx:]
    d = cov.shape[0]
    _, logdet_cov = np.linalg.slogdet(cov)
    _, logdet_block = np.linalg.slogdet(block)
    kl = 0.5 * (np.trace(np.linalg.solve(cov, block)) - d + logdet_cov - logdet_block)
    assert task.lautum_information == pytest.approx(kl, rel=1e-8, abs=1e-10)
    assert task.mutual_information == pytest.approx(0.5 * (logdet_block - logdet_cov), rel=1e-10)


def test_general_gaussian_mi_from_canonical_correlations():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(7, 7))
    cov = a @ a.T + 0.5 * np.eye(7)
    task = tasks.gaussian_from_covariance(cov, 3, name="gaussian-random-3x4")
    from mibound.tasks.gaussian import canonical_correlations

    rho = canonical_correlations(cov, 3)
    assert rho.shape == (3,)
    assert task.mutual_information == pytest.approx(-0.5 * np.sum(np.log1p(-(rho**2))), rel=1e-10)


def test_dense_gaussian_mi_by_hand():
    task = tasks.get("gaussian-dense-5x5-rho-0.5")

    def logdet_equicorrelated(d, r):
        return (d - 1) * math.log(1 - r) + math.log(1 + (d - 1) * r)

    expected = 0.5 * (2 * logdet_equicorrelated(5, 0.5) - logdet_equicorrelated(10, 0.5))
    assert task.mutual_information == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3])
def test_binary_symmetric_channel(eps):
    task = tasks.binary_symmetric_channel(eps)
    h_b = -eps * math.log(eps) - (1 - eps) * math.log(1 - eps)
    assert task.mutual_information == pytest.approx(math.log(2) - h_b, rel=1e-12)
    # KL(p(x)p(y) || p(x,y)) by direct enumeration with X uniform
    joint = {(a, b): 0.5 * ((1 - eps) if a == b else eps) for a in (0, 1) for b in (0, 1)}
    kl = sum(0.25 * math.log(0.25 / joint[key]) for key in joint)
    assert kl == pytest.approx(-math.log(2) - 0.5 * math.log(eps * (1 - eps)), rel=1e-12)
    assert task.lautum_information == pytest.approx(kl, rel=1e-12)


@pytest.mark.parametrize(("m", "eps"), [(4, 0.3), (10, 0.1), (3, 0.9)])
def test_categorical_copy(m, eps):
    task = tasks.categorical_copy(m, eps)
    mi = math.log(m) + (1 - eps) * math.log(1 - eps) + eps * math.log(eps / (m - 1))
    assert task.mutual_information == pytest.approx(mi, rel=1e-12)
    lautum = -math.log(m) - math.log(1 - eps) / m + (m - 1) / m * math.log((m - 1) / eps)
    assert task.lautum_information == pytest.approx(lautum, rel=1e-12)
    one_hot = tasks.categorical_copy(m, eps, encoding="one-hot")
    x, y = one_hot.sample(1000, seed=0)
    assert x.shape == (1000, m) and np.all(x.sum(axis=1) == 1)
    assert one_hot.mutual_information == pytest.approx(mi, rel=1e-12)
    xi, yi = task.sample(1000, seed=0)
    assert set(np.unique(xi)) <= set(range(m)) and np.all(xi == np.round(xi))
    # the same draw, encoded two ways
    np.testing.assert_array_equal(np.argmax(x, axis=1), xi[:, 0])
    np.testing.assert_array_equal(np.argmax(y, axis=1), yi[:, 0])


@pytest.mark.parametrize("eps", [0.1, 0.3, 0.5, 0.7, 2.0])
def test_uniform_noise_closed_form_by_quadrature(eps):
    task = tasks.uniform_noise(eps)

    def density(y):
        return (min(y + eps, 1.0) - max(y - eps, 0.0)) / (2 * eps)

    def integrand(y):
        p = density(y)
        return -p * math.log(p) if p > 0 else 0.0

    breaks = sorted({-eps, eps, 1 - eps, 1 + eps})
    h_y = sum(integrate.quad(integrand, a, b)[0] for a, b in itertools.pairwise(breaks))
    assert task.mutual_information == pytest.approx(h_y - math.log(2 * eps), abs=1e-8)
    assert task.lautum_information == math.inf


@pytest.mark.parametrize(
    ("df", "dim_x", "dim_y"), [(1.0, 1, 1), (3.0, 1, 1), (3.0, 2, 3), (10.0, 5, 5)]
)
def test_student_t_correction_equals_entropy_difference(df, dim_x, dim_y):
    """c(ν, m, n) = h(X) + h(Y) - h(X, Y) with scipy's entropies of standard t's."""

    if not hasattr(stats.multivariate_t(shape=np.eye(1), df=df), "entropy"):
        pytest.skip("this scipy has no multivariate_t.entropy (added in scipy 1.10+)")

    def h(d):
        return stats.multivariate_t(loc=np.zeros(d), shape=np.eye(d), df=df).entropy()

    expected = h(dim_x) + h(dim_y) - h(dim_x + dim_y)
    assert tasks.student_t_correction(df, dim_x, dim_y) == pytest.approx(expected, rel=1e-9)
    assert tasks.student_t_correction(1e6, dim_x, dim_y) < 1e-4


@pytest.mark.slow
def test_student_t_formula_by_monte_carlo():
    """The closed form against a long Monte Carlo of scipy's log-densities (Σ = I: only the
    correction is left)."""
    task = tasks.student_t(2, df=3, rho=0.0)
    x, y = task.sample(200_000, seed=7)
    pmi = _independent_pmi(task, x, y)
    se = pmi.std(ddof=1) / math.sqrt(pmi.size)
    assert se < 0.002
    assert abs(pmi.mean() - task.mutual_information) < K_SIGMA * se


@pytest.mark.parametrize(
    "name", ["gaussian-mixture-1x1-x-rho-0.9", "gaussian-mixture-1x1-k-4-sep-3"]
)
def test_mixture_ground_truth_by_quadrature(name):
    task = tasks.get(name)
    assert 0 < task.mutual_information_stderr < 0.005
    half = np.abs(task.means).max() + 9.0
    grid = np.linspace(-half, half, 401)  # trapezoid on smooth densities: spectral accuracy
    step = grid[1] - grid[0]
    gx, gy = np.meshgrid(grid, grid, indexing="ij")
    x, y = gx.reshape(-1, 1), gy.reshape(-1, 1)
    pmi = _independent_pmi(task, x, y)
    joint = np.zeros(x.shape[0])
    for w, mu, c in zip(task.weights, task.means, task.covariances, strict=True):
        joint += w * stats.multivariate_normal(mean=mu, cov=c).pdf(np.concatenate([x, y], axis=1))
    assert joint.sum() * step**2 == pytest.approx(1.0, abs=1e-6)
    truth = float(np.sum(joint * pmi) * step**2)
    assert abs(task.mutual_information - truth) < K_SIGMA * task.mutual_information_stderr
    if "-k-4-" in name:
        assert truth < math.log(4)


@pytest.mark.slow
def test_cached_mixture_ground_truths_match_a_fresh_monte_carlo():
    from mibound.tasks.mixture import _CACHED_GROUND_TRUTHS

    mixtures = [tasks.get(n) for n in tasks.names("gaussian-mixture")]
    assert {t.fingerprint() for t in mixtures} == set(_CACHED_GROUND_TRUTHS)
    for task in mixtures:
        fresh = task.compute_ground_truth()
        np.testing.assert_allclose(fresh, _CACHED_GROUND_TRUTHS[task.fingerprint()], rtol=1e-9)
        assert (task.mutual_information, task.mutual_information_stderr) == pytest.approx(fresh)
    # a mixture that is not cached computes its own truth, with a standard error
    other = tasks.gaussian_mixture_clusters(1, k=2, separation=2.0)
    assert other.fingerprint() not in _CACHED_GROUND_TRUTHS
    assert 0 < other.mutual_information < math.log(2)
    assert 0 < other.mutual_information_stderr < 0.005


def test_linear_gaussian_truths_come_from_the_model():
    task = tasks.get("linear-gaussian-k-4-d-20-mi-4")
    assert task.mutual_information == pytest.approx(task.model.mutual_information(), rel=1e-12)
    assert task.lautum_information == pytest.approx(task.model.lautum_information(), rel=1e-12)
    assert (task.dim_x, task.dim_y) == (20, 4)
    w, s = task.W, task.sigma
    assert task.mutual_information == pytest.approx(
        0.5 * np.linalg.slogdet(np.eye(4) + w.T @ w / s**2)[1], rel=1e-10
    )


# -- argument errors ----------------------------------------------------------------------------
def test_argument_errors():
    task = tasks.get("gaussian-1x1-rho-0.75")
    with pytest.raises(ValueError, match="n: expected an integer >= 1"):
        task.sample(0, seed=0)
    with pytest.raises(TypeError, match="seed"):
        task.sample(10, seed=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed: expected a non-negative integer"):
        task.sample(10, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        task.sample(10, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        task.sample(10)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="rho"):
        tasks.gaussian(2, rho=1.5)
    with pytest.raises(ValueError, match="rho, mi"):
        tasks.gaussian(2, rho=0.5, mi=1.0)
    with pytest.raises(ValueError, match="pairs"):
        tasks.gaussian(2, rho=0.5, pairs=3)
    with pytest.raises(ValueError, match="df"):
        tasks.student_t(2, df=0, rho=0.5)
    with pytest.raises(ValueError, match="eps"):
        tasks.binary_symmetric_channel(1.0)
    with pytest.raises(ValueError, match="encoding"):
        tasks.categorical_copy(3, 0.1, encoding="binary")
    with pytest.raises(ValueError, match=r"x: expected shape \(n, 1\)"):
        task.pointwise_mutual_information(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="same number of rows"):
        task.pointwise_mutual_information(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="y: expected integer codes"):
        tasks.get("bsc-eps-0.1").pointwise_mutual_information(np.zeros(2), np.array([0.5, 1]))


# -- CLI ----------------------------------------------------------------------------------------
def test_cli_json(capsys):
    assert main(["tasks", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == NAMES
    by_name = {r["name"]: r for r in records}
    assert by_name["gaussian-20x20-mi-2"]["mutual_information"] == pytest.approx(2.0)
    assert by_name["uniform-noise-1x1-eps-0.1"]["lautum_information"] == "inf"


def test_cli_family_and_table(capsys):
    assert main(["tasks", "--family", "discrete", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["family"] for r in records} == {"discrete"}
    assert main(["tasks", "--family", "student-t"]) == 0
    out = capsys.readouterr().out
    assert "student-t-df-3-5x5-rho-0.5" in out and "1.0177" in out
    assert main(["tasks", "--family", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mibound: error: --family") and err.count("\n") == 1


def test_cli_subprocess():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [sys.executable, "-m", "mibound", "tasks", "--family", "gaussian"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "gaussian-128x128-rho-0.5" in result.stdout
    assert "18.4117" in result.stdout
