"""``mibound matrix FILE``: MI between every pair of columns, as a CSV matrix and a heat map."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

__all__ = ["command"]


@click.command(name="matrix")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--method",
    "-m",
    default="ksg",
    show_default=True,
    metavar="M",
    help="Any method of `mibound estimate` (ksg, gaussian, smile, ...).",
)
@click.option("--k", type=click.IntRange(min=1), help="Neighbours for --method ksg (default 3).")
@click.option("--seed", default=0, show_default=True, type=int, help="Base seed.")
@click.option(
    "--discrete",
    "discrete_spec",
    default="auto",
    show_default=True,
    metavar="COLS",
    help="Discrete columns: comma-separated names, 'auto' (guess, reported) or 'none'.",
)
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Pairs computed at once (worker processes, or Ray tasks).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where pairs run.",
)
@click.option("--address", metavar="ADDR", help="Ray cluster address (--executor ray).")
@click.option(
    "--results",
    metavar="FILE.jsonl",
    help="Append each finished pair here; a rerun skips the pairs already in it.",
)
@click.option("--out", metavar="M.csv", help="Write the MI matrix (and M.stderr.csv) here.")
@click.option("--plot", metavar="M.png", help="Draw a heat map here.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No per-pair progress lines.")
def command(
    file: str,
    method: str,
    k: int | None,
    seed: int,
    discrete_spec: str,
    jobs: int,
    executor: str,
    address: str | None,
    results: str | None,
    out: str | None,
    plot: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """MI (nats) between every pair of columns of FILE (.csv .tsv .npy .parquet).

    The diagonal is not estimated. Runs pairs in parallel (--jobs) and resumes from --results.
    """
    import numpy as np

    from mibound.cli import UserError
    from mibound.io import read_pair
    from mibound.pairwise import pairwise

    if Path(file).suffix.lower() == ".npz":
        raise UserError("FILE: mibound matrix needs a table (.csv .tsv .npy .parquet), not .npz")
    if plot is not None:  # fail before computing the pairs, not after
        from mibound._checks import optional_import

        optional_import("matplotlib.figure", "plot", "--plot")
    first, rest, names = read_pair(file, "0", None)
    table = np.concatenate([first, rest], axis=1)
    columns = names["x"] + names["y"]
    options = {}
    if k is not None:
        if method.lower() != "ksg":
            raise UserError(f"--k applies to --method ksg only, not {method}")
        options["k"] = k
    discrete: bool | list[str] | None
    if discrete_spec == "auto":
        discrete = None
    elif discrete_spec == "none":
        discrete = False
    else:
        discrete = [part.strip() for part in discrete_spec.split(",")]
        unknown = [p for p in discrete if p not in columns]
        if unknown:
            raise UserError(
                f"--discrete: no column {unknown[0]!r}; columns are {', '.join(columns)}"
            )
    result = pairwise(
        table,
        method,
        names=columns,
        discrete=discrete,
        seed=seed,
        n_jobs=jobs,
        executor=executor,
        address=address,
        results=results,
        progress=not (quiet or as_json),
        **options,
    )
    if out is not None:
        out_path = Path(out)
        result.to_csv(out_path)
        result.to_csv(out_path.with_name(out_path.stem + ".stderr" + out_path.suffix), "stderr")
    if plot is not None:
        result.plot(plot)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    _print(result)


def _print(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"pairwise MI (nats), {result.settings['method']}, n = {result.n}")
    table.add_column("")
    for name in result.names:
        table.add_column(name, justify="right")
    for i, name in enumerate(result.names):
        cells = []
        for j in range(len(result.names)):
            v, s = result.values[i, j], result.stderr[i, j]
            cells.append("—" if i == j else f"{v:.3f}" + ("" if math.isnan(s) else f" ±{s:.3f}"))
        table.add_row(name, *cells)
    console = Console(soft_wrap=True, highlight=False)
    console.print(table)
    for key, notes in result.diagnostics.items():
        for note in notes:
            console.print(f"! {key if key != '*' else 'table'}: {note}")
