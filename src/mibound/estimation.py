"""One entry point for black-box MI estimation from paired samples: :func:`estimate`."""

from __future__ import annotations

from typing import Any

from mibound._checks import InvalidTypeError, InvalidValueError, check_seed
from mibound._inputs import as_pair
from mibound.methods import NEURAL
from mibound.results import Estimate

__all__ = ["METHODS", "NEURAL_METHODS", "estimate"]

NEURAL_METHODS: tuple[str, ...] = tuple(NEURAL)
METHODS: tuple[str, ...] = ("auto", *NEURAL_METHODS, "ksg", "gaussian")


def estimate(
    x: Any,
    y: Any,
    method: str = "auto",
    *,
    seed: int = 0,
    z: Any = None,
    discrete_x: Any = None,
    discrete_y: Any = None,
    discrete_z: Any = None,
    **options: Any,
) -> Estimate:
    r"""Estimates :math:`I(X;Y)` in nats from paired samples only (the black-box case).

    Methods:
        - ``"auto"`` (default): normal scores (a per-column rank transform, which leaves MI
          unchanged), then KSG in low dimension, otherwise a cross-fitted critic made of the
          closed-form Gaussian-copula part plus a learned residual (:func:`mibound.auto.auto`).
          Measured on the 40 tasks of the bmi benchmark in docs/accuracy.md.
        - ``"nwj"``, ``"dv"``, ``"mine"``, ``"infonce"``, ``"tuba"``, ``"alpha"``, ``"js"``,
          ``"smile"``: a critic trained on part of the data, the value computed on held-out
          data (see :mod:`mibound.neural`). InfoNCE is capped at :math:`\log B`; any
          high-confidence lower bound from samples alone is capped near :math:`\log N`.
        - ``"ksg"``: the Kraskov–Stögbauer–Grassberger k-NN estimate (:func:`mibound.ksg`).
        - ``"gaussian"``: the MI of the Gaussian with the same covariance
          (:func:`mibound.gaussian`).

    Discrete columns: with ``method="ksg"``, discrete X and Y get the plug-in estimate with the
    Miller–Madow correction (:func:`mibound.plugin`), a discrete side against a continuous one
    the mixed k-NN estimate (:func:`mibound.mixed`). Other methods get each discrete column as
    indicator columns of its categories (an invertible encoding: the MI is unchanged), one-hot
    for the neural methods (the critic's first layer then embeds the categories) and with the
    first category dropped for ``"gaussian"`` (which is then :math:`-\tfrac12\log(1-\eta^2)`
    for a 1-d Y, η² the correlation ratio). Which columns are discrete, and why, is recorded in
    ``settings["discrete"]``; a guess is reported in the diagnostics.

    Arguments:
        x: Samples of X, shape ``(n,)`` or ``(n, d_x)`` (numpy, torch, pandas or lists).
        y: Samples of Y, shape ``(n,)`` or ``(n, d_y)``, paired with ``x``.
        method: One of :data:`METHODS`.
        seed: Seed of every random choice (noise, splits, initialisation, minibatches).
        discrete_x: Which columns of x are discrete: None (guess: integer columns with few
            distinct values, reported), a bool, column indices or a boolean mask. pandas
            categorical and string columns are always discrete.
        discrete_y: The same for y.
        z: Samples of a conditioning variable Z, shape ``(n,)`` or ``(n, d_z)``: the result is
            then the conditional MI :math:`I(X;Y \mid Z)` (see :func:`mibound.conditional`).
        discrete_z: Which columns of z are discrete (with ``z`` only).
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
    if z is not None:
        from mibound.conditional import conditional

        return conditional(
            x,
            y,
            z,
            method,
            seed=seed,
            discrete_x=discrete_x,
            discrete_y=discrete_y,
            discrete_z=discrete_z,
            **options,
        )
    if discrete_z is not None:
        raise InvalidTypeError("discrete_z: only with a conditioning variable z, got z=None")
    from mibound.mixed import discrete_aware

    routed, (x, y), record = discrete_aware(x, y, method, discrete_x, discrete_y, seed, options)
    if routed is not None:
        return routed
    result = _estimate(x, y, method, seed, options)
    if isinstance(result, Estimate):
        result.diagnostics.extend(record.pop("notes"))
        result.settings.setdefault("discrete", record)
    return result


def _estimate(x: Any, y: Any, method: str, seed: int, options: dict[str, Any]) -> Estimate:
    xa, ya = as_pair(x, y)
    if method == "auto":
        from mibound.auto import auto

        return auto(xa, ya, seed=seed, **options)
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
