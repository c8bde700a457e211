"""The resumable runner: runs cells, appends one JSON line per finished cell, skips finished ones.

Each row is written with a single ``write`` of one line, then flushed and ``fsync``-ed, as the
cell finishes. A run killed at any moment therefore loses only the cells in flight; a partly
written last line (the only damage a kill can do) is cut off when the file is resumed. With
``resume=True`` every cell whose id already has a row is skipped (failed cells too, unless
``retry_failed``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import socket
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mibound._checks import InvalidValueError, error_name
from mibound._jsonl import append_row, read_rows
from mibound._stats import Z95, interval95

__all__ = [
    "RESULTS_FILE",
    "RunSummary",
    "latest_rows",
    "make_out_dir",
    "read_results",
    "run",
    "run_cell",
    "versions",
]

#: The results file inside an output directory.
RESULTS_FILE = "results.jsonl"
_HISTORY_POINTS = 400


def versions() -> dict[str, str]:
    """Versions of mibound, torch, numpy, scipy and Python."""
    import numpy
    import scipy
    import torch

    import mibound

    return {
        "mibound": mibound.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy/torch scalars to Python, non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _compact_history(history: Mapping[str, Any]) -> dict[str, list[Any]]:
    """At most ``_HISTORY_POINTS`` evenly spaced entries of each trace, 5 significant digits."""
    out: dict[str, list[Any]] = {}
    for key, values in history.items():
        values = list(values) if isinstance(values, (list, tuple)) else []
        if len(values) > _HISTORY_POINTS:
            stride = math.ceil(len(values) / _HISTORY_POINTS)
            keep = list(range(0, len(values), stride))
            if keep[-1] != len(values) - 1:
                keep.append(len(values) - 1)
            values = [values[i] for i in keep]
        out[str(key)] = [float(f"{v:.5g}") if isinstance(v, float) else v for v in values]
    return out


def _run_estimate(cell: Mapping[str, Any], task: Any) -> dict[str, Any]:
    from mibound.estimation import NEURAL_METHODS, estimate

    x, y = task.sample(int(cell["n"]), seed=int(cell["seed"]))
    options = dict(cell["options"])
    if cell["method"] in NEURAL_METHODS:
        options.setdefault("progress", False)
    est = estimate(x, y, method=cell["method"], seed=int(cell["seed"]), **options)
    return {
        "value": est.value,
        "stderr": est.stderr,
        "ci": list(est.ci),
        "kind": est.kind,
        "diagnostics": list(est.diagnostics),
        "history": _compact_history(est.history),
        "settings": est.settings,
    }


def _run_sandwich(cell: Mapping[str, Any], task: Any) -> dict[str, Any]:
    model = getattr(task, "model", None)
    if model is None:
        raise InvalidValueError(f"runner 'sandwich': task {task.name!r} has no latent model")
    from mibound.known_joint import sandwich

    options = dict(cell["options"])
    encoder = options.pop("encoder", None)
    if encoder == "posterior":
        options["encoder"] = model.posterior
    elif encoder is not None:
        raise InvalidValueError(
            f"options.encoder: expected 'posterior' or nothing, got {encoder!r}"
        )
    if cell["method"] == "ais":  # the AIS fields of a flat options table
        from mibound.ais import AISOptions

        names = [field.name for field in dataclasses.fields(AISOptions)]
        fields = {name: options.pop(name) for name in names if name in options}
        options["ais"] = AISOptions(**fields)
    bounds = sandwich(
        model, method=cell["method"], n=int(cell["n"]), seed=int(cell["seed"]), **options
    )
    lower, upper = bounds.lower, bounds.upper
    return {
        "value": None,
        "lower": lower,
        "upper": upper,
        "lower_stderr": bounds.lower_stderr,
        "upper_stderr": bounds.upper_stderr,
        "stderr": None,
        "ci": [
            lower - Z95 * bounds.lower_stderr,
            upper + Z95 * bounds.upper_stderr
            if upper is not None and bounds.upper_stderr is not None
            else None,
        ],
        "kind": "bounds",
        "diagnostics": list(bounds.diagnostics),
        "history": {},
        "settings": bounds.settings,
    }


def _run_staircase(cell: Mapping[str, Any]) -> dict[str, Any]:
    from mibound.bench.staircase import train_staircase

    out = train_staircase(cell["method"], seed=int(cell["seed"]), **cell["options"])
    value, stderr = out["value"], out["stderr"]
    return {
        "value": value,
        "stderr": stderr,
        "ci": list(interval95(value, stderr)),
        "kind": "estimate" if cell["method"] in ("smile", "dv", "mine") else "lower bound",
        "diagnostics": [],
        "history": out["history"],
        "levels": out["levels"],
        "truth": out["truth"],
        "truth_stderr": 0.0,
        "settings": {"steps": out["steps"], "log_batch": out["log_batch"]},
    }


def run_cell(cell: Mapping[str, Any]) -> dict[str, Any]:
    """Computes one cell and returns its row; never raises (a failure is a row too).

    The row holds the cell's settings, the truth, the result (``value``, ``stderr``, ``ci``,
    ``kind``, ``diagnostics``, compact ``history``; ``lower``/``upper`` for sandwich cells),
    ``seconds``, ``status`` (``"ok"`` or ``"failed"`` with ``error``), package ``versions`` and
    ``host``. torch runs with one thread here so that every executor gives the same numbers.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    start = time.perf_counter()
    row: dict[str, Any] = {
        "cell_id": cell["id"],
        "suite": cell.get("suite"),
        "task": cell["task"] if isinstance(cell["task"], str) else None,
        "task_spec": cell["task"],
        "estimator": cell["label"],
        "runner": cell["runner"],
        "method": cell["method"],
        "options": cell["options"],
        "n": cell["n"],
        "seed": cell["seed"],
    }
    try:
        if cell["runner"] == "staircase":
            row.update(_run_staircase(cell))
        else:
            from mibound.bench.config import build_task

            task = build_task(cell["task"])
            row["task"] = task.name
            row["family"] = task.family
            row["truth"] = task.mutual_information
            row["truth_stderr"] = task.mutual_information_stderr
            if cell["runner"] == "sandwich":
                row.update(_run_sandwich(cell, task))
            else:
                row.update(_run_estimate(cell, task))
        row["status"] = "ok"
        row["error"] = None
    except Exception as err:  # a failed cell is a result, not a crash of the run
        row["status"] = "failed"
        row["error"] = f"{error_name(err)}: {' '.join(str(err).split())}"
        row["traceback"] = traceback.format_exc(limit=6)[-2000:]
    finally:
        torch.set_num_threads(threads)
    row["seconds"] = round(time.perf_counter() - start, 3)
    row["versions"] = versions()
    row["host"] = socket.gethostname()
    row["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return _plain(row)


def read_results(path: str | Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The rows of a results file, skipping a truncated or unparsable line.

    Arguments:
        path: A ``results.jsonl`` file.
        repair: Cut the file after its last complete line (what a killed run can leave), so
            that appending starts on a fresh line.

    Raises:
        FileNotFoundError: No such file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such results file: {path}")
    return [row for row in read_rows(path, repair=repair) if "cell_id" in row]


def make_out_dir(out: str | Path) -> Path:
    """The output directory ``out``, created with its parents when missing.

    Raises:
        ValueError: It cannot be created (the message names ``--out``).
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidValueError(
            f"--out: cannot create directory {str(out)!r}: {err.strerror}"
        ) from None
    return out


def latest_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell id: the last one written (a retried failure is replaced)."""
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_id.pop(row["cell_id"], None)
        by_id[row["cell_id"]] = dict(row)
    return list(by_id.values())


@dataclass
class RunSummary:
    """What a run did.

    Attributes:
        path: The results file.
        total: Cells in the suite.
        skipped: Cells already finished (resume).
        ran: Cells run now.
        failed: Cells run now that failed.
        seconds: Wall time.
    """

    path: Path
    total: int
    skipped: int
    ran: int = 0
    failed: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def run(
    cells: Sequence[Mapping[str, Any]],
    out: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
    description: str = "mibound bench",
) -> RunSummary:
    """Runs cells and appends each result to ``out/results.jsonl`` as it finishes.

    Arguments:
        cells: Cells from :func:`mibound.bench.grid`, a :class:`~mibound.bench.Suite`'s
            ``.cells``, or :func:`mibound.bench.load_config`.
        out: The output directory (created).
        executor: ``"local"`` (processes; default one per core) or ``"ray"``.
        workers: Cells run at once.
        address: Ray cluster address (``executor="ray"``).
        resume: Skip cells that already have a row in the file. Without it an existing,
            non-empty results file is an error (nothing is overwritten).
        retry_failed: With ``resume``, run the failed cells again.
        progress: Show a progress bar on stderr (cells done, running, left).
        description: The progress bar's label.

    Returns:
        A :class:`RunSummary`.

    Raises:
        FileExistsError: The results file exists and ``resume`` is False.
        ValueError: Bad executor or workers.
        ImportError: Ray requested but not installed.
    """
    from mibound.bench.executors import EXECUTORS, make_executor

    if executor not in EXECUTORS:
        raise InvalidValueError(
            f"--executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}"
        )
    out = make_out_dir(out)
    path = out / RESULTS_FILE
    done_ids: set[str] = set()
    if path.exists() and path.stat().st_size > 0:
        if not resume:
            raise FileExistsError(
                f"--out: {path} exists; pass --resume to continue it or choose another --out"
            )
        for row in latest_rows(read_results(path, repair=True)):
            if row.get("status") == "ok" or not retry_failed:
                done_ids.add(row["cell_id"])
    todo = [c for c in cells if c["id"] not in done_ids]
    summary = RunSummary(path=path, total=len(cells), skipped=len(cells) - len(todo))
    start = time.perf_counter()
    if not todo:
        if executor == "local":
            make_executor("local", workers, address)  # checks the arguments; starts nothing
        path.touch()
        return summary
    if executor == "local" and address is None:  # no idle processes to spawn
        workers = min(workers if workers is not None else (os.cpu_count() or 1), len(todo))
    ex = make_executor(executor, workers, address)
    bar = _Progress(description, len(cells), summary.skipped, ex, enabled=progress)
    try:
        with open(path, "ab") as fh, bar:
            for row in ex.imap_unordered(run_cell, todo, on_submit=bar.refresh):
                append_row(fh, row)
                summary.ran += 1
                if row["status"] != "ok":
                    summary.failed += 1
                    summary.failures.append(f"{row['task']} / {row['estimator']}: {row['error']}")
                bar.advance(row["status"] != "ok")
    finally:
        ex.close()
    summary.seconds = time.perf_counter() - start
    return summary


class _Progress:
    """A rich progress bar on stderr: done/total, running, left, failed, elapsed."""

    def __init__(self, description: str, total: int, done: int, ex: Any, *, enabled: bool) -> None:
        self.enabled = enabled
        self.total = total
        self.done = done
        self.failed = 0
        self.ex = ex
        self.description = description
        self._progress: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("done · {task.fields[running]} running · {task.fields[left]} left"),
                TextColumn("{task.fields[failed]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(
                self.description, total=self.total, completed=self.done, **self._fields()
            )
        return self

    def _fields(self) -> dict[str, Any]:
        running = self.ex.in_flight
        return {
            "running": running,
            "left": self.total - self.done - running,
            "failed": f"· {self.failed} failed" if self.failed else "",
        }

    def refresh(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, **self._fields())

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        self.refresh()

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self.refresh()
            self._progress.__exit__(*exc)
