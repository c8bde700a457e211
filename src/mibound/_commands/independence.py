"""``mibound independence FILE``: a permutation test of independence (a p-value)."""

from __future__ import annotations

import json

import click

__all__ = ["command"]


@click.command(name="independence")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--x", "x_spec", metavar="COLS", help="Columns of X (as for mibound estimate).")
@click.option("--y", "y_spec", metavar="COLS", help="Columns of Y (default: every other column).")
@click.option(
    "--statistic",
    type=click.Choice(["ksg", "gaussian"]),
    default="ksg",
    show_default=True,
    help="The MI estimate used as the statistic (gaussian: linear dependence only).",
)
@click.option(
    "--permutations",
    type=click.IntRange(min=19),
    default=199,
    show_default=True,
    help="Shuffles of Y; the smallest p-value is 1/(permutations + 1).",
)
@click.option("--k", type=click.IntRange(min=1), default=3, show_default=True, help="KSG's k.")
@click.option(
    "--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the shuffles."
)
@click.option("--dropna", is_flag=True, help="Drop rows with missing values in X or Y.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def command(
    file: str,
    x_spec: str | None,
    y_spec: str | None,
    statistic: str,
    permutations: int,
    k: int,
    seed: int,
    dropna: bool,
    as_json: bool,
) -> None:
    """Test whether the X and Y columns of FILE are independent (a permutation p-value).

    Answers "is there any dependence?" with a valid p-value whatever the estimator's bias,
    which an MI estimate near 0 and its interval cannot.
    """
    from mibound.independence import independence_test
    from mibound.io import read_pair

    x, y, names = read_pair(file, x_spec, y_spec, dropna=dropna)
    dropped = names.pop("dropped_rows", 0)
    if dropped:
        click.echo(f"mibound: dropped {dropped} row(s) with missing values", err=True)
    result = independence_test(x, y, statistic=statistic, permutations=permutations, seed=seed, k=k)
    result.settings.update({"file": str(file), "columns": names, "dropped_rows": dropped})
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=True))
        return
    click.echo(
        f"p = {result.p_value:.4g} ({result.permutations} permutations of y); "
        f"{result.method} statistic {result.statistic:.4f} nats, under independence "
        f"{result.null_mean:.4f} ± {result.null_sd:.4f}; n = {result.n}"
    )
    for note in result.diagnostics:
        click.echo(f"! {note}")
