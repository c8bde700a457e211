"""Named random streams: every use of randomness gets its own stream, derived from the seed."""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["numpy_rng", "stream_seed", "torch_generator"]


def _key(purpose: str) -> int:
    """A stable 32-bit integer key for a purpose name (independent of PYTHONHASHSEED)."""
    return int.from_bytes(hashlib.blake2b(purpose.encode(), digest_size=4).digest(), "little")


def stream_seed(seed: int, purpose: str) -> int:
    """A 63-bit seed for the stream named ``purpose`` under the user's ``seed``.

    The stream is ``SeedSequence([seed, key(purpose)])``, so it never equals the stream a user
    makes with ``numpy.random.default_rng(seed)`` (whose entropy is ``seed`` alone), and two
    purposes never share a stream.

    Arguments:
        seed: The user's non-negative integer seed.
        purpose: A name for the use, e.g. ``"ksg.noise"`` or ``"train.minibatches"``.

    Returns:
        A non-negative integer below 2**63, suitable for ``torch.Generator.manual_seed``.
    """
    state = np.random.SeedSequence([int(seed), _key(purpose)]).generate_state(2, np.uint32)
    return (int(state[0]) | (int(state[1]) << 32)) & ((1 << 63) - 1)


def numpy_rng(seed: int, purpose: str) -> np.random.Generator:
    """A numpy ``Generator`` on the stream named ``purpose`` (see :func:`stream_seed`)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), _key(purpose)]))


def torch_generator(seed: int, purpose: str, device: object = "cpu"):  # -> torch.Generator
    """A ``torch.Generator`` on ``device`` seeded from the stream named ``purpose``."""
    import torch

    return torch.Generator(device=device).manual_seed(stream_seed(seed, purpose))
