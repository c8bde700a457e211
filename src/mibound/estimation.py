"""One entry point for black-box MI estimation from paired samples: :func:`estimate`."""

from __future__ import annotations

from typing import Any

from mibound._checks import InvalidTypeError, InvalidValueError, check_seed
from mibound._inputs import as_pair
from mibound.results import Estimate

__all__ = ["METHODS", "NEURAL_METHODS", "estimate"]

NEURAL_METHODS: tuple[str, ...] = ("nwj", "dv", "mine", "infonce", "tuba", "alpha", "js", "smile")
METHODS: tuple[str, ...] = (*NEURAL_METHODS, "ksg", "gaussian")


def estimate(x: Any, y: Any, method: str = "smile", *, seed: int = 0, **options: Any) -> Estimate:
    r"""Estimates :math:`I(X;Y)` in nats from paired samples only (the black-box case).

    Methods:
        - ``"nwj"``, ``"dv"``, ``"mine"``, ``"infonce"``, ``"tuba"``, ``"alpha"``, ``"js"``,
          ``"smile"``: a critic trained on part of the data, the value computed on held-out
          data (see :mod:`mibound.neural`). InfoNCE is capped at :math:`\log B`; any
          high-confidence lower bound from samples alone is capped near :math:`\log N`.
        - ``"ksg"``: the Kraskov–Stögbauer–Grassberger k-NN estimate (:func:`mibound.ksg`).
        - ``"gaussian"``: the MI of the Gaussian with the same covariance
          (:func:`mibound.gaussian`).

    Arguments:
        x: Samples of X, shape ``(n,)`` or ``(n, d_x)`` (numpy, torch, pandas or lists).
        y: Samples of Y, shape ``(n,)`` or ``(n, d_y)``, paired with ``x``.
        method: One of :data:`METHODS`.
        seed: Seed of every random choice (noise, splits, initialisation, minibatches).
        options: Passed to the method (e.g. ``k`` for KSG; ``steps``, ``batch_size``,
            ``device``, ``progress`` for the neural methods).

    Returns:
        An :class:`~mibound.results.Estimate` whose ``kind`` says whether it is a lower bound
        or an estimate without guarantee, with plain-language ``diagnostics``.

    Raises:
        ValueError: Unknown method, too few samples, NaN/inf, constant columns, mismatched n.
        TypeError: Non-numeric input or bad option types.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal((1000, 2))
        >>> y = x + rng.standard_normal((1000, 2))
        >>> estimate(x, y, method="gaussian").kind
        'estimate'
    """
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise InvalidValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    method = method.lower()
    seed = check_seed(seed)
    xa, ya = as_pair(x, y)
    if method == "ksg":
        from mibound.knn import ksg

        return ksg(xa, ya, seed=seed, **options)
    if method == "gaussian":
        from mibound.cca import gaussian

        unknown = sorted(set(options) - {"bias_correction"})
        if unknown:
            raise InvalidTypeError(
                f"options: method 'gaussian' takes only bias_correction, got {', '.join(unknown)}"
            )
        return gaussian(xa, ya, **options)
    from mibound.neural import neural_estimate

    return neural_estimate(xa, ya, method, seed=seed, **options)
