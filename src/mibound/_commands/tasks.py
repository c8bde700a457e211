"""``mibound tasks``: list the registered tasks with their true MI and Lautum information."""

from __future__ import annotations

import json
import math

import click

__all__ = ["command"]


def _number(value: float | None, stderr: float = 0.0) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:.4f}"
    return f"{text} ± {stderr:.4f}" if stderr > 0 else text


@click.command(name="tasks", help="List the tasks with known MI (nats) and Lautum information.")
@click.option("--family", "family", default=None, help="Only tasks of this family.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def command(family: str | None, as_json: bool) -> None:
    from mibound import tasks
    from mibound.cli import UserError

    if family is not None and family not in tasks.families():
        raise UserError(f"--family: expected one of {', '.join(tasks.families())}, got {family!r}")
    selected = tasks.summaries(family)  # the table needs no task built (no scipy, no torch)
    if as_json:  # full records (parameters, descriptions): built tasks
        records = [tasks.get(summary.name).to_dict() for summary in selected]
        click.echo(json.dumps(records, indent=2, allow_nan=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"mibound tasks ({len(selected)}); MI and LI in nats")
    table.add_column("name", no_wrap=True)
    table.add_column("family")
    table.add_column("dims", justify="right")
    table.add_column("MI", justify="right")
    table.add_column("LI", justify="right")
    for summary in selected:
        table.add_row(
            summary.name,
            summary.family,
            f"{summary.dim_x}×{summary.dim_y}",
            _number(summary.mutual_information, summary.mutual_information_stderr),
            _number(summary.lautum_information),
        )
    console = Console()
    if not console.is_terminal:  # pipes and files get whole names, not an 80-column fold
        console = Console(width=160)
    console.print(table)
