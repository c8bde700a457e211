r"""Critics: modules mapping a minibatch of pairs to the score matrix of the bounds.

Every critic returns ``scores[..., i, j] = f(x_i, y_j)`` for all :math:`B \times B` pairs, the
joint pairs on the diagonal, so any bound in :mod:`mibound.bounds` can consume it. The optimal
critic of every bound is the pointwise MI :math:`\log p(x, y) / (p(x) p(y))` (up to a function
of x for InfoNCE-type bounds).

- :class:`SeparableCritic`: :math:`f(x, y) = g(x)^\top h(y)`, two MLP embeddings (cheap:
  :math:`O(B)` network evaluations).
- :class:`ConcatCritic`: :math:`f(x, y) = \mathrm{MLP}([x, y])`, evaluated on all pairs in one
  batched call (:math:`O(B^2)` evaluations, more expressive).
- :class:`BilinearCritic`: :math:`f(x, y) = x^\top A y + b^\top x + c^\top y` style bilinear form
  on (standardised) inputs; exact for jointly Gaussian data up to a quadratic term.

References:
    Poole et al. (2019), "On variational bounds of mutual information",
    https://arxiv.org/abs/1905.06922 (separable and concat critics).
"""

from __future__ import annotations

from typing import Literal, cast

import torch
from torch import Tensor, nn

from mibound._checks import InvalidValueError, check_int
from mibound._concat_relu import concat_relu_scores

__all__ = [
    "BilinearCritic",
    "ConcatCritic",
    "CriticKind",
    "SeparableCritic",
    "Standardizer",
    "make_critic",
    "mlp",
]

CriticKind = Literal["separable", "concat", "bilinear"]
CRITICS: tuple[str, ...] = ("separable", "concat", "bilinear")
_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


def mlp(
    in_dim: int, out_dim: int, hidden: int = 256, layers: int = 2, activation: str = "relu"
) -> nn.Sequential:
    """A multilayer perceptron with ``layers`` hidden layers of width ``hidden``.

    Arguments:
        in_dim: Input features.
        out_dim: Output features.
        hidden: Width of each hidden layer.
        layers: Number of hidden layers (0 gives a linear map).
        activation: One of ``relu``, ``elu``, ``gelu``, ``tanh``, ``silu``.
    """
    check_int("in_dim", in_dim)
    check_int("out_dim", out_dim)
    check_int("hidden", hidden)
    check_int("layers", layers, minimum=0)
    if activation not in _ACTIVATIONS:
        raise InvalidValueError(
            f"activation: expected one of {', '.join(_ACTIVATIONS)}, got {activation!r}"
        )
    modules: list[nn.Module] = []
    width = in_dim
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), _ACTIVATIONS[activation]()]
        width = hidden
    modules.append(nn.Linear(width, out_dim))
    return nn.Sequential(*modules)


