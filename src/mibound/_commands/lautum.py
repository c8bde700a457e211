"""``mibound lautum MODEL``: lower and upper bounds on the Lautum information of a model."""

from __future__ import annotations

import json

import click

from mibound._commands.sandwich import (
    _MODEL_HELP,
    _dtype,
    load_model,
    print_bounds,
    resolve_encoder,
)

__all__ = ["command"]


@click.command(name="lautum", epilog=_MODEL_HELP)
@click.argument("model_spec", metavar="MODEL")
@click.option("--k", type=click.IntRange(min=1), default=64, show_default=True, help="Samples K.")
@click.option("--n", type=click.IntRange(min=2), default=4096, show_default=True, help="Points.")
@click.option(
    "--proposal",
    type=click.Choice(["auto", "exact", "prior", "fit"]),
    default="auto",
    show_default=True,
    help="auto: the factory's encoder, else fit when --fit-steps, else the exact posterior "
    "when the model has one, else the prior.",
)
@click.option(
    "--fit-steps", type=click.IntRange(min=1), help="Fit a GaussianEncoder for this many steps."
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed.")
@click.option("--device", metavar="D", help="torch device, e.g. cpu or cuda.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="Computation dtype.")
@click.option("--json", "as_json", is_flag=True, help="Print the Bounds as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(
    model_spec: str,
    k: int,
    n: int,
    proposal: str,
    fit_steps: int | None,
    seed: int,
    device: str | None,
    dtype: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Bounds on the Lautum information LI = KL(p(x)p(z) || p(x,z)) (nats) of a model.

    IWAE estimate of log p(x) below, IWHVI (with the exact posterior sample) above, minus
    E log p(x|z') for z' drawn from the prior independently of x.
    """
    from mibound.known_density import lautum

    model, encoder, label = load_model(model_spec)
    if device is not None or dtype is not None:
        model.to(device=device, dtype=_dtype(dtype))
    progress = not (quiet or as_json)
    encoder, description, fit = resolve_encoder(
        model, encoder, proposal, fit_steps, k, seed, progress
    )
    bounds = lautum(model, encoder, k=k, n=n, seed=seed, device=device, progress=progress)
    bounds.settings["model"] = label
    bounds.settings["proposal"] = description
    if fit:
        bounds.settings["fit"] = fit
    if as_json:
        click.echo(json.dumps(bounds.to_dict(), indent=2, allow_nan=True))
        return
    print_bounds(bounds, label, description, "mibound lautum")
