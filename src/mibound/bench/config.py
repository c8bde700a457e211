"""Benchmark cells and suites: task × estimator configuration × sample size × seed.

A *cell* is one unit of work with every setting it needs, as a plain JSON-serialisable dict, so
that it pickles to any worker and its id is a stable hash of its settings. A *suite* is a named
list of cells. Suites come from :data:`SUITES` (``"quick"``, ``"staircase"``, ``"bmi-like"``) or
from a TOML/JSON file (:func:`load_config`).

Config file format (TOML shown; JSON with the same structure works too)::

    name = "my-suite"
    tasks = ["gaussian-20x20-mi-2", { factory = "gaussian", args = [5], kwargs = { rho = 0.5 } }]
    sizes = [1000, 5000]
    seeds = [0, 1, 2]

    [[estimators]]
    method = "ksg"
    k = 3                      # every other key is an option of mibound.estimate

    [[estimators]]
    name = "infonce-concat"    # the column label in reports (default: built from the options)
    method = "infonce"
    steps = 1000
    critic = "concat"

    [[estimators]]
    runner = "sandwich"        # mibound.sandwich on the task's latent model
    method = "snis"
    k = 64

    [[estimators]]
    runner = "staircase"       # Poole et al. staircase: one critic trained while MI steps up
    method = "infonce"         # (ignores tasks and sizes; uses dim, levels, steps_per_level, ...)

Several grids can be listed as ``[[grid]]`` tables, each with its own ``tasks``, ``sizes``,
``seeds`` and ``estimators``; the suite is their union.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mibound._checks import InvalidTypeError, InvalidValueError

__all__ = [
    "RUNNERS",
    "SUITES",
    "Suite",
    "build_task",
    "cell_id",
    "estimator_label",
    "grid",
    "load_config",
    "staircase_estimator",
    "suite",
]

#: How a cell is computed: ``"estimate"`` calls :func:`mibound.estimate` on samples;
#: ``"sandwich"`` calls :func:`mibound.sandwich` on the task's latent model (known joint);
#: ``"staircase"`` trains one critic while the MI of 20-d Gaussians steps up (Poole et al.).
RUNNERS: tuple[str, ...] = ("estimate", "sandwich", "staircase")

#: Task factories a config file may call by name (all from :mod:`mibound.tasks`).
_FACTORIES: tuple[str, ...] = (
    "gaussian",
    "student_t",
    "linear_gaussian",
    "uniform_noise",
    "binary_symmetric_channel",
    "categorical_copy",
    "gaussian_mixture_clusters",
    "x_mixture",
    "transformed",
)
_MAPS: tuple[str, ...] = ("CUBE", "HALF_CUBE", "ASINH", "NORMAL_CDF", "spiral", "wiggly")


def cell_id(cell: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit id of a cell's settings (task, runner, method, options, n, seed).

    The estimator's display label and the suite's name are not part of the id, so renaming
    either keeps finished cells finished.
    """
    keys = ("task", "runner", "method", "options", "n", "seed")
    payload = json.dumps({k: cell.get(k) for k in keys}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def estimator_label(runner: str, method: str, options: Mapping[str, Any]) -> str:
    """A short column label, e.g. ``infonce[critic=concat,steps=500]`` or ``snis[k=64]``."""
    shown = {k: v for k, v in options.items() if k not in ("progress", "device")}
    inner = ",".join(f"{k}={_short(v)}" for k, v in sorted(shown.items()))
    prefix = "staircase-" if runner == "staircase" else ""
    return f"{prefix}{method}[{inner}]" if inner else f"{prefix}{method}"


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(_short(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def build_task(spec: str | Mapping[str, Any]) -> Any:
    """The :class:`mibound.tasks.Task` of a task spec.

    Arguments:
        spec: A registry name (``mibound tasks`` lists them) or a dict
            ``{"factory": F, "args": [...], "kwargs": {...}}`` with F one of the factories of
            :mod:`mibound.tasks` (``gaussian``, ``student_t``, ``linear_gaussian``,
            ``uniform_noise``, ``binary_symmetric_channel``, ``categorical_copy``,
            ``gaussian_mixture_clusters``, ``x_mixture``, ``transformed``). For
            ``transformed``, ``kwargs`` holds ``base`` (a spec) and ``x_map``/``y_map`` (one of
            ``CUBE``, ``HALF_CUBE``, ``ASINH``, ``NORMAL_CDF``, ``spiral``, ``wiggly``).

    Raises:
        ValueError: Unknown name or factory, or bad arguments.
        TypeError: ``spec`` is neither a string nor a dict.
    """
    from mibound import tasks

    if isinstance(spec, str):
        return tasks.get(spec)
    if not isinstance(spec, Mapping):
        raise InvalidTypeError(
            f"task: expected a task name or a table with 'factory', got {type(spec).__name__}"
        )
    unknown = set(spec) - {"factory", "args", "kwargs"}
    if unknown:
        raise InvalidValueError(
            f"task: unexpected keys {sorted(unknown)} (expected factory, args, kwargs)"
        )
    factory = spec.get("factory")
    if factory not in _FACTORIES:
        raise InvalidValueError(
            f"task.factory: expected one of {', '.join(_FACTORIES)}, got {factory!r}"
        )
    args = list(spec.get("args", []))
    kwargs = dict(spec.get("kwargs", {}))
    if factory == "transformed":
        if "base" not in kwargs:
            raise InvalidValueError(
                "task.kwargs.base: the transformed factory needs a base task spec"
            )
        kwargs["base"] = build_task(kwargs["base"])
        for side in ("x_map", "y_map"):
            if side in kwargs:
                kwargs[side] = _build_map(side, kwargs[side])
        base = kwargs.pop("base")
        return tasks.transformed(base, *args, **kwargs)
    return getattr(tasks, factory)(*args, **kwargs)


def _build_map(side: str, name: Any) -> Any:
    from mibound import tasks

    if name not in _MAPS:
        raise InvalidValueError(
            f"task.kwargs.{side}: expected one of {', '.join(_MAPS)}, got {name!r}"
        )
    value = getattr(tasks, name)
    return value() if callable(value) and name in ("spiral", "wiggly") else value


def _positive_ints(name: str, values: Any) -> list[int]:
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise InvalidValueError(f"{name}: expected a non-empty list of integers, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise InvalidValueError(f"{name}: expected non-negative integers, got {v!r}")
        out.append(int(v))
    return out


def _estimator(raw: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidTypeError(f"estimators: expected tables, got {type(raw).__name__}")
    options = dict(raw)
    runner = options.pop("runner", "estimate")
    if runner not in RUNNERS:
        raise InvalidValueError(
            f"estimators.runner: expected one of {', '.join(RUNNERS)}, got {runner!r}"
        )
    method = options.pop("method", None)
    if not isinstance(method, str):
        raise InvalidValueError(f"estimators.method: expected a method name, got {method!r}")
    method = method.lower()
    _check_method(runner, method)
    label = options.pop("name", None) or estimator_label(runner, method, options)
    for key, value in options.items():
        _check_json("estimators." + key, value)
    return {"label": str(label), "runner": runner, "method": method, "options": options}


def _check_method(runner: str, method: str) -> None:
    from mibound.bench.staircase import STAIRCASE_METHODS
    from mibound.estimation import METHODS

    allowed = {
        "estimate": METHODS,
        "sandwich": ("snis", "ais"),
        "staircase": STAIRCASE_METHODS,
    }[runner]
    if method not in allowed:
        raise InvalidValueError(
            f"estimators.method: expected one of {', '.join(allowed)} for runner {runner!r}, "
            f"got {method!r}"
        )


def _check_json(name: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidValueError(
            f"{name}: expected a JSON-serialisable finite value, got {value!r}"
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValueError(f"{name}: expected a finite number, got {value!r}")


def grid(
    tasks: Iterable[str | Mapping[str, Any]],
    estimators: Iterable[Mapping[str, Any]],
    sizes: Iterable[int],
    seeds: Iterable[int],
    *,
    suite_name: str = "custom",
) -> list[dict[str, Any]]:
    """The cells of a grid: every task × estimator × size × seed.

    ``"staircase"`` estimators make one cell per seed (they define their own data); the
    others one per task, size and seed. Tasks are built (and so checked) here.

    Arguments:
        tasks: Task specs (see :func:`build_task`).
        estimators: Dicts with ``method``, optional ``runner`` (``"estimate"`` by default),
            optional ``name`` (the report label) and options.
        sizes: Sample sizes n.
        seeds: Seeds; a cell derives all its randomness (data and estimator) from its seed.
        suite_name: Recorded in every row.

    Returns:
        A list of cell dicts with keys ``id``, ``suite``, ``task``, ``runner``, ``method``,
        ``label``, ``options``, ``n``, ``seed``.
    """
    estimators = [_estimator(e) for e in estimators]
    seeds = _positive_ints("seeds", list(seeds))
    needs_tasks = any(e["runner"] != "staircase" for e in estimators)
    task_specs = list(tasks)
    sizes_list = _positive_ints("sizes", list(sizes)) if needs_tasks else []
    if needs_tasks and not task_specs:
        raise InvalidValueError(
            "tasks: expected at least one task for the non-staircase estimators"
        )
    built = [(spec, build_task(spec)) for spec in task_specs] if needs_tasks else []
    cells: list[dict[str, Any]] = []
    for est in estimators:
        if est["runner"] == "staircase":
            for seed in seeds:
                cells.append(_cell(suite_name, est, _staircase_task(est["options"]), None, seed))
            continue
        for spec, task in built:
            if est["runner"] == "sandwich" and getattr(task, "model", None) is None:
                raise InvalidValueError(
                    f"estimators: runner 'sandwich' needs a task with a latent model "
                    f"(e.g. linear-gaussian-k-2-d-10-mi-1), got {task.name!r}"
                )
            for n in sizes_list:
                for seed in seeds:
                    cells.append(_cell(suite_name, est, spec, n, seed))
    return cells


def _staircase_task(options: Mapping[str, Any]) -> str:
    from mibound.bench.staircase import staircase_name

    return staircase_name(
        dim=int(options.get("dim", 20)),
        levels=tuple(options.get("levels", (2, 4, 6, 8, 10))),
        cubic=bool(options.get("cubic", False)),
    )


def _cell(
    suite_name: str, est: Mapping[str, Any], task: Any, n: int | None, seed: int
) -> dict[str, Any]:
    cell = {
        "suite": suite_name,
        "task": task,
        "runner": est["runner"],
        "method": est["method"],
        "label": est["label"],
        "options": dict(est["options"]),
        "n": n,
        "seed": seed,
    }
    cell["id"] = cell_id(cell)
    return cell


class Suite:
    """A named list of cells.

    Attributes:
        name: The suite's name (recorded in every row).
        description: One sentence for people.
        cells: The cells, in the order they are submitted.
    """

    def __init__(self, name: str, cells: list[dict[str, Any]], description: str = "") -> None:
        ids = [c["id"] for c in cells]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise InvalidValueError(f"cells: two cells have the same settings (id {dup})")
        self.name = name
        self.cells = cells
        self.description = description

    def __len__(self) -> int:
        return len(self.cells)

    def __repr__(self) -> str:
        return f"Suite({self.name!r}, {len(self.cells)} cells)"


def staircase_estimator(
    method: str,
    critic: str = "separable",
    *,
    steps_per_level: int = 4000,
    levels: Sequence[float] = (2, 4, 6, 8, 10),
    **options: Any,
) -> dict[str, Any]:
    """An estimator dict for the ``"staircase"`` runner (Poole et al. defaults)."""
    opts: dict[str, Any] = {"critic": critic, "steps_per_level": steps_per_level}
    opts["levels"] = list(levels)
    if method == "alpha":
        opts.setdefault("alpha", 0.01)
    if method == "smile":
        opts.setdefault("tau", 5.0)
    opts.update(options)
    return {"runner": "staircase", "method": method, **opts}


# -- built-in suites ----------------------------------------------------------------------------


def _quick() -> Suite:
    tasks_ = [
        "gaussian-dense-5x5-rho-0.5",
        "gaussian-20x20-mi-6",
        "half-cube(gaussian-dense-5x5-rho-0.5)",
        "student-t-df-3-5x5-rho-0.5",
        "asinh(student-t-df-3-5x5-rho-0.5)",
        "uniform-noise-1x1-eps-0.3",
        "linear-gaussian-k-4-d-20-mi-4",
    ]
    fast = [{"method": "ksg"}, {"method": "gaussian"}]
    neural = [
        {"method": m, "steps": 500, "batch_size": 128, "name": m}
        for m in ("infonce", "nwj", "smile")
    ]
    cells = grid(tasks_, fast, [2000], [0, 1], suite_name="quick")
    cells += grid(tasks_, neural, [2000], [0], suite_name="quick")
    cells += grid(
        ["linear-gaussian-k-4-d-20-mi-4"],
        [
            {"runner": "sandwich", "method": "snis", "k": k, "name": f"snis[k={k}]"}
            for k in (16, 256)
        ],
        [2000],
        [0],
        suite_name="quick",
    )
    return Suite(
        "quick",
        cells,
        "Seven tasks (Gaussian, high-MI Gaussian, transformed, Student-t, uniform noise, "
        "linear-Gaussian) with KSG, Gaussian, short InfoNCE/NWJ/SMILE runs and the SNIS sandwich.",
    )


def _staircase() -> Suite:
    methods = ("nwj", "dv", "mine", "infonce", "alpha", "js", "smile")
    estimators = [
        staircase_estimator(m, critic, batch_size=64, lr=5e-4)
        for critic in ("separable", "concat")
        for m in methods
    ]
    cells = grid([], estimators, [], [0], suite_name="staircase")
    return Suite(
        "staircase",
        cells,
        "Poole et al. (2019): 20-d Gaussians, MI 2..10 nats, 4,000 steps per level, batch 64.",
    )


def _bmi_like() -> Suite:
    from mibound import tasks

    families = (
        "gaussian",
        "student-t",
        "transformed",
        "uniform-noise",
        "gaussian-mixture",
        "linear-gaussian",
    )
    names = [n for f in families for n in tasks.names(f) if not n.startswith("cube-y(")]
    names = [n for n in names if tasks.get(n).dim_x <= 50]
    estimators: list[dict[str, Any]] = [
        {"method": "ksg"},
        {"method": "gaussian"},
        {"method": "smile", "steps": 2000, "batch_size": 256},
        {"method": "infonce", "steps": 2000, "batch_size": 256},
        {"method": "nwj", "steps": 2000, "batch_size": 256},
    ]
    cells = grid(names, estimators, [5000], range(5), suite_name="bmi-like")
    return Suite(
        "bmi-like",
        cells,
        "The task families at N = 5,000, 5 seeds; KSG, Gaussian, SMILE, InfoNCE, NWJ.",
    )


#: The built-in suites, by name (each value builds the suite).
SUITES = {"quick": _quick, "staircase": _staircase, "bmi-like": _bmi_like}


def suite(name: str) -> Suite:
    """A built-in suite: ``"quick"``, ``"staircase"`` or ``"bmi-like"``.

    Raises:
        ValueError: Unknown name.
    """
    if name not in SUITES:
        raise InvalidValueError(f"--suite: expected one of {', '.join(SUITES)}, got {name!r}")
    return SUITES[name]()


def load_config(path: str | Path) -> Suite:
    """A suite from a TOML (``.toml``) or JSON (``.json``) file; see the module docstring.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Unknown extension, unparsable file or bad content (naming the key).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--config: no such file: {path}")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            try:
                import tomli as tomllib  # type: ignore[no-redef]
            except ModuleNotFoundError:
                raise InvalidValueError(
                    f"--config: reading TOML needs Python >= 3.11 or the tomli package: {path}"
                ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise InvalidValueError(f"--config: {path} is not valid TOML: {err}") from None
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidValueError(f"--config: {path} is not valid JSON: {err}") from None
    else:
        raise InvalidValueError(f"--config: expected a .toml or .json file, got {path.name!r}")
    if not isinstance(data, dict):
        raise InvalidValueError(f"--config: expected a table at the top of {path}")
    name = str(data.get("name", path.stem))
    grids = data.get("grid", [data])
    if not isinstance(grids, list) or not grids:
        raise InvalidValueError("grid: expected a list of tables ([[grid]])")
    cells: list[dict[str, Any]] = []
    for g in grids:
        if not isinstance(g, dict):
            raise InvalidValueError("grid: expected tables")
        known = {"name", "description", "grid", "tasks", "estimators", "sizes", "seeds"}
        unknown = set(g) - known
        if unknown:
            raise InvalidValueError(
                f"config: unexpected keys {sorted(unknown)} (expected {sorted(known)})"
            )
        if not g.get("estimators"):
            raise InvalidValueError("estimators: expected at least one [[estimators]] table")
        cells += grid(
            g.get("tasks", []),
            g["estimators"],
            g.get("sizes", [1000]),
            g.get("seeds", [0]),
            suite_name=name,
        )
    return Suite(name, cells, str(data.get("description", "")))
