"""A user's decoder network p(x | z) and a prior p(z), wrapped as a latent-variable model."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from mibound._checks import InvalidTypeError, InvalidValueError
from mibound.models.base import LatentVariableModel

__all__ = ["DecoderModel"]


def _map_distribution(dist: Distribution, fn: Callable[[Tensor], Tensor]) -> Distribution:
    """A shallow copy of ``dist`` with ``fn`` applied to every tensor it holds (recursively)."""
    out = copy.copy(dist)
    for name, value in list(vars(out).items()):
        if isinstance(value, Tensor):
            setattr(out, name, fn(value))
        elif isinstance(value, Distribution):
            setattr(out, name, _map_distribution(value, fn))
    return out


class DecoderModel(LatentVariableModel):
    r"""Turns a decoder network and a prior into a :class:`LatentVariableModel`.

    .. math:: z \sim p(z), \qquad x \mid z \sim \mathrm{decoder}(z)

    The decoder is any :class:`torch.nn.Module` (or callable) mapping a batch of latents of
    shape ``batch_shape + event_shape(z)`` to a :class:`torch.distributions.Distribution` over x
    with the same batch shape, e.g. ``Independent(Bernoulli(logits=net(z)), 1)`` for binary
    images or ``Independent(Normal(net(z), sigma), 1)``. Its ``log_prob`` must be a normalised
    log-density (or log-mass), otherwise the sandwich bounds are not bounds.

    No closed forms are known, so :meth:`mutual_information` raises
    :class:`NotImplementedError`; :func:`mibound.sandwich` bounds it.

    ``model.to(device)`` moves the prior's tensors and, when the decoder is an nn.Module, its
    parameters (a plain function's captured tensors are not moved). :meth:`sample` draws with
    torch's global RNG (torch.distributions samplers take no generator); :func:`mibound.sandwich`
    seeds it locally and restores it.

    Arguments:
        decoder: Maps z to a Distribution over x.
        prior: The prior p(z) as a Distribution with empty batch shape.
        validate: Call the decoder once on two prior samples and check what it returns.

    Raises:
        TypeError: ``prior`` is not a Distribution, ``decoder`` is not callable, or the decoder
            does not return a Distribution.
        ValueError: The prior has a batch shape, or the decoder's batch shape does not match z.

    Example:
        >>> from torch.distributions import Independent, Normal
        >>> net = torch.nn.Linear(2, 3)
        >>> decoder = lambda z: Independent(Normal(net(z), 1.0), 1)
        >>> model = DecoderModel(decoder, Independent(Normal(torch.zeros(2), 1.0), 1))
        >>> x, z0 = model.sample(5)
        >>> x.shape, z0.shape
        (torch.Size([5, 3]), torch.Size([5, 2]))
    """

    def __init__(
        self,
        decoder: nn.Module | Callable[[Tensor], Distribution],
        prior: Distribution,
        *,
        validate: bool = True,
    ) -> None:
        super().__init__()
        if not callable(decoder):
            raise InvalidTypeError(
                f"decoder: expected an nn.Module or callable z -> Distribution, "
                f"got {type(decoder).__name__}"
            )
        if not isinstance(prior, Distribution):
            raise InvalidTypeError(
                f"prior: expected a torch.distributions.Distribution, got {type(prior).__name__}"
            )
        if prior.batch_shape != torch.Size():
            raise InvalidValueError(
                "prior: expected a Distribution with empty batch shape (wrap it in "
                "Independent(..., 1) for a vector latent), "
                f"got batch shape {tuple(prior.batch_shape)}"
            )
        self.decoder = decoder  # registered as a submodule when it is an nn.Module
        self._prior = prior
        if validate:
            with torch.no_grad():
                z = prior.sample((2,))
                self.likelihood(z)

    def prior(self) -> Distribution:
        return self._prior

    def likelihood(self, z: Tensor) -> Distribution:
        dist = self.decoder(z)
        if not isinstance(dist, Distribution):
            raise InvalidTypeError(
                "decoder: expected it to return a torch.distributions.Distribution over x "
                f"(e.g. Independent(Normal(mean, scale), 1)), got {type(dist).__name__}"
            )
        batch = z.shape[: z.ndim - len(self._prior.event_shape)]
        if dist.batch_shape != batch:
            raise InvalidValueError(
                f"decoder: expected a Distribution with batch shape {tuple(batch)} for latents "
                f"of shape {tuple(z.shape)}, got batch shape {tuple(dist.batch_shape)} "
                "(use Independent(..., 1) so that the data dimensions are the event)"
            )
        return dist

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> DecoderModel:
        super()._apply(fn, *args, **kwargs)
        self._prior = _map_distribution(self._prior, fn)
        return self

    def extra_repr(self) -> str:
        return f"prior={self._prior}"
