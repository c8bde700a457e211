"""mibound: estimates, lower bounds and upper bounds on mutual information.

How well MI can be bounded depends on what is known about p(x, z): from samples alone every
high-confidence lower bound is capped near log N; with a known prior good lower bounds exist;
with a known prior and likelihood the truth can be sandwiched.

The public functions and submodules are imported on first use (PEP 562), so that
``import mibound`` and the command line start without loading torch.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from mibound._version import __version__

if TYPE_CHECKING:
    from mibound import bounds, critics, diagnostics, encoders, models, neural, tasks, train
    from mibound.ais import AISOptions, ais_sandwich
    from mibound.cca import gaussian
    from mibound.conditional import conditional
    from mibound.copula import normal_scores
    from mibound.discrete import plugin
    from mibound.estimation import estimate
    from mibound.independence import independence_test
    from mibound.knn import ksg
    from mibound.known_encoder import known_conditional
    from mibound.known_joint import sandwich
    from mibound.known_prior import known_marginal
    from mibound.lautum_bounds import lautum
    from mibound.mixed import mixed
    from mibound.pairwise import pairwise

__all__ = [
    "AISOptions",
    "__version__",
    "ais_sandwich",
    "bounds",
    "conditional",
    "critics",
    "diagnostics",
    "encoders",
    "estimate",
    "gaussian",
    "independence_test",
    "known_conditional",
    "known_marginal",
    "ksg",
    "lautum",
    "mixed",
    "models",
    "neural",
    "normal_scores",
    "pairwise",
    "plugin",
    "sandwich",
    "tasks",
    "train",
]

_FUNCTIONS = {
    "AISOptions": "mibound.ais",
    "ais_sandwich": "mibound.ais",
    "gaussian": "mibound.cca",
    "conditional": "mibound.conditional",
    "normal_scores": "mibound.copula",
    "plugin": "mibound.discrete",
    "estimate": "mibound.estimation",
    "independence_test": "mibound.independence",
    "ksg": "mibound.knn",
    "known_conditional": "mibound.known_encoder",
    "sandwich": "mibound.known_joint",
    "known_marginal": "mibound.known_prior",
    "lautum": "mibound.lautum_bounds",
    "mixed": "mibound.mixed",
    "pairwise": "mibound.pairwise",
}
_SUBMODULES = ("bounds", "critics", "diagnostics", "encoders", "models", "neural", "tasks", "train")


def __getattr__(name: str) -> Any:
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"mibound.{name}")
    raise AttributeError(f"module 'mibound' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package module: ``mibound.conditional`` (and ``mixed``, ``pairwise``) is always the
    function, even after importing the submodule of the same name has set the attribute."""

    def __getattribute__(self, name: str) -> Any:
        if name in _FUNCTIONS:
            return getattr(importlib.import_module(_FUNCTIONS[name]), name)
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package
