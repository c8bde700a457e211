"""``mibound estimate FILE``: black-box MI estimate from two sets of columns of a data file."""

from __future__ import annotations

import json
import math
from typing import Any

import click

__all__ = ["command"]

_METHODS = ("nwj", "dv", "mine", "infonce", "tuba", "alpha", "js", "smile", "ksg", "gaussian")
_NEURAL = _METHODS[:8]


@click.command(name="estimate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--x",
    "x_spec",
    metavar="COLS",
    help=(
        "Columns of X: names, indices '0,2' or ranges '0:5' (an array name for .npz). "
        "Default: the first column."
    ),
)
@click.option(
    "--y",
    "y_spec",
    metavar="COLS",
    help="Columns of Y (an array name for .npz). Default: every column not in X.",
)
@click.option(
    "--method",
    "-m",
    default="smile",
    show_default=True,
    metavar="M",
    help=f"One of {', '.join(_METHODS)}.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seed of every random choice (a non-negative integer).",
)
@click.option(
    "--dropna",
    is_flag=True,
    help="Drop rows with missing values in the X or Y columns (and say how many).",
)
@click.option("--k", type=click.IntRange(min=1), help="Neighbours for --method ksg (default 3).")
@click.option("--steps", type=click.IntRange(min=1), help="Training steps (neural methods).")
@click.option("--batch-size", type=click.IntRange(min=2), help="Batch size (neural methods).")
@click.option("--device", metavar="D", help="torch device for training, e.g. cpu or cuda.")
@click.option(
    "--critic",
    type=click.Choice(["separable", "concat", "bilinear"]),
    help="Critic architecture (neural methods; default separable).",
)
@click.option(
    "--tau", type=click.FloatRange(min=0, min_open=True), help="SMILE clip τ (default 5)."
)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True),
    help="α of the interpolated bound, --method alpha (default 0.01).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the Estimate as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(
    file: str,
    x_spec: str | None,
    y_spec: str | None,
    method: str,
    seed: int,
    dropna: bool,
    k: int | None,
    steps: int | None,
    batch_size: int | None,
    device: str | None,
    critic: str | None,
    tau: float | None,
    alpha: float | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Estimate the MI (nats) between the X and Y columns of FILE (.csv .tsv .npy .npz .parquet).

    Only samples are known here (the black box): the result says whether it is a lower bound
    or an estimate without guarantee, with diagnostics on how far it can be trusted.
    """
    from mibound.cli import UserError
    from mibound.estimation import estimate
    from mibound.io import read_pair

    method = method.lower()
    if method not in _METHODS:
        raise UserError(f"--method: expected one of {', '.join(_METHODS)}, got {method!r}")
    options: dict[str, Any] = {}
    neural_only = {
        "--steps": steps,
        "--batch-size": batch_size,
        "--device": device,
        "--critic": critic,
    }
    if tau is not None and method != "smile":
        raise UserError(f"--tau applies to --method smile only, not {method}")
    if alpha is not None and method != "alpha":
        raise UserError(f"--alpha applies to --method alpha only, not {method}")
    if method in _NEURAL:
        if k is not None:
            raise UserError(f"--k applies to --method ksg only, not {method}")
        options.update(
            {
                name: value
                for name, value in (
                    ("steps", steps),
                    ("batch_size", batch_size),
                    ("device", device),
                    ("critic", critic),
                    ("tau", tau),
                    ("alpha", alpha),
                )
                if value is not None
            }
        )
        options["progress"] = not (quiet or as_json)
    else:
        given = [name for name, value in neural_only.items() if value is not None]
        if given:
            raise UserError(f"{', '.join(given)}: only for neural methods, not --method {method}")
        if k is not None:
            if method != "ksg":
                raise UserError(f"--k applies to --method ksg only, not {method}")
            options["k"] = k

    x, y, names = read_pair(file, x_spec, y_spec, dropna=dropna)
    dropped = names.pop("dropped_rows", 0)
    if dropped:
        click.echo(f"mibound: dropped {dropped} row(s) with missing values", err=True)
    result = estimate(x, y, method=method, seed=seed, **options)
    result.settings.setdefault("file", str(file))
    result.settings.setdefault("columns", names)
    if dropna:
        result.settings["dropped_rows"] = dropped
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=True))
        return
    _print_table(result, names)


def _print_table(result: Any, names: dict[str, list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    def cols(values: list[str]) -> str:
        shown = ", ".join(values[:6])
        return shown + (f", ... ({len(values)} columns)" if len(values) > 6 else "")

    def num(value: float) -> str:
        return f"{value:.4f}" if math.isfinite(value) else "n/a"

    table = Table(title="mibound estimate", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("value", f"{num(result.value)} nats")
    table.add_row("std. error", num(result.stderr))
    table.add_row("95% CI", f"[{num(result.ci[0])}, {num(result.ci[1])}]")
    table.add_row("kind", result.kind)
    table.add_row("method", result.method)
    table.add_row("n", str(result.n))
    table.add_row("x", cols(names["x"]))
    table.add_row("y", cols(names["y"]))
    for i, note in enumerate(result.diagnostics):
        table.add_row("diagnostics" if i == 0 else "", f"! {note}")
    if not result.diagnostics:
        table.add_row("diagnostics", "none")
    Console(soft_wrap=True, highlight=False).print(table)
