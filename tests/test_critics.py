"""Tests of mibound.critics: score-matrix shapes, pair semantics, gradients, standardisation."""

import pytest
import torch

from mibound.critics import ConcatCritic, Standardizer, make_critic


@pytest.mark.parametrize("kind", ["separable", "concat", "bilinear"])
def test_scores_shape_and_gradients(kind: str) -> None:
    torch.manual_seed(0)
    critic = make_critic(kind, 3, 2, hidden=8, layers=1, embed_dim=4).double()
    x, y = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    scores = critic(x, y)
    assert scores.shape == (6, 6)
    scores.sum().backward()
    for name, p in critic.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), name


@pytest.mark.parametrize("kind", ["separable", "concat", "bilinear"])
def test_entry_ij_is_f_of_xi_yj(kind: str) -> None:
    torch.manual_seed(1)
    critic = make_critic(kind, 2, 3, hidden=8, layers=2, embed_dim=4).double()
    with torch.no_grad():
        for p in critic.parameters():
            p.normal_()
    x, y = torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    scores = critic(x, y)
    for i in range(5):
        for j in range(5):
            single = critic(x[i : i + 1], y[j : j + 1])
            assert torch.allclose(scores[i, j], single[0, 0], atol=1e-12)


def test_concat_broadcasts_over_leading_batch() -> None:
    critic = ConcatCritic(2, 2, hidden=4, layers=1).double()
    x, y = torch.randn(3, 5, 2, dtype=torch.float64), torch.randn(3, 5, 2, dtype=torch.float64)
    scores = critic(x, y)
    assert scores.shape == (3, 5, 5)
    assert torch.allclose(scores[1], critic(x[1], y[1]))


def test_standardizer_fits_training_statistics() -> None:
    x = torch.randn(1000, 3, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.1]) + 7
    norm = Standardizer(3).double().fit(x)
    z = norm(x)
    assert torch.allclose(z.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(z.std(0), torch.ones(3, dtype=torch.float64), atol=1e-10)
    const = torch.ones(10, 3, dtype=torch.float64)
    assert torch.isfinite(Standardizer(3).double().fit(const)(const)).all()
    with pytest.raises(ValueError, match="x: expected shape"):
        norm.fit(torch.randn(10, 2))


def test_bad_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="critic"):
        make_critic("mlp", 2, 2)
    with pytest.raises(ValueError, match="x_dim"):
        make_critic("separable", 0, 2)
    with pytest.raises(ValueError, match="activation"):
        make_critic("concat", 2, 2, activation="sigmoidish")
    with pytest.raises(ValueError, match="layers"):
        make_critic("concat", 2, 2, layers=-1)
