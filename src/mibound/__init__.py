"""mibound: estimates, lower bounds and upper bounds on mutual information.

How well MI can be bounded depends on what is known about p(x, z): from samples alone every
high-confidence lower bound is capped near log N; with a known prior good lower bounds exist;
with a known prior and likelihood the truth can be sandwiched.

The public functions and submodules are imported on first use (PEP 562), so that
``import mibound`` and the command line start without loading torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mibound._version import __version__

if TYPE_CHECKING:
    from mibound import bounds, critics, diagnostics, encoders, models, neural, tasks, train
    from mibound.ais import ais_sandwich
    from mibound.cca import gaussian
    from mibound.estimation import estimate
    from mibound.knn import ksg
    from mibound.known_encoder import known_conditional
    from mibound.known_joint import sandwich
    from mibound.known_prior import known_marginal
    from mibound.lautum_bounds import lautum

__all__ = [
    "__version__",
    "ais_sandwich",
    "bounds",
    "critics",
    "diagnostics",
    "encoders",
    "estimate",
    "gaussian",
    "known_conditional",
    "known_marginal",
    "ksg",
    "lautum",
    "models",
    "neural",
    "sandwich",
    "tasks",
    "train",
]

_FUNCTIONS = {
    "ais_sandwich": "mibound.ais",
    "gaussian": "mibound.cca",
    "estimate": "mibound.estimation",
    "ksg": "mibound.knn",
    "known_conditional": "mibound.known_encoder",
    "sandwich": "mibound.known_joint",
    "known_marginal": "mibound.known_prior",
    "lautum": "mibound.lautum_bounds",
}
_SUBMODULES = ("bounds", "critics", "diagnostics", "encoders", "models", "neural", "tasks", "train")


def __getattr__(name: str) -> Any:
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(_FUNCTIONS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"mibound.{name}")
    else:
        raise AttributeError(f"module 'mibound' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
