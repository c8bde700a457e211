"""mibound: estimates, lower bounds and upper bounds on mutual information.

How well MI can be bounded depends on what is known about p(x, z): from samples alone every
high-confidence lower bound is capped near log N; with a known prior good lower bounds exist;
with a known prior and likelihood the truth can be sandwiched.
"""

from mibound import bounds, critics, diagnostics, encoders, models, neural, tasks, train
from mibound._version import __version__
from mibound.ais import ais_sandwich
from mibound.cca import gaussian
from mibound.conditional import conditional
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
    "pairwise",
    "plugin",
    "sandwich",
    "tasks",
    "train",
]
