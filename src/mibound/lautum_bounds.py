r"""Known joint p(z) p(x | z): lower and upper bounds on the Lautum information.

:math:`LI = KL(p(x)p(z) \| p(x,z))`, bounded by IWAE below and IWHVI/SIVI above on shared
proposal samples (docs/estimators.md, "Known densities").
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mibound._checks import check_seed
from mibound._known import (
    Encoder,
    _bounds,
    _check_batch_size,
    _check_encoder,
    _check_model,
    _chunked,
    _default_batch,
    _known,
    _paired,
    _proposal_samples,
    _snis_settings,
)
from mibound._placement import placed
from mibound._random import seeded, torch_generator
from mibound.bounds import (
    lautum_lower,
    lautum_upper,
)
from mibound.encoders import (
    _check_int,
)
from mibound.models.base import LatentVariableModel
from mibound.results import Bounds

__all__ = ["lautum"]


def lautum(
    model: LatentVariableModel,
    encoder: Encoder | None = None,
    *,
    k: int = 64,
    n: int = 4096,
    seed: int = 0,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    progress: bool = False,
) -> Bounds:
    r"""Lower and upper bounds on the Lautum information :math:`LI = KL(p(x)p(z) \| p(x,z))`.

    :math:`LI = \mathbb{E}_{p(x)} \log p(x) - \mathbb{E}_{p(x)p(z)} \log p(x | z)`. With
    :math:`z' \sim p(z)` drawn independently of x and :math:`w_k = p(x, z_k)/q(z_k|x)`,
    :math:`z_{1:K} \sim q(z|x)` (a normalised proposal), and :math:`z_0` the exact posterior
    sample:

    .. math:: \mathbb{E}\Big[\log \tfrac1K \textstyle\sum_{k=1}^K w_k - \log p(x|z')\Big]
        \le LI \le
        \mathbb{E}\Big[\log \tfrac{1}{K+1} \textstyle\sum_{k=0}^K w_k - \log p(x|z')\Big]

    (IWAE below, IWHVI/SIVI above; with q = p(z) the upper side is the SIVI-type bound). Both
    sides share :math:`z_{1:K}` and :math:`z'`; they coincide sample by sample for the exact
    posterior. The :math:`\log p(x|z')` term can have a large variance when LI is large; the
    standard errors say so.

    Arguments:
        model: The latent-variable model.
        encoder: Proposal q(z | x), or None for the prior.
        k: Proposal samples per data point.
        n: Number of data points.
        seed: Seed of every random choice.
        batch_size: Data points per chunk.
        device: Device for the computation.
        dtype: Floating dtype for the computation.
        progress: Show a progress bar.

    Returns:
        :class:`~mibound.results.Bounds` with ``quantity="lautum information"``.

    References:
        Palomar & Verdú (2008), "Lautum information"; Sobolev & Vetrov (2019),
        https://arxiv.org/abs/1810.02789; Yin & Zhou (2018), https://arxiv.org/abs/1805.11183.
    """
    model = _check_model(model)
    encoder = _check_encoder(encoder)
    k = _check_int("k", k, 1)
    n = _check_int("n", n, 2)
    check_seed(seed)
    _check_batch_size(batch_size)
    model, encoder, place, model_dtype = placed(model, encoder, device, dtype)
    with seeded(seed, "data", place), torch.no_grad():
        g = torch_generator(seed, "data", place)
        x, z0 = model.sample(n, generator=g)
        _, z_indep = model.sample(n, generator=g)
    size = batch_size or _default_batch(k, x, z0, n)

    def terms(part: slice) -> tuple[Tensor, Tensor]:
        log_w, log_w0, _ = _proposal_samples(model, encoder, x[part], z0[part], k)
        log_lik_marginal = model.likelihood(z_indep[part]).log_prob(x[part])
        return (
            lautum_lower(log_w, log_lik_marginal, reduction="none"),
            lautum_upper(log_w, log_w0, log_lik_marginal, reduction="none"),
        )

    lower_terms, upper_terms = _chunked(
        terms,
        n,
        size,
        seed=seed,
        stream="proposals",
        place=place,
        progress=progress,
        description="Lautum bounds",
    )
    lower, upper, width_se = _paired(lower_terms, upper_terms)
    settings: dict[str, Any] = {
        "k": k,
        "n": n,
        "seed": seed,
        **_snis_settings(encoder, size, place, model_dtype, width_se),
    }
    diagnostics = []
    if encoder is None and upper[0] - lower[0] > max(0.05, 4 * width_se):
        diagnostics.append(
            "proposal is the prior p(z): the gap of both sides closes only when K is of the "
            "order of e^I; pass an encoder for tight bounds"
        )
    return _bounds(
        lower,
        upper,
        method="snis",
        settings=settings,
        diagnostics=diagnostics,
        truth=_known(model, "lautum_information"),
        quantity="lautum information",
    )
