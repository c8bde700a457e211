"""``mibound bench``: run a benchmark suite (resumable) and write its report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mibound.bench import Suite

__all__ = ["command"]


@click.command(name="bench")
@click.option("--suite", "suite_name", metavar="NAME", help="quick, staircase or bmi-like.")
@click.option(
    "--config",
    "config",
    metavar="FILE",
    help="A TOML or JSON file defining the cells (format: docs/bench.md).",
)
@click.option(
    "--executor",
    default="local",
    show_default=True,
    metavar="E",
    help="local (processes) or ray (pip install 'mibound[ray]').",
)
@click.option("--address", metavar="A", help="Ray cluster address (with --executor ray).")
@click.option("--workers", type=int, help="Cells run at once (default: one per CPU core).")
@click.option("--out", metavar="DIR", help="Output directory (default: bench-<suite>).")
@click.option("--resume", is_flag=True, help="Skip the cells already in DIR/results.jsonl.")
@click.option("--retry-failed", is_flag=True, help="With --resume, run failed cells again.")
@click.option("--no-report", is_flag=True, help="Do not write report.md and the plots.")
@click.option("--dry-run", is_flag=True, help="Print how many cells would run, then stop.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(
    suite_name: str | None,
    config: str | None,
    executor: str,
    address: str | None,
    workers: int | None,
    out: str | None,
    resume: bool,
    retry_failed: bool,
    no_report: bool,
    dry_run: bool,
    quiet: bool,
) -> None:
    """Run a suite of benchmark cells (task × estimator × n × seed) with known MI.

    Each finished cell is appended to DIR/results.jsonl at once; a killed run loses only the
    cells in flight and continues with --resume.
    """
    from mibound.bench import EXECUTORS, load_config, run, suite, write_report
    from mibound.cli import UserError

    if (suite_name is None) == (config is None):
        raise UserError("expected exactly one of --suite NAME or --config FILE")
    if executor not in EXECUTORS:
        raise UserError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers is not None and workers < 1:
        raise UserError(f"--workers: expected a positive integer, got {workers}")
    if address is not None and executor != "ray":
        raise UserError("--address: only with --executor ray")
    if retry_failed and not resume:
        raise UserError("--retry-failed: only with --resume")
    chosen = suite(suite_name) if suite_name is not None else load_config(str(config))
    out_dir = out or f"bench-{chosen.name}"
    if dry_run:
        _dry_run(chosen, out_dir, resume)
        return
    try:
        summary = run(
            chosen.cells,
            out_dir,
            executor=executor,
            workers=workers,
            address=address,
            resume=resume,
            retry_failed=retry_failed,
            progress=not quiet,
            description=f"bench {chosen.name}",
        )
    except FileExistsError as err:
        raise UserError(str(err)) from None
    click.echo(
        f"{summary.ran} cells run ({summary.failed} failed), {summary.skipped} already done, "
        f"{summary.total} in suite {chosen.name!r}; {summary.seconds:.1f} s",
        err=True,
    )
    for line in summary.failures[:10]:
        click.echo(f"  failed: {line}", err=True)
    click.echo(f"results: {summary.path}")
    if not no_report:
        report = write_report(summary.path, out_dir, title=f"mibound bench: {chosen.name}")
        click.echo(f"report: {report}")


def _dry_run(chosen: Suite, out_dir: str, resume: bool) -> None:
    from collections import Counter
    from pathlib import Path

    from mibound.bench import RESULTS_FILE, latest_rows, read_results

    cells = chosen.cells
    path = Path(out_dir) / RESULTS_FILE
    done: set[str] = set()
    if resume and path.is_file():
        done = {r["cell_id"] for r in latest_rows(read_results(path))}
    todo = [c for c in cells if c["id"] not in done]
    click.echo(f"suite {chosen.name!r}: {len(cells)} cells, {len(todo)} to run -> {path}")
    for label, count in Counter(c["label"] for c in todo).items():
        click.echo(f"  {count:5d}  {label}")
