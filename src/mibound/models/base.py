"""The latent-variable model protocol: a prior p(z), a likelihood p(x | z), joint sampling."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from mibound._checks import check_int

__all__ = ["LatentVariableModel"]


class LatentVariableModel(nn.Module):
    r"""Base class of latent-variable models :math:`p(x, z) = p(z) p(x | z)`.

    Subclasses implement :meth:`prior` and :meth:`likelihood`, both returning
    :class:`torch.distributions.Distribution` objects whose ``event_shape`` is ``(k,)`` for z and
    ``(d,)`` for x. Closed forms (:meth:`mutual_information`, :meth:`lautum_information`,
    :meth:`posterior`) are optional and raise :class:`NotImplementedError` when unknown.

    Being an :class:`torch.nn.Module`, a model moves between devices and dtypes with ``.to()``.
    """

    def prior(self) -> Distribution:
        """The prior p(z), with event shape ``(k,)``."""
        raise NotImplementedError

    def likelihood(self, z: Tensor) -> Distribution:
        """The likelihood p(x | z) for a batch of latents of shape ``(..., k)``."""
        raise NotImplementedError

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draws n joint samples; returns ``(x, z0)`` with ``z0`` the latent that generated x.

        The default uses the distributions' own samplers, which draw from torch's global RNG;
        subclasses that can take an explicit ``generator`` do so.
        """
        n = check_int("n", n, 1)
        z0 = self.prior().sample((n,))
        x = self.likelihood(z0).sample()
        return x, z0

    def log_joint(self, x: Tensor, z: Tensor) -> Tensor:
        r""":math:`\log p(x, z) = \log p(z) + \log p(x | z)`, broadcasting over batch shapes."""
        return self.prior().log_prob(z) + self.likelihood(z).log_prob(x)

    def posterior(self, x: Tensor) -> Distribution:
        """The exact posterior p(z | x), where known."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form posterior")

    def marginal(self) -> Distribution:
        """The exact marginal p(x), where known."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form marginal")

    def mutual_information(self) -> float:
        """I(X; Z) in nats, where known in closed form."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form MI")

    def lautum_information(self) -> float:
        """LI(X; Z) = KL(p(x)p(z) || p(x, z)) in nats, where known in closed form."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form Lautum information")
