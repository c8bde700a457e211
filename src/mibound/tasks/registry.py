"""The registry of named tasks: ``get(name)``, ``names()``, ``summaries()``, ``register(task)``.

Curated tasks that would need scipy or torch to build (normal, Student-t, linear-Gaussian and
their transforms) are registered by their closed-form :class:`TaskSummary` and built on first
``get``; so listing them (``mibound tasks``) builds nothing and imports neither.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from typing import Any

from mibound._checks import InvalidTypeError, InvalidValueError
from mibound.tasks.base import Task, TaskSummary
from mibound.tasks.discrete import binary_symmetric_channel, categorical_copy
from mibound.tasks.gaussian import gaussian, gaussian_summary
from mibound.tasks.latent import linear_gaussian, linear_gaussian_summary
from mibound.tasks.mixed import label_mixture, uniform_shift
from mibound.tasks.mixture import gaussian_mixture_clusters, x_mixture
from mibound.tasks.noise import uniform_noise
from mibound.tasks.student import student_t, student_t_summary
from mibound.tasks.transforms import (
    ASINH,
    CUBE,
    HALF_CUBE,
    NORMAL_CDF,
    Transform,
    spiral,
    transformed,
    transformed_summary,
    wiggly,
)

__all__ = ["STAIRCASE", "families", "get", "names", "register", "summaries"]

#: The Poole et al. 2019 staircase: 20-d correlated Gaussians at these MIs (nats).
STAIRCASE = (2, 4, 6, 8, 10)


class _Entry:
    """A registered task: its name and family, its summary (a task's own is asked for only
    when listed: a Monte Carlo truth is computed on first use), and the task, built on first
    use."""

    def __init__(
        self,
        name: str,
        family: str,
        build: Callable[[], Task],
        summary: TaskSummary | None = None,
    ) -> None:
        self.name = name
        self.family = family
        self._build = build
        self._summary = summary
        self._task: Task | None = None

    @classmethod
    def of(cls, task: Task) -> _Entry:
        """An entry for a task that is already built."""
        entry = cls(task.name, task.family, lambda: task)
        entry._task = task
        return entry

    @classmethod
    def lazy(
        cls, summary: Callable[..., TaskSummary], build: Callable[..., Task], *args: Any, **kw: Any
    ) -> _Entry:
        """``build(*args, **kw)`` on first use, summarised meanwhile by ``summary(*args, **kw)``."""
        known = summary(*args, **kw)
        return cls(known.name, known.family, functools.partial(build, *args, **kw), known)

    @property
    def summary(self) -> TaskSummary:
        if self._summary is None:
            self._summary = self.task().summary()
        return self._summary

    @property
    def built(self) -> Task | None:
        """The task if it was built, else None."""
        return self._task

    def task(self) -> Task:
        if self._task is None:
            self._task = self._build()
        return self._task

    def transformed(self, x_map: Transform | None = None, y_map: Transform | None = None) -> _Entry:
        """The entry of ``transformed(this task, x_map=..., y_map=...)``, built lazily too."""
        known = transformed_summary(self.summary, x_map=x_map, y_map=y_map)
        build = functools.partial(self._transformed, x_map, y_map)
        return _Entry(known.name, known.family, build, known)

    def _transformed(self, x_map: Transform | None, y_map: Transform | None) -> Task:
        return transformed(self.task(), x_map=x_map, y_map=y_map)


_REGISTRY: dict[str, _Entry] = {}


def _normal_entries() -> list[_Entry]:
    """Normal and Student-t tasks and their transforms (lazy: they need scipy to build)."""
    g = functools.partial(_Entry.lazy, gaussian_summary, gaussian)
    t = functools.partial(_Entry.lazy, student_t_summary, student_t)
    staircase = [g(20, mi=level) for level in STAIRCASE]
    g1 = g(1, rho=0.75)
    g_dense = {d: g(d, rho=0.5, dense=True) for d in (2, 5, 25, 50)}
    g_sparse = [g(5, rho=0.8, pairs=2), g(10, rho=0.8, pairs=2)]
    g_sparse += [g(25, rho=0.8, pairs=5), g(50, rho=0.8, pairs=10)]
    t_paired = t(5, df=3, rho=0.5)
    entries = [*staircase, g1, *g_dense.values(), *g_sparse, g(128, rho=0.5), t_paired]
    entries += [t(1, df=3, rho=0.0), t(2, df=1, rho=0.0), t(5, df=5, rho=0.5, dense=True)]
    entries += [t(10, df=3, rho=0.8, pairs=2)]
    entries += [entry.transformed(y_map=CUBE) for entry in staircase]
    both = [
        (g1, CUBE),
        (g1, wiggly()),
        (g_dense[5], HALF_CUBE),
        (g_dense[5], NORMAL_CDF),
        (g_dense[5], spiral()),
        (g_dense[5], wiggly()),
        (g_dense[2], NORMAL_CDF),
        (t_paired, ASINH),
        (t_paired, HALF_CUBE),
    ]
    entries += [entry.transformed(x_map=tmap, y_map=tmap) for entry, tmap in both]
    return [*entries, g_sparse[1].transformed(x_map=ASINH, y_map=HALF_CUBE)]


def _curated() -> list[_Entry]:
    entries = _normal_entries()
    entries += [
        _Entry.lazy(linear_gaussian_summary, linear_gaussian, 2, 10, mi=1.0),
        _Entry.lazy(linear_gaussian_summary, linear_gaussian, 4, 20, mi=4.0),
        _Entry.lazy(linear_gaussian_summary, linear_gaussian, 8, 32, mi=10.0),
    ]
    # Cheap to build (numpy only; the mixtures' Monte Carlo truths are stored): built now.
    built: list[Task] = [uniform_noise(eps) for eps in (0.1, 0.3, 2.0)]
    built += [
        x_mixture(0.9),
        gaussian_mixture_clusters(1, k=4, separation=3.0),
        gaussian_mixture_clusters(2, k=4, separation=3.0),
        gaussian_mixture_clusters(5, k=8, separation=4.0),
    ]
    built += [
        binary_symmetric_channel(0.1),
        binary_symmetric_channel(0.01),
        categorical_copy(4, 0.3),
        categorical_copy(10, 0.1),
    ]
    built += [uniform_shift(4), label_mixture(1, k=3, separation=2.0), label_mixture(4, k=4)]
    return entries + [_Entry.of(task) for task in built]


def _registry() -> dict[str, _Entry]:
    if not _REGISTRY:
        for entry in _curated():
            name = entry.name
            if name in _REGISTRY:
                raise RuntimeError(f"duplicate curated task name {name!r}")
            _REGISTRY[name] = entry
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
    if task.name in registry and not replace and registry[task.name].built is not task:
        raise InvalidValueError(
            f"task: the name {task.name!r} is already registered (pass replace=True to overwrite)"
        )
    registry[task.name] = _Entry.of(task)
    return task


def names(family: str | None = None) -> list[str]:
    """The registered task names, sorted; only those of ``family`` when given."""
    registry = _registry()
    if family is not None and family not in families():
        raise InvalidValueError(f"family: expected one of {', '.join(families())}, got {family!r}")
    return sorted(name for name, entry in registry.items() if family in (None, entry.family))


def summaries(family: str | None = None) -> list[TaskSummary]:
    """The summaries (name, family, dimensions, truths) of the registered tasks, sorted by name;
    only those of ``family`` when given. Builds no curated task (their truths are closed forms
    or stored); a task given to :func:`register` reports its own, computing a Monte Carlo truth
    on first use.

    Example:
        >>> from mibound import tasks
        >>> s = tasks.summaries("linear-gaussian")[0]
        >>> s.name, s.dim_x, s.dim_y, s.mutual_information, round(s.lautum_information, 4)
        ('linear-gaussian-k-2-d-10-mi-1', 10, 2, 1.0, 2.4366)
    """
    registry = _registry()
    return [registry[name].summary for name in names(family)]


def families() -> list[str]:
    """The families of the registered tasks, sorted."""
    return sorted({entry.family for entry in _registry().values()})


def get(name: str) -> Task:
    """The task registered under ``name``.

    Raises:
        ValueError: Unknown name; the message lists the nearest registered names.
    """
    if not isinstance(name, str):
        raise InvalidTypeError(f"name: expected a task name (str), got {type(name).__name__}")
    registry = _registry()
    if name in registry:
        return registry[name].task()
    near = difflib.get_close_matches(name, list(registry), n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
    raise InvalidValueError(
        f"name: unknown task {name!r}{hint} (see mibound.tasks.names() or `mibound tasks`)"
    )
