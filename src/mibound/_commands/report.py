"""``mibound report RESULTS.jsonl``: markdown table and PNG plots from a results file."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]


@click.command(name="report")
@click.argument("results", metavar="RESULTS.jsonl")
@click.option("--out", metavar="DIR", help="Where to write (default: the file's directory).")
@click.option("--title", default="mibound benchmark", show_default=True, help="Report title.")
def command(results: str, out: str | None, title: str) -> None:
    """Write report.md (tasks × estimators, estimate and ratio to truth), estimates.png and
    staircase.png from a results file of `mibound bench`."""
    from mibound.bench import write_report
    from mibound.cli import UserError

    path = Path(results)
    if not path.is_file():
        raise UserError(f"RESULTS: no such file: {results}")
    report = write_report(path, out or path.parent, title=title)
    click.echo(f"report: {report}")
