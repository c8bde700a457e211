"""``mibound sandwich MODEL``: lower and upper bounds on the MI of a latent-variable model."""

from __future__ import annotations

from typing import Any

import click

from mibound._commands._models import (
    _MODEL_HELP,
    ModelOptions,
    _dtype,
    load_model,
    model_options,
    print_bounds,
    resolve_encoder,
    run_model_command,
)

__all__ = ["command", "load_model", "print_bounds", "resolve_encoder"]


@click.command(name="sandwich", epilog=_MODEL_HELP)
@click.argument("model_spec", metavar="MODEL")
@click.option(
    "--method",
    type=click.Choice(["snis", "ais"]),
    default="snis",
    show_default=True,
    help="SNIS (multisample + IWAE) or AIS/BDMC.",
)
@click.option("--k", type=click.IntRange(min=1), help="SNIS proposal samples K (default 64).")
@click.option("--n", type=click.IntRange(min=2), help="Data points (SNIS default 4096).")
@click.option("--steps", type=click.IntRange(min=1), help="AIS annealing steps T.")
@click.option("--chains", type=click.IntRange(min=1), help="AIS chains M per data point.")
@model_options
def command(
    model_spec: str,
    method: str,
    k: int | None,
    n: int | None,
    steps: int | None,
    chains: int | None,
    options: ModelOptions,
) -> None:
    """Lower and upper bounds on the MI (nats) of a latent-variable model with known densities.

    The prior p(z) and likelihood p(x|z) are known, so the truth is sandwiched: SNIS gives
    the multisample lower and IWAE upper bounds on shared proposal samples; AIS anneals from
    the proposal to the posterior with HMC.
    """
    from mibound.cli import UserError
    from mibound.known_joint import sandwich

    if method == "snis":
        for name, value in (("--steps", steps), ("--chains", chains)):
            if value is not None:
                raise UserError(f"{name}: applies to --method ais only")
    elif k is not None:
        raise UserError("--k: applies to --method snis only (AIS uses --steps and --chains)")

    ais = None
    if method == "ais":
        from mibound.ais import AISOptions

        ais = AISOptions(steps=steps) if chains is None else AISOptions(steps=steps, chains=chains)

    def compute(model: Any, encoder: Any, progress: bool) -> Any:
        return sandwich(
            model,
            encoder,
            method=method,  # type: ignore[arg-type]
            k=k,
            ais=ais,
            n=n,
            seed=options.seed,
            device=options.device,
            dtype=_dtype(options.dtype),
            progress=progress,
        )

    run_model_command(compute, "mibound sandwich", model_spec, k or 64, options)
