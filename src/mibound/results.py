"""Result types: :class:`Estimate` (a value with an error bar) and :class:`Bounds`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mibound._checks import InvalidValueError

__all__ = ["Bounds", "Estimate", "Kind"]

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
