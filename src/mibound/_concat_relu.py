r"""The concat critic's all-pairs ReLU MLP, evaluated and differentiated in row blocks.

For pre-activations :math:`a_i = W_x x_i` (R rows) and :math:`b_j = W_y y_j + c` (C rows), the
network on pair :math:`(i, j)` is

.. math:: h^{(1)}_{ij} = \mathrm{relu}(a_i + b_j), \quad
          h^{(l)}_{ij} = \mathrm{relu}(W_l h^{(l-1)}_{ij} + c_l), \quad
          f_{ij} = w^\top h^{(L)}_{ij} + c_\mathrm{out}.

Autograd would hold several (R·C, H) tensors per step and pass over each of them a few times
(the broadcast sum, both ReLUs forward and backward, the output layer's outer product, the
reductions back to :math:`a` and :math:`b`), allocating each afresh. Here the pairs are taken a
few rows of :math:`a` at a time, so those temporaries are a block of about 1 MiB that stays in
cache and is reused; only the outputs of layers 2..L are kept for the backward pass, and the
first layer's is recomputed there from :math:`a` and :math:`b` (an addition). The matrix
products are the same as autograd's, so the arithmetic is unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["concat_relu_scores"]

_BLOCK_FLOATS = 2**18  # about 1 MiB of float32 per temporary: a CPU core's cache
_GPU_BLOCK_FLOATS = 2**24  # a GPU needs large kernels more than it needs a small working set


def _rows_per_block(cols: int, width: int, device: torch.device) -> int:
    floats = _GPU_BLOCK_FLOATS if device.type != "cpu" else _BLOCK_FLOATS
    return max(1, floats // max(1, cols * width))


def _relu_backward(grad: Tensor, out: Tensor) -> Tensor:
    """``grad`` where the ReLU's output ``out`` is positive, else 0 (autograd's own kernel)."""
    return torch.ops.aten.threshold_backward(grad, out, 0.0)


def _forward(
    a: Tensor, b: Tensor, params: tuple[Tensor, ...], saved: list[Tensor] | None
) -> Tensor:
    """Scores (R, C); with ``saved``, writes the outputs of layers 2..L into its tensors."""
    rows, width = a.shape
    cols = b.shape[0]
    hidden, w_out, c_out = params[:-2], params[-2], params[-1]
    out = a.new_empty(rows, cols)
    step = _rows_per_block(cols, width, a.device)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        h = torch.relu(a[r0:r1, None, :] + b[None, :, :]).reshape(-1, width)
        for layer in range(len(hidden) // 2):
            weight, bias = hidden[2 * layer], hidden[2 * layer + 1]
            if saved is None:
                h = torch.addmm(bias, h, weight.T).relu_()
            else:
                h = torch.addmm(bias, h, weight.T, out=saved[layer][r0 * cols : r1 * cols])
                h.relu_()
        out[r0:r1] = torch.addmm(c_out, h, w_out.T).reshape(r1 - r0, cols)
    return out


class _ConcatReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, *params: Tensor) -> Tensor:
        layers = (len(params) - 2) // 2
        saved = [a.new_empty(a.shape[0] * b.shape[0], a.shape[1]) for _ in range(layers)]
        out = _forward(a, b, params, saved)
        ctx.save_for_backward(a, b, *params, *saved)
        ctx.layers = layers
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        layers: int = ctx.layers
        a, b, *rest = ctx.saved_tensors
        params, saved = rest[: len(rest) - layers], rest[len(rest) - layers :]
        hidden, w_out = params[:-2], params[-2]
        rows, width = a.shape
        cols = b.shape[0]
        grad_a = torch.empty_like(a)
        grad_b = torch.zeros_like(b)
        grad_params = [torch.zeros_like(p) for p in params]
        grad = grad.contiguous()
        step = _rows_per_block(cols, width, a.device)
        for r0 in range(0, rows, step):
            r1 = min(rows, r0 + step)
            pairs = slice(r0 * cols, r1 * cols)
            h1 = torch.relu(a[r0:r1, None, :] + b[None, :, :]).reshape(-1, width)
            g_f = grad[r0:r1].reshape(-1, 1)
            top = saved[-1][pairs] if layers else h1
            grad_params[-2].addmm_(g_f.T, top)
            grad_params[-1] += g_f.sum()
            g_h = g_f * w_out  # (pairs, width): the gradient of the last hidden output
            for layer in reversed(range(layers)):
                g_h = _relu_backward(g_h, saved[layer][pairs])
                below = saved[layer - 1][pairs] if layer > 0 else h1
                grad_params[2 * layer].addmm_(g_h.T, below)
                grad_params[2 * layer + 1] += g_h.sum(0)
                g_h = g_h @ hidden[2 * layer]
            g_h = _relu_backward(g_h, h1)
            g_h = g_h.reshape(r1 - r0, cols, width)
            grad_a[r0:r1] = g_h.sum(1)
            grad_b += g_h.sum(0)
        needs = ctx.needs_input_grad
        out: list[Tensor | None] = [grad_a if needs[0] else None, grad_b if needs[1] else None]
        out += [g if need else None for g, need in zip(grad_params, needs[2:], strict=True)]
        return tuple(out)


def concat_relu_scores(a: Tensor, b: Tensor, params: tuple[Tensor, ...]) -> Tensor:
    r"""All-pairs scores :math:`f_{ij}` of the ReLU MLP above, shape ``(..., R, C)``.

    Arguments:
        a: x-side first-layer pre-activations :math:`W_x x_i`, shape ``(..., R, H)``.
        b: y-side first-layer pre-activations :math:`W_y y_j + c`, shape ``(..., C, H)``
            (the same leading shape as ``a``).
        params: ``(W_2, c_2, ..., W_L, c_L, w, c_out)`` in :class:`torch.nn.Linear` layout
            (weights ``(out, in)``, the last ``(1, H)``).

    Returns:
        The scores; differentiable in ``a``, ``b`` and ``params``.
    """
    lead = a.shape[:-2]
    a2 = a.reshape(-1, *a.shape[-2:])
    b2 = b.reshape(-1, *b.shape[-2:])
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (a, b, *params))
    scores = [
        _ConcatReLU.apply(ai.contiguous(), bi.contiguous(), *params)
        if grad
        else _forward(ai, bi, params, None)
        for ai, bi in zip(a2, b2, strict=True)
    ]
    return torch.stack(scores).reshape(*lead, a.shape[-2], b.shape[-2])
