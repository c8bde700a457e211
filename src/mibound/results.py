"""Result types: :class:`Estimate` (a value with an error bar), :class:`Bounds` and
:class:`IndependenceTest` (a p-value)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mibound._checks import InvalidValueError

__all__ = ["Bounds", "Estimate", "IndependenceTest", "Kind"]

Kind = Literal["lower bound", "upper bound", "estimate"]
_KINDS = ("lower bound", "upper bound", "estimate")


def _fmt(value: float | None) -> str:
    return "None" if value is None else f"{value:.4f}"


def _plain(value: Any) -> Any:
    """Converts numpy/torch scalars and containers to JSON-friendly Python objects."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else (math.inf if value > 0 else -math.inf)
    return value


@dataclass
class Estimate:
    """An MI value in nats with its uncertainty and an honest label.

    Attributes:
        value: The reported number (nats), computed on held-out data where training is involved.
        stderr: Its standard error (nats).
        ci: A 95% confidence interval ``(low, high)``.
        kind: ``"lower bound"``, ``"upper bound"`` or ``"estimate"`` (no guarantee).
        method: The method's name, e.g. ``"smile"``.
        n: The number of samples used.
        diagnostics: Plain-language warnings about how far the value can be trusted.
        history: Training curves and other traces (e.g. ``{"step": [...], "train": [...]}``).
        settings: Every option the method used.
    """

    value: float
    stderr: float
    ci: tuple[float, float]
    kind: Kind
    method: str
    n: int
    diagnostics: list[str] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidValueError(f"kind: expected one of {_KINDS}, got {self.kind!r}")
        self.ci = (float(self.ci[0]), float(self.ci[1]))

    def __repr__(self) -> str:
        lines = [
            f"Estimate({self.method}: {self.value:.4f} nats ± {self.stderr:.4f}, "
            f"95% CI [{self.ci[0]:.4f}, {self.ci[1]:.4f}], {self.kind}, n={self.n})"
        ]
        lines += [f"  ! {d}" for d in self.diagnostics]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field."""
        return _plain(asdict(self))


@dataclass
class Bounds:
    """A lower and (where one exists) an upper bound on an information quantity, in nats.

    Attributes:
        lower: The lower bound.
        upper: The upper bound, or None where no upper bound exists for this knowledge.
        lower_stderr: Monte Carlo standard error of ``lower``.
        upper_stderr: Monte Carlo standard error of ``upper`` (None with ``upper``).
        true_value: The closed-form truth when the model knows it, else None.
        quantity: ``"mutual information"`` or ``"lautum information"``.
        method: How the bounds were computed, e.g. ``"snis"`` or ``"ais"``.
        settings: Every option used (K, n, T, chains, ...).
        diagnostics: Plain-language notes (e.g. why there is no upper bound).
    """

    lower: float
    upper: float | None
    lower_stderr: float
    upper_stderr: float | None = None
    true_value: float | None = None
    quantity: str = "mutual information"
    method: str = "snis"
    settings: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.diagnostics = list(self.diagnostics)
        for note in _consistency(self):
            if note not in self.diagnostics:
                self.diagnostics.append(note)

    @property
    def width(self) -> float | None:
        """``upper - lower``, or None without an upper bound."""
        return None if self.upper is None else self.upper - self.lower

    def __repr__(self) -> str:
        head = f"Bounds({self.quantity}, {self.method}: {_fmt(self.lower)}"
        head += f" (± {self.lower_stderr:.4f}) ≤ I"
        if self.upper is not None:
            head += f" ≤ {_fmt(self.upper)}"
            if self.upper_stderr is not None:
                head += f" (± {self.upper_stderr:.4f})"
        else:
            head += " (no upper bound)"
        if self.width is not None:
            head += f", width {self.width:.4f}"
        if self.true_value is not None:
            head += f", truth {self.true_value:.4f}"
        lines = [head + ")"]
        lines += [f"  ! {d}" for d in self.diagnostics]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field plus ``width``."""
        out = _plain(asdict(self))
        out["width"] = self.width
        return out


