"""Benchmarks on tasks with known MI: cells, suites, a resumable runner, reports.

>>> from mibound import bench
>>> cells = bench.grid(["gaussian-1x1-rho-0.75"], [{"method": "gaussian"}], [500], [0])
>>> row = bench.run_cell(cells[0])
>>> row["status"], round(row["truth"], 4)
('ok', 0.4133)

``mibound bench`` runs a suite from the command line and ``mibound report`` turns a results file
into a markdown table and PNG plots.
"""

from mibound.bench.config import (
    RUNNERS,
    SUITES,
    Suite,
    build_task,
    cell_id,
    grid,
    load_config,
    staircase_estimator,
    suite,
)
from mibound.bench.executors import EXECUTORS, LocalExecutor, RayExecutor, make_executor
from mibound.bench.report import write_report
from mibound.bench.runner import RESULTS_FILE, RunSummary, latest_rows, read_results, run, run_cell
from mibound.bench.staircase import STAIRCASE_METHODS, train_staircase

__all__ = [
    "EXECUTORS",
    "RESULTS_FILE",
    "RUNNERS",
    "STAIRCASE_METHODS",
    "SUITES",
    "LocalExecutor",
    "RayExecutor",
    "RunSummary",
    "Suite",
    "build_task",
    "cell_id",
    "grid",
    "latest_rows",
    "load_config",
    "make_executor",
    "read_results",
    "run",
    "run_cell",
    "staircase_estimator",
    "suite",
    "train_staircase",
    "write_report",
]
