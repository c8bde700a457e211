"""The blocked all-pairs ReLU MLP of the concat critic against plain autograd (float64)."""

import pytest
import torch

from mibound import _concat_relu
from mibound.critics import ConcatCritic


def _reference(critic: ConcatCritic, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The critic's network on explicitly formed [x_i, y_j] inputs, by autograd."""
    xn, yn = critic.x_norm(x), critic.y_norm(y)
    rows, cols = xn.shape[-2], yn.shape[-2]
    grid = torch.cat(
        [
            xn.unsqueeze(-2).expand(*xn.shape[:-2], rows, cols, xn.shape[-1]),
            yn.unsqueeze(-3).expand(*yn.shape[:-2], rows, cols, yn.shape[-1]),
        ],
        dim=-1,
    )
    return critic.net(grid).squeeze(-1)


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("block_floats", [1, 40, 2**18])
def test_scores_and_gradients_equal_autograd(
    layers: int, block_floats: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # block_floats = 1 puts one row per block, 40 a few rows, 2**18 all rows in one block.
    monkeypatch.setattr(_concat_relu, "_BLOCK_FLOATS", block_floats)
    torch.manual_seed(layers)
    critic = ConcatCritic(3, 2, hidden=6, layers=layers).double()
    assert critic.blocked
    x = torch.randn(7, 3, dtype=torch.float64)
    y = torch.randn(5, 2, dtype=torch.float64)
    weights = torch.randn(7, 5, dtype=torch.float64)

    def grads(scores: torch.Tensor) -> list[torch.Tensor]:
        critic.zero_grad()
        (scores * weights).sum().backward()
        return [p.grad.clone() for p in critic.parameters()]

    scores = critic(x, y)
    expected = _reference(critic, x, y)
    assert scores.shape == (7, 5)
    assert torch.allclose(scores, expected, atol=1e-12)
    for got, want in zip(grads(scores), grads(_reference(critic, x, y)), strict=True):
        assert torch.allclose(got, want, atol=1e-12)


def test_gradcheck_in_inputs_and_parameters() -> None:
    torch.manual_seed(4)
    a = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    params = tuple(
        torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        for shape in [(5, 5), (5,), (1, 5), (1,)]
    )
    assert torch.autograd.gradcheck(
        lambda a, b, *p: _concat_relu.concat_relu_scores(a, b, p), (a, b, *params)
    )


def test_leading_batch_dimensions_and_no_grad_path() -> None:
    torch.manual_seed(5)
    critic = ConcatCritic(2, 2, hidden=4, layers=2).double()
    x = torch.randn(3, 6, 2, dtype=torch.float64)
    y = torch.randn(3, 6, 2, dtype=torch.float64)
    scores = critic(x, y)
    assert scores.shape == (3, 6, 6)
    assert torch.allclose(scores, _reference(critic, x, y), atol=1e-12)
    with torch.no_grad():
        assert torch.allclose(critic(x, y), scores, atol=1e-12)
    assert torch.allclose(scores[1], critic(x[1], y[1]), atol=1e-12)


def test_other_activations_keep_the_autograd_path() -> None:
    critic = ConcatCritic(2, 2, hidden=4, layers=2, activation="tanh").double()
    assert not critic.blocked
    linear = ConcatCritic(2, 2, hidden=4, layers=0).double()
    assert not linear.blocked
    x, y = torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64)
    assert torch.allclose(critic(x, y), _reference(critic, x, y), atol=1e-12)
    assert torch.allclose(linear(x, y), _reference(linear, x, y), atol=1e-12)


def test_block_size_is_a_cache_block_on_cpu_and_large_on_a_gpu() -> None:
    # A GPU takes the same code path with bigger blocks (checked here without a GPU).
    cpu = _concat_relu._rows_per_block(128, 256, torch.device("cpu"))
    gpu = _concat_relu._rows_per_block(128, 256, torch.device("cuda"))
    assert cpu == 8 and gpu == 512
    assert _concat_relu._rows_per_block(10**6, 10**3, torch.device("cpu")) == 1