@dataclass
class IndependenceTest:
    """A permutation test of independence of X and Y (see :func:`mibound.independence_test`).

    Attributes:
        statistic: The MI estimate on the observed pairs (nats).
        p_value: ``(1 + #{null >= statistic}) / (1 + permutations)``.
        permutations: The number B of shuffles of y.
        method: The estimate used as the statistic (``"ksg"`` or ``"gaussian"``).
        n: The number of pairs.
        null_mean: Mean of the statistic over the shuffles (its value under independence,
            which shows the estimator's bias at this n).
        null_sd: Its standard deviation over the shuffles.
        null: The statistic on each shuffle.
        diagnostics: Notes on the statistic (e.g. duplicated rows).
        settings: The options used.
    """

    statistic: float
    p_value: float
    permutations: int
    method: str
    n: int
    null_mean: float
    null_sd: float
    null: list[float] = field(default_factory=list, repr=False)
    diagnostics: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        lines = [
            f"IndependenceTest({self.method}: statistic {self.statistic:.4f} nats, "
            f"p = {self.p_value:.4g} over {self.permutations} permutations; under independence "
            f"{self.null_mean:.4f} ± {self.null_sd:.4f}, n={self.n})"
        ]
        lines += [f"  ! {d}" for d in self.diagnostics]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field."""
        return _plain(asdict(self))


def _consistency(bounds: Bounds) -> list[str]:
    """Checks every Bounds for values no valid computation can give (see :class:`Bounds`).

    MI and Lautum information are non-negative, and a lower bound cannot exceed an upper
    bound on the same quantity; each check allows four standard errors (the paired width
    stderr when the settings hold one). The notes name what is wrong; the numbers are kept.
    """
    notes = []
    values = {"lower": bounds.lower, "upper": bounds.upper}
    errors = {"lower": bounds.lower_stderr, "upper": bounds.upper_stderr}
    bad = [
        name
        for name, v in (*values.items(), *((f"{k}_stderr", e) for k, e in errors.items()))
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v))
    ]
    if bad:
        notes.append(
            f"non-finite: {', '.join(bad)} is not a finite number (a density returned inf or "
            "NaN, or the log-weights overflowed); the bounds cannot be trusted"
        )
        return notes

    def slack(*names: str) -> float:
        terms = [errors[n] or 0.0 for n in names]
        return 4.0 * math.sqrt(sum(t * t for t in terms)) + 1e-9 * max(
            1.0, *(abs(values[n] or 0.0) for n in names)
        )

    upper = bounds.upper
    if upper is not None:
        width_se = bounds.settings.get("width_stderr")
        gap_slack = (
            4.0 * width_se + 1e-9 * max(1.0, abs(bounds.lower))
            if isinstance(width_se, (int, float)) and math.isfinite(width_se)
            else slack("lower", "upper")
        )
        already = any(
            d.startswith(("upper < lower", "lower exceeds upper")) for d in bounds.diagnostics
        )
        if bounds.lower - upper > gap_slack and not already:
            notes.append(
                f"inconsistent: the lower bound {bounds.lower:.4f} exceeds the upper bound "
                f"{upper:.4f} by more than four standard errors; a density is not normalised, "
                "or the computation lost precision"
            )
        if upper < -slack("upper"):
            notes.append(
                f"impossible: the upper bound {upper:.4f} is below 0 by more than four standard "
                f"errors, but {bounds.quantity} is never negative; the computation lost "
                "precision or a density is not normalised"
            )
    if bounds.lower < -slack("lower") - 1.0 and upper is not None:
        notes.append(
            f"far below 0: the lower bound {bounds.lower:.4f} is valid but says nothing; the "
            "proposal q(z|x) misses the latents that generated x, or the log-densities lost "
            "precision (e.g. data on a huge scale)"
        )
    return notes
