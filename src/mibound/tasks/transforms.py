"""Invertible maps of x and/or y, which leave the mutual information (and Lautum) unchanged."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mibound._checks import InvalidTypeError, InvalidValueError
from mibound.tasks.base import Task, TaskSummary, _check_real, _format_number

__all__ = [
    "ASINH",
    "CUBE",
    "HALF_CUBE",
    "NORMAL_CDF",
    "Transform",
    "TransformedTask",
    "spiral",
    "transformed",
    "transformed_summary",
    "wiggly",
]

Array = np.ndarray


class Transform:
    """An invertible map of R^d (applied row-wise to arrays of shape ``(n, d)``).

    Arguments:
        name: A short name used in task names, e.g. ``"half-cube"``.
        forward: The map, from an ``(n, d)`` array to an ``(n, d)`` array.
        inverse: Its inverse.
        min_dim: The smallest dimension the map is defined for.
        description: One phrase for people.
    """

    def __init__(
        self,
        name: str,
        forward: Callable[[Array], Array],
        inverse: Callable[[Array], Array],
        *,
        min_dim: int = 1,
        description: str = "",
    ) -> None:
        self.name = name
        self._forward = forward
        self._inverse = inverse
        self.min_dim = min_dim
        self.description = description or name

    def __call__(self, v: Array) -> Array:
        return self._forward(np.asarray(v, dtype=np.float64))

    def inverse(self, v: Array) -> Array:
        """The inverse map."""
        return self._inverse(np.asarray(v, dtype=np.float64))

    def __repr__(self) -> str:
        return f"Transform({self.name!r})"


# Module-level functions (and functools.partial of them) keep transforms picklable, so that
# tasks can be sent to worker processes.
def _cube(v: Array) -> Array:
    return v**3


def _half_cube(v: Array) -> Array:
    return v * np.sqrt(np.abs(v))


def _half_cube_inverse(v: Array) -> Array:
    return np.sign(v) * np.abs(v) ** (2.0 / 3.0)


def _normal_cdf(v: Array) -> Array:
    from scipy.special import ndtr  # scipy on first use: listing tasks stays fast

    return ndtr(v)


def _normal_quantile(v: Array) -> Array:
    from scipy.special import ndtri

    return ndtri(v)


CUBE = Transform("cube", _cube, np.cbrt, description="x ↦ x³ elementwise")
HALF_CUBE = Transform(
    "half-cube", _half_cube, _half_cube_inverse, description="x ↦ x·|x|^{1/2} elementwise"
)
ASINH = Transform("asinh", np.arcsinh, np.sinh, description="x ↦ asinh(x) elementwise")
NORMAL_CDF = Transform(
    "normal-cdf",
    _normal_cdf,
    _normal_quantile,
    description="x ↦ Φ(x) elementwise (uniform margins for unit-variance normal margins; "
    "float64 resolution limits the inverse beyond |x| ≈ 8)",
)


def _rotate_pairs(v: Array, angle: Array) -> Array:
    out = v.copy()
    cos, sin = np.cos(angle), np.sin(angle)
    for i in range(0, v.shape[1] - 1, 2):
        a, b = v[:, i], v[:, i + 1]
        out[:, i] = cos * a - sin * b
        out[:, i + 1] = sin * a + cos * b
    return out


def spiral(speed: float = 0.5) -> Transform:
    r"""Rotation by an angle that grows with the norm: :math:`x ↦ R(s \|x\|^2)\, x`.

    R(θ) rotates every coordinate plane (x_0, x_1), (x_2, x_3), … by θ (an odd last coordinate
    stays). Rotations keep the norm, so the inverse is :math:`y ↦ R(-s \|y\|^2)\, y`.
    Needs d ≥ 2.
    """
    speed = _check_real("speed", speed, -math.inf, math.inf)
    name = "spiral" if speed == 0.5 else f"spiral-speed-{_format_number(speed)}"
    return Transform(
        name,
        functools.partial(_spiral, speed=speed),
        functools.partial(_spiral, speed=-speed),
        min_dim=2,
        description=f"spiral, speed {speed:g}",
    )


def _spiral(v: Array, speed: float) -> Array:
    return _rotate_pairs(v, speed * np.sum(v * v, axis=1))


def wiggly(amplitude: float = 0.4, frequency: float = 2.0) -> Transform:
    r"""A wiggly monotone map :math:`x ↦ x + a \sin(b x)` elementwise, strictly increasing
    when :math:`a b < 1`; the inverse is found by bisection on :math:`[y - a, y + a]`
    followed by Newton steps (to float64 resolution)."""
    a = _check_real("amplitude", amplitude, 0.0, math.inf)
    b = _check_real("frequency", frequency, 0.0, math.inf)
    if a * b >= 1.0:
        raise InvalidValueError(
            f"amplitude, frequency: expected amplitude * frequency < 1 (monotone), got {a * b:g}"
        )
    default = (a, b) == (0.4, 2.0)
    name = "wiggly" if default else f"wiggly-a-{_format_number(a)}-b-{_format_number(b)}"
    return Transform(
        name,
        functools.partial(_wiggly, a=a, b=b),
        functools.partial(_wiggly_inverse, a=a, b=b),
        description=f"x ↦ x + {a:g} sin({b:g} x)",
    )


def _wiggly(v: Array, a: float, b: float) -> Array:
    return v + a * np.sin(b * v)


def _wiggly_inverse(v: Array, a: float, b: float) -> Array:
    low, high = v - a, v + a
    for _ in range(24):  # bracket to 2a / 2^24, inside Newton's quadratic basin
        mid = 0.5 * (low + high)
        above = _wiggly(mid, a, b) > v
        high = np.where(above, mid, high)
        low = np.where(above, low, mid)
    x = 0.5 * (low + high)
    for _ in range(3):  # f' >= 1 - ab > 0 and |f''| <= a b^2: 1e-7 -> 1e-14 -> float64
        x = np.clip(x - (_wiggly(x, a, b) - v) / (1.0 + a * b * np.cos(b * x)), low, high)
    return x


def _checked_name(
    base: str,
    dim_x: int,
    dim_y: int,
    x_map: Transform | None,
    y_map: Transform | None,
    name: str | None,
) -> str:
    """Checks the maps against the base task's dimensions; the transformed task's name."""
    for side, tmap, dim in (("x_map", x_map, dim_x), ("y_map", y_map, dim_y)):
        if tmap is not None and not isinstance(tmap, Transform):
            raise InvalidTypeError(
                f"{side}: expected a Transform or None, got {type(tmap).__name__}"
            )
        if tmap is not None and dim < tmap.min_dim:
            raise InvalidValueError(
                f"{side}: {tmap.name!r} needs dimension >= {tmap.min_dim}, "
                f"got {dim} for task {base!r}"
            )
    if x_map is None and y_map is None:
        raise InvalidValueError("x_map, y_map: expected at least one transform, got none")
    if name is not None:
        return name
    if x_map is not None and y_map is not None and x_map.name == y_map.name:
        return f"{x_map.name}({base})"
    parts = [] if x_map is None else [f"{x_map.name}-x"]
    parts += [] if y_map is None else [f"{y_map.name}-y"]
    return f"{'-'.join(parts)}({base})"


class TransformedTask(Task):
    r"""A task whose x and/or y went through invertible maps: :math:`(f(x), g(y))`.

    MI and Lautum information are invariant under such maps, so the base task's truths hold.
    The pointwise MI is invariant too (the Jacobians cancel):
    :math:`\log \frac{p'(x', y')}{p'(x') p'(y')} = \mathrm{pmi}(f^{-1}(x'), g^{-1}(y'))`.

    Attributes:
        base: The untransformed task; ``sample(n, seed=s)`` maps ``base.sample(n, seed=s)``.
        x_map: The map of x or None.
        y_map: The map of y or None.
    """

    def __init__(
        self,
        base: Task,
        x_map: Transform | None,
        y_map: Transform | None,
        *,
        name: str | None = None,
    ) -> None:
        if not isinstance(base, Task):
            raise InvalidTypeError(f"task: expected a Task, got {type(base).__name__}")
        name = _checked_name(base.name, base.dim_x, base.dim_y, x_map, y_map, name)
        params: dict[str, Any] = {
            "base": base.name,
            "base_family": base.family,
            "base_params": base.params,
            "x_map": None if x_map is None else x_map.name,
            "y_map": None if y_map is None else y_map.name,
        }
        maps = []
        if x_map is not None:
            maps.append(f"x by {x_map.description}")
        if y_map is not None:
            maps.append(f"y by {y_map.description}")
        super().__init__(
            name=name,
            family="transformed",
            dim_x=base.dim_x,
            dim_y=base.dim_y,
            params=params,
            description=f"{base.name} with {' and '.join(maps)}; MI unchanged.",
        )
        self.base = base
        self.x_map = x_map
        self.y_map = y_map

    @property
    def mutual_information(self) -> float:
        return self.base.mutual_information

    @property
    def mutual_information_stderr(self) -> float:
        return self.base.mutual_information_stderr

    @property
    def lautum_information(self) -> float | None:
        return self.base.lautum_information

    @property
    def has_density(self) -> bool:
        return self.base.has_density

    def _sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base._sample(rng, n)
        x = np.asarray(x, dtype=np.float64).reshape(n, self.dim_x)
        y = np.asarray(y, dtype=np.float64).reshape(n, self.dim_y)
        if self.x_map is not None:
            x = self.x_map(x)
        if self.y_map is not None:
            y = self.y_map(y)
        return x, y

    def invert(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Maps transformed samples back to the base task's samples."""
        x = self._as_points("x", x, self.dim_x)
        y = self._as_points("y", y, self.dim_y)
        if self.x_map is not None:
            x = self.x_map.inverse(x)
        if self.y_map is not None:
            y = self.y_map.inverse(y)
        return x, y

    def _pointwise_mutual_information(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base.pointwise_mutual_information(*self.invert(x, y))


def transformed(
    task: Task,
    *,
    x_map: Transform | None = None,
    y_map: Transform | None = None,
    name: str | None = None,
) -> TransformedTask:
    """The task ``(f(x), g(y))`` with the base task's MI.

    Names: ``half-cube(gaussian-dense-5x5-rho-0.5)`` when both sides use the same map,
    ``cube-y(gaussian-20x20-mi-2)`` for one side, ``asinh-x-cube-y(...)`` for two maps.

    Example:
        >>> from mibound.tasks.gaussian import gaussian
        >>> task = transformed(gaussian(2, rho=0.5), x_map=ASINH, y_map=ASINH)
        >>> task.name, task.mutual_information == gaussian(2, rho=0.5).mutual_information
        ('asinh(gaussian-2x2-rho-0.5)', True)
    """
    return TransformedTask(task, x_map, y_map, name=name)


def transformed_summary(
    base: TaskSummary,
    *,
    x_map: Transform | None = None,
    y_map: Transform | None = None,
    name: str | None = None,
) -> TaskSummary:
    """The summary of ``transformed(task, ...)`` from the base task's summary: the same truths
    (invertible maps leave MI and Lautum information unchanged), the transformed name."""
    name = _checked_name(base.name, base.dim_x, base.dim_y, x_map, y_map, name)
    return dataclasses.replace(base, name=name, family="transformed")
