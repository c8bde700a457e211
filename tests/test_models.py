"""Tests of the latent-variable models GaussianMixture and DecoderModel."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

from mibound.models import DecoderModel, GaussianMixture, LatentVariableModel, LinearGaussian


def small_mixture(dtype: torch.dtype = torch.float64) -> GaussianMixture:
    means = torch.tensor([[0.0, 0.0], [2.0, 0.5], [-1.0, 2.5]], dtype=dtype)
    return GaussianMixture(torch.tensor([0.5, 0.3, 0.2], dtype=dtype), means, 0.9)


def linear_decoder_model(dtype: torch.dtype = torch.float64) -> tuple[DecoderModel, LinearGaussian]:
    g = torch.Generator().manual_seed(3)
    W = torch.randn(4, 2, generator=g, dtype=dtype)
    reference = LinearGaussian(W, 0.7)
    net = nn.Linear(2, 4, bias=False).to(dtype)
    with torch.no_grad():
        net.weight.copy_(W)

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, z: torch.Tensor) -> Independent:
            mean = self.net(z)
            return Independent(Normal(mean, torch.full_like(mean, 0.7)), 1)

    zeros = torch.zeros(2, dtype=dtype)
    return DecoderModel(Decoder(), Independent(Normal(zeros, torch.ones_like(zeros)), 1)), reference


MODELS = {
    "linear": lambda: LinearGaussian.with_mutual_information(2.0, 2, 4),
    "mixture": small_mixture,
    "decoder": lambda: linear_decoder_model()[0],
}


@pytest.mark.parametrize("name", list(MODELS))
def test_sample_and_log_joint_shapes(name: str) -> None:
    model = MODELS[name]()
    assert isinstance(model, LatentVariableModel)
    x, z0 = model.sample(7, generator=torch.Generator().manual_seed(0))
    assert x.shape[0] == 7 and z0.shape[0] == 7
    assert model.log_joint(x, z0).shape == (7,)
    z = model.prior().sample((5, 7))  # K proposals per data point broadcast against x
    assert model.log_joint(x, z).shape == (5, 7)
    assert torch.isfinite(model.log_joint(x, z)).all()


@pytest.mark.parametrize("name", ["linear", "mixture"])
def test_sample_generator_is_reproducible(name: str) -> None:
    model = MODELS[name]()
    a = model.sample(20, generator=torch.Generator().manual_seed(5))
    b = model.sample(20, generator=torch.Generator().manual_seed(5))
    c = model.sample(20, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_mixture_posterior_and_marginal_match_bayes_rule() -> None:
    model = small_mixture()
    x = torch.tensor([[0.3, -0.2], [1.5, 1.0], [-3.0, 4.0]], dtype=torch.float64)
    pi = model.weights
    lik = torch.stack(
        [
            Independent(Normal(model.means[c], torch.tensor(0.9, dtype=torch.float64)), 1)
            .log_prob(x)
            .exp()
            for c in range(3)
        ],
        dim=-1,
    )
    joint = pi * lik
    torch.testing.assert_close(model.posterior(x).probs, joint / joint.sum(-1, keepdim=True))
    torch.testing.assert_close(model.log_marginal(x), joint.sum(-1).log())
    torch.testing.assert_close(model.marginal().log_prob(x), joint.sum(-1).log())
    assert isinstance(model.posterior(x), Categorical)
    assert model.posterior(x).batch_shape == (3,)
    # Bayes: log p(x|z) + log p(z) - log p(x) = log p(z|x) for every z.
    z = torch.tensor([0, 1, 2])
    torch.testing.assert_close(
        model.log_joint(x, z) - model.log_marginal(x), model.posterior(x).log_prob(z)
    )


def test_mixture_mutual_information_matches_independent_monte_carlo() -> None:
    model = small_mixture()
    mi, mi_se = model.mutual_information_with_stderr()
    assert 0.0 < mi < -(model.weights * model.weights.log()).sum().item()
    assert 0.0 < mi_se < 2e-3
    assert model.mutual_information_stderr == mi_se
    # Plain Monte Carlo of E[log p(x|z0) - log p(x)] on fresh joint samples.
    x, z0 = model.sample(40_000, generator=torch.Generator().manual_seed(11))
    terms = model.likelihood(z0).log_prob(x) - model.log_marginal(x)
    se = terms.std().item() / math.sqrt(len(terms))
    assert abs(terms.mean().item() - mi) < 4 * math.hypot(se, mi_se)


def test_mixture_truth_stderr_matches_the_spread_over_seeds() -> None:
    # The stratified Monte Carlo stderr of the ground truth must be honest: tests widen their
    # tolerances by it. sd of a 40-sample sd is about 11%.
    model = small_mixture()
    for what in ("mi", "li"):
        runs = [model._stratified(what, 3000, seed) for seed in range(40)]
        values = torch.tensor([value for value, _ in runs], dtype=torch.float64)
        stderr = sum(se for _, se in runs) / len(runs)
        assert 0.7 < stderr / values.std().item() < 1.4, what


def test_mixture_lautum_information_matches_independent_monte_carlo() -> None:
    model = small_mixture()
    li = model.lautum_information()
    li_se = model.lautum_information_stderr
    g = torch.Generator().manual_seed(12)
    x, _ = model.sample(40_000, generator=g)
    _, z_indep = model.sample(40_000, generator=g)
    terms = model.log_marginal(x) - model.likelihood(z_indep).log_prob(x)
    se = terms.std().item() / math.sqrt(len(terms))
    assert li > 0
    assert abs(terms.mean().item() - li) < 4 * math.hypot(se, li_se)


def test_mixture_well_separated_has_mi_log_c_and_sep_is_a_distance() -> None:
    model = GaussianMixture.separated(4, 3, 60.0)
    assert math.isclose(model.mutual_information(), math.log(4), abs_tol=1e-9)
    distances = torch.cdist(model.means, model.means)
    off = distances[~torch.eye(4, dtype=torch.bool)]
    torch.testing.assert_close(off, torch.full_like(off, 60.0))
    near = GaussianMixture.separated(3, 2, 0.0)
    assert near.mutual_information() == pytest.approx(0.0, abs=1e-12)


def test_mixture_logits_equal_weights_and_float32() -> None:
    means = torch.tensor([[0.0], [1.0]])
    a = GaussianMixture(torch.tensor([1.0, 3.0]), means, 1.0)
    b = GaussianMixture(torch.log(torch.tensor([1.0, 3.0])), means, 1.0, logits=True)
    torch.testing.assert_close(a.weights, b.weights)
    torch.testing.assert_close(a.weights, torch.tensor([0.25, 0.75]))
    assert a.sample(3)[0].dtype == torch.float32
    model = small_mixture().to(torch.float32)
    x, _ = model.sample(5)
    assert x.dtype == torch.float32
    assert model.posterior(x).probs.dtype == torch.float32
    assert model.mutual_information() == pytest.approx(small_mixture().mutual_information(), 1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": [1.0, 1.0, 1.0], "means": [[0.0], [1.0]], "sigma": 1.0}, "weights"),
        ({"weights": [1.0, -1.0], "means": [[0.0], [1.0]], "sigma": 1.0}, "weights"),
        ({"weights": [0.0, 0.0], "means": [[0.0], [1.0]], "sigma": 1.0}, "weights"),
        ({"weights": [1.0, 1.0], "means": [0.0, 1.0], "sigma": 1.0}, "means"),
        ({"weights": [1.0, 1.0], "means": [[0.0], [math.nan]], "sigma": 1.0}, "means"),
        ({"weights": [1.0, 1.0], "means": [[0.0], [1.0]], "sigma": 0.0}, "sigma"),
    ],
)
def test_mixture_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs)


def test_mixture_separated_bad_arguments() -> None:
    with pytest.raises(ValueError, match="c: expected at most"):
        GaussianMixture.separated(5, 2, 1.0)
    with pytest.raises(ValueError, match="sep"):
        GaussianMixture.separated(2, 2, -1.0)
    with pytest.raises(ValueError, match="n: expected"):
        small_mixture().mutual_information(n=3)


def test_decoder_model_matches_linear_gaussian_densities() -> None:
    model, reference = linear_decoder_model()
    x, z0 = reference.sample(9, generator=torch.Generator().manual_seed(0))
    z = reference.prior().sample((3, 9))
    torch.testing.assert_close(model.log_joint(x, z), reference.log_joint(x, z))
    torch.testing.assert_close(model.log_joint(x, z0), reference.log_joint(x, z0))
    with pytest.raises(NotImplementedError):
        model.mutual_information()
    with pytest.raises(NotImplementedError):
        model.posterior(x)


def test_decoder_model_moves_prior_and_decoder_with_to() -> None:
    model, _ = linear_decoder_model(torch.float32)
    model.to(torch.float64)
    z = model.prior().sample((4,))
    assert z.dtype == torch.float64
    assert model.likelihood(z).mean.dtype == torch.float64
    assert next(model.parameters()).dtype == torch.float64


def test_decoder_model_rejects_bad_decoders_and_priors() -> None:
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    with pytest.raises(TypeError, match="decoder: expected it to return a torch.distributions"):
        DecoderModel(lambda z: z * 2.0, prior)
    with pytest.raises(TypeError, match="decoder: expected an nn.Module or callable"):
        DecoderModel(3, prior)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="prior: expected a torch.distributions.Distribution"):
        DecoderModel(lambda z: Normal(z, 1.0), torch.zeros(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prior: expected a Distribution with empty batch"):
        DecoderModel(lambda z: Normal(z, 1.0), Normal(torch.zeros(2), 1.0))
    # Forgetting Independent: batch shape (2, 3) instead of (2,).
    with pytest.raises(ValueError, match="decoder: expected a Distribution with batch shape"):
        DecoderModel(lambda z: Normal(torch.cat([z, z[..., :1]], -1), 1.0), prior)
    lazy = DecoderModel(lambda z: z, prior, validate=False)
    with pytest.raises(TypeError, match="decoder"):
        lazy.likelihood(torch.zeros(3, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_models_on_cuda() -> None:
    for build in MODELS.values():
        model = build().to("cuda")
        x, z0 = model.sample(8, generator=torch.Generator(device="cuda").manual_seed(0))
        assert x.is_cuda
        assert model.log_joint(x, z0).is_cuda
