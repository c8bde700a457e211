"""The registry of named tasks: ``get(name)``, ``names()``, ``register(task)``."""

from __future__ import annotations

import difflib

from mibound._checks import InvalidTypeError, InvalidValueError
from mibound.tasks.base import Task
from mibound.tasks.discrete import binary_symmetric_channel, categorical_copy
from mibound.tasks.gaussian import gaussian
from mibound.tasks.latent import linear_gaussian
from mibound.tasks.mixed import label_mixture, uniform_shift
from mibound.tasks.mixture import gaussian_mixture_clusters, x_mixture
from mibound.tasks.noise import uniform_noise
from mibound.tasks.student import student_t
from mibound.tasks.transforms import (
    ASINH,
    CUBE,
    HALF_CUBE,
    NORMAL_CDF,
    spiral,
    transformed,
    wiggly,
)

__all__ = ["STAIRCASE", "families", "get", "names", "register"]

#: The Poole et al. 2019 staircase: 20-d correlated Gaussians at these MIs (nats).
STAIRCASE = (2, 4, 6, 8, 10)

_REGISTRY: dict[str, Task] = {}


def _curated() -> list[Task]:
    tasks: list[Task] = [gaussian(20, mi=level) for level in STAIRCASE]
    tasks += [transformed(gaussian(20, mi=level), y_map=CUBE) for level in STAIRCASE]
    g1 = gaussian(1, rho=0.75)
    g_dense = {d: gaussian(d, rho=0.5, dense=True) for d in (2, 5, 25, 50)}
    g_sparse = [
        gaussian(5, rho=0.8, pairs=2),
        gaussian(10, rho=0.8, pairs=2),
        gaussian(25, rho=0.8, pairs=5),
        gaussian(50, rho=0.8, pairs=10),
    ]
    tasks += [g1, *g_dense.values(), *g_sparse, gaussian(128, rho=0.5)]
    t_paired = student_t(5, df=3, rho=0.5)
    tasks += [
        student_t(1, df=3, rho=0.0),
        student_t(2, df=1, rho=0.0),
        t_paired,
        student_t(5, df=5, rho=0.5, dense=True),
        student_t(10, df=3, rho=0.8, pairs=2),
    ]
    tasks += [
        transformed(g1, x_map=CUBE, y_map=CUBE),
        transformed(g1, x_map=wiggly(), y_map=wiggly()),
        transformed(g_dense[5], x_map=HALF_CUBE, y_map=HALF_CUBE),
        transformed(g_dense[5], x_map=NORMAL_CDF, y_map=NORMAL_CDF),
        transformed(g_dense[5], x_map=spiral(), y_map=spiral()),
        transformed(g_dense[5], x_map=wiggly(), y_map=wiggly()),
        transformed(g_dense[2], x_map=NORMAL_CDF, y_map=NORMAL_CDF),
        transformed(g_sparse[1], x_map=ASINH, y_map=HALF_CUBE),
        transformed(t_paired, x_map=ASINH, y_map=ASINH),
        transformed(t_paired, x_map=HALF_CUBE, y_map=HALF_CUBE),
    ]
    tasks += [uniform_noise(eps) for eps in (0.1, 0.3, 2.0)]
    tasks += [
        x_mixture(0.9),
        gaussian_mixture_clusters(1, k=4, separation=3.0),
        gaussian_mixture_clusters(2, k=4, separation=3.0),
        gaussian_mixture_clusters(5, k=8, separation=4.0),
    ]
    tasks += [
        linear_gaussian(2, 10, mi=1.0),
        linear_gaussian(4, 20, mi=4.0),
        linear_gaussian(8, 32, mi=10.0),
    ]
    tasks += [
        binary_symmetric_channel(0.1),
        binary_symmetric_channel(0.01),
        categorical_copy(4, 0.3),
        categorical_copy(10, 0.1),
    ]
    tasks += [uniform_shift(4), label_mixture(1, k=3, separation=2.0), label_mixture(4, k=4)]
    return tasks


def _registry() -> dict[str, Task]:
    if not _REGISTRY:
        for task in _curated():
            if task.name in _REGISTRY:
                raise RuntimeError(f"duplicate curated task name {task.name!r}")
            _REGISTRY[task.name] = task
    return _REGISTRY


def register(task: Task, *, replace: bool = False) -> Task:
    """Adds a task under ``task.name`` and returns it.

    Raises:
        TypeError: ``task`` is not a :class:`Task`.
        ValueError: The name is taken (pass ``replace=True`` to overwrite).
    """
    if not isinstance(task, Task):
        raise InvalidTypeError(f"task: expected a mibound.tasks.Task, got {type(task).__name__}")
    registry = _registry()
    if task.name in registry and not replace and registry[task.name] is not task:
        raise InvalidValueError(
            f"task: the name {task.name!r} is already registered (pass replace=True to overwrite)"
        )
    registry[task.name] = task
    return task


def names(family: str | None = None) -> list[str]:
    """The registered task names, sorted; only those of ``family`` when given."""
    registry = _registry()
    if family is not None and family not in families():
        raise InvalidValueError(f"family: expected one of {', '.join(families())}, got {family!r}")
    return sorted(n for n, t in registry.items() if family is None or t.family == family)


def families() -> list[str]:
    """The families of the registered tasks, sorted."""
    return sorted({t.family for t in _registry().values()})


def get(name: str) -> Task:
    """The task registered under ``name``.

    Raises:
        ValueError: Unknown name; the message lists the nearest registered names.
    """
    if not isinstance(name, str):
        raise InvalidTypeError(f"name: expected a task name (str), got {type(name).__name__}")
    registry = _registry()
    if name in registry:
        return registry[name]
    near = difflib.get_close_matches(name, list(registry), n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
    raise InvalidValueError(
        f"name: unknown task {name!r}{hint} (see mibound.tasks.names() or `mibound tasks`)"
    )
