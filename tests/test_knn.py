"""Tests of mibound.knn: KSG against a brute-force reference, Gaussian closed forms, stderr."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.special import digamma

from mibound import knn
from mibound._inputs import power_of_two_scale
from mibound._random import numpy_rng
from mibound._stats import Z95
from mibound.knn import _count_closer, ksg

try:
    import numba  # noqa: F401

    BACKENDS = ["scipy", "numba", "torch"]
except ImportError:  # the numba backend is optional (mibound[fast])
    BACKENDS = [
        "scipy",
        pytest.param("numba", marks=pytest.mark.skip(reason="needs numba")),
        "torch",
    ]


def brute_force_ksg(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """KSG estimator 1 by the definition: O(N^2) max-norm distances, strict marginal counts."""
    n = x.shape[0]
    dist_x = np.abs(x[:, None, :] - x[None, :, :]).max(axis=-1)
    dist_y = np.abs(y[:, None, :] - y[None, :, :]).max(axis=-1)
    dist_joint = np.maximum(dist_x, dist_y)
    total = 0.0
    for i in range(n):
        others = np.arange(n) != i
        eps = np.sort(dist_joint[i, others])[k - 1]
        n_x = int(np.sum(dist_x[i, others] < eps))
        n_y = int(np.sum(dist_y[i, others] < eps))
        total += digamma(n_x + 1) + digamma(n_y + 1)
    return float(digamma(k) + digamma(n) - total / n)


def correlated(n: int, d: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = rho * x + math.sqrt(1 - rho**2) * rng.standard_normal((n, d))
    return x, y


def gaussian_mi(d: int, rho: float) -> float:
    return -0.5 * d * math.log(1 - rho**2)


@pytest.mark.parametrize("n", [50, 123, 200])
@pytest.mark.parametrize(("dx", "dy"), [(1, 1), (1, 3), (2, 2), (4, 1)])
@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
def test_matches_brute_force_exactly(
    n: int, dx: int, dy: int, k: int, ties: bool, backend: str
) -> None:
    rng = np.random.default_rng(1000 * n + 10 * dx + dy + k)
    x = rng.standard_normal((n, dx))
    y = 0.7 * x[:, :1] + rng.standard_normal((n, dy))
    if ties:  # coarse grid: many exact ties, including zero k-NN distances
        x, y = np.round(2 * x), np.round(2 * y)
    result = ksg(x, y, k=k, noise=0.0, subsamples=0, backend=backend, standardize=False)
    assert result.value == pytest.approx(brute_force_ksg(x, y, k), abs=1e-12)


@pytest.mark.parametrize(("dx", "dy", "k"), [(1, 1, 3), (2, 3, 4)])
def test_documented_tie_breaking_noise(dx: int, dy: int, k: int) -> None:
    rng = np.random.default_rng(7)
    x = np.round(rng.standard_normal((150, dx)))
    y = np.round(x[:, :1] + rng.standard_normal((150, dy)))
    noise_rng = numpy_rng(42, "ksg.noise")
    xn = x + 1e-10 * x.std(axis=0) * noise_rng.standard_normal(x.shape)
    yn = y + 1e-10 * y.std(axis=0) * noise_rng.standard_normal(y.shape)
    result = ksg(x, y, k=k, seed=42, subsamples=0, standardize=False)
    assert result.value == pytest.approx(brute_force_ksg(xn, yn, k), abs=1e-12)
    assert result.value == ksg(x, y, k=k, seed=42, subsamples=0, standardize=False).value


def test_standardized_matches_brute_force_on_unit_variance_columns() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((120, 2)) * [1.0, 1000.0]
    y = 0.01 * (x[:, :1] / [1.0] + rng.standard_normal((120, 1)))
    xs, ys = power_of_two_scale(x), power_of_two_scale(y)
    xs, ys = xs / xs.std(axis=0), ys / ys.std(axis=0)
    result = ksg(x, y, k=3, noise=0.0, subsamples=0)
    assert result.value == pytest.approx(brute_force_ksg(xs, ys, 3), abs=1e-12)


def test_strict_counts_at_the_radius() -> None:
    # Points at exactly the radius are not counted; the point itself never is.
    points = np.array([[0.0], [0.5], [1.0], [1.0], [2.0]])
    radius = np.array([1.0, 0.5, 1.0, 0.0, 1.0])
    assert _count_closer(points, radius, 1).tolist() == [1, 0, 2, 0, 0]
    points2 = np.c_[points, np.zeros(5)]
    assert _count_closer(points2, radius, 1).tolist() == [1, 0, 2, 0, 0]


@pytest.mark.parametrize(("d", "rho"), [(1, 0.8), (2, 0.6), (3, 0.5)])
def test_recovers_gaussian_mi(d: int, rho: float) -> None:
    # At N=2000 and joint dimension <= 6 the KSG bias is a few hundredths of a nat (Kraskov
    # et al. 2004, Fig. 4); allow 4 reported standard errors plus 0.03 nats of bias.
    x, y = correlated(2000, d, rho, seed=d)
    result = ksg(x, y, k=3)
    truth = gaussian_mi(d, rho)
    assert result.kind == "estimate"
    assert result.method == "ksg"
    assert result.n == 2000
    assert abs(result.value - truth) < 4 * result.stderr + 0.03
    assert result.ci[0] < result.value < result.ci[1]
    assert result.settings["subsamples"] == 10
    assert "disjoint" in result.settings["stderr_method"]


def test_subsample_stderr_matches_spread_across_seeds() -> None:
    values, stderrs = [], []
    for seed in range(20):
        x, y = correlated(1000, 2, 0.6, seed=100 + seed)
        result = ksg(x, y, k=3, seed=seed)
        values.append(result.value)
        stderrs.append(result.stderr)
    spread = float(np.std(values, ddof=1))
    reported = float(np.mean(stderrs))
    assert 0.5 < reported / spread < 2.0


@pytest.mark.slow
def test_capped_subsamples_keep_the_stderr_honest(monkeypatch: pytest.MonkeyPatch) -> None:
    # Above 500,000 points the standard error's parts hold 50,000 points each (a factor N / n_s
    # of 1/N extrapolation, 20 at a million points). The same factor here, 8000 / 400: the
    # capped standard error must match the uncapped one (a wrong sqrt(n_s / N) would be off by
    # sqrt(2) or more) and the spread of the full-sample values over 60 data sets.
    values, capped, full = [], [], []
    for seed in range(60):
        x, y = correlated(8000, 2, 0.6, seed=500 + seed)
        monkeypatch.setattr(knn, "_PART_MAX", 400)
        small = ksg(x, y, k=3, seed=seed)
        monkeypatch.setattr(knn, "_PART_MAX", 50_000)
        whole = ksg(x, y, k=3, seed=seed)
        assert small.value == whole.value  # the cap changes the standard error only
        assert small.settings["subsample_size"] == 400
        assert whole.settings["subsample_size"] == 800
        values.append(whole.value)
        capped.append(small.stderr)
        full.append(whole.stderr)
    spread = float(np.std(values, ddof=1))
    assert 0.8 < np.mean(capped) / np.mean(full) < 1.25
    assert 0.7 < np.mean(capped) / spread < 1.4
    inside = np.abs(np.array(values) - gaussian_mi(2, 0.6)) < Z95 * np.array(capped)
    assert inside.mean() >= 0.8


def test_default_parts_are_capped_at_large_n(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knn, "_PART_MAX", 120)
    x, y = correlated(3000, 1, 0.5, seed=3)
    result = ksg(x, y, k=3)
    assert result.settings["subsamples"] == 10
    assert result.settings["subsample_size"] == 120
    parts = result.history["subsample_values"]
    assert result.stderr == pytest.approx(np.std(parts, ddof=1) * math.sqrt(120 / 3000))


def test_negative_values_not_clipped() -> None:
    values = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        values.append(ksg(rng.standard_normal(200), rng.standard_normal(200), seed=seed).value)
    assert min(values) < 0
    assert abs(float(np.mean(values))) < 0.05


def test_input_types_give_identical_results() -> None:
    torch = pytest.importorskip("torch")
    pandas = pytest.importorskip("pandas")
    x, y = correlated(300, 2, 0.5, seed=3)
    reference = ksg(x, y).value
    assert ksg(torch.from_numpy(x), torch.from_numpy(y)).value == reference
    assert ksg(pandas.DataFrame(x), pandas.DataFrame(y)).value == reference
    assert ksg(x.tolist(), y.tolist()).value == reference


def test_no_stderr_is_flagged() -> None:
    x, y = correlated(100, 1, 0.5, seed=0)
    result = ksg(x, y, subsamples=0)
    assert math.isnan(result.stderr)
    assert any("no standard error" in d for d in result.diagnostics)
    small = ksg(x[:30], y[:30])
    assert any("rough standard error" in d for d in small.diagnostics)
    assert math.isfinite(small.stderr)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "k: expected a positive integer"),
        ({"k": 2.5}, "k: expected a positive integer"),
        ({"k": 100}, "k: expected fewer than N / 2"),
        ({"k": 50}, "k: expected fewer than N / 2"),
        ({"seed": -1}, "seed: expected a non-negative integer"),
        ({"seed": 1.5}, "seed: expected a non-negative integer"),
        ({"seed": "abc"}, "seed: expected a non-negative integer"),
        ({"standardize": "yes"}, "standardize: expected True or False"),
        ({"noise": -1.0}, "noise: expected"),
        ({"subsamples": 1}, "subsamples: expected"),
        ({"subsamples": 30}, "subsamples: expected"),
        ({"n_jobs": 0}, "n_jobs: expected"),
        ({"backend": "fortran"}, "backend: expected"),
        ({"backend": "numba", "device": "cpu"}, "device: only the 'torch' backend"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    x, y = correlated(100, 1, 0.5, seed=0)
    with pytest.raises((ValueError, TypeError), match=match):
        ksg(x, y, **kwargs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_agree_on_larger_data(backend: str) -> None:
    # Enough points for deep trees, whole-node counting and leaf batching to matter.
    x, y = correlated(3000, 3, 0.7, seed=11)
    y = np.c_[y, np.round(x[:, 0])]  # a discrete column: ties broken by the noise
    reference = ksg(x, y, backend="scipy")
    result = ksg(x, y, backend=backend)
    assert result.value == pytest.approx(reference.value, abs=1e-12)
    assert result.stderr == pytest.approx(reference.stderr, abs=1e-12)
    assert result.settings["backend"] == backend


def test_numba_threads_give_identical_results(monkeypatch: pytest.MonkeyPatch) -> None:
    kdtree = pytest.importorskip("mibound._kdtree")
    monkeypatch.setattr(kdtree, "_PARALLEL_MIN", 0)  # use threads even on small data
    x, y = correlated(2500, 2, 0.6, seed=5)
    reference = ksg(x, y, backend="scipy", subsamples=0).value
    assert ksg(x, y, backend="numba", n_jobs=3, subsamples=0).value == pytest.approx(
        reference, abs=1e-12
    )


def test_numba_parts_beside_the_value_give_identical_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # n_jobs > 1: the standard error's parts run on their own thread while the value's queries
    # are split into chunks taken by free threads; n_jobs = 1 runs everything in order.
    kdtree = pytest.importorskip("mibound._kdtree")
    monkeypatch.setattr(kdtree, "_PARALLEL_MIN", 0)  # two chunks of queries (2048 + 952)
    x, y = correlated(3000, 3, 0.6, seed=9)
    alone = ksg(x, y, backend="numba", n_jobs=1)
    threaded = ksg(x, y, backend="numba", n_jobs=3)
    assert threaded.value == alone.value
    assert threaded.stderr == alone.stderr
    assert threaded.history == alone.history


def test_tie_breaking_noise_is_not_the_users_stream() -> None:
    # The reproduction: Gaussians discretised to signs, data drawn with default_rng(0).
    # With noise drawn from default_rng(seed=0) the noise was the hidden continuous data and KSG
    # returned 0.84 (0.88 at n = 20000); the true MI of the signs is 0.262 nats.
    rng = np.random.default_rng(0)
    n = 5000
    x = rng.standard_normal((n, 2))
    y = x + rng.standard_normal((n, 2))
    xb, yb = (x > 0).astype(float), (y > 0).astype(float)
    truth = 2 * (math.log(2) - _binary_entropy(0.25))  # per pair: P(sign flip) = 1/4
    assert truth == pytest.approx(0.2616, abs=1e-4)
    for seed in (0, 1):
        result = ksg(xb, yb, seed=seed)
        assert abs(result.value - truth) < 0.05
        assert any("duplicated rows" in d for d in result.diagnostics)


def _binary_entropy(p: float) -> float:
    return -p * math.log(p) - (1 - p) * math.log(1 - p)


def test_data_processing_inequality_on_rounded_data() -> None:
    # round(3x), round(3y) of 1-d Gaussians with I = log(2)/2 cannot carry more than that.
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5000)
    y = x + rng.standard_normal(5000)
    result = ksg(np.round(3 * x), np.round(3 * y))
    assert result.value < 0.5 * math.log(2) + 3 * result.stderr


@pytest.mark.parametrize("scale", [1e-300, 1e-8, 1e3, 1e10, 1e300])
def test_invariant_to_column_scale(scale: float, recwarn: pytest.WarningsRecorder) -> None:
    x, y = correlated(1000, 1, 0.6, seed=4)
    reference = ksg(x, y).value
    scaled = ksg(x * scale, y).value
    assert scaled == pytest.approx(reference, abs=1e-9)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_raw_values_with_huge_scale_do_not_overflow(recwarn: pytest.WarningsRecorder) -> None:
    x, y = correlated(500, 2, 0.6, seed=4)
    raw = ksg(x, y, standardize=False).value
    assert ksg(x * 1e300, y * 1e300, standardize=False).value == pytest.approx(raw, abs=1e-12)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_duplicated_rows_are_reported() -> None:
    x, y = correlated(50, 1, 0.5, seed=2)
    result = ksg(np.repeat(x, 10, axis=0), np.repeat(y, 10, axis=0))
    assert any("duplicated rows: 450 of the 500" in d for d in result.diagnostics)
    assert not any("duplicated" in d for d in ksg(x, y).diagnostics)


@pytest.mark.parametrize(
    "rows",
    [
        np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, 2.0], [1.0, 1.0]]),  # -0.0 equals 0.0
        np.array([[1.0, 3.0], [1.0, 3.0], [2.0, 3.0]]),
        np.array([[1.0, 3.0], [2.0, 3.0], [5.0, 3.0]]),  # the first column settles it
        np.array([[1.0, 3.0], [1.0, 4.0], [1.0, 5.0]]),  # the second column settles it
    ],
)
def test_distinct_rows_counts_as_row_groups(rows: np.ndarray) -> None:
    from mibound._inputs import distinct_rows, row_groups

    x, y = rows[:, :1], rows[:, 1:]
    assert distinct_rows(x, y) == row_groups(x, y)[1]
    assert distinct_rows(x, np.zeros((len(rows), 0))) == row_groups(x, x[:, :0])[1]


def test_moments_match_scipy() -> None:
    from scipy.stats import kurtosis, skew

    from mibound.diagnostics import _moments

    a = np.random.default_rng(4).standard_t(5, size=(3000, 3))
    s, k = _moments(a)
    assert np.allclose(s, skew(a, axis=0), rtol=1e-10)
    assert np.allclose(k, kurtosis(a, axis=0), rtol=1e-10)


@pytest.mark.parametrize("transform", [lambda a: a, lambda a: 2.0 * a - 1.0, lambda a: -a])
def test_y_copy_of_x_is_an_error_for_continuous_data(transform: Callable) -> None:
    x, _ = correlated(300, 2, 0.5, seed=3)
    with pytest.raises(ValueError, match="x, y: .*affine copies.*infinite"):
        ksg(x, transform(x[:, 1]))


def test_y_copy_of_discrete_x_is_flagged() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, size=(400, 1)).astype(float)
    result = ksg(x, x)
    assert any("x identical to y" in d for d in result.diagnostics)


def test_heavy_tails_are_flagged() -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_t(2, size=2000)
    y = x + rng.standard_normal(2000)
    assert any("heavy tails" in d for d in ksg(x, y).diagnostics)
    x, y = correlated(2000, 1, 0.5, seed=6)
    assert not any("heavy tails" in d for d in ksg(x, y).diagnostics)


def test_huge_k_refused_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    import mibound._memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    x, y = correlated(400, 1, 0.5, seed=0)
    with pytest.raises(ValueError, match="k: KSG with k = 150 .*GiB"):
        ksg(x, y, k=150, n_jobs=10**6)


def test_torch_backend_blocks_and_device(monkeypatch: pytest.MonkeyPatch) -> None:
    # The GPU path is the same code on another device: its blocking must not change a count.
    from mibound import _knn_torch

    x, y = correlated(400, 2, 0.6, seed=8)
    x = np.round(4 * x) / 4  # ties, including zero radii after rounding
    reference = brute_force_ksg(x, y, 3)
    monkeypatch.setitem(_knn_torch._BLOCK_BYTES, "cpu", 1)  # one query per block
    tiny = ksg(x, y, k=3, noise=0.0, subsamples=0, device="cpu", standardize=False)
    assert tiny.settings["backend"] == "torch"
    assert tiny.settings["device"] == "cpu"
    assert tiny.value == pytest.approx(reference, abs=1e-12)


def test_auto_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    from mibound.knn import _GPU_MIN, _ksg_backend

    assert _ksg_backend("auto", "cpu", 10, 2) == ("torch", "cpu")
    assert _ksg_backend("torch", None, 10, 2)[0] == "torch"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert _ksg_backend("auto", None, _GPU_MIN, 2) == ("torch", "cuda")
    assert _ksg_backend("auto", None, _GPU_MIN - 1, 2) == ("scipy", None)
    assert _ksg_backend("numba", None, _GPU_MIN, 2)[0] == "numba"


@pytest.mark.parametrize(("dx", "dy"), [(3, 2), (2, 4), (1, 1)])
def test_numba_kernels_match_brute_force_with_many_duplicates(dx: int, dy: int) -> None:
    # Blocks of identical points larger than a leaf: the tree must split them by position.
    kdtree = pytest.importorskip("mibound._kdtree")
    rng = np.random.default_rng(dx * 10 + dy)
    base_x, base_y = correlated(60, max(dx, dy), 0.5, seed=dx + dy)
    idx = rng.integers(0, 60, size=700)
    x, y = base_x[idx, :dx], base_y[idx, :dy]
    x[:40] += 1e-3 * rng.standard_normal((40, dx))
    dist_x = np.abs(x[:, None, :] - x[None, :, :]).max(axis=-1)
    dist_y = np.abs(y[:, None, :] - y[None, :, :]).max(axis=-1)
    joint = np.maximum(dist_x, dist_y)
    eps = np.sort(joint, axis=1)[:, 4]  # k = 4 neighbours, the point itself included
    radius, count = kdtree.knn_radius_and_count(x, y, 5, 1)
    assert np.array_equal(radius, eps)
    expected_x = (dist_x < eps[:, None]).sum(axis=1) - (eps > 0)
    expected_y = (dist_y < eps[:, None]).sum(axis=1) - (eps > 0)
    assert np.array_equal(count, expected_x)
    assert np.array_equal(kdtree.count_within(y, eps, 1), expected_y)
    assert ksg(x, y, k=4, noise=0.0, subsamples=0, standardize=False).value == pytest.approx(
        brute_force_ksg(x, y, 4), abs=1e-12
    )


@pytest.mark.slow
@pytest.mark.parametrize(("dx", "dy"), [(5, 5), (6, 2)])
def test_numba_kernels_match_ckdtree_on_deep_trees(dx: int, dy: int) -> None:
    # 12,000 points: trees 10 levels deep, hundreds of leaves, whole nodes counted at once;
    # radii and both strict counts must equal scipy's cKDTree ones exactly.
    from scipy.spatial import cKDTree

    kdtree = pytest.importorskip("mibound._kdtree")
    rng = np.random.default_rng(dx * 10 + dy)
    x = rng.standard_normal((12_000, dx))
    y = 0.8 * x[:, :dy] + 0.6 * rng.standard_normal((12_000, dy))
    joint = np.c_[x, y]
    eps = cKDTree(joint).query(joint, k=[4], p=np.inf, workers=2)[0][:, 0]
    below = np.nextafter(eps, 0.0)
    expected = [
        cKDTree(a).query_ball_point(a, below, p=np.inf, return_length=True, workers=2) - 1
        for a in (x, y)
    ]
    radius, count_x = kdtree.knn_radius_and_count(x, y, 4, 2)
    assert np.array_equal(radius, eps)
    assert np.array_equal(count_x, expected[0])
    assert np.array_equal(kdtree.count_within(y, eps, 2), expected[1])


def test_auto_backend_uses_numba_only_where_it_pays() -> None:
    from mibound.knn import _backend

    assert _backend("auto", 2000, 2) == "scipy"
    assert _backend("auto", 4999, 10) == "scipy"
    assert _backend("scipy", 10**6, 10) == "scipy"
    expected = "numba" if importlib.util.find_spec("numba") else "scipy"
    assert _backend("auto", 5000, 10) == expected
    assert _backend("auto", 200_000, 2) == expected
