"""Blocked brute-force max-norm neighbour search in torch: KSG's radii and counts on a GPU.

For a block of B query points, the (B, N) matrices of max-norm distances in each marginal are
formed with the same floating-point operations as the definition (``abs(a - b)``, max over
coordinates, float64), the joint radius is the (k+1)-th smallest of their elementwise maximum
(the point itself is at distance 0) and the marginal counts compare against it. The work is
O(N^2 d) but regular, which suits a GPU; the same code runs on the CPU (where the trees of
:mod:`mibound._kdtree` are faster), which is how it is tested against the other backends.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["default_device", "knn_counts"]

_BLOCK_BYTES = {"cpu": 1 << 28, "cuda": 1 << 33}  # bytes of one block's (B, N) work matrices


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def knn_counts(
    x: np.ndarray, y: np.ndarray, k: int, device: Any, block_bytes: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint k-NN radius (the point itself excluded) and strict marginal counts, brute force.

    Arguments:
        x: float64 array of shape (n, d_x).
        y: float64 array of shape (n, d_y), paired with ``x``.
        k: The number of neighbours.
        device: A torch device ("cuda", "cpu", ...).
        block_bytes: Memory for the work matrices of one block of queries (about four (B, N)
            float64 matrices are alive at once); None: 256 MiB on the CPU, 8 GiB on a GPU.

    Returns:
        ``eps[i]``, the max-norm distance from point i to its k-th nearest other point in the
        joint space, and ``n_x[i]`` (``n_y[i]``), the number of j != i whose marginal distance is
        strictly below ``eps[i]``, as numpy arrays in the input order.
    """
    import torch

    n = x.shape[0]
    xt = torch.as_tensor(x, dtype=torch.float64, device=device)
    yt = torch.as_tensor(y, dtype=torch.float64, device=device)
    if block_bytes is None:
        block_bytes = _BLOCK_BYTES.get(xt.device.type, _BLOCK_BYTES["cpu"])
    block = int(max(1, min(n, block_bytes // (4 * 8 * n))))
    eps = torch.empty(n, dtype=torch.float64, device=device)
    n_x = torch.empty(n, dtype=torch.int64, device=device)
    n_y = torch.empty(n, dtype=torch.int64, device=device)
    with torch.inference_mode():
        for lo in range(0, n, block):
            hi = min(n, lo + block)
            dist_x = _max_norm(xt[lo:hi], xt)
            dist_y = _max_norm(yt[lo:hi], yt)
            joint = torch.maximum(dist_x, dist_y)
            # k + 1: the point itself is its own nearest neighbour at distance 0.
            radius = torch.topk(joint, k + 1, dim=1, largest=False, sorted=True).values[:, k]
            del joint
            positive = (radius > 0).to(torch.int64)
            eps[lo:hi] = radius
            n_x[lo:hi] = (dist_x < radius[:, None]).sum(dim=1) - positive
            n_y[lo:hi] = (dist_y < radius[:, None]).sum(dim=1) - positive
    return eps.cpu().numpy(), n_x.cpu().numpy(), n_y.cpu().numpy()


def _max_norm(queries: Any, points: Any) -> Any:
    """(B, N) matrix of ``max_c |points[j, c] - queries[i, c]|`` (the definition's operations)."""
    import torch

    out = (points[None, :, 0] - queries[:, 0, None]).abs_()
    for c in range(1, queries.shape[1]):
        torch.maximum(out, (points[None, :, c] - queries[:, c, None]).abs_(), out=out)
    return out
