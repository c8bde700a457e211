"""``mibound demo``: reproduce the talk's message in a few minutes; writes a report."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.command(name="demo")
@click.option(
    "--out", default="mibound-demo", show_default=True, metavar="DIR", help="Output directory."
)
@click.option("--quick", is_flag=True, help="Tiny settings (seconds; rough numbers).")
@click.option("--workers", type=int, help="Worker processes (default: one per CPU core).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(out: str, quick: bool, workers: int | None, quiet: bool) -> None:
    """Staircase (InfoNCE saturates at log B, NWJ's variance explodes, SMILE tracks), the
    known-joint sandwich closing on the truth, and every estimator on tasks with known MI.

    Writes DIR/report.md and PNG figures.
    """
    from mibound.cli import UserError
    from mibound.demo import demo

    if workers is not None and workers < 1:
        raise UserError(f"--workers: expected a positive integer, got {workers}")
    result = demo(out, quick=quick, workers=workers, progress=not quiet)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"report: {result.report}")
    for figure in result.figures:
        click.echo(f"figure: {figure}")
    click.echo(f"total time: {result.seconds:.1f} s")