class Standardizer(nn.Module):
    """Affine input standardisation ``(x - mean) / std`` with statistics fitted on training data.

    The statistics are buffers (saved with the module, moved by ``.to()``), never trained.

    Arguments:
        dim: Number of features.
    """

    mean: Tensor
    std: Tensor

    def __init__(self, dim: int) -> None:
        super().__init__()
        check_int("dim", dim)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    @torch.no_grad()
    def fit(self, x: Tensor) -> Standardizer:
        """Sets mean and standard deviation from ``x`` of shape ``(n, dim)``; returns self."""
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise InvalidValueError(
                f"x: expected shape (n, {self.mean.shape[0]}), got {tuple(x.shape)}"
            )
        if x.shape[0] < 2:
            raise InvalidValueError(f"x: expected at least 2 rows to fit, got {x.shape[0]}")
        std = x.std(dim=0)
        self.mean = x.mean(dim=0).to(self.mean)
        self.std = torch.where(std > 0, std, torch.ones_like(std)).to(self.std)
        return self

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class SeparableCritic(nn.Module):
    r"""Separable critic :math:`f(x, y) = g(x)^\top h(y)` with two MLP embeddings.

    Arguments:
        x_dim: Features of x.
        y_dim: Features of y.
        hidden: Hidden width of both MLPs.
        layers: Hidden layers of both MLPs.
        embed_dim: Dimension of the embeddings g(x), h(y).
        activation: Hidden activation.
    """

    def __init__(
        self,
        x_dim: int,
        y_dim: int,
        hidden: int = 256,
        layers: int = 2,
        embed_dim: int = 32,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.x_norm = Standardizer(x_dim)
        self.y_norm = Standardizer(y_dim)
        self.g = mlp(x_dim, embed_dim, hidden, layers, activation)
        self.h = mlp(y_dim, embed_dim, hidden, layers, activation)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Scores of shape ``(..., B, B)`` for ``x`` of shape ``(..., B, x_dim)``."""
        return self.g(self.x_norm(x)) @ self.h(self.y_norm(y)).transpose(-1, -2)


class ConcatCritic(nn.Module):
    r"""Joint critic :math:`f(x, y) = \mathrm{MLP}([x, y])` on all :math:`B^2` pairs at once.

    Arguments:
        x_dim: Features of x.
        y_dim: Features of y.
        hidden: Hidden width.
        layers: Hidden layers.
        activation: Hidden activation.
    """

    def __init__(
        self, x_dim: int, y_dim: int, hidden: int = 256, layers: int = 2, activation: str = "relu"
    ) -> None:
        super().__init__()
        self.x_norm = Standardizer(x_dim)
        self.y_norm = Standardizer(y_dim)
        self.net = mlp(x_dim + y_dim, 1, hidden, layers, activation)
        self.blocked = activation == "relu" and layers > 0

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Scores of shape ``(..., B, B)``; entry ``[i, j]`` is ``MLP([x_i, y_j])``."""
        x = self.x_norm(x)
        y = self.y_norm(y)
        # The first layer is affine: W [x_i, y_j] + b = W_x x_i + (W_y y_j + b), so it is applied
        # to the B rows of x and of y and broadcast over the B^2 pairs (no (B, B, d) input).
        first = cast(nn.Linear, self.net[0])
        d_x = x.shape[-1]
        h_x = nn.functional.linear(x, first.weight[:, :d_x])
        h_y = nn.functional.linear(y, first.weight[:, d_x:], first.bias)
        if self.blocked and x.shape[:-2] == y.shape[:-2]:
            # ReLU networks: the pairs go through in row blocks (the same function and
            # gradients, without the (B, B, hidden) temporaries).
            linears = [m for m in self.net.children() if isinstance(m, nn.Linear)][1:]
            params = tuple(p for m in linears for p in (m.weight, m.bias))
            return concat_relu_scores(h_x, h_y, params)
        return self.net[1:](h_x.unsqueeze(-2) + h_y.unsqueeze(-3)).squeeze(-1)


class BilinearCritic(nn.Module):
    r"""Bilinear critic :math:`f(x, y) = \tilde x^\top A \tilde y + u(\tilde x) + v(\tilde y)`.

    :math:`\tilde x, \tilde y` are standardised inputs; ``u``, ``v`` are linear terms (for
    InfoNCE-type bounds the x-term cancels). For jointly Gaussian data the optimal critic also
    has quadratic terms, so this is a fast, low-variance baseline rather than an exact critic.

    Arguments:
        x_dim: Features of x.
        y_dim: Features of y.
    """

    def __init__(self, x_dim: int, y_dim: int) -> None:
        super().__init__()
        self.x_norm = Standardizer(x_dim)
        self.y_norm = Standardizer(y_dim)
        self.A = nn.Parameter(torch.zeros(x_dim, y_dim))
        self.u = nn.Linear(x_dim, 1)
        self.v = nn.Linear(y_dim, 1, bias=False)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        x = self.x_norm(x)
        y = self.y_norm(y)
        return (x @ self.A) @ y.transpose(-1, -2) + self.u(x) + self.v(y).transpose(-1, -2)


def make_critic(
    kind: str,
    x_dim: int,
    y_dim: int,
    *,
    hidden: int = 256,
    layers: int = 2,
    embed_dim: int = 32,
    activation: str = "relu",
) -> nn.Module:
    """Builds a critic by name.

    Arguments:
        kind: ``"separable"``, ``"concat"`` or ``"bilinear"``.
        x_dim: Features of x.
        y_dim: Features of y.
        hidden: Hidden width (MLP critics).
        layers: Hidden layers (MLP critics).
        embed_dim: Embedding size (separable).
        activation: Hidden activation (MLP critics).

    Returns:
        A module mapping ``(x, y)`` of shapes ``(B, x_dim)``, ``(B, y_dim)`` to ``(B, B)`` scores.

    Example:
        >>> critic = make_critic("separable", 3, 2, hidden=16, embed_dim=4)
        >>> critic(torch.randn(5, 3), torch.randn(5, 2)).shape
        torch.Size([5, 5])
    """
    check_int("x_dim", x_dim)
    check_int("y_dim", y_dim)
    if kind == "separable":
        check_int("embed_dim", embed_dim)
        return SeparableCritic(x_dim, y_dim, hidden, layers, embed_dim, activation)
    if kind == "concat":
        return ConcatCritic(x_dim, y_dim, hidden, layers, activation)
    if kind == "bilinear":
        return BilinearCritic(x_dim, y_dim)
    raise InvalidValueError(f"critic: expected one of {', '.join(CRITICS)}, got {kind!r}")
