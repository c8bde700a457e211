"""``mibound lautum MODEL``: lower and upper bounds on the Lautum information of a model."""

from __future__ import annotations

from typing import Any

import click

from mibound._commands._models import (
    _MODEL_HELP,
    ModelOptions,
    model_options,
    run_model_command,
)

__all__ = ["command"]


@click.command(name="lautum", epilog=_MODEL_HELP)
@click.argument("model_spec", metavar="MODEL")
@click.option("--k", type=click.IntRange(min=1), default=64, show_default=True, help="Samples K.")
@click.option("--n", type=click.IntRange(min=2), default=4096, show_default=True, help="Points.")
@model_options
def command(
    model_spec: str,
    k: int,
    n: int,
    options: ModelOptions,
) -> None:
    """Bounds on the Lautum information LI = KL(p(x)p(z) || p(x,z)) (nats) of a model.

    IWAE estimate of log p(x) below, IWHVI (with the exact posterior sample) above, minus
    E log p(x|z') for z' drawn from the prior independently of x.
    """
    from mibound.lautum_bounds import lautum

    def compute(model: Any, encoder: Any, progress: bool) -> Any:
        return lautum(
            model, encoder, k=k, n=n, seed=options.seed, device=options.device, progress=progress
        )

    run_model_command(compute, "mibound lautum", model_spec, k, options)
