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
    selected = [tasks.get(name) for name in tasks.names(family)]
    if as_json:
        click.echo(json.dumps([task.to_dict() for task in selected], indent=2, allow_nan=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"mibound tasks ({len(selected)}); MI and LI in nats")
    table.add_column("name", no_wrap=True)
    table.add_column("family")
    table.add_column("dims", justify="right")
    table.add_column("MI", justify="right")
    table.add_column("LI", justify="right")
    for task in selected:
        table.add_row(
            task.name,
            task.family,
            f"{task.dim_x}×{task.dim_y}",
            _number(task.mutual_information, task.mutual_information_stderr),
            _number(task.lautum_information),
        )
    console = Console()
    if not console.is_terminal:  # pipes and files get whole names, not an 80-column fold
        console = Console(width=160)
    console.print(table)
