"""Tests of the neural black-box estimators (:mod:`mibound.neural`) and their diagnostics.

Training is kept tiny (64-wide critics, a few hundred steps, CPU): each fit takes about a
second. Tolerances:

- upper side: every method but SMILE is a lower bound whose *expected* held-out value is at
  most the truth (the test split is independent of the trained critic), so
  ``value <= truth + 3 se`` (DV adds its estimated plug-in bias :math:`\\chi^2/2M`; SMILE with
  τ = 5 has a bias below 0.01 nats at 1 nat, measured with the exact critic);
- lower side: a critic trained for 400 steps on 1800 pairs does not reach the optimum; with the
  exact critic every bound is within 0.03 nats of the truth at 1 nat and B = 128 (InfoNCE:
  log B - log(1 + (B-1) e^{-I}) ≈ 0.98), and our small critics land 0.1 nats lower, so
  ``value >= truth - 0.3 - 3 se`` leaves room for seed-to-seed optimisation noise while still
  failing a critic that learned nothing (value ≈ 0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import mibound
from mibound import diagnostics
from mibound._random import numpy_rng
from mibound.neural import METHODS, neural_estimate
from mibound.tasks.gaussian import gaussian

TRUTH = 1.0
SMALL = {"hidden": 64, "steps": 400, "eval_every": 50, "device": "cpu"}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    task = gaussian(2, mi=TRUTH)
    assert math.isclose(task.mutual_information, TRUTH)
    return task.sample(3000, seed=0)


@pytest.fixture(scope="module")
def fits(data: tuple[np.ndarray, np.ndarray]) -> dict[str, mibound.results.Estimate]:
    x, y = data
    return {m: neural_estimate(x, y, m, seed=0, **SMALL) for m in METHODS}


@pytest.mark.parametrize("method", METHODS)
def test_each_method_recovers_gaussian_mi(fits: dict, method: str) -> None:
    est = fits[method]
    assert est.method == method
    assert est.n == 3000
    # DV's held-out value is the log of a sample mean, biased upward: an estimate, not a bound.
    assert est.kind == ("estimate" if method in ("smile", "dv", "mine") else "lower bound")
    assert 0 < est.stderr < 0.2
    assert est.ci == pytest.approx(
        (est.value - 1.96 * est.stderr, est.value + 1.96 * est.stderr), abs=1e-4
    )
    # DV/MINE: the plug-in bias is chi^2 / (B (B - 1)) for the exact critic (the U-statistic's
    # first-order term vanishes), chi^2 = e^{2 I} - 1 for these Gaussians: 4e-4 nats at B = 128.
    dv_slack = 10 * math.expm1(2 * TRUTH) / (128 * 127)
    slack = {"smile": 0.01, "dv": dv_slack, "mine": dv_slack}.get(method, 0.0)
    assert est.value <= TRUTH + 3 * est.stderr + slack
    assert est.value >= TRUTH - 0.3 - 3 * est.stderr
    assert est.diagnostics == [] or all("converged" in d for d in est.diagnostics)


def test_reported_on_untouched_test_split(fits: dict) -> None:
    est = fits["nwj"]
    s = est.settings
    assert (s["n_train"], s["n_val"], s["n_test"]) == (1800, 600, 600)
    assert s["batch_size"] == 128
    assert s["test_batches_disjoint"] == 600 // 128
    assert s["test_batches"] % s["test_batches_disjoint"] == 0
    assert s["reported_bound"] == "nwj"
    assert fits["js"].settings["reported_bound"] == "nwj"
    assert "NWJ" in fits["js"].settings["note"]
    assert fits["mine"].settings["reported_bound"] == "dv"


def test_history_and_settings(fits: dict) -> None:
    for est in fits.values():
        h = est.history
        assert set(h) == {"step", "train", "validation"}
        assert len(h["step"]) == len(h["train"]) == len(h["validation"]) >= 4
        assert all(math.isfinite(v) for v in h["validation"])
        s = est.settings
        assert s["device"] == "cpu"
        assert s["steps"] == 400 and 200 <= s["steps_run"] <= 400
        assert s["seconds"] >= s["train_seconds"] > 0 and s["train_cpu_seconds"] > 0
        assert s["critic"] == "separable" and s["hidden"] == 64
    assert fits["smile"].settings["tau"] == 5.0
    assert fits["alpha"].settings["alpha"] == 0.01
    # Ceilings in closed form: log B for InfoNCE, 1 + log((B - 1)/α) for α-InfoNCE (B = 128).
    assert fits["infonce"].settings["ceiling"] == pytest.approx(math.log(128))
    assert fits["alpha"].settings["ceiling"] == pytest.approx(1 + math.log(127 / 0.01))
    assert fits["nwj"].settings["ceiling"] is None


@pytest.mark.parametrize("method", ["nwj", "infonce"])
def test_stderr_matches_the_spread_over_fresh_test_splits(method: str) -> None:
    # The stderr claims to measure the test split's sampling noise given the trained critic.
    # Keep the training and validation rows fixed (so the critic is the same, bit for bit) and
    # redraw only the test rows: the spread of the reported values is then exactly that noise.
    n, reps = 1000, 20
    task = gaussian(2, mi=TRUTH)
    order = numpy_rng(0, "neural.split").permutation(n)  # neural_estimate's split, seed=0
    test_rows = order[n - n // 5 :]
    x0, y0 = task.sample(n, seed=100)
    options = {"hidden": 16, "steps": 150, "eval_every": 50, "lr": 3e-3, "batch_size": 32}
    values, stderrs, critics = [], [], set()
    for rep in range(reps):
        x, y = x0.copy(), y0.copy()
        x[test_rows], y[test_rows] = task.sample(len(test_rows), seed=1000 + rep)
        est = neural_estimate(x, y, method, seed=0, device="cpu", **options)
        assert est.settings["n_test"] == len(test_rows)
        values.append(est.value)
        stderrs.append(est.stderr)
        critics.add(tuple(est.history["validation"]))
    assert len(critics) == 1  # the same critic every time: only the test rows changed
    ratio = float(np.mean(stderrs)) / float(np.std(values, ddof=1))
    # sd of a 20-sample sd is about 16%; an se computed as if all P x m overlapping test
    # batches were independent would be sqrt(P) ≈ 3.3 times too small (ratio ≈ 0.3).
    assert 0.55 < ratio < 1.8, ratio


def test_overfitting_critic_does_not_inflate_the_value() -> None:
    # Independent x, y (MI = 0) and a wide critic trained long on 180 pairs: the training
    # value climbs far above 0, the held-out value does not.
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((300, 3)), rng.standard_normal((300, 3))
    est = neural_estimate(
        x,
        y,
        "infonce",
        seed=0,
        hidden=128,
        steps=600,
        patience=1000,
        batch_size=16,
        eval_every=50,
        lr=3e-3,
        device="cpu",
    )
    assert max(est.history["train"]) > 0.5
    assert est.value <= 3 * est.stderr
    assert est.settings["n_test"] == 60


def test_infonce_respects_log_batch(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    est = neural_estimate(x, y, "infonce", seed=0, batch_size=8, **SMALL)
    assert est.settings["ceiling"] == pytest.approx(math.log(8))
    assert est.value <= math.log(8)
    assert est.ci[0] <= math.log(8)


def test_alpha_one_ceiling_is_log_b_minus_one(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    est = neural_estimate(x, y, "alpha", seed=0, batch_size=8, alpha=1.0, **SMALL)
    assert est.settings["ceiling"] == pytest.approx(math.log(7))
    assert est.value <= math.log(7)


def test_reproducible_with_seed(data: tuple[np.ndarray, np.ndarray], fits: dict) -> None:
    x, y = data
    again = neural_estimate(x, y, "nwj", seed=0, **SMALL)
    assert again.value == fits["nwj"].value
    assert again.stderr == fits["nwj"].stderr
    assert again.history == fits["nwj"].history
    other = neural_estimate(x, y, "nwj", seed=1, **SMALL)
    assert other.value != fits["nwj"].value


def test_global_rng_untouched(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    state = torch.get_rng_state()
    neural_estimate(x, y, "infonce", seed=3, hidden=8, steps=20, eval_every=10, device="cpu")
    assert torch.equal(state, torch.get_rng_state())


def test_estimate_dispatches_and_accepts_torch_and_pandas() -> None:
    pd = pytest.importorskip("pandas")
    x, y = gaussian(1, mi=0.5).sample(800, seed=2)
    a = mibound.estimate(
        torch.as_tensor(x),
        pd.DataFrame(y),
        "infonce",
        seed=0,
        hidden=16,
        steps=60,
        eval_every=20,
        device="cpu",
    )
    b = neural_estimate(
        x[:, 0], y, "infonce", seed=0, hidden=16, steps=60, eval_every=20, device="cpu"
    )
    assert a.value == b.value
    assert a.to_dict()["settings"]["n_test"] == 160


@pytest.mark.parametrize("critic", ["concat", "bilinear"])
def test_other_critics(critic: str) -> None:
    x, y = gaussian(2, mi=TRUTH).sample(1200, seed=4)
    est = neural_estimate(
        x,
        y,
        "infonce",
        seed=0,
        critic=critic,
        hidden=16,
        steps=200,
        eval_every=50,
        lr=5e-3,
        batch_size=32,
        device="cpu",
        threads=1,
    )
    assert est.settings["critic"] == critic
    assert est.value <= TRUTH + 3 * est.stderr
    assert est.value >= TRUTH - 0.4 - 3 * est.stderr


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA unavailable"),
        ),
    ],
)
def test_devices(device: str) -> None:
    x, y = gaussian(2, mi=TRUTH).sample(1500, seed=5)
    est = neural_estimate(
        x, y, "smile", seed=0, hidden=32, steps=200, eval_every=50, lr=2e-3, device=device
    )
    assert est.settings["device"].startswith(device)
    assert abs(est.value - TRUTH) < 0.4 + 3 * est.stderr


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------

X_OK, Y_OK = gaussian(1, rho=0.5).sample(400, seed=0)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"method": "mine2"}, ValueError, "method"),
        ({"critic": "deep"}, ValueError, "critic"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 10.5}, TypeError, "steps"),
        ({"steps": True}, TypeError, "steps"),
        ({"hidden": "wide"}, TypeError, "hidden"),
        ({"batch_size": 3}, ValueError, "batch_size"),
        ({"batch_size": 300}, ValueError, "batch_size"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": "fast"}, TypeError, "lr"),
        ({"tau": 0.0}, ValueError, "tau"),
        ({"alpha": 1.5}, ValueError, "alpha"),
        ({"split": (0.5, 0.5)}, ValueError, "split"),
        ({"split": (0.6, 0.3, 0.3)}, ValueError, "split"),
        ({"split": "60/20/20"}, TypeError, "split"),
        ({"dtype": "float16"}, ValueError, "dtype"),
        ({"dtype": 32}, TypeError, "dtype"),
        ({"device": "tpu:0"}, ValueError, "device"),
        ({"device": 3}, TypeError, "device"),
        ({"progress": "yes"}, TypeError, "progress"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_options(options: dict, error: type, match: str) -> None:
    options = dict(options)
    method = options.pop("method", "nwj")
    with pytest.raises(error, match=match):
        neural_estimate(X_OK, Y_OK, method, steps=options.pop("steps", 5), **options)


def test_too_few_samples() -> None:
    x, y = X_OK[:100], Y_OK[:100]
    with pytest.raises(ValueError, match=r"x, y: .*samples"):
        neural_estimate(x, y, "smile")
    # An explicit small batch makes a small data set usable, with the InfoNCE ceiling log 4.
    est = neural_estimate(x, y, "infonce", batch_size=4, steps=20, eval_every=10, device="cpu")
    assert est.settings["ceiling"] == pytest.approx(math.log(4))


@pytest.mark.parametrize(
    ("x", "y", "error", "match"),
    [
        (X_OK, Y_OK[:300], ValueError, "same number"),
        (np.full((400, 1), np.nan), Y_OK, ValueError, "x: expected finite"),
        (X_OK, np.ones((400, 1)), ValueError, "y: column"),
        (np.array(["a"] * 400), Y_OK, TypeError, "x: expected numeric"),
    ],
)
def test_bad_arrays(x: object, y: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        mibound.estimate(x, y, method="nwj", steps=5)


# ------------------------------------------------------------------------------------------
# Diagnostics
# ------------------------------------------------------------------------------------------


def test_diagnostics_fire_on_saturated_infonce() -> None:
    # 20-d Gaussian with 10 nats, batch 16: InfoNCE cannot exceed log 16 ≈ 2.77.
    task = gaussian(20, mi=10.0)
    x, y = task.sample(2000, seed=0)
    est = neural_estimate(
        x,
        y,
        "infonce",
        seed=0,
        critic="bilinear",
        batch_size=16,
        steps=600,
        lr=2e-2,
        eval_every=50,
        device="cpu",
    )
    assert est.value <= math.log(16)
    assert any(d.startswith("saturated") for d in est.diagnostics), est.diagnostics
    assert task.mutual_information - est.value > 5


@pytest.mark.parametrize("method", ["nwj", "dv"])
def test_diagnostics_fire_on_exp_variance(method: str) -> None:
    # 10 nats with 32 pairs per batch: the partition term needs ~e^10 negatives.
    x, y = gaussian(20, mi=10.0).sample(2000, seed=0)
    est = neural_estimate(
        x,
        y,
        method,
        seed=0,
        critic="bilinear",
        batch_size=32,
        steps=400,
        lr=2e-2,
        eval_every=50,
        device="cpu",
    )
    assert any(d.startswith("high variance") for d in est.diagnostics), est.diagnostics
    if method == "dv":
        assert any(d.startswith("upward bias") for d in est.diagnostics), est.diagnostics


def test_diagnostics_fire_when_training_is_cut_short() -> None:
    x, y = gaussian(2, mi=TRUTH).sample(1000, seed=0)
    est = neural_estimate(
        x, y, "infonce", seed=0, hidden=16, steps=60, eval_every=20, lr=1e-4, device="cpu"
    )
    assert est.history["validation"][-1] == max(est.history["validation"])
    assert any(d.startswith("training may not have converged") for d in est.diagnostics)


@pytest.mark.slow
def test_diagnostics_fire_on_overfitting() -> None:
    # 40 joint dimensions, 8 nats, 360 training pairs, a wide critic trained far past its fit:
    # it memorises the training pairs and the held-out value falls far behind (with 1500 steps
    # the gap was within 4 standard errors for some seeds; with 3000 it fires for seeds 0-2).
    x, y = gaussian(20, mi=8.0).sample(600, seed=0)
    est = neural_estimate(
        x, y, "infonce", seed=0, batch_size=32, steps=3000, patience=300, device="cpu"
    )
    gap = est.settings["train_value"] - est.value
    assert gap > 0.5
    assert any(d.startswith("over-fitting") for d in est.diagnostics)


def test_overfitting_function() -> None:
    assert "over-fitting" in diagnostics.overfitting(6.0, 2.5, 0.05)
    assert diagnostics.overfitting(1.04, 1.0, 0.03) is None  # below the 0.5-nat margin
    assert diagnostics.overfitting(12.0, 10.0, 0.1) is None  # below 20% of the value
    assert diagnostics.overfitting(3.0, 2.0, 0.3) is None  # below four standard errors
    assert diagnostics.overfitting(math.inf, 2.0, 0.1) is None


def test_diagnostics_silent_on_easy_case(fits: dict) -> None:
    # No saturation, variance, bias, sample-limit or over-fitting warning at 1 nat; a 400-step
    # critic may legitimately still be improving, which the convergence note says.
    for method in ("infonce", "smile", "nwj"):
        notes = [d for d in fits[method].diagnostics if "converged" not in d]
        assert notes == [], method


def test_saturation_function() -> None:
    assert diagnostics.saturation(2.7, math.log(16)) is not None
    assert diagnostics.saturation(2.2, math.log(16)) is None
    ceiling = 1 + math.log(127 / 0.01)
    assert "alpha" in diagnostics.saturation(ceiling - 0.1, ceiling, name="alpha-InfoNCE")
    assert diagnostics.saturation(math.nan, 1.0) is None


def test_exp_variance_function() -> None:
    calm = [1.0, 1.02, 0.98, 1.01]
    assert diagnostics.exp_variance(calm, [0.0, 0.05, -0.05, 0.02], 1.0, 128) is None
    wild = [2.0, 4.5, 1.0, 3.0]
    assert "high variance" in diagnostics.exp_variance(wild, [0.0, 1.5, -0.4, 0.8], 2.6, 128)
    # exp(value) above the batch size: the (e^I - 1)/B regime even with calm batches.
    assert diagnostics.exp_variance(calm, [0.0, 0.01, 0.0, 0.01], math.log(64) + 0.1, 64)


def test_mcallester_stratos_limit() -> None:
    # ln(2 k N^2) with k = 20: ln(40) + 2 ln N.
    assert diagnostics.mcallester_stratos_limit(5000) == pytest.approx(
        math.log(40) + 2 * math.log(5000)
    )
    assert diagnostics.mcallester_stratos_limit(100, k=2) == pytest.approx(math.log(4 * 100**2))
    assert diagnostics.sample_limit(10.0, 1000) is None
    message = diagnostics.sample_limit(30.0, 1000)
    assert message is not None and "high-confidence lower bound" in message
    # The theorem: B <= ln(2kN^2) with probability >= 1 - delta - 1.01/k, i.e. the limit is
    # exceeded with probability at most delta + 1.01/k (not "above 1 - delta - 1.01/k").
    assert "with probability at most delta + 0.05" in message
    assert "1 - delta - " not in message


def test_not_converged_function() -> None:
    assert diagnostics.not_converged(True, True, 300, 600, 50, [1.0, 1.1, 1.1]) is None
    assert diagnostics.not_converged(False, False, 600, 600, 50, [1.0, 1.1, 1.3]) is not None
    # Best at the very last evaluation of a run that used every step.
    assert diagnostics.not_converged(True, False, 600, 600, 50, [1.0, 1.1, 1.101]) is not None
    assert diagnostics.not_converged(True, False, 550, 600, 50, [1.0, 1.1, 1.09]) is None


def test_stderr_uses_within_partition_deviations() -> None:
    # Every partition of the test split reuses the same rows. In the extreme where each of the
    # P partitions holds the same m batch values (reshuffled), the reported value is the mean
    # of m independent batch values and its se is the textbook sd(ddof=1) / sqrt(m), whatever P.
    from mibound.neural import _stderr

    batch_values = np.array([0.9, 1.3, 0.7, 1.1, 1.0, 0.6])
    m = batch_values.size
    textbook = batch_values.std(ddof=1) / math.sqrt(m)
    rng = np.random.default_rng(0)
    for passes in (1, 2, 16):
        values = np.concatenate([rng.permutation(batch_values) for _ in range(passes)])
        assert _stderr(values, m) == pytest.approx(textbook, rel=1e-12)
    assert math.isnan(_stderr(np.array([1.0, 2.0, 3.0]), 1))


@pytest.mark.parametrize("method", METHODS)
def test_reported_value_is_the_bound_named_in_settings(method: str) -> None:
    # settings["reported_bound"] names the bound; the held-out value must be computed with it
    # (e.g. js reports NWJ on the JS-trained critic, not SMILE or the JS objective).
    from mibound import bounds, methods

    reported = {
        "nwj": "nwj",
        "dv": "dv",
        "mine": "dv",
        "infonce": "infonce",
        "tuba": "tuba",
        "alpha": "interpolated",
        "js": "nwj",
        "smile": "smile",
    }[method]
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(3, 16, 16, generator=g, dtype=torch.float64)
    log_a = torch.randn(3, 16, generator=g, dtype=torch.float64)
    tau, alpha = 0.7, 0.3
    extra = {
        "tuba": (log_a,),
        "interpolated": (alpha, log_a),
        "smile": (tau,),
    }.get(reported, ())
    expected = getattr(bounds, reported)(scores, *extra)
    got = methods.NEURAL[method].reported_value(scores, log_a, tau, alpha)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_group_split_keeps_copies_of_a_row_together() -> None:
    from mibound._inputs import row_groups
    from mibound.neural import _group_split

    rng = np.random.default_rng(0)
    base = rng.standard_normal((200, 2))
    rows = np.concatenate([base, base[:60]])  # 60 rows appear twice
    order = rng.permutation(rows.shape[0])
    labels, distinct = row_groups(rows[:, :1], rows[:, 1:])
    assert distinct == 200
    parts, note = _group_split(order, labels, distinct, (156, 52), batch=16)
    assert note is None
    assert sorted(np.concatenate(parts).tolist()) == list(range(260))
    sides = [set(labels[p].tolist()) for p in parts]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    # Without duplicates it is the plain split of the order.
    labels, distinct = row_groups(base[:, :1], base[:, 1:])
    order = rng.permutation(200)
    parts, note = _group_split(order, labels, distinct, (120, 40), batch=16)
    assert [p.tolist() for p in parts] == [
        order[:120].tolist(),
        order[120:160].tolist(),
        order[160:].tolist(),
    ]


def test_duplicated_rows_stay_out_of_the_test_split_and_are_reported() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 1))
    y = x + rng.standard_normal((300, 1))
    xr, yr = np.repeat(x, 2, axis=0), np.repeat(y, 2, axis=0)
    est = neural_estimate(xr, yr, "infonce", hidden=8, steps=20, eval_every=10, device="cpu")
    assert any("duplicated rows: 300 of the 600" in d for d in est.diagnostics)
    assert est.settings["split_keeps_duplicates_together"] is True
    assert est.settings["distinct_rows"] == 300
    assert est.settings["n_train"] % 2 == 0 and est.settings["n_test"] % 2 == 0
    # 50 rows repeated 10 times: too few distinct rows for disjoint splits, and it says so.
    x10, y10 = np.repeat(x[:50], 10, axis=0), np.repeat(y[:50], 10, axis=0)
    est = neural_estimate(x10, y10, "infonce", hidden=8, steps=20, eval_every=10, device="cpu")
    assert any("split with shared rows" in d for d in est.diagnostics)


def test_few_distinct_rows_fall_back_to_a_plain_split_with_a_note() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, size=(600, 1)).astype(float)
    y = (x + rng.integers(0, 2, size=(600, 1))).astype(float)
    est = neural_estimate(x, y, "infonce", hidden=8, steps=20, eval_every=10, device="cpu")
    assert any("split with shared rows" in d for d in est.diagnostics)


def test_huge_values_are_rescaled(recwarn: pytest.WarningsRecorder) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((600, 1))
    y = x + rng.standard_normal((600, 1))
    options = {"hidden": 16, "steps": 60, "eval_every": 20, "device": "cpu"}
    reference = neural_estimate(x, y, "smile", **options)
    huge = neural_estimate(x * 1e300, y, "smile", **options)
    assert huge.value == pytest.approx(reference.value, abs=1e-4)
    assert not any("bounded objective" in d for d in huge.diagnostics)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_smile_significantly_negative_under_independence_says_so() -> None:
    # Independent data: SMILE's held-out value is often below 0 with an interval excluding 0
    # (its bias; the interval is sampling noise only). Every such value carries a diagnostic.
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((1000, 2)), rng.standard_normal((1000, 2))
    est = neural_estimate(x, y, "smile", seed=5, steps=300, device="cpu")
    assert est.ci[1] < 0  # the case the diagnostic is for (seed chosen so)
    assert any(d.startswith("significantly negative") for d in est.diagnostics)
    assert "not the training randomness" in est.settings["interval_covers"]


def test_y_copy_of_x_is_flagged() -> None:
    x = np.random.default_rng(9).standard_normal((600, 2))
    est = neural_estimate(x, 2 * x + 1, "infonce", hidden=8, steps=20, eval_every=10, device="cpu")
    assert any(d.startswith("x identical to y") for d in est.diagnostics)
