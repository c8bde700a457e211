"""Tests of encoders: GaussianEncoder, ExactPosterior, initialise_linear, fit_encoder."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, MultivariateNormal, Normal

from mibound.encoders import ExactPosterior, GaussianEncoder, fit_encoder, initialise_linear
from mibound.models import DecoderModel, LinearGaussian


def lg_model(seed: int = 1) -> LinearGaussian:
    g = torch.Generator().manual_seed(seed)
    return LinearGaussian(torch.randn(6, 2, generator=g, dtype=torch.float64) * 1.5, 1.0)


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_gaussian_encoder_contract(covariance: str) -> None:
    encoder = GaussianEncoder(5, 3, hidden=16, covariance=covariance)
    x = torch.randn(4, 7, 5)
    q = encoder(x)
    assert q.batch_shape == (4, 7)
    assert q.event_shape == (3,)
    assert isinstance(q, Independent if covariance == "diagonal" else MultivariateNormal)
    z = q.rsample((6,))
    assert z.shape == (6, 4, 7, 3)
    assert q.log_prob(z).shape == (6, 4, 7)
    # At initialisation the encoder outputs the standard-normal prior.
    torch.testing.assert_close(q.mean, torch.zeros(4, 7, 3))
    torch.testing.assert_close(q.variance, torch.ones(4, 7, 3), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_gradients_reach_every_parameter(covariance: str) -> None:
    encoder = GaussianEncoder(4, 3, hidden=8, covariance=covariance)
    with torch.no_grad():  # the output layer starts at zero; move it off zero
        encoder.head.weight.normal_(0.0, 0.1)
    x = torch.randn(10, 4)
    q = encoder(x)
    loss = q.log_prob(q.rsample((2,))).sum() + q.rsample().pow(2).sum()
    loss.backward()
    for name, p in encoder.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), name


def test_full_covariance_log_prob_is_a_normalised_gaussian() -> None:
    encoder = GaussianEncoder(2, 3, hidden=8, covariance="full")
    with torch.no_grad():
        encoder.head.weight.normal_(0.0, 0.5)
        encoder.head.bias[6:] = torch.tensor([0.4, -0.3, 0.2])
    x = torch.randn(5, 2)
    q = encoder(x)
    tril = q.scale_tril
    assert torch.equal(tril, torch.tril(tril))
    assert bool((tril.diagonal(dim1=-2, dim2=-1) > 0).all())
    z = torch.randn(5, 3)
    reference = MultivariateNormal(q.mean, covariance_matrix=tril @ tril.mT)
    torch.testing.assert_close(q.log_prob(z), reference.log_prob(z))


def test_state_dict_round_trip() -> None:
    a = GaussianEncoder(3, 2, hidden=8, covariance="full")
    with torch.no_grad():
        a.head.weight.normal_()
        a.x_shift.fill_(0.5)
    b = GaussianEncoder(3, 2, hidden=8, covariance="full")
    b.load_state_dict(a.state_dict())
    x = torch.randn(4, 3)
    torch.testing.assert_close(a(x).mean, b(x).mean)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x_dim": 0, "z_dim": 2}, "x_dim"),
        ({"x_dim": 2, "z_dim": 1.5}, "z_dim"),
        ({"x_dim": 2, "z_dim": 2, "covariance": "banana"}, "covariance"),
        ({"x_dim": 2, "z_dim": 2, "layers": -1}, "layers"),
        ({"x_dim": 2, "z_dim": 2, "min_scale": 0.0}, "min_scale"),
    ],
)
def test_gaussian_encoder_bad_arguments(kwargs: dict, match: str) -> None:
    # A float where an integer belongs is a TypeError, an out-of-range value a ValueError.
    with pytest.raises((ValueError, TypeError), match=match):
        GaussianEncoder(**kwargs)


def test_gaussian_encoder_bad_input() -> None:
    encoder = GaussianEncoder(3, 2)
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., 3\)"):
        encoder(torch.zeros(4, 5))
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        encoder([[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_initialise_linear_recovers_the_linear_gaussian_posterior(covariance: str) -> None:
    model = lg_model()
    encoder = GaussianEncoder(6, 2, hidden=8, covariance=covariance).double()
    initialise_linear(encoder, model, n=20_000, seed=0)
    x, _ = model.sample(50, generator=torch.Generator().manual_seed(9))
    q, post = encoder(x), model.posterior(x)
    # Regression error of the mean: posterior sd * sqrt(p / n), p = 7 regressors.
    sd = post.variance.sqrt()
    tol = 6 * sd.max().item() * math.sqrt(7 / 20_000) * 3
    torch.testing.assert_close(q.mean, post.mean, atol=tol, rtol=0)
    if covariance == "full":
        torch.testing.assert_close(
            q.covariance_matrix[0],
            post.covariance_matrix[0],
            atol=0.05 * sd.max().item() ** 2,
            rtol=0,
        )
    else:
        torch.testing.assert_close(q.variance, post.variance, rtol=0.05, atol=0)


def test_exact_posterior_wraps_the_model() -> None:
    model = lg_model()
    x, _ = model.sample(3)
    enc = ExactPosterior(model)
    torch.testing.assert_close(enc(x).mean, model.posterior(x).mean)
    decoder = DecoderModel(
        lambda z: Independent(Normal(z, 1.0), 1), Independent(Normal(torch.zeros(2), 1.0), 1)
    )
    with pytest.raises(TypeError, match="model: DecoderModel has no closed-form posterior"):
        ExactPosterior(decoder)
    with pytest.raises(TypeError, match="model: expected a LatentVariableModel"):
        ExactPosterior("not a model")  # type: ignore[arg-type]


def snis_validation(model: LinearGaussian, encoder: GaussianEncoder) -> float:
    from mibound.known_joint import sandwich

    return sandwich(model, encoder, k=16, n=1000, seed=4).lower


@pytest.mark.parametrize("objective", ["multisample", "iwae"])
def test_fit_encoder_improves_the_bound_and_is_reproducible(objective: str) -> None:
    model = lg_model()
    flags = [p.requires_grad for p in model.parameters()]
    results, states = [], []
    initial = GaussianEncoder(6, 2, hidden=16).state_dict()
    for _ in range(2):
        encoder = GaussianEncoder(6, 2, hidden=16)
        encoder.load_state_dict(initial)
        before = snis_validation(model, encoder.double())
        result = fit_encoder(
            model, encoder, k=4, steps=120, batch_size=64, lr=5e-3, seed=3,
            objective=objective, eval_every=40, validation_size=256,
        )  # fmt: skip
        results.append(result)
        states.append({k: v.clone() for k, v in encoder.state_dict().items()})
    after = snis_validation(model, encoder)
    assert set(results[0].history) == {"step", "train", "validation"}
    assert results[0].steps_run >= 60
    assert after > before + 0.2, (before, after)
    for key in states[0]:
        torch.testing.assert_close(states[0][key], states[1][key], rtol=0, atol=0)
    assert [p.requires_grad for p in model.parameters()] == flags
    assert encoder.head.weight.dtype == torch.float64  # moved to the model's dtype


def test_fit_encoder_bad_arguments() -> None:
    model = lg_model()
    encoder = GaussianEncoder(6, 2)
    with pytest.raises(ValueError, match="objective"):
        fit_encoder(model, encoder, objective="elbo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k: expected"):
        fit_encoder(model, encoder, k=0)
    with pytest.raises(ValueError, match="lr"):
        fit_encoder(model, encoder, lr=-1.0)
    with pytest.raises(TypeError, match="encoder: expected an nn.Module"):
        fit_encoder(model, model.posterior)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="model: expected a LatentVariableModel"):
        fit_encoder("model", encoder)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="encoder: has no parameters"):
        fit_encoder(model, ExactPosterior(model), steps=1)

    class Discrete(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(6, 2)

        def forward(self, x: torch.Tensor) -> Independent:
            return Independent(Bernoulli(logits=self.linear(x)), 1)

    with pytest.raises(TypeError, match="reparameterisable"):
        fit_encoder(model, Discrete(), steps=1)


def test_fit_encoder_keeps_a_better_starting_point() -> None:
    model = LinearGaussian.with_mutual_information(8.0, 3, 10)
    encoder = GaussianEncoder(10, 3, hidden=16).double()
    initialise_linear(encoder, model)  # already (nearly) the exact posterior
    start = {key: value.clone() for key, value in encoder.state_dict().items()}
    result = fit_encoder(model, encoder, k=4, steps=20, lr=5e-2, eval_every=10)
    assert result.best_step == 0  # large steps only made it worse: the start is kept
    for key, value in encoder.state_dict().items():
        assert torch.equal(value, start[key]), key
