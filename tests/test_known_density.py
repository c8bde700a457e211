"""Tests of the known-density bounds: SNIS sandwich, Lautum, known marginal, known conditional.

Closed forms: the linear-Gaussian model has exact MI, LI = ||W||_F^2 / σ² - MI and
posterior; the mixture's MI is exact enumeration plus a stratified Monte Carlo over x with its
own standard error. Tolerances are multiples of Monte Carlo standard errors.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Independent, MultivariateNormal, Normal

from mibound import known_conditional, known_marginal, lautum, sandwich
from mibound.encoders import ExactPosterior, GaussianEncoder, fit_encoder
from mibound.known_joint import snis_terms
from mibound.models import DecoderModel, GaussianMixture, LinearGaussian
from mibound.results import Bounds


def lg(mi: float = 3.0, k: int = 2, d: int = 5, seed: int = 0) -> LinearGaussian:
    return LinearGaussian.with_mutual_information(mi, k, d, seed=seed)


class Perturbed:
    """The exact posterior, shifted by ``shift`` posterior sds and widened by ``scale``."""

    def __init__(self, model: LinearGaussian, shift: float = 0.5, scale: float = 1.5) -> None:
        self.model, self.shift, self.scale = model, shift, scale

    def __call__(self, x: torch.Tensor) -> MultivariateNormal:
        post = self.model.posterior(x)
        sd = post.variance.sqrt()
        return MultivariateNormal(
            post.loc + self.shift * sd, scale_tril=self.scale * post.scale_tril
        )


def pointwise_mi(model: LinearGaussian, x: torch.Tensor, z0: torch.Tensor) -> torch.Tensor:
    return model.likelihood(z0).log_prob(x) - model.marginal().log_prob(x)


def data(model, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    return model.sample(n, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------------------------
# Exact posterior: both sides equal the pointwise MI, sample by sample, for every K
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 8, 64])
def test_exact_posterior_terms_equal_pointwise_mi(k: int) -> None:
    model = lg(mi=8.0, k=3, d=8)
    x, z0 = data(model, 300)
    lower, upper, ess = snis_terms(model, model.posterior, x, z0, k)
    expected = pointwise_mi(model, x, z0)
    torch.testing.assert_close(lower, expected, rtol=0, atol=1e-9)
    torch.testing.assert_close(upper, expected, rtol=0, atol=1e-9)
    torch.testing.assert_close(ess, torch.full_like(ess, float(k)), rtol=1e-9, atol=0)


@pytest.mark.parametrize("k", [1, 16])
def test_exact_posterior_sandwich_is_the_analytic_mi(k: int) -> None:
    model = lg(mi=8.0, k=3, d=8)
    b = sandwich(model, ExactPosterior(model), k=k, n=3000, seed=1)
    assert b.true_value == pytest.approx(8.0, abs=1e-9)
    assert abs(b.upper - b.lower) < 1e-9
    assert b.settings["width_stderr"] < 1e-9
    assert abs(b.lower - b.true_value) < 4 * b.lower_stderr
    assert b.settings["proposal"] == "exact posterior"
    assert b.diagnostics == []


def test_exact_posterior_result_does_not_depend_on_chunking() -> None:
    model = lg(mi=4.0)
    a = sandwich(model, model.posterior, k=4, n=500, seed=2)
    b = sandwich(model, model.posterior, k=4, n=500, seed=2, batch_size=37)
    assert b.settings["batch_size"] == 37
    assert abs(a.lower - b.lower) < 1e-9 and abs(a.upper - b.upper) < 1e-9


def test_mixture_exact_posterior_terms_equal_enumerated_pointwise_mi() -> None:
    model = GaussianMixture.separated(3, 2, 2.5)
    x, z0 = data(model, 200)
    lower, upper, _ = snis_terms(model, model.posterior, x, z0, 5)
    expected = model.likelihood(z0).log_prob(x) - model.log_marginal(x)
    torch.testing.assert_close(lower, expected, rtol=0, atol=1e-9)
    torch.testing.assert_close(upper, expected, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Perturbed encoder: a real sandwich around the truth, monotone in K
# --------------------------------------------------------------------------------------------


def test_perturbed_encoder_brackets_truth_over_many_seeds() -> None:
    model = lg(mi=3.0)
    encoder = Perturbed(model)
    truth = model.mutual_information()
    lowers, uppers = [], []
    for seed in range(20):
        b = sandwich(model, encoder, k=8, n=400, seed=seed)
        assert b.lower <= truth + 4 * b.lower_stderr, (seed, b)
        assert b.upper >= truth - 4 * b.upper_stderr, (seed, b)
        lowers.append(b.lower)
        uppers.append(b.upper)
    lo = torch.tensor(lowers, dtype=torch.float64)
    up = torch.tensor(uppers, dtype=torch.float64)
    assert lo.mean() <= truth + 3 * lo.std() / math.sqrt(20)
    assert up.mean() >= truth - 3 * up.std() / math.sqrt(20)
    # The perturbation opens a real gap: the sandwich is not trivially closed.
    assert (up - lo).mean() > 0.05


def test_lower_non_decreasing_and_upper_non_increasing_in_k() -> None:
    model = lg(mi=3.0)
    encoder = Perturbed(model, shift=0.8, scale=1.8)
    x, z0 = data(model, 3000, seed=5)
    terms = {}
    for i, k in enumerate([1, 4, 16, 64]):
        with torch.random.fork_rng():
            torch.manual_seed(100 + i)
            terms[k] = snis_terms(model, encoder, x, z0, k)[:2]

    def paired(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
        d = b - a
        return d.mean().item(), d.std().item() / math.sqrt(len(d))

    ks = sorted(terms)
    for small, large in itertools.pairwise(ks):
        gain, se = paired(terms[small][0], terms[large][0])
        assert gain > -3 * se, ("lower decreased", small, large, gain, se)
        drop, se = paired(terms[large][1], terms[small][1])
        assert drop > -3 * se, ("upper increased", small, large, drop, se)
    gain, se = paired(terms[1][0], terms[64][0])
    assert gain > 3 * se
    drop, se = paired(terms[64][1], terms[1][1])
    assert drop > 3 * se
    truth = model.mutual_information()
    for side, sign in ((terms[64][0], 1), (terms[64][1], -1)):
        se = side.std().item() / math.sqrt(len(side))
        assert sign * (side.mean().item() - truth) <= 4 * se


def test_sandwich_width_shrinks_with_k_through_the_public_api() -> None:
    model = lg(mi=3.0)
    encoder = Perturbed(model, shift=0.8, scale=1.8)
    small = sandwich(model, encoder, k=2, n=2000, seed=0)
    large = sandwich(model, encoder, k=128, n=2000, seed=0)
    assert large.width < small.width - 3 * math.hypot(
        small.settings["width_stderr"], large.settings["width_stderr"]
    )


# --------------------------------------------------------------------------------------------
# Fitted encoder vs prior proposal
# --------------------------------------------------------------------------------------------


def test_fitted_encoder_narrows_the_sandwich_against_the_prior() -> None:
    g = torch.Generator().manual_seed(1)
    model = LinearGaussian(torch.randn(6, 2, generator=g, dtype=torch.float64) * 1.5, 1.0)
    prior = sandwich(model, None, k=32, n=1000, seed=0)
    assert any("prior p(z)" in note for note in prior.diagnostics)
    encoder = GaussianEncoder(6, 2, hidden=16)
    fit_encoder(model, encoder, k=4, steps=150, batch_size=64, lr=5e-3, seed=0, eval_every=50)
    fitted = sandwich(model, encoder, k=32, n=1000, seed=0)
    truth = model.mutual_information()
    assert fitted.width < 0.25 * prior.width, (prior, fitted)
    for b in (prior, fitted):
        assert b.lower - 4 * b.lower_stderr <= truth <= b.upper + 4 * b.upper_stderr
    assert fitted.settings["mean_ess"] > prior.settings["mean_ess"]


def test_fit_true_builds_and_fits_an_encoder() -> None:
    model = lg(mi=4.0, k=2, d=6)
    b = sandwich(model, fit=True, fit_steps=30, k=16, n=500, seed=0)
    assert b.settings["proposal"] == "GaussianEncoder"
    assert b.settings["fit"]["steps"] == 30
    assert b.width < 0.05
    with pytest.raises(ValueError, match="model: expected a continuous vector latent"):
        sandwich(GaussianMixture.separated(2, 2, 1.0), fit=True, fit_steps=5, n=10)


# --------------------------------------------------------------------------------------------
# Mixture: bounds match the enumerated truth
# --------------------------------------------------------------------------------------------


def tempered(model: GaussianMixture, t: float = 0.4):
    return lambda x: Categorical(logits=t * model.posterior(x).logits)


@pytest.mark.parametrize("proposal", ["prior", "tempered", "exact"])
def test_mixture_bounds_match_the_enumerated_truth(proposal: str) -> None:
    model = GaussianMixture.separated(3, 2, 2.5)
    encoder = {"prior": None, "tempered": tempered(model), "exact": model.posterior}[proposal]
    b = sandwich(model, encoder, k=64, n=4000, seed=0)
    truth, truth_se = model.mutual_information_with_stderr()
    assert b.true_value == truth
    assert b.settings["true_value_stderr"] == truth_se
    assert b.lower - 4 * math.hypot(b.lower_stderr, truth_se) <= truth
    assert truth <= b.upper + 4 * math.hypot(b.upper_stderr, truth_se)
    assert b.width < 0.05  # K = 64 >> e^I for three components
    assert abs(0.5 * (b.lower + b.upper) - truth) < 4 * b.lower_stderr + 0.03


# --------------------------------------------------------------------------------------------
# Lautum information
# --------------------------------------------------------------------------------------------


def test_lautum_exact_posterior_terms_coincide() -> None:
    model = lg(mi=2.0, k=2, d=4)
    b = lautum(model, model.posterior, k=4, n=2000, seed=0)
    assert abs(b.upper - b.lower) < 1e-9
    assert b.quantity == "lautum information"


@pytest.mark.parametrize("proposal", ["perturbed", "prior"])
def test_lautum_bounds_bracket_frobenius_minus_mi(proposal: str) -> None:
    model = lg(mi=2.0, k=2, d=4)
    truth = float((model.W**2).sum() / model.sigma**2) - model.mutual_information()
    encoder = Perturbed(model) if proposal == "perturbed" else None
    b = lautum(model, encoder, k=32, n=4000, seed=0)
    assert b.true_value == pytest.approx(truth, abs=1e-9)
    assert b.lower - 4 * b.lower_stderr <= truth <= b.upper + 4 * b.upper_stderr
    assert b.upper - b.lower > -4 * b.settings["width_stderr"]


def test_lautum_mixture_brackets_its_truth() -> None:
    model = GaussianMixture.separated(3, 2, 2.0)
    b = lautum(model, None, k=64, n=4000, seed=1)
    truth, truth_se = model.lautum_information(), model.lautum_information_stderr
    assert b.lower - 4 * math.hypot(b.lower_stderr, truth_se) <= truth
    assert truth <= b.upper + 4 * math.hypot(b.upper_stderr, truth_se)


# --------------------------------------------------------------------------------------------
# Known conditional: a Gaussian encoder on Gaussian data
# --------------------------------------------------------------------------------------------


def gaussian_channel(s: float = 0.6) -> tuple[torch.Tensor, float, object]:
    A = torch.tensor([[1.0, 0.5, 0.0], [0.0, 0.8, -0.6]], dtype=torch.float64)
    truth = 0.5 * float(torch.logdet(torch.eye(2, dtype=torch.float64) + A @ A.T / s**2))

    def encoder(x: torch.Tensor) -> Independent:
        mean = x @ A.T
        return Independent(Normal(mean, torch.full_like(mean, s)), 1)

    return A, truth, encoder


def test_known_conditional_brackets_the_gaussian_channel_mi() -> None:
    _, truth, encoder = gaussian_channel()
    x = torch.randn(8192, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    b = known_conditional(encoder, x, k=255, seed=0)
    assert 1.0 < truth < 3.0
    assert b.lower - 4 * b.lower_stderr <= truth <= b.upper + 4 * b.upper_stderr
    assert b.lower <= math.log(256)
    assert b.width < 0.5
    assert b.settings["blocks"] == 32
    # Numpy input gives the same result as the tensor.
    same = known_conditional(encoder, x.numpy(), k=255, seed=0)
    assert same.lower == b.lower and same.upper == b.upper


def test_known_conditional_lower_is_capped_at_log_k_plus_one() -> None:
    s = 0.01  # MI about 8 nats, far above log(16)
    _, truth, encoder = gaussian_channel(s)
    x = torch.randn(2048, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    b = known_conditional(encoder, x, k=15, seed=0)
    assert truth > 7.0
    assert b.lower <= math.log(16) + 1e-9
    assert b.upper >= truth - 4 * b.upper_stderr
    assert any("ceiling" in note for note in b.diagnostics)


def test_known_conditional_stderr_matches_the_spread_over_fresh_data() -> None:
    # The block means are independent, so their se must match the spread of the bounds over
    # fresh samples of x (sd of a 40-sample sd is about 11%).
    _, _, encoder = gaussian_channel()
    lowers, uppers, lower_se, upper_se = [], [], [], []
    for rep in range(40):
        g = torch.Generator().manual_seed(500 + rep)
        x = torch.randn(1024, 3, generator=g, dtype=torch.float64)
        b = known_conditional(encoder, x, k=15, seed=rep)
        lowers.append(b.lower)
        uppers.append(b.upper)
        lower_se.append(b.lower_stderr)
        upper_se.append(b.upper_stderr)
    for values, ses in ((lowers, lower_se), (uppers, upper_se)):
        spread = torch.tensor(values, dtype=torch.float64).std().item()
        assert 0.65 < sum(ses) / len(ses) / spread < 1.5


# --------------------------------------------------------------------------------------------
# Known marginal: learned encoder and energy; lower bounds only
# --------------------------------------------------------------------------------------------


def test_known_marginal_lower_bound_below_truth_and_no_upper() -> None:
    model = lg(mi=2.0, k=2, d=4)
    x, z0 = data(model, 3000, seed=3)
    options = {"k": 8, "steps": 200, "batch_size": 128, "lr": 3e-3, "hidden": 32, "seed": 0}
    b = known_marginal(x, z0, model.prior(), **options)
    truth = model.mutual_information()
    assert b.upper is None and b.upper_stderr is None and b.width is None
    assert b.diagnostics[0].startswith("no upper bound")
    assert b.lower <= truth + 3 * b.lower_stderr
    ba = b.settings["barber_agakov"]
    assert ba <= truth + 3 * b.settings["barber_agakov_stderr"]
    assert b.lower > 0.5 * truth  # it learned a useful posterior
    # A callable prior is the same as the Distribution.
    same = known_marginal(x, z0, lambda z: model.prior().log_prob(z).float(), **options)
    assert same.lower == pytest.approx(b.lower, abs=1e-5)  # float32 rounding of log p(z)


def test_known_marginal_bad_arguments() -> None:
    model = lg(mi=2.0, k=2, d=4)
    x, z0 = data(model, 100)
    with pytest.raises(ValueError, match="x, z: expected the same number of rows"):
        known_marginal(x, z0[:50], model.prior())
    with pytest.raises(TypeError, match="prior: expected a Distribution or a callable"):
        known_marginal(x, z0, 3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prior: expected event shape"):
        known_marginal(x, z0, Independent(Normal(torch.zeros(3), 1.0), 1))
    with pytest.raises(ValueError, match="test_fraction"):
        known_marginal(x, z0, model.prior(), test_fraction=1.5)


# --------------------------------------------------------------------------------------------
# Other models, dtypes, reproducibility, dispatch, errors
# --------------------------------------------------------------------------------------------


def test_decoder_model_sandwich_with_the_reference_posterior() -> None:
    from test_models import linear_decoder_model

    model, reference = linear_decoder_model()
    b = sandwich(model, reference.posterior, k=8, n=2000, seed=0)
    assert b.true_value is None
    assert abs(b.upper - b.lower) < 1e-9
    truth = reference.mutual_information()
    assert abs(b.lower - truth) < 4 * b.lower_stderr


def test_float32_runs_and_is_recorded() -> None:
    model = lg(mi=3.0)
    b = sandwich(model, model.posterior, k=8, n=1000, dtype=torch.float32)
    assert model.W.dtype == torch.float64  # the caller's model is not converted
    assert b.settings["dtype"] == "float32"
    assert abs(b.upper - b.lower) < 1e-3
    assert abs(b.lower - 3.0) < 4 * b.lower_stderr + 1e-3


def test_same_seed_same_result_and_global_rng_untouched() -> None:
    model = lg(mi=3.0)
    encoder = Perturbed(model)
    state = torch.get_rng_state()
    a = sandwich(model, encoder, k=8, n=300, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    b = sandwich(model, encoder, k=8, n=300, seed=7)
    c = sandwich(model, encoder, k=8, n=300, seed=8)
    assert a.to_dict() == b.to_dict()
    assert a.lower != c.lower
    json.dumps(a.to_dict())
    assert set(a.settings) >= {"k", "n", "seed", "proposal", "width_stderr", "mean_ess"}


def test_sandwich_stderr_matches_the_spread_over_seeds() -> None:
    model = lg(mi=3.0)
    encoder = Perturbed(model, shift=0.8, scale=1.8)
    runs = [sandwich(model, encoder, k=8, n=300, seed=seed) for seed in range(40)]
    for side in ("lower", "upper"):
        values = torch.tensor([getattr(b, side) for b in runs], dtype=torch.float64)
        se = sum(getattr(b, f"{side}_stderr") for b in runs) / len(runs)
        assert 0.65 < se / values.std().item() < 1.5, side


def test_truth_outside_the_sandwich_is_flagged() -> None:
    # An encoder whose log_prob is one nat too low is not a normalised density: every log-weight
    # rises by one nat, both sides drop by exactly one nat (the width is unchanged) and the
    # known MI lies above the upper side.
    model = lg(mi=3.0)

    class Unnormalised:
        def __call__(self, x: torch.Tensor) -> MultivariateNormal:
            q = model.posterior(x)
            q.log_prob = lambda z, q=q, f=q.log_prob: f(z) - 1.0  # type: ignore[method-assign]
            return q

    b = sandwich(model, Unnormalised(), k=8, n=500, seed=0)
    assert b.upper == pytest.approx(b.true_value - 1.0, abs=4 * b.upper_stderr)
    assert any("lies outside" in note for note in b.diagnostics), b.diagnostics
    fine = sandwich(model, Perturbed(model), k=8, n=500, seed=0)
    assert not any("lies outside" in note for note in fine.diagnostics)


def test_prior_proposal_diagnostics_and_degenerate_weights() -> None:
    model = lg(mi=12.0, k=3, d=6)
    b = sandwich(model, None, k=16, n=500, seed=0)
    assert b.lower <= math.log(17) + 1e-9
    assert any("needs K on the order of e^I" in note for note in b.diagnostics)
    assert any("degenerate" in note for note in b.diagnostics)


def test_ais_dispatch_forwards_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    import mibound.ais
    from mibound.ais import AISOptions

    calls = []

    def ais_sandwich(model, encoder=None, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((model, encoder, kwargs))
        return Bounds(lower=1.0, upper=2.0, lower_stderr=0.1, upper_stderr=0.1, method="ais")

    monkeypatch.setattr(mibound.ais, "ais_sandwich", ais_sandwich)
    model = lg()
    options = AISOptions(steps=10, chains=3, hmc_steps=2, schedule=[i / 10 for i in range(11)])
    out = sandwich(model, model.posterior, ais=options, n=64)
    assert out.method == "ais"
    (got_model, got_encoder, kwargs) = calls[0]
    assert got_model is model and got_encoder == model.posterior
    assert kwargs["n"] == 64 and kwargs["steps"] == 10 and kwargs["chains"] == 3
    assert kwargs["hmc_steps"] == 2 and kwargs["seed"] == 0
    assert torch.equal(kwargs["schedule"], torch.tensor(options.schedule, dtype=torch.float64))
    sandwich(model, method="ais")
    assert "n" not in calls[1][2] and calls[1][2]["steps"] is None  # AIS defaults apply
    assert calls[1][2]["chains"] == 8 and calls[1][2]["schedule"] == "sigmoid"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ais": "fast"}, TypeError, "ais: expected mibound.ais.AISOptions or None, got str"),
        ({"method": "snis", "ais": "AISOptions()"}, ValueError, "ais: applies to method='ais'"),
        ({"steps": 5, "ais": "AISOptions()"}, ValueError, "steps: given both in ais="),
        ({"method": "ais", "kk": 5}, TypeError, r"unexpected keyword argument\(s\) kk"),
    ],
)
def test_sandwich_separates_snis_and_ais_options(kwargs: dict, error: type, match: str) -> None:
    from mibound.ais import AISOptions

    if kwargs.get("ais") == "AISOptions()":
        kwargs = {**kwargs, "ais": AISOptions()}
    with pytest.raises(error, match=match):
        sandwich(lg(), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"k": 0}, ValueError, "k: expected an integer >= 1"),
        ({"n": 1}, ValueError, "n: expected an integer >= 2"),
        ({"method": "mcmc"}, ValueError, "method: expected 'snis' or 'ais'"),
        ({"steps": 5}, ValueError, "steps: applies to method='ais'"),
        ({"chains": 5}, ValueError, "chains: applies to method='ais'"),
        ({"method": "ais", "k": 5}, ValueError, "k: applies to method='snis'"),
        ({"seed": -1}, ValueError, "seed"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"dtype": torch.int64}, ValueError, "dtype"),
        ({"encoder": 3}, TypeError, "encoder: expected None"),
        ({"hmc_steps": 3}, ValueError, "hmc_steps: applies to method='ais'"),
        ({"stepz": 3}, TypeError, "unexpected keyword argument"),
        ({"fit": "yes"}, TypeError, "fit"),
    ],
)
def test_sandwich_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    model = lg()
    with pytest.raises(error, match=match):
        sandwich(model, **kwargs)


def test_bad_models_and_encoders() -> None:
    model = lg()
    with pytest.raises(TypeError, match="model: expected a mibound.models.LatentVariableModel"):
        sandwich("model")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="model: expected"):
        lautum(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="encoder: expected it to return a torch.distributions"):
        sandwich(model, lambda x: x, n=10)
    with pytest.raises(ValueError, match="encoder: expected a Distribution with batch shape"):
        sandwich(model, lambda x: model.posterior(x[:1]), n=10)
    with pytest.raises(ValueError, match="k: expected an integer >= 1"):
        lautum(model, k=0)
    x = torch.randn(20, 3, dtype=torch.float64)
    _, _, encoder = gaussian_channel()
    with pytest.raises(ValueError, match="k: expected at least two blocks"):
        known_conditional(encoder, x, k=10)
    with pytest.raises(TypeError, match="encoder: expected a callable"):
        known_conditional(None, x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n: expected at most"):
        known_conditional(encoder, x, k=2, n=50)


def test_decoder_model_prior_proposal_is_valid() -> None:
    # A decoder model with a non-Gaussian likelihood: the sandwich still brackets (K large).
    prior = Independent(Normal(torch.zeros(1, dtype=torch.float64), 1.0), 1)
    model = DecoderModel(
        lambda z: Independent(Normal(torch.tanh(2 * z), torch.full_like(z, 0.3)), 1), prior
    )
    b = sandwich(model, None, k=256, n=2000, seed=0)
    assert b.true_value is None
    assert b.lower < b.upper < b.lower + 0.05
    # The population MI by quadrature: I = H(x) - H(x|z), p(x) = E_z N(x; tanh 2z, 0.3²) by
    # Gauss-Hermite over z, H(x) on a fine grid, H(x|z) = ½ log(2πe 0.3²).
    nodes, weights = np.polynomial.hermite_e.hermegauss(200)
    weights = weights / weights.sum()
    grid, step = np.linspace(-3.0, 3.0, 6001, retstep=True)
    density = weights @ np.exp(-0.5 * ((grid - np.tanh(2 * nodes)[:, None]) / 0.3) ** 2)
    density = density / (0.3 * math.sqrt(2 * math.pi))
    assert abs(density.sum() * step - 1.0) < 1e-6
    entropy_x = -float((density * np.log(density)).sum() * step)
    truth = entropy_x - 0.5 * math.log(2 * math.pi * math.e * 0.09)
    assert b.lower - 4 * b.lower_stderr <= truth <= b.upper + 4 * b.upper_stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_everything_runs_on_cuda() -> None:
    model = lg(mi=3.0)
    b = sandwich(model, ExactPosterior(model), k=8, n=500, device="cuda")
    assert b.settings["device"].startswith("cuda")
    assert abs(b.upper - b.lower) < 1e-9
    fitted = sandwich(lg(mi=3.0), fit=True, fit_steps=20, k=8, n=500, device="cuda")
    assert fitted.width < 0.1
    assert lautum(lg(mi=2.0), None, k=8, n=500, device="cuda").upper is not None
    mixture = GaussianMixture.separated(3, 2, 2.0)
    assert sandwich(mixture, None, k=16, n=500, device="cuda").width < 0.2
    A = gaussian_channel()[0].cuda()

    def encoder(x: torch.Tensor) -> Independent:
        return Independent(Normal(x @ A.T, 0.6), 1)

    x = torch.randn(1024, 3, dtype=torch.float64)
    assert known_conditional(encoder, x, k=63, device="cuda").lower > 0
    x, z0 = data(lg(mi=2.0, k=2, d=4), 600)
    lower = known_marginal(x, z0, lg(mi=2.0, k=2, d=4).prior(), steps=20, device="cuda").lower
    assert math.isfinite(lower)


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def _assert_unchanged(module: torch.nn.Module, before: dict[str, torch.Tensor]) -> None:
    for name, value in module.state_dict().items():
        assert value.dtype == before[name].dtype and value.device == before[name].device
        assert torch.equal(value, before[name]), name


@pytest.mark.parametrize("method", ["snis", "ais"])
def test_sandwich_never_changes_the_callers_model_or_encoder(method: str) -> None:
    model = lg()
    encoder = GaussianEncoder(5, 2).to(torch.float64)
    model_before, encoder_before = _state(model), _state(encoder)
    from mibound.ais import AISOptions

    ais = AISOptions(steps=2, chains=1)
    options = {"k": 4, "n": 64} if method == "snis" else {"n": 8, "ais": ais}
    b = sandwich(
        model, encoder, method=method, dtype=torch.float32, fit=True, fit_steps=3, **options
    )
    assert b.settings["dtype"] == "float32"
    assert b.settings["fit"]["steps"] == 3 and b.settings["fit"]["objective"] == "multisample"
    _assert_unchanged(model, model_before)
    _assert_unchanged(encoder, encoder_before)
    # Without a device or dtype change the encoder is still fitted on a copy.
    sandwich(model, encoder, method=method, fit=True, fit_steps=3, **options)
    _assert_unchanged(encoder, encoder_before)


def test_lautum_and_known_conditional_never_move_the_callers_objects() -> None:
    model = lg()
    encoder = GaussianEncoder(5, 2).to(torch.float64)
    model_before, encoder_before = _state(model), _state(encoder)
    assert lautum(model, encoder, k=4, n=64, dtype=torch.float32).settings["dtype"] == "float32"
    x, _ = data(model, 64)
    known_conditional(encoder, x.numpy(), k=3, dtype=torch.float32, device="cpu")
    _assert_unchanged(model, model_before)
    _assert_unchanged(encoder, encoder_before)
