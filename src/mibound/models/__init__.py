"""Latent-variable models p(z) p(x | z) that speak torch.distributions."""

from mibound.models.base import LatentVariableModel
from mibound.models.linear_gaussian import LinearGaussian

__all__ = ["LatentVariableModel", "LinearGaussian"]
