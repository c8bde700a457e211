"""Standard errors and the normal quantile used by every result's confidence interval."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["Z95", "interval95", "mean_stderr"]

#: The 97.5% quantile of the standard normal: ``ci = value ± Z95 * stderr``.
Z95 = 1.959963984540054


def interval95(value: float, stderr: float) -> tuple[float, float]:
    """The normal 95% interval ``(value - Z95 * stderr, value + Z95 * stderr)``."""
    return value - Z95 * stderr, value + Z95 * stderr


def mean_stderr(values: Any) -> tuple[float, float]:
    r"""The mean of independent terms and its standard error :math:`s / \sqrt{n}`.

    Arguments:
        values: A 1-d torch tensor or array-like of per-sample terms (computed in float64).

    Returns:
        ``(mean, stderr)``; the stderr is infinite for a single term.
    """
    if type(values).__module__.startswith("torch"):
        values = values.detach().double().cpu().numpy()
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    n = array.size
    se = float(array.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    return float(array.mean()), se
