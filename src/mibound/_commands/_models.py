"""Shared pieces of the model commands (``mibound sandwich``, ``mibound lautum``).

Resolving a MODEL argument, choosing the proposal, the options both commands take, and the
output (a table, or the Bounds as JSON).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

__all__ = [
    "ModelOptions",
    "load_model",
    "model_options",
    "print_bounds",
    "resolve_encoder",
    "run_model_command",
]

# name -> (parameter types, defaults)
_BUILTINS: dict[str, tuple[dict[str, type], dict[str, Any]]] = {
    "linear-gaussian": (
        {"k": int, "d": int, "mi": float, "sigma": float, "seed": int},
        {"k": 10, "d": 50, "mi": 20.0, "sigma": 1.0, "seed": 0},
    ),
    "mixture": (
        {"c": int, "d": int, "sep": float, "sigma": float, "seed": int},
        {"c": 4, "d": 3, "sep": 3.0, "sigma": 1.0, "seed": 0},
    ),
}

_MODEL_HELP = (
    "MODEL is a built-in spec, 'linear-gaussian:k=10,d=50,mi=20' (also sigma, seed) or "
    "'mixture:c=4,d=3,sep=3' (also sigma, seed), or 'path/to/file.py:factory' where factory() "
    "returns a mibound.models.LatentVariableModel or a (model, encoder) pair."
)


def _expected() -> str:
    return "linear-gaussian:k=..,d=..,mi=.., mixture:c=..,d=..,sep=.. or path/to/file.py:factory"


def _parse_builtin(spec: str) -> tuple[Any, str]:
    from mibound.cli import UserError
    from mibound.models import GaussianMixture, LatentVariableModel, LinearGaussian

    name, _, rest = spec.partition(":")
    name = name.strip().lower()
    if name not in _BUILTINS:
        raise UserError(f"MODEL: expected {_expected()}, got {spec!r}")
    types, defaults = _BUILTINS[name]
    params = dict(defaults)
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip().lower()
        if not eq:
            raise UserError(f"MODEL: expected key=value in {name} parameters, got {item!r}")
        if key not in types:
            raise UserError(
                f"MODEL: unknown parameter {key!r} for {name} (expected {', '.join(types)})"
            )
        try:
            params[key] = types[key](raw.strip())
        except ValueError:
            kind = "an integer" if types[key] is int else "a number"
            raise UserError(f"MODEL: parameter {key} expects {kind}, got {raw.strip()!r}") from None
    model: LatentVariableModel
    try:
        if name == "linear-gaussian":
            model = LinearGaussian.with_mutual_information(
                params["mi"], params["k"], params["d"], sigma=params["sigma"], seed=params["seed"]
            )
        else:
            model = GaussianMixture.separated(
                params["c"], params["d"], params["sep"], sigma=params["sigma"], seed=params["seed"]
            )
    except ValueError as err:
        raise UserError(f"MODEL: {err}") from None
    label = name + ":" + ",".join(f"{key}={value}" for key, value in params.items())
    return model, label


def _load_file(path_text: str, attribute: str) -> tuple[Any, Any]:
    from mibound.cli import UserError

    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"MODEL: file not found: {path_text}")
    module_name = f"_mibound_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"MODEL: cannot import {path_text} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise UserError(
            f"MODEL: importing {path_text} failed: {type(err).__name__}: {err}"
        ) from None
    if not hasattr(module, attribute):
        raise UserError(f"MODEL: {path_text} has no attribute {attribute!r}")
    factory = getattr(module, attribute)
    if not callable(factory):
        raise UserError(
            f"MODEL: {path_text}:{attribute} is a {type(factory).__name__}, expected a callable "
            "returning a model"
        )
    try:
        return factory(), factory
    except Exception as err:
        raise UserError(
            f"MODEL: {path_text}:{attribute}() raised {type(err).__name__}: {err}"
        ) from None


def load_model(spec: str) -> tuple[Any, Any, str]:
    """Resolves a MODEL argument to ``(model, encoder or None, label)`` or raises UserError."""
    from mibound.cli import UserError
    from mibound.models import LatentVariableModel

    spec = spec.strip()
    head, sep, attribute = spec.rpartition(":")
    if spec.endswith(".py") or (sep and head.endswith(".py")):
        if not sep or not head.endswith(".py") or not attribute:
            raise UserError(
                f"MODEL: expected path/to/file.py:factory (name the factory), got {spec!r}"
            )
        if not attribute.isidentifier():
            raise UserError(f"MODEL: expected a Python name after ':', got {attribute!r}")
        value, _ = _load_file(head, attribute)
        encoder = None
        if isinstance(value, tuple) and len(value) == 2:
            value, encoder = value
            if not callable(encoder):
                raise UserError(
                    f"MODEL: {spec} returned an encoder of type {type(encoder).__name__}; "
                    "expected a callable x -> Distribution over z"
                )
        if not isinstance(value, LatentVariableModel):
            raise UserError(
                f"MODEL: {spec} returned {type(value).__name__}; expected a "
                "mibound.models.LatentVariableModel or a (model, encoder) pair"
            )
        return value, encoder, spec
    model, label = _parse_builtin(spec)
    return model, None, label


def _has_posterior(model: Any) -> bool:
    import torch

    try:
        with torch.no_grad():
            x, _ = model.sample(1)
            model.posterior(x)
    except NotImplementedError:
        return False
    return True


def resolve_encoder(
    model: Any,
    encoder: Any,
    proposal: str,
    fit_steps: int | None,
    k: int,
    seed: int,
    progress: bool,
) -> tuple[Any, str, dict[str, Any]]:
    """Chooses the proposal; returns ``(encoder or None, description, fit summary)``."""
    from mibound._placement import model_place
    from mibound._random import seeded
    from mibound.cli import UserError
    from mibound.encoders import (
        ExactPosterior,
        GaussianEncoder,
        _latent_dims,
        fit_encoder,
        initialise_linear,
    )

    if fit_steps and proposal in ("exact", "prior"):
        raise UserError(
            f"--fit-steps: applies to --proposal fit or auto, not --proposal {proposal} "
            "(which fits nothing)"
        )
    if proposal == "auto":
        # The same default as mibound.sandwich(model, encoder): the given encoder, else the
        # prior (an encoder is fitted only when asked for, with --fit-steps).
        if encoder is not None:
            proposal = "factory"
        elif fit_steps:
            proposal = "fit"
        else:
            proposal = "prior"
    if proposal == "factory":
        if fit_steps:
            if not hasattr(encoder, "parameters"):
                raise UserError("--fit-steps: the factory's encoder is not an nn.Module")
            result = fit_encoder(model, encoder, k=k, steps=fit_steps, seed=seed, progress=progress)
            return encoder, "encoder from the factory, fitted", _fit_summary(result, fit_steps)
        return encoder, "encoder from the factory", {}
    if proposal == "prior":
        return None, "prior p(z)", {}
    if proposal == "exact":
        if not _has_posterior(model):
            raise UserError(f"--proposal exact: {type(model).__name__} has no exact posterior")
        return ExactPosterior(model), "exact posterior p(z|x)", {}
    try:
        x_dim, z_dim = _latent_dims(model)
    except ValueError as err:
        raise UserError(f"--proposal fit: {err}") from None
    steps = fit_steps or 2000
    place, dtype = model_place(model)
    with seeded(seed, "fit", place):  # the same stream as mibound.sandwich(fit=True)
        fitted = GaussianEncoder(x_dim, z_dim).to(device=place, dtype=dtype)
        initialise_linear(fitted, model, seed=seed)
        result = fit_encoder(model, fitted, k=min(k, 16), steps=steps, seed=seed, progress=progress)
    return (
        fitted,
        f"GaussianEncoder fitted for {result.steps_run} steps",
        _fit_summary(result, steps),
    )


def _fit_summary(result: Any, steps: int) -> dict[str, Any]:
    validation = result.history.get("validation") or [math.nan]
    return {
        "steps": steps,
        "steps_run": result.steps_run,
        "best_step": result.best_step,
        "stopped_early": result.stopped_early,
        "best_validation": max(validation),
    }


def print_bounds(bounds: Any, model_label: str, proposal: str, title: str) -> None:
    """Prints a Bounds as a two-column table."""
    from rich.console import Console
    from rich.table import Table

    def num(value: float | None) -> str:
        return "n/a" if value is None or not math.isfinite(value) else f"{value:.4f}"

    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("quantity", bounds.quantity)
    table.add_row("lower", f"{num(bounds.lower)} nats ± {num(bounds.lower_stderr)}")
    if bounds.upper is None:
        table.add_row("upper", "none")
    else:
        table.add_row("upper", f"{num(bounds.upper)} nats ± {num(bounds.upper_stderr)}")
        width_se = bounds.settings.get("width_stderr")
        extra = f" ± {num(width_se)}" if width_se is not None else ""
        table.add_row("width", f"{num(bounds.width)}{extra}")
    if bounds.true_value is not None:
        truth_se = bounds.settings.get("true_value_stderr")
        extra = f" ± {num(truth_se)} (Monte Carlo)" if truth_se is not None else " (exact)"
        table.add_row("truth", f"{num(bounds.true_value)}{extra}")
    table.add_row("method", bounds.method)
    table.add_row("model", model_label)
    table.add_row("proposal", proposal)
    keys = ("k", "n", "steps", "chains", "accept_forward", "accept_reverse", "mean_ess")
    for key in keys:
        if key in bounds.settings and bounds.settings[key] is not None:
            value = bounds.settings[key]
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    for i, note in enumerate(bounds.diagnostics):
        table.add_row("diagnostics" if i == 0 else "", f"! {note}")
    if not bounds.diagnostics:
        table.add_row("diagnostics", "none")
    Console(soft_wrap=True, highlight=False).print(table)


def _dtype(name: str | None) -> Any:
    import torch

    return None if name is None else {"float32": torch.float32, "float64": torch.float64}[name]


@dataclass(frozen=True)
class ModelOptions:
    """The options every model command takes (``--proposal`` to ``--quiet``)."""

    proposal: str
    fit_steps: int | None
    seed: int
    device: str | None
    dtype: str | None
    as_json: bool
    quiet: bool


def model_options(command: Callable[..., None]) -> Callable[..., None]:
    """Adds the :class:`ModelOptions` to a click callback, passed to it as ``options``.

    Put it directly above the ``def``, below the command's own options.
    """

    @functools.wraps(command)
    def callback(**params: Any) -> None:
        names = [field.name for field in fields(ModelOptions)]
        options = ModelOptions(**{name: params.pop(name) for name in names})
        command(options=options, **params)

    decorators = [
        click.option(
            "--proposal",
            type=click.Choice(["auto", "exact", "prior", "fit"]),
            default="auto",
            show_default=True,
            help="auto: the factory's encoder, else fit when --fit-steps, else the prior (as "
            "mibound.sandwich(model) in Python); exact: the model's exact posterior.",
        ),
        click.option(
            "--fit-steps",
            type=click.IntRange(min=1),
            help="Fit a GaussianEncoder for this many steps.",
        ),
        click.option(
            "--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed."
        ),
        click.option("--device", metavar="D", help="torch device, e.g. cpu or cuda."),
        click.option(
            "--dtype", type=click.Choice(["float32", "float64"]), help="Computation dtype."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the Bounds as JSON on stdout."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars."),
    ]
    decorated: Callable[..., None] = callback
    for decorate in reversed(decorators):
        decorated = decorate(decorated)
    return decorated


def run_model_command(
    compute: Callable[[Any, Any, bool], Any],
    title: str,
    model_spec: str,
    k: int,
    options: ModelOptions,
) -> None:
    """Loads the model, chooses the proposal, runs ``compute(model, encoder, progress)``, prints.

    The model is moved to the options' device and dtype before the proposal is chosen (and
    fitted with ``k`` samples); the Bounds' settings record the model label, the proposal and
    any fit. ``title`` heads the table.
    """
    from mibound._placement import check_device

    check_device(options.device, "--device")
    model, encoder, label = load_model(model_spec)
    if options.device is not None or options.dtype is not None:
        model.to(device=options.device, dtype=_dtype(options.dtype))
    progress = not (options.quiet or options.as_json)
    encoder, description, fit = resolve_encoder(
        model, encoder, options.proposal, options.fit_steps, k, options.seed, progress
    )
    bounds = compute(model, encoder, progress)
    bounds.settings["model"] = label
    bounds.settings["proposal"] = description
    if fit:
        bounds.settings["fit"] = fit
    if options.as_json:
        click.echo(json.dumps(bounds.to_dict(), indent=2, allow_nan=True))
        return
    print_bounds(bounds, label, description, title)
