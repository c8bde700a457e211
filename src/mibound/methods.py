r"""The registry of black-box (sample-based) methods: one :class:`MethodSpec` per method.

Each entry says how a critic is trained, which bound is reported, what kind of number that is,
its ceiling and whether it needs a learned baseline. The neural engine
(:mod:`mibound.neural`), the staircase (:mod:`mibound.bench.staircase`), :func:`mibound.estimate`,
benchmark configurations and the CLI all read this table; adding a method is one entry here,
its bound in :mod:`mibound.bounds`, and its tests. This module does not import torch.

=========  ===========================  ==========================  =============  ===========
method     trained with                 reported                    kind           ceiling
=========  ===========================  ==========================  =============  ===========
nwj        NWJ                          NWJ                         lower bound    —
dv         DV                           DV (plug-in, biased up)     estimate       —
mine       DV, MINE's averaged gradient DV                          estimate       —
infonce    InfoNCE                      InfoNCE                     lower bound    log B
tuba       TUBA, learned log a(x)       TUBA                        lower bound    —
alpha      α-InfoNCE, learned log a(x)  α-InfoNCE                   lower bound    1 + log((B−1)/α)
js         Jensen–Shannon               NWJ of the JS-trained critic lower bound   —
smile      JS gradient, SMILE value     SMILE(τ)                    estimate       —
=========  ===========================  ==========================  =============  ===========

References:
    Poole et al. (2019), https://arxiv.org/abs/1905.06922; Song & Ermon (2020),
    https://arxiv.org/abs/1910.06222; Belghazi et al. (2018), https://arxiv.org/abs/1801.04062.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["NEURAL", "MethodSpec", "get"]


@dataclass(frozen=True)
class MethodSpec:
    r"""How one black-box method trains, what it reports, and what kind of number that is.

    Attributes:
        name: The method's name (``estimate(..., method=name)``).
        objective: The training objective: a bound of :mod:`mibound.bounds` (``"nwj"``,
            ``"dv"``, ``"infonce"``, ``"tuba"``, ``"interpolated"``, ``"js"``), ``"mine"``
            (DV with MINE's moving-average gradient) or ``"smile"`` (the SMILE value with the
            JS objective's gradient).
        validation: The bound of :mod:`mibound.bounds` used for early stopping on held-out
            batches (the training objective's value; JS for the JS-trained critics).
        reported: The bound of :mod:`mibound.bounds` reported on held-out (or, in the staircase,
            training) minibatches.
        kind: ``"lower bound"`` or ``"estimate"`` (no guarantee: SMILE is clipped, the DV
            plug-in is the log of a sample mean and biased upward).
        needs_baseline: Trains a log-baseline :math:`\log a(x)` beside the critic.
        partition: A partition-function bound whose variance grows like :math:`e^{I}`.
        summary: One line for documentation and the CLI.
    """

    name: str
    objective: str
    validation: str
    reported: str
    kind: Literal["lower bound", "estimate"]
    needs_baseline: bool = False
    partition: bool = False
    summary: str = ""

    def ceiling(self, batch: int, alpha: float) -> float | None:
        """The largest value the reported bound can take on a batch of B pairs (None: none)."""
        if self.reported == "infonce":
            return math.log(batch)
        if self.reported == "interpolated":
            from mibound.bounds import interpolated_ceiling

            return interpolated_ceiling(batch, alpha)
        return None

    def reported_value(self, scores: Tensor, log_a: Tensor | None, tau: float, alpha: float):
        """The reported bound of each score matrix, shape ``scores.shape[:-2]``."""
        return bound(self.reported, scores, log_a, tau=tau, alpha=alpha)

    def validation_value(self, scores: Tensor, log_a: Tensor | None, tau: float, alpha: float):
        """The held-out value used for early stopping, shape ``scores.shape[:-2]``."""
        return bound(self.validation, scores, log_a, tau=tau, alpha=alpha)

    def training_objective(
        self, *, tau: float, alpha: float, mine_rate: float
    ) -> Callable[[Tensor, Tensor | None], Tensor]:
        """A fresh ``(scores, log_a) -> scalar`` objective to maximise (stateful for MINE)."""
        from mibound import bounds

        if self.objective == "mine":
            average = bounds.MineAverage(mine_rate)
            return lambda scores, log_a: average(scores, validate=False)
        if self.objective == "smile":
            # Song & Ermon (2020): the SMILE value with the JS objective's gradient (SMILE's own
            # gradient lets the unclipped joint term grow without limit).
            def smile(scores: Tensor, log_a: Tensor | None) -> Tensor:
                value = bounds.smile(scores, tau, validate=False).mean()
                surrogate = bounds.js(scores, validate=False).mean()
                return value.detach() + (surrogate - surrogate.detach())

            return smile
        return lambda scores, log_a: bound(
            self.objective, scores, log_a, tau=tau, alpha=alpha
        ).mean()


def bound(name: str, scores: Tensor, log_a: Tensor | None, *, tau: float, alpha: float) -> Any:
    """The bound ``name`` of :mod:`mibound.bounds` on each score matrix (inputs not re-checked)."""
    from mibound import bounds

    if name == "tuba":
        return bounds.tuba(scores, log_a, validate=False)  # type: ignore[arg-type]
    if name == "interpolated":
        return bounds.interpolated(scores, alpha, log_a, validate=False)  # type: ignore[arg-type]
    if name == "smile":
        return bounds.smile(scores, tau, validate=False)
    return getattr(bounds, name)(scores, validate=False)


def _spec(name: str, objective: str, reported: str, kind: Any, **rest: Any) -> MethodSpec:
    validation = {"mine": "dv", "smile": "js"}.get(objective, objective)
    return MethodSpec(name, objective, validation, reported, kind, **rest)


#: The black-box neural methods, in the order they are listed.
NEURAL: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        _spec("nwj", "nwj", "nwj", "lower bound", partition=True, summary="NWJ"),
        _spec("dv", "dv", "dv", "estimate", partition=True, summary="Donsker–Varadhan"),
        _spec("mine", "mine", "dv", "estimate", partition=True, summary="DV trained as MINE"),
        _spec("infonce", "infonce", "infonce", "lower bound", summary="InfoNCE"),
        _spec(
            "tuba",
            "tuba",
            "tuba",
            "lower bound",
            needs_baseline=True,
            partition=True,
            summary="TUBA with a learned baseline",
        ),
        _spec(
            "alpha",
            "interpolated",
            "interpolated",
            "lower bound",
            needs_baseline=True,
            summary="interpolated α-InfoNCE with a learned baseline",
        ),
        _spec("js", "js", "nwj", "lower bound", partition=True, summary="NWJ of a JS critic"),
        _spec("smile", "smile", "smile", "estimate", summary="SMILE(τ) on a JS critic"),
    )
}


def get(name: object) -> MethodSpec:
    """The spec of a neural method (case-insensitive), or a ValueError listing the methods."""
    from mibound._checks import InvalidValueError

    if not isinstance(name, str) or name.lower() not in NEURAL:
        raise InvalidValueError(f"method: expected one of {', '.join(NEURAL)}, got {name!r}")
    return NEURAL[name.lower()]
