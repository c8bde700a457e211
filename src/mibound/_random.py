"""Named random streams: every use of randomness gets its own stream, derived from the seed."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["numpy_rng", "seeded", "stream_seed", "torch_generator"]


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


def torch_generator(seed: int, purpose: str, device: Any = "cpu") -> Any:  # torch.Generator
    """A ``torch.Generator`` on ``device`` seeded from the stream named ``purpose``."""
    import torch

    return torch.Generator(device=device).manual_seed(stream_seed(seed, purpose))


@contextlib.contextmanager
def seeded(seed: int, purpose: str, device: Any = None) -> Iterator[None]:
    """Runs a block with torch's global RNG on the stream named ``purpose``, then restores it.

    For code that cannot take a generator (``torch.distributions`` samplers, module
    initialisation): its draws are reproducible and the caller's random state is unchanged.
    """
    import torch

    value = stream_seed(seed, purpose)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    devices = []
    if dev.type == "cuda":
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(value)
        for index in devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(value)
        yield
