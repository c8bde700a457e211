"""Tests of mibound.bounds against closed forms (float64, fixed seeds, Monte Carlo tolerances)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mibound import bounds
from mibound.models import LinearGaussian

DTYPE = torch.float64

# --------------------------------------------------------------------------------------------
# Correlated Gaussian helpers: d independent pairs (x_i, z_i) with correlation rho.
# --------------------------------------------------------------------------------------------


def gaussian_mi(rho: float, d: int) -> float:
    return -0.5 * d * math.log(1 - rho**2)


def sample_pairs(b: int, rho: float, d: int, g: torch.Generator, batches: int = 1):
    x = torch.randn(batches, b, d, generator=g, dtype=DTYPE)
    e = torch.randn(batches, b, d, generator=g, dtype=DTYPE)
    z = rho * x + math.sqrt(1 - rho**2) * e
    return x, z


def optimal_scores(x: torch.Tensor, z: torch.Tensor, rho: float) -> torch.Tensor:
    """scores[..., i, j] = log p(x_i, z_j) / (p(x_i) p(z_j)), the pointwise MI."""
    xi = x.unsqueeze(-2)  # (..., B, 1, d)
    zj = z.unsqueeze(-3)  # (..., 1, B, d)
    s2 = 1 - rho**2
    quad = (rho**2 * (xi**2 + zj**2) - 2 * rho * xi * zj) / (2 * s2)
    return (-0.5 * math.log(s2) - quad).sum(-1)


def mean_and_se(values: torch.Tensor) -> tuple[float, float]:
    v = values.flatten()
    return float(v.mean()), float(v.std() / math.sqrt(v.numel()))


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


# --------------------------------------------------------------------------------------------
# Exact identities and ceilings
# --------------------------------------------------------------------------------------------

score_matrices = st.integers(2, 12).flatmap(
    lambda b: arrays(
        np.float64,
        (b, b),
        elements=st.floats(-300, 300, allow_nan=False, allow_infinity=False),
    )
)


@settings(max_examples=200, deadline=None)
@given(score_matrices)
def test_infonce_never_exceeds_log_batch(s: np.ndarray) -> None:
    scores = torch.from_numpy(s)
    b = s.shape[0]
    assert float(bounds.infonce(scores)) <= math.log(b) + 1e-9
    assert bool((bounds.infonce(scores, reduction="none") <= math.log(b) + 1e-9).all())


@settings(max_examples=100, deadline=None)
@given(
    st.integers(3, 10).flatmap(
        lambda b: arrays(np.float64, (b, b), elements=st.floats(-50, 50, allow_nan=False))
    ),
    st.floats(0.001, 1.0),
    st.floats(-5, 5),
)
def test_interpolated_ceiling(s: np.ndarray, alpha: float, log_a: float) -> None:
    scores = torch.from_numpy(s)
    b = s.shape[0]
    value = float(bounds.interpolated(scores, alpha, log_a))
    assert value <= 1 + math.log((b - 1) / alpha) + 1e-8
    # At alpha = 1 the marginal term is exactly 1: the bound is InfoNCE over B-1 candidates.
    assert float(bounds.interpolated(scores, 1.0, log_a)) <= math.log(b - 1) + 1e-8


def test_interpolated_ceiling_closed_form() -> None:
    assert bounds.interpolated_ceiling(8, 1.0) == pytest.approx(math.log(7), abs=1e-15)
    assert bounds.interpolated_ceiling(128, 0.01) == pytest.approx(1 + math.log(12700), abs=1e-12)
    # A perfect critic attains log(B - 1) at alpha = 1 (up to e^-60 terms).
    value = float(bounds.interpolated(60.0 * torch.eye(8, dtype=DTYPE), 1.0))
    assert value == pytest.approx(math.log(7), abs=1e-12)


def _interpolated_alpha1_by_hand(s: list[list[float]]) -> float:
    """alpha = 1 by its definition: mean over i, l != i of S_ii - log mean_{j != l} e^{S_ij}."""
    b = len(s)
    total = 0.0
    for i in range(b):
        for left_out in range(b):
            if left_out == i:
                continue
            row = [s[i][j] for j in range(b) if j != left_out]
            top = max(row)
            log_mean = top + math.log(math.fsum(math.exp(v - top) for v in row) / (b - 1))
            total += s[i][i] - log_mean
    return total / (b * (b - 1))


@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_interpolated_leave_one_out_when_one_negative_dominates(
    dtype: torch.dtype, tol: float
) -> None:
    # B = 8, all scores 0 except S[i, i+1 mod 8] = 40: leaving z_{i+1} out of row i must not
    # be computed as a difference of two sums dominated by e^40 (that overstated the bound:
    # -32.340 instead of -32.618 in float64, worse in float32).
    s = [[40.0 if j == (i + 1) % 8 else 0.0 for j in range(8)] for i in range(8)]
    expected = _interpolated_alpha1_by_hand(s)
    assert expected == pytest.approx(-32.6178, abs=1e-4)
    value = float(bounds.interpolated(torch.tensor(s, dtype=dtype), 1.0))
    assert value == pytest.approx(expected, abs=tol * abs(expected))
    scores = torch.tensor(s, dtype=dtype, requires_grad=True)
    bounds.interpolated(scores, 0.5, 1.0).backward()
    assert bool(torch.isfinite(scores.grad).all())


def test_perfect_critic_hits_infonce_ceiling() -> None:
    scores = 100.0 * torch.eye(16, dtype=DTYPE)
    assert float(bounds.infonce(scores)) == pytest.approx(math.log(16), abs=1e-12)


def test_zero_critic_gives_zero() -> None:
    scores = torch.zeros(8, 8, dtype=DTYPE)
    for fn in (bounds.nwj, bounds.dv, bounds.infonce, bounds.smile, bounds.tuba):
        assert float(fn(scores)) == pytest.approx(0.0, abs=1e-12)
    assert float(bounds.interpolated(scores, 0.3)) == pytest.approx(0.0, abs=1e-12)


def test_dv_dominates_nwj(gen: torch.Generator) -> None:
    scores = torch.randn(20, 32, 32, generator=gen, dtype=DTYPE) * 2
    # log m <= m - 1 for the off-diagonal mean m, so DV >= NWJ on every matrix.
    assert bool((bounds.dv(scores) >= bounds.nwj(scores) - 1e-12).all())


def test_tuba_identity_with_constant_baseline(gen: torch.Generator) -> None:
    scores = torch.randn(5, 16, 16, generator=gen, dtype=DTYPE)
    assert torch.allclose(bounds.tuba(scores, 0.0), bounds.nwj(scores), atol=1e-12)
    c = 0.7
    b = scores.shape[-1]
    off = ~torch.eye(b, dtype=torch.bool)
    m = scores.exp()[:, off].mean(-1)
    expected = bounds.nwj(scores) + m * (1 - math.exp(-c)) - c
    assert torch.allclose(bounds.tuba(scores, c), expected, atol=1e-12)


def _interpolated_reference(s: torch.Tensor, alpha: float, log_a: torch.Tensor) -> float:
    """Straightforward loops over rows i and left-out index l (see bounds.interpolated)."""
    b = s.shape[0]
    total = 0.0
    for i in range(b):
        a = math.exp(float(log_a[i]))
        others = [k for k in range(b) if k != i]
        joint = 0.0
        for left_out in others:
            members = [i] + [k for k in others if k != left_out]
            m = sum(math.exp(float(s[i, k])) for k in members) / (b - 1)
            joint += float(s[i, i]) - math.log(alpha * m + (1 - alpha) * a)
        joint /= b - 1
        m_neg = sum(math.exp(float(s[i, k])) for k in others) / (b - 1)
        marginal = sum(
            math.exp(float(s[i, j])) / (alpha * m_neg + (1 - alpha) * a) for j in others
        ) / (b - 1)
        total += 1 + joint - marginal
    return total / b


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.01])
def test_interpolated_matches_reference(gen: torch.Generator, alpha: float) -> None:
    s = torch.randn(7, 7, generator=gen, dtype=DTYPE) * 2
    log_a = torch.randn(7, generator=gen, dtype=DTYPE)
    got = float(bounds.interpolated(s, alpha, log_a))
    assert got == pytest.approx(_interpolated_reference(s, alpha, log_a), abs=1e-10)


def test_smile_infinite_tau_is_dv(gen: torch.Generator) -> None:
    scores = torch.randn(3, 10, 10, generator=gen, dtype=DTYPE) * 4
    assert torch.allclose(bounds.smile(scores, math.inf), bounds.dv(scores), atol=1e-12)
    assert torch.allclose(bounds.smile(scores, 1e6), bounds.dv(scores), atol=1e-12)
    assert not torch.allclose(bounds.smile(scores, 0.5), bounds.dv(scores))


def test_smile_clips_only_the_partition_term() -> None:
    # Song & Ermon (2020): the joint term mean_i f(x_i, z_i) is not clipped. Diagonal 7, +9
    # above and -9 below it: with τ = 5 the partition term is log((e^5 + e^-5)/2) = log cosh 5.
    ones = torch.ones(6, 6, dtype=DTYPE)
    scores = 7.0 * torch.eye(6, dtype=DTYPE) + 9.0 * (ones.triu(1) - ones.tril(-1))
    expected = 7.0 - math.log(math.cosh(5.0))
    assert float(bounds.smile(scores, 5.0)) == pytest.approx(expected, abs=1e-12)


def test_reduction_none_means_to_the_bound(gen: torch.Generator) -> None:
    scores = torch.randn(4, 9, 9, generator=gen, dtype=DTYPE)
    fns = {
        "nwj": bounds.nwj,
        "dv": bounds.dv,
        "infonce": bounds.infonce,
        "js": bounds.js,
        "smile": bounds.smile,
        "tuba": lambda s, **kw: bounds.tuba(s, 0.3, **kw),
        "alpha": lambda s, **kw: bounds.interpolated(s, 0.2, **kw),
    }
    for name, fn in fns.items():
        terms = fn(scores, reduction="none")
        assert terms.shape == (4, 9), name
        assert torch.allclose(terms.mean(-1), fn(scores), atol=1e-12), name


# --------------------------------------------------------------------------------------------
# Statistical tests with the optimal critic on correlated Gaussians
# --------------------------------------------------------------------------------------------

RHO, D = 0.8, 2
TRUE_MI = gaussian_mi(RHO, D)  # 1.0217 nats


@pytest.fixture(scope="module")
def optimal_batches() -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    x, z = sample_pairs(64, RHO, D, g, batches=400)
    return optimal_scores(x, z, RHO)  # (400, 64, 64)


def test_nwj_with_optimal_critic_is_unbiased(optimal_batches: torch.Tensor) -> None:
    mean, se = mean_and_se(bounds.nwj(optimal_batches))
    assert abs(mean - TRUE_MI) < 4 * se


def test_dv_with_optimal_critic_is_close(optimal_batches: torch.Tensor) -> None:
    mean, se = mean_and_se(bounds.dv(optimal_batches))
    # The plug-in bias chi^2 / (2M) is below 0.01 nats here (M = 64 * 63 negatives).
    assert abs(mean - TRUE_MI) < 4 * se + 0.01


def test_smile_with_optimal_critic_is_close(optimal_batches: torch.Tensor) -> None:
    mean, se = mean_and_se(bounds.smile(optimal_batches, tau=5.0))
    assert abs(mean - TRUE_MI) < 4 * se + 0.01


def test_tuba_is_maximised_at_unit_baseline(optimal_batches: torch.Tensor) -> None:
    # Population value with the pointwise-MI critic: I + 1 - c - exp(-c), maximal at c = 0.
    for c in (-0.5, 0.0, 0.5):
        mean, se = mean_and_se(bounds.tuba(optimal_batches, c))
        assert abs(mean - (TRUE_MI + 1 - c - math.exp(-c))) < 4 * se


def test_interpolated_is_a_lower_bound(optimal_batches: torch.Tensor) -> None:
    for alpha in (1.0, 0.5, 0.01):
        mean, se = mean_and_se(bounds.interpolated(optimal_batches, alpha))
        assert mean <= TRUE_MI + 4 * se
    # Small alpha is nearly NWJ: close to the truth.
    mean, se = mean_and_se(bounds.interpolated(optimal_batches, 0.01))
    assert abs(mean - TRUE_MI) < 4 * se + 0.02


def test_infonce_approaches_mi_from_below() -> None:
    g = torch.Generator().manual_seed(11)
    means = []
    for b, batches in ((4, 2000), (32, 300), (256, 20)):
        x, z = sample_pairs(b, RHO, D, g, batches=batches)
        mean, se = mean_and_se(bounds.infonce(optimal_scores(x, z, RHO)))
        assert mean <= TRUE_MI + 3 * se
        assert mean <= math.log(b)
        means.append(mean)
    assert means[0] < means[1] < means[2]
    assert means[2] > TRUE_MI - 0.05


def test_js_objective_is_maximised_by_pointwise_mi(optimal_batches: torch.Tensor) -> None:
    # d/dc J(f* + c) = E_p[sigmoid(-f*)] - E_q[sigmoid(f*)] = 0: no offset at the optimum.
    base = bounds.js(optimal_batches)
    for c in (-0.3, 0.3):
        diff = bounds.js(optimal_batches + c) - base
        mean, se = mean_and_se(diff)
        assert mean < -3 * se


def test_js_trained_critic_evaluated_by_nwj_needs_no_offset() -> None:
    """Train f(x,z) = a xz + b (x^2 + z^2) + c with JS; NWJ of it recovers the MI."""
    rho = 0.8
    g = torch.Generator().manual_seed(3)
    params = torch.zeros(3, dtype=DTYPE, requires_grad=True)
    opt = torch.optim.Adam([params], lr=0.05)

    def critic(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        xi, zj = x.unsqueeze(-1), z.unsqueeze(-2)
        return params[0] * xi * zj + params[1] * (xi**2 + zj**2) + params[2]

    for _ in range(600):
        x, z = sample_pairs(128, rho, 1, g)
        loss = -bounds.js(critic(x[0, :, 0], z[0, :, 0]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    s2 = 1 - rho**2
    optimum = torch.tensor([rho / s2, -(rho**2) / (2 * s2), -0.5 * math.log(s2)], dtype=DTYPE)
    assert torch.allclose(params.detach(), optimum, atol=0.1)
    with torch.no_grad():
        x, z = sample_pairs(128, rho, 1, g, batches=200)
        values = bounds.nwj(critic(x[..., 0], z[..., 0]))
    mean, se = mean_and_se(values)
    assert abs(mean - gaussian_mi(rho, 1)) < 4 * se + 0.03


def test_mine_average_value_and_gradient(gen: torch.Generator) -> None:
    s1 = torch.randn(16, 16, generator=gen, dtype=DTYPE)
    s2 = (torch.randn(16, 16, generator=gen, dtype=DTYPE) + 1.0).requires_grad_()
    # rate = 1: MINE's gradient is DV's gradient.
    mine = bounds.MineAverage(rate=1.0)
    value = mine(s2)
    assert float(value) == pytest.approx(float(bounds.dv(s2)), abs=1e-12)
    (g_mine,) = torch.autograd.grad(value, s2)
    (g_dv,) = torch.autograd.grad(bounds.dv(s2), s2)
    assert torch.allclose(g_mine, g_dv, atol=1e-12)
    # With history the marginal gradient is scaled by (current mean) / (moving average).
    mine = bounds.MineAverage(rate=0.1)
    mine(s1)
    value = mine(s2)
    (g_mine,) = torch.autograd.grad(value, s2)
    off = ~torch.eye(16, dtype=torch.bool)
    m1, m2 = s1.exp()[off].mean(), s2.detach().exp()[off].mean()
    ratio = m2 / (0.9 * m1 + 0.1 * m2)
    expected = g_dv.clone()
    expected[off] = g_dv[off] * ratio
    assert torch.allclose(g_mine, expected, atol=1e-12)
    with pytest.raises(ValueError, match="^rate"):
        bounds.MineAverage(rate=0.0)


# --------------------------------------------------------------------------------------------
# Known-density bounds on the linear-Gaussian latent model
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lg_model() -> LinearGaussian:
    W = torch.tensor([[2.0, 0.3], [0.5, 1.5], [-1.0, 0.8], [0.2, -0.4]], dtype=DTYPE)
    return LinearGaussian(W, 0.7)


def _log_weights(model: LinearGaussian, x, z0, q, k: int, g: torch.Generator):
    """log w for K proposal samples from q (a Distribution batched over n), and for z0."""
    eps = torch.randn(k, *q.batch_shape, q.event_shape[0], generator=g, dtype=DTYPE)
    zk = q.loc + (q.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)
    log_w = model.log_joint(x, zk) - q.log_prob(zk)
    log_w0 = model.log_joint(x, z0) - q.log_prob(z0)
    log_lik0 = model.likelihood(z0).log_prob(x)
    return log_w, log_w0, log_lik0


def test_exact_posterior_makes_both_sides_equal_sample_by_sample(lg_model) -> None:
    g = torch.Generator().manual_seed(5)
    x, z0 = lg_model.sample(2000, generator=g)
    q = lg_model.posterior(x)
    pointwise = lg_model.likelihood(z0).log_prob(x) - lg_model.marginal().log_prob(x)
    for k in (1, 2, 10, 100):
        log_w, log_w0, log_lik0 = _log_weights(lg_model, x, z0, q, k, g)
        lower = bounds.multisample_lower(log_w, log_w0, log_lik0, reduction="none")
        upper = bounds.iwae_upper(log_w, log_lik0, reduction="none")
        assert torch.allclose(lower, pointwise, atol=1e-6)
        assert torch.allclose(upper, pointwise, atol=1e-6)
    mean, se = mean_and_se(pointwise)
    assert abs(mean - lg_model.mutual_information()) < 4 * se
    # K = 0 is Barber-Agakov.
    ba = bounds.barber_agakov(q.log_prob(z0), lg_model.prior().log_prob(z0), reduction="none")
    empty = log_w[:0]
    assert torch.allclose(bounds.multisample_lower(empty, log_w0, log_lik0, reduction="none"), ba)


def _perturbed(model: LinearGaussian, x, shift: torch.Tensor, scale: float):
    post = model.posterior(x)
    return torch.distributions.MultivariateNormal(
        post.loc + shift, scale_tril=math.sqrt(scale) * post.scale_tril
    )


def _chi2(model: LinearGaussian, shift: torch.Tensor, scale: float) -> float:
    """chi^2(p(z|x) || q(z|x)) for q = N(mean + shift, scale * S) (same for every x)."""
    cov = model._posterior_cov()
    delta = torch.linalg.solve(torch.linalg.cholesky(cov), shift)
    k = cov.shape[0]
    one_plus = (scale / math.sqrt(2 * scale - 1)) ** k * math.exp(
        float(delta @ delta) / (2 * scale - 1)
    )
    return one_plus - 1


@pytest.mark.slow
def test_perturbed_encoder_sandwich_orders_and_width(lg_model) -> None:
    g = torch.Generator().manual_seed(9)
    truth = lg_model.mutual_information()
    shift, scale = torch.tensor([0.15, -0.1], dtype=DTYPE), 1.3
    chi2 = _chi2(lg_model, shift, scale)
    x, z0 = lg_model.sample(20000, generator=g)
    q = _perturbed(lg_model, x, shift, scale)
    k_max = 256
    log_w, log_w0, log_lik0 = _log_weights(lg_model, x, z0, q, k_max, g)
    lowers, uppers = [], []
    for k in (1, 4, 16, 64, 256):
        lower = bounds.multisample_lower(log_w[:k], log_w0, log_lik0, reduction="none")
        upper = bounds.iwae_upper(log_w[:k], log_lik0, reduction="none")
        lm, ls = mean_and_se(lower)
        um, us = mean_and_se(upper)
        assert lm <= truth + 4 * ls
        assert um >= truth - 4 * us
        lowers.append(lower)
        uppers.append(upper)
        if k >= 64:
            width, _ = mean_and_se(upper - lower)
            assert k * width == pytest.approx(chi2, rel=0.15)
    for a, b in itertools.pairwise(lowers):
        dm, dse = mean_and_se(b - a)
        assert dm >= -3 * dse
    for a, b in itertools.pairwise(uppers):
        dm, dse = mean_and_se(b - a)
        assert dm <= 3 * dse
    # The bounds are informative: the sandwich at K = 256 is narrow.
    assert float((uppers[-1] - lowers[-1]).mean()) < 0.01


def test_lautum_bounds_bracket_closed_form(lg_model) -> None:
    g = torch.Generator().manual_seed(21)
    truth = lg_model.lautum_information()
    assert truth == pytest.approx(
        float((lg_model.W**2).sum() / lg_model.sigma**2) - lg_model.mutual_information()
    )
    x, z0 = lg_model.sample(20000, generator=g)
    z_indep = torch.randn(z0.shape, generator=g, dtype=DTYPE)
    log_lik_marg = lg_model.likelihood(z_indep).log_prob(x)
    q = _perturbed(lg_model, x, torch.tensor([0.3, 0.2], dtype=DTYPE), 1.5)
    for k in (1, 16):
        log_w, log_w0, _ = _log_weights(lg_model, x, z0, q, k, g)
        lm, ls = mean_and_se(bounds.lautum_lower(log_w, log_lik_marg, reduction="none"))
        um, us = mean_and_se(bounds.lautum_upper(log_w, log_w0, log_lik_marg, reduction="none"))
        assert lm <= truth + 4 * ls
        assert um >= truth - 4 * us
    # With the exact posterior both sides equal log p(x) - log p(x|z') sample by sample.
    log_w, log_w0, _ = _log_weights(lg_model, x, z0, lg_model.posterior(x), 3, g)
    exact = lg_model.marginal().log_prob(x) - log_lik_marg
    lower = bounds.lautum_lower(log_w, log_lik_marg, reduction="none")
    upper = bounds.lautum_upper(log_w, log_w0, log_lik_marg, reduction="none")
    assert torch.allclose(lower, exact, atol=1e-6)
    assert torch.allclose(upper, exact, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Gradients and shapes
# --------------------------------------------------------------------------------------------

SCORE_FNS = {
    "nwj": bounds.nwj,
    "dv": bounds.dv,
    "infonce": bounds.infonce,
    "js": bounds.js,
    "smile": lambda s: bounds.smile(s, tau=1.0),
    "tuba": lambda s: bounds.tuba(s, 0.1),
    "alpha": lambda s: bounds.interpolated(s, 0.5),
}


@pytest.mark.parametrize("name", list(SCORE_FNS))
def test_score_bounds_gradients_and_batching(name: str, gen: torch.Generator) -> None:
    fn = SCORE_FNS[name]
    scores = torch.randn(2, 3, 6, 6, generator=gen, dtype=DTYPE, requires_grad=True)
    out = fn(scores)
    assert out.shape == (2, 3)
    out.sum().backward()
    assert scores.grad is not None and bool(torch.isfinite(scores.grad).all())
    assert bool((scores.grad.abs().sum((-2, -1)) > 0).all())
    for i in range(2):
        for j in range(3):
            assert float(fn(scores[i, j])) == pytest.approx(float(out[i, j]), abs=1e-12)


def test_tuba_and_interpolated_gradients_reach_baseline(gen: torch.Generator) -> None:
    scores = torch.randn(6, 6, generator=gen, dtype=DTYPE)
    log_a = torch.zeros(6, dtype=DTYPE, requires_grad=True)
    (bounds.tuba(scores, log_a) + bounds.interpolated(scores, 0.3, log_a)).backward()
    assert bool((log_a.grad.abs() > 0).all())


def test_log_weight_bounds_gradients_and_batching(gen: torch.Generator) -> None:
    log_w = torch.randn(5, 3, 7, generator=gen, dtype=DTYPE, requires_grad=True)
    log_w0 = torch.randn(3, 7, generator=gen, dtype=DTYPE, requires_grad=True)
    log_lik0 = torch.randn(3, 7, generator=gen, dtype=DTYPE, requires_grad=True)
    outs = [
        bounds.multisample_lower(log_w, log_w0, log_lik0),
        bounds.iwae_upper(log_w, log_lik0),
        bounds.lautum_lower(log_w, log_lik0),
        bounds.lautum_upper(log_w, log_w0, log_lik0),
        bounds.barber_agakov(log_w0, log_lik0),
    ]
    for out in outs:
        assert out.shape == (3,)
    sum(c * o.sum() for c, o in zip((1.0, 2.0, 3.0, 5.0, 7.0), outs, strict=False)).backward()
    for t in (log_w, log_w0, log_lik0):
        assert t.grad is not None and bool((t.grad.abs() > 0).all())
    single = bounds.iwae_upper(log_w[:, 1], log_lik0[1])
    assert float(single) == pytest.approx(float(outs[1][1]), abs=1e-12)


def test_float32_works(gen: torch.Generator) -> None:
    scores = torch.randn(8, 8, generator=gen)
    assert bounds.nwj(scores).dtype == torch.float32
    assert bounds.interpolated(scores, 0.5).dtype == torch.float32


# --------------------------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "error", "pattern"),
    [
        (torch.zeros(4, 5), ValueError, "^scores: expected a square"),
        (torch.zeros(4), ValueError, "^scores: expected a square"),
        (torch.zeros(1, 1), ValueError, "^scores: expected a batch of at least 2"),
        (torch.tensor([[0.0, float("nan")], [0.0, 0.0]]), ValueError, "^scores: expected finite"),
        (torch.tensor([[0.0, float("inf")], [0.0, 0.0]]), ValueError, "^scores: expected finite"),
        (np.zeros((3, 3)), TypeError, "^scores: expected a torch.Tensor"),
        (torch.zeros(3, 3, dtype=torch.int64), TypeError, "^scores: expected a floating"),
    ],
)
@pytest.mark.parametrize("name", list(SCORE_FNS))
def test_bad_scores(name: str, scores, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        SCORE_FNS[name](scores)


def test_bad_options() -> None:
    s = torch.zeros(4, 4)
    with pytest.raises(ValueError, match="^alpha"):
        bounds.interpolated(s, 0.0)
    with pytest.raises(ValueError, match="^alpha"):
        bounds.interpolated(s, 1.5)
    with pytest.raises(ValueError, match="^scores: interpolated needs"):
        bounds.interpolated(torch.zeros(2, 2), 0.5)
    with pytest.raises(ValueError, match="^tau"):
        bounds.smile(s, tau=0.0)
    with pytest.raises(ValueError, match="^reduction"):
        bounds.nwj(s, reduction="sum")
    with pytest.raises(ValueError, match="^log_baseline"):
        bounds.tuba(s, torch.zeros(3))
    with pytest.raises(ValueError, match="^log_baseline: expected finite"):
        bounds.tuba(s, torch.full((4,), float("nan")))


def test_bad_log_weights() -> None:
    log_w = torch.zeros(3, 5)
    v = torch.zeros(5)
    with pytest.raises(ValueError, match="^log_w: expected at least K = 1"):
        bounds.iwae_upper(torch.zeros(0, 5), v)
    with pytest.raises(ValueError, match="^log_w: expected at least K = 1"):
        bounds.lautum_lower(torch.zeros(0, 5), v)
    with pytest.raises(ValueError, match="^log_w: expected log-weights"):
        bounds.iwae_upper(torch.tensor(0.0), v)
    with pytest.raises(ValueError, match="^log_lik0: expected a shape broadcastable"):
        bounds.iwae_upper(log_w, torch.zeros(4))
    with pytest.raises(ValueError, match="^log_w0: expected a shape broadcastable"):
        bounds.multisample_lower(log_w, torch.zeros(2, 3), v)
    with pytest.raises(ValueError, match="^log_lik_marginal"):
        bounds.lautum_upper(log_w, v, torch.zeros(6))
    with pytest.raises(ValueError, match="^log_w: expected finite"):
        bounds.iwae_upper(torch.full((3, 5), float("nan")), v)
    with pytest.raises(ValueError, match="^log_lik0: expected finite"):
        bounds.multisample_lower(log_w, v, torch.full((5,), float("inf")))
    with pytest.raises(TypeError, match="^log_q_z0"):
        bounds.barber_agakov([0.0], v)
    with pytest.raises(ValueError, match="^iwae_upper: the result is not finite"):
        bounds.iwae_upper(torch.full((3, 5), -math.inf), v)
