"""Latent-variable models p(z) p(x | z) that speak torch.distributions."""

from mibound.models.base import LatentVariableModel
from mibound.models.decoder import DecoderModel
from mibound.models.linear_gaussian import LinearGaussian
from mibound.models.mixture import GaussianMixture

__all__ = ["DecoderModel", "GaussianMixture", "LatentVariableModel", "LinearGaussian"]
