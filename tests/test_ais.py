"""Tests of the AIS / BDMC sandwich (mibound.ais) on the linear-Gaussian model (float64)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, StudentT

from mibound import ais_sandwich
from mibound._random import torch_generator
from mibound.ais import sigmoid_schedule
from mibound.models import LinearGaussian

MI = 3.0


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Tiny tensors: intra-op threads only add contention on a shared CI machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model() -> LinearGaussian:
    return LinearGaussian.with_mutual_information(MI, k=2, d=5, seed=1, dtype=torch.float64)


def perturbed(model: LinearGaussian, shift: float = 0.5, inflate: float = 3.0):
    """The exact posterior with a shifted mean and an inflated covariance."""

    def encoder(x: torch.Tensor) -> MultivariateNormal:
        post = model.posterior(x)
        return MultivariateNormal(
            post.loc + shift, covariance_matrix=inflate * post.covariance_matrix
        )

    return encoder


def pointwise_truth(model: LinearGaussian, n: int, seed: int) -> float:
    """Mean of log p(x|z0) - log p(x) on the data that ais_sandwich draws with this seed."""
    x, z0 = model.sample(n, generator=torch_generator(seed, "ais.data"))
    return float((model.likelihood(z0).log_prob(x) - model.marginal().log_prob(x)).mean())


def test_exact_posterior_gives_equal_sides(model):
    # ℓ = log p(x, z) - log p(z|x) = log p(x) everywhere: both sides are the pointwise MI.
    b = ais_sandwich(model, model.posterior, n=32, steps=5, chains=3, seed=3)
    truth = pointwise_truth(model, 32, 3)
    assert b.lower == pytest.approx(truth, abs=1e-10)
    assert b.upper == pytest.approx(truth, abs=1e-10)
    assert b.method == "ais"
    assert b.true_value == pytest.approx(MI, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perturbed_encoder_brackets_truth(model, seed):
    n = 96
    b = ais_sandwich(model, perturbed(model), n=n, steps=30, chains=3, seed=seed)
    # Against the closed form: the sides also carry the sampling error of x (their stderr).
    assert b.lower - 3 * b.lower_stderr <= MI <= b.upper + 3 * b.upper_stderr
    # Against the MI of these very data points: only the AIS error remains.
    truth = pointwise_truth(model, n, seed)
    tol = 3 * b.settings["width_stderr"]
    assert b.lower <= truth + tol
    assert b.upper >= truth - tol
    assert b.width is not None and b.width >= -tol


@pytest.fixture(scope="module")
def prior_runs(model) -> dict[int, object]:
    return {
        steps: ais_sandwich(model, None, n=128, steps=steps, chains=4, hmc_steps=4, seed=5)
        for steps in (10, 50, 300)
    }


def test_width_shrinks_with_steps(prior_runs):
    w10, w50, w300 = (prior_runs[t].width for t in (10, 50, 300))
    se = [prior_runs[t].settings["width_stderr"] for t in (10, 50, 300)]
    assert w10 - w50 > 3 * math.hypot(se[0], se[1])
    assert w50 - w300 > 3 * math.hypot(se[1], se[2])
    assert w300 < 0.2


def test_prior_as_q_brackets_truth_with_enough_steps(model, prior_runs):
    b = prior_runs[300]
    truth = pointwise_truth(model, 128, 5)
    tol = 3 * b.settings["width_stderr"] + 1e-3
    assert b.lower <= truth + tol
    assert b.upper >= truth - tol
    assert b.lower - 3 * b.lower_stderr <= MI <= b.upper + 3 * b.upper_stderr
    # The "q is the prior ... needs many steps" note only where the sandwich is still wide.
    wide = b.width > max(0.05, 4 * b.settings["width_stderr"])
    assert any("q is the prior" in d for d in b.diagnostics) == wide
    assert any("q is the prior" in d for d in prior_runs[10].diagnostics)


def test_fitted_like_encoder_beats_prior(model, prior_runs):
    b = ais_sandwich(
        model, perturbed(model, 0.2, 1.5), n=48, steps=10, chains=3, hmc_steps=4, seed=5
    )
    assert b.width < prior_runs[10].width


def test_acceptance_near_target(prior_runs):
    s = prior_runs[50].settings
    for key in ("accept_forward", "accept_reverse"):
        assert 0.45 < s[key] < 0.85
    assert s["target_accept"] == 0.65
    assert s["steps"] == 50 and s["chains"] == 4 and s["n"] == 128 and s["hmc_steps"] == 4
    assert s["seconds"] > 0 and s["pilot_chains"] == 1
    # the tuned step sizes follow the posterior's scale: wide at β = 0 (prior), narrow at β = 1
    assert s["step_size_at_beta0"] > 2 * s["step_size_at_beta1"]


def test_far_acceptance_is_flagged(model):
    b = ais_sandwich(model, None, n=8, steps=6, chains=2, step_size=5.0, adapt=False, seed=0)
    assert b.settings["accept_forward"] < 0.45
    assert any("acceptance" in d for d in b.diagnostics)


def test_fixed_step_size_brackets_truth(model):
    b = ais_sandwich(model, perturbed(model), n=64, steps=40, chains=2, step_size=0.3, adapt=False)
    truth = pointwise_truth(model, 64, 0)
    tol = 3 * b.settings["width_stderr"]
    assert b.lower <= truth + tol <= b.upper + 2 * tol


def test_reproducible_with_seed(model):
    kw = {"n": 16, "steps": 8, "chains": 2}
    a = ais_sandwich(model, perturbed(model), seed=7, **kw)
    b = ais_sandwich(model, perturbed(model), seed=7, **kw)
    c = ais_sandwich(model, perturbed(model), seed=8, **kw)
    assert (a.lower, a.upper) == (b.lower, b.upper)
    assert (a.lower, a.upper) != (c.lower, c.upper)


def test_global_rng_untouched(model):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    ais_sandwich(model, None, n=4, steps=3, chains=2)
    assert torch.equal(before, torch.get_rng_state())


def test_explicit_schedule_matches_named(model):
    kw = {"n": 16, "chains": 2, "seed": 2}
    a = ais_sandwich(model, None, steps=12, schedule="sigmoid", **kw)
    b = ais_sandwich(model, None, schedule=sigmoid_schedule(12), **kw)
    assert (a.lower, a.upper) == (b.lower, b.upper)
    assert b.settings["schedule"] == "custom" and len(b.settings["betas"]) == 13


def test_linear_schedule_and_batches(model):
    b = ais_sandwich(
        model, perturbed(model), n=40, steps=20, chains=2, schedule="linear", batch_size=16
    )
    truth = pointwise_truth(model, 40, 0)
    tol = 3 * b.settings["width_stderr"] + 1e-3
    assert b.lower <= truth + tol and b.upper >= truth - tol


def test_float32(model):
    model32 = LinearGaussian(model.W.float(), 1.0)
    b = ais_sandwich(model32, perturbed(model32), n=64, steps=30, chains=2, seed=4)
    assert b.settings["dtype"] == "float32"
    assert b.lower - 3 * b.lower_stderr <= MI <= b.upper + 3 * b.upper_stderr
    # Same data and chains in float64: the float32 width agrees within Monte Carlo error.
    b64 = ais_sandwich(model, perturbed(model), n=64, steps=30, chains=2, seed=4)
    assert abs(b.width - b64.width) < 3 * b64.settings["width_stderr"]
    assert -0.1 <= b.width < 1.0


def test_dtype_argument_copies_the_model(model):
    b = ais_sandwich(model, model.posterior, n=16, steps=4, chains=2, dtype=torch.float32)
    assert b.settings["dtype"] == "float32"
    assert model.W.dtype == torch.float64  # the caller's model is not converted
    assert abs(b.width) < 1e-4  # exact posterior of the converted copy: equal sides
    assert math.isfinite(b.lower)


def test_non_gaussian_encoder(model):
    def encoder(x: torch.Tensor) -> Independent:
        loc = model.posterior(x).loc
        return Independent(StudentT(5.0, loc, 0.5 * torch.ones_like(loc)), 1)

    a = ais_sandwich(model, encoder, n=24, steps=15, chains=2, seed=1)
    b = ais_sandwich(model, encoder, n=24, steps=15, chains=2, seed=1)
    assert (a.lower, a.upper) == (b.lower, b.upper)
    truth = pointwise_truth(model, 24, 1)
    tol = 3 * a.settings["width_stderr"] + 1e-3
    assert a.lower <= truth + tol and a.upper >= truth - tol


def test_sigmoid_schedule_shape():
    betas = sigmoid_schedule(10)
    assert betas.shape == (11,)
    assert betas[0] == 0.0 and betas[-1] == 1.0
    assert bool((betas[1:] > betas[:-1]).all())
    with pytest.raises(ValueError, match="steps"):
        sigmoid_schedule(0)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.5}, ValueError, "steps"),
        ({"chains": 0}, ValueError, "chains"),
        ({"n": 0}, ValueError, "n"),
        ({"hmc_steps": 0}, ValueError, "hmc_steps"),
        ({"step_size": -0.1}, ValueError, "step_size"),
        ({"target_accept": 1.0}, ValueError, "target_accept"),
        ({"schedule": "cosine"}, ValueError, "schedule"),
        ({"schedule": torch.tensor([0.0, 0.5, 0.4, 1.0])}, ValueError, "schedule"),
        ({"schedule": torch.tensor([0.1, 0.5, 1.0])}, ValueError, "schedule"),
        ({"schedule": torch.tensor([0.0, 0.5, 0.9])}, ValueError, "schedule"),
        ({"schedule": torch.tensor([0.0, 0.5, 1.0]), "steps": 5}, ValueError, "steps"),
        ({"schedule": 3}, TypeError, "schedule"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"dtype": torch.int64}, ValueError, "dtype"),
    ],
)
def test_bad_arguments(model, kwargs, error, name):
    with pytest.raises(error, match=name):
        ais_sandwich(model, **{"n": 4, "steps": 3, "chains": 2, **kwargs})


def test_bad_encoder_and_model(model):
    with pytest.raises(TypeError, match="encoder"):
        ais_sandwich(model, "posterior", n=4, steps=3)
    with pytest.raises(TypeError, match="encoder"):
        ais_sandwich(model, lambda x: x, n=4, steps=3)
    with pytest.raises(ValueError, match="encoder"):
        ais_sandwich(model, _no_event, n=4, steps=3)
    with pytest.raises(TypeError, match="model"):
        ais_sandwich(object(), n=4, steps=3)


def _no_event(x: torch.Tensor):
    return torch.distributions.Normal(torch.zeros(x.shape[0], 2, dtype=x.dtype), 1.0)


def test_decoder_model_reproducible_and_brackets(model):
    from torch.distributions import Normal

    from mibound.models import DecoderModel

    W = model.W

    def decoder(z: torch.Tensor) -> Independent:
        return Independent(Normal(z @ W.T, torch.ones((), dtype=W.dtype)), 1)

    zeros = torch.zeros(2, dtype=W.dtype)
    wrapped = DecoderModel(decoder, Independent(Normal(zeros, zeros + 1), 1))
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = ais_sandwich(wrapped, perturbed(model), n=64, steps=30, chains=2, seed=3)
    assert torch.equal(before, torch.get_rng_state())
    b = ais_sandwich(wrapped, perturbed(model), n=64, steps=30, chains=2, seed=3)
    assert (a.lower, a.upper) == (b.lower, b.upper)
    assert a.true_value is None
    assert a.lower - 3 * a.lower_stderr <= MI <= a.upper + 3 * a.upper_stderr


def test_discrete_latent_is_rejected():
    from mibound.models import GaussianMixture

    mixture = GaussianMixture(torch.tensor([0.5, 0.5]), torch.tensor([[-2.0], [2.0]]), 1.0)
    with pytest.raises(ValueError, match="continuous latent"):
        ais_sandwich(mixture, n=4, steps=3)


def test_sandwich_dispatches_to_ais(model):
    from mibound import sandwich
    from mibound.ais import AISOptions

    options = AISOptions(steps=8, chains=2, hmc_steps=3)
    a = sandwich(model, perturbed(model), ais=options, n=16, seed=1)
    b = ais_sandwich(model, perturbed(model), n=16, steps=8, chains=2, hmc_steps=3, seed=1)
    assert a.method == "ais"
    assert (a.lower, a.upper) == (b.lower, b.upper)
    with pytest.warns(DeprecationWarning, match=r"ais=AISOptions"):
        c = sandwich(
            model, perturbed(model), method="ais", n=16, steps=8, chains=2, hmc_steps=3, seed=1
        )
    assert (c.lower, c.upper) == (b.lower, b.upper)


def test_ais_options_are_checked_when_made():
    from mibound.ais import AISOptions

    assert AISOptions() == AISOptions(steps=None, chains=8, schedule="sigmoid")
    assert AISOptions(steps=3).betas() == sigmoid_schedule(3, dtype=torch.float64).tolist()
    custom = AISOptions(schedule=torch.tensor([0.0, 0.25, 1.0]))
    assert custom.schedule == (0.0, 0.25, 1.0) and custom == AISOptions(schedule=[0, 0.25, 1])
    assert custom.betas() == [0.0, 0.25, 1.0]
    for fields, error, match in [
        ({"chains": 0}, ValueError, "chains: expected an integer >= 1"),
        ({"chains": 2.0}, TypeError, "chains"),
        ({"steps": 0}, ValueError, "steps: expected an integer >= 1"),
        ({"target_accept": 1.5}, ValueError, "target_accept"),
        ({"adapt": "yes"}, TypeError, "adapt"),
        ({"schedule": "cosine"}, ValueError, "schedule: expected 'sigmoid', 'linear'"),
        ({"schedule": [0.0, 1.0], "steps": 4}, ValueError, "steps: expected 1"),
    ]:
        with pytest.raises(error, match=match):
            AISOptions(**fields)


class _LinearDecoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(2, 3).double()

    def forward(self, z: torch.Tensor) -> Independent:
        from torch.distributions import Normal

        return Independent(Normal(self.net(z), torch.ones((), dtype=z.dtype)), 1)


def test_model_parameters_keep_requires_grad():
    from torch.distributions import Normal

    from mibound.models import DecoderModel

    decoder = _LinearDecoder()
    zeros = torch.zeros(2, dtype=torch.float64)
    wrapped = DecoderModel(decoder, Independent(Normal(zeros, zeros + 1), 1))
    assert len(list(wrapped.parameters())) == 2
    b = ais_sandwich(wrapped, n=8, steps=5, chains=2)
    assert math.isfinite(b.lower) and math.isfinite(b.upper)
    assert all(p.requires_grad for p in decoder.parameters())
    assert all(p.grad is None for p in decoder.parameters())


def test_one_step_lower_side_is_barber_agakov(model):
    # T = 1: the reverse chains never move, so -log w_rev = -ℓ(z0) for every chain and the
    # lower side is E[log p(x|z0) - ℓ(z0)] = E[log q(z0|x) - log p(z0)].
    encoder = perturbed(model)
    b = ais_sandwich(model, encoder, n=32, steps=1, chains=3, seed=6)
    x, z0 = model.sample(32, generator=torch_generator(6, "ais.data"))
    ba = (encoder(x).log_prob(z0) - model.prior().log_prob(z0)).mean()
    assert b.lower == pytest.approx(float(ba), abs=1e-10)
    assert b.upper >= b.lower


def test_hmc_transitions_preserve_a_gaussian_target(model):
    # f_β with β = 1/2, q = the prior and p(z|x) Gaussian is the Gaussian with precision
    # (P_q + P_post)/2 and mean P^-1 (P_q m_q + P_post m_post)/2. Chains started at exact
    # samples of f must keep its mean and covariance after many HMC transitions.
    from mibound.ais import _hmc_step, _State, _Target

    x, _ = model.sample(1, generator=torch.Generator().manual_seed(4))
    q, post = model.prior(), model.posterior(x)
    p_q, m_q = torch.diag(1.0 / q.variance), q.mean  # the prior is N(0, I)
    p_post, m_post = torch.linalg.inv(post.covariance_matrix[0]), post.mean[0]
    cov = torch.linalg.inv(0.5 * (p_q + p_post))
    mean = cov @ (0.5 * (p_q @ m_q + p_post @ m_post))
    chains = 20_000
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(chains, 1, 2, generator=g, dtype=torch.float64)
    z = mean + noise @ torch.linalg.cholesky(cov).T
    target = _Target(model, q, x)
    state = _State(z.clone(), target)
    eps = torch.full((chains, 1), 0.4, dtype=torch.float64)
    accepted = []
    for _ in range(30):
        state, prob = _hmc_step(state, 0.5, eps, 5, target, g)
        accepted.append(float(prob.mean()))
    assert sum(accepted) / len(accepted) > 0.5  # the chains move
    assert float(((state.z - z) ** 2).sum(-1).mean()) > 0.5 * float(torch.trace(cov))
    out = state.z[:, 0, :]
    sd = torch.sqrt(torch.diagonal(cov))
    assert bool((abs(out.mean(0) - mean) < 5 * sd / math.sqrt(chains)).all())
    sample_cov = torch.cov(out.T)
    var_se = torch.sqrt((torch.outer(torch.diagonal(cov), torch.diagonal(cov)) + cov**2) / chains)
    assert bool((abs(sample_cov - cov) < 5 * var_se).all())


def test_monte_carlo_truth_stderr_is_kept_when_the_truth_is_zero(model):
    import copy

    zero = copy.deepcopy(model)
    zero.mutual_information = lambda: 0.0
    zero.mutual_information_stderr = 0.05
    b = ais_sandwich(zero, zero.posterior, n=8, steps=1, chains=1)
    assert b.true_value == 0.0
    assert b.settings["true_value_stderr"] == 0.05
