"""``mibound estimate FILE``: black-box MI estimate from two sets of columns of a data file."""

from __future__ import annotations

import json
import math
from typing import Any

import click

from mibound.estimation import METHODS, NEURAL_METHODS

__all__ = ["command"]

_METHODS = METHODS
_NEURAL = NEURAL_METHODS


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
    "--z",
    "z_spec",
    metavar="COLS",
    help=(
        "Columns of a conditioning variable Z: estimate the conditional MI I(X;Y|Z) "
        "(methods ksg, gaussian, or a neural method as a difference of two estimates). "
        "Needs --y."
    ),
)
@click.option(
    "--method",
    "-m",
    default="auto",
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
@click.option(
    "--discrete",
    "discrete_spec",
    default="auto",
    show_default=True,
    metavar="COLS",
    help=(
        "Which columns are discrete: comma-separated column names (indices for files without "
        "a header), 'auto' (guess integer columns with few values; the guess is reported) or "
        "'none'. With --method ksg, discrete columns get the plug-in or mixed k-NN estimate."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print the Estimate as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(
    file: str,
    x_spec: str | None,
    y_spec: str | None,
    z_spec: str | None,
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
    discrete_spec: str,
    as_json: bool,
    quiet: bool,
) -> None:
    """Estimate the MI (nats) between the X and Y columns of FILE (.csv .tsv .npy .npz .parquet),
    or with --z the conditional MI I(X;Y|Z).

    Only samples are known here (the black box): the result says whether it is a lower bound
    or an estimate without guarantee, with diagnostics on how far it can be trusted.
    """
    from mibound.cli import UserError
    from mibound.estimation import estimate

    method = method.lower()
    if method not in _METHODS:
        raise UserError(f"--method: expected one of {', '.join(_METHODS)}, got {method!r}")
    given = {
        "k": k,
        "steps": steps,
        "batch_size": batch_size,
        "device": device,
        "critic": critic,
        "tau": tau,
        "alpha": alpha,
    }
    options = _method_options(method, {name: v for name, v in given.items() if v is not None})
    if method in _NEURAL:
        options["progress"] = not (quiet or as_json)
    x, y, names, dropped, z = _read_columns(file, x_spec, y_spec, z_spec, dropna)
    if z is not None:
        options["z"] = z
    options.update(discrete_options(discrete_spec, names))
    result = estimate(x, y, method=method, seed=seed, **options)
    result.settings.setdefault("file", str(file))
    result.settings.setdefault("columns", names)
    if dropna:
        result.settings["dropped_rows"] = dropped
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=True))
        return
    _print_table(result, names)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _method_options(method: str, given: dict[str, Any]) -> dict[str, Any]:
    """The estimate's options from the flags given (None left out); a flag that does not
    belong to the method is a user error naming it."""
    from mibound.cli import UserError

    if "tau" in given and method != "smile":
        raise UserError(f"--tau applies to --method smile only, not {method}")
    if "alpha" in given and method != "alpha":
        raise UserError(f"--alpha applies to --method alpha only, not {method}")
    neural_only = [
        _flag(name) for name in ("steps", "batch_size", "device", "critic") if name in given
    ]
    if method == "auto":
        wrong = [flag for flag in neural_only if flag in ("--device", "--critic")]
        if wrong:
            raise UserError(f"{', '.join(wrong)}: not options of --method auto")
        return {name: given[name] for name in ("steps", "batch_size", "k") if name in given}
    if method in _NEURAL:
        if "k" in given:
            raise UserError(f"--k applies to --method ksg only, not {method}")
        return dict(given)
    if neural_only:
        raise UserError(f"{', '.join(neural_only)}: only for neural methods, not --method {method}")
    if "k" in given and method != "ksg":
        raise UserError(f"--k applies to --method ksg only, not {method}")
    return {"k": given["k"]} if "k" in given else {}


def _read_columns(
    file: str, x_spec: str | None, y_spec: str | None, z_spec: str | None, dropna: bool
) -> tuple[Any, Any, dict[str, Any], int, Any]:
    """x, y, the column names of each side, the rows dropped, and z (None without --z)."""
    from mibound.cli import UserError
    from mibound.io import read_pair

    if z_spec is not None and y_spec is None:
        raise UserError("--y: give the Y columns explicitly with --z")
    if z_spec is not None and dropna:
        raise UserError("--dropna: not available with --z; drop the rows with missing values first")
    x, y, names = read_pair(file, x_spec, y_spec, dropna=dropna)
    dropped = names.pop("dropped_rows", 0)
    if dropped:
        click.echo(f"mibound: dropped {dropped} row(s) with missing values", err=True)
    if z_spec is None:
        return x, y, names, dropped, None
    try:
        z, _, z_names = read_pair(file, z_spec, y_spec)
    except ValueError as err:  # read_pair names its first side --x / x
        message = str(err).replace("--x, --y", "--z, --y").replace("both x and", "both z and")
        raise UserError(message.replace("--x:", "--z:")) from None
    z_names.pop("dropped_rows", None)
    shared = sorted(set(z_names["x"]) & set(names["x"]))
    if shared:
        raise UserError(f"--x, --z: column(s) {', '.join(shared)} used for both x and z")
    names["z"] = z_names["x"]
    return x, y, names, dropped, z


def discrete_options(spec: str, names: dict[str, list[str]]) -> dict[str, Any]:
    """``discrete_x``/``discrete_y``/... keyword arguments from ``--discrete`` and the column names.

    Arguments:
        spec: ``"auto"``, ``"none"`` or comma-separated column names.
        names: The column names of each side (``{"x": [...], "y": [...]}``).
    """
    from mibound.cli import UserError

    if spec == "auto":
        return {}
    if spec == "none":
        return {f"discrete_{side}": False for side in names}
    wanted = [part.strip() for part in spec.split(",")]
    found: dict[str, list[int]] = {side: [] for side in names}
    for part in wanted:
        hits = [(side, cols.index(part)) for side, cols in names.items() if part in cols]
        if not part or not hits:
            shown = ", ".join(c for cols in names.values() for c in cols)
            raise UserError(f"--discrete: no column {part!r} among the columns used ({shown})")
        for side, index in hits:
            found[side].append(index)
    return {f"discrete_{side}": indices for side, indices in found.items()}


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
    table.add_row(
        "95% CI", f"[{num(result.ci[0])}, {num(result.ci[1])}] (sampling noise only, not bias)"
    )
    table.add_row("kind", result.kind)
    table.add_row("method", result.method)
    table.add_row("n", str(result.n))
    table.add_row("x", cols(names["x"]))
    table.add_row("y", cols(names["y"]))
    if "z" in names:
        table.add_row("z (given)", cols(names["z"]))
    discrete = result.settings.get("discrete") or {}
    shown = [
        names[side][j]
        for side in names
        for j in (discrete.get(side) or {}).get("discrete_columns", [])
        if j < len(names[side])
    ]
    if discrete:
        table.add_row("discrete", ", ".join(shown) if shown else "none")
    for i, note in enumerate(result.diagnostics):
        table.add_row("diagnostics" if i == 0 else "", f"! {note}")
    if not result.diagnostics:
        table.add_row("diagnostics", "none")
    Console(soft_wrap=True, highlight=False).print(table)
