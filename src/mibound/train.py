"""One training loop for every critic and encoder objective: :func:`train`.

The loop never knows a bound's formula: it maximises whatever scalar ``objective(batch)``
returns, on a fresh minibatch each step, with Adam, periodic held-out validation, early
stopping with a patience that cannot end a short run after one epoch, an optional progress bar
and a history of train and validation values.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from mibound._checks import InvalidTypeError, InvalidValueError, check_int
from mibound._progress import stderr_console
from mibound._random import torch_generator

__all__ = ["TrainResult", "train"]


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes:
        history: ``{"step": [...], "train": [...], "validation": [...]}`` (steps as ints);
            ``train`` is the mean
            objective over the steps since the previous evaluation; ``validation`` is present
            only when a ``validate`` callable was given.
        best_step: The step whose validation value was best (the last step without validation).
        steps_run: How many optimisation steps ran.
        stopped_early: Whether early stopping ended the run before ``steps``.
        converged: False when the validation value was still clearly rising at the end (the
            last evaluation is the best and beat the one before by more than ``tolerance``).
        seconds: Wall-clock time of the loop.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    best_step: int = 0
    steps_run: int = 0
    stopped_early: bool = False
    converged: bool = True
    seconds: float = 0.0


def _parameters(module: nn.Module | Iterable[Tensor]) -> list[Tensor]:
    params = list(module.parameters()) if isinstance(module, nn.Module) else list(module)
    if not params:
        raise InvalidValueError("module: expected at least one trainable parameter, got none")
    for p in params:
        if not isinstance(p, Tensor):
            raise InvalidTypeError(
                f"module: expected tensors as parameters, got {type(p).__name__}"
            )
    return [p for p in params if p.requires_grad]


def train(
    module: nn.Module | Iterable[Tensor],
    objective: Callable[[Any], Tensor],
    sample_batch: Callable[[int, torch.Generator], Any],
    *,
    validate: Callable[[], float] | None = None,
    steps: int = 2000,
    lr: float = 5e-4,
    eval_every: int = 100,
    patience: int = 10,
    min_steps: int | None = None,
    tolerance: float = 1e-3,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = False,
    description: str = "training",
    restore_best: bool = True,
    weight_decay: float = 0.0,
    grad_clip: float | None = None,
) -> TrainResult:
    r"""Maximises ``objective`` with Adam on fresh minibatches, with held-out early stopping.

    Each step draws ``batch = sample_batch(step, generator)`` (the generator is seeded from
    ``seed``, so a run is reproducible), computes ``loss = -objective(batch)`` and takes one Adam
    step. Every ``eval_every`` steps (and at the end) ``validate()`` is called under
    :func:`torch.no_grad`; training stops when it has not improved by more than ``tolerance``
    for ``patience`` evaluations, but never before ``min_steps`` (half of ``steps`` by default),
    so a short run is not cut after one epoch. With ``restore_best`` the parameters of the best
    validation step are restored at the end.

    The validation value is for model selection only: callers report their final number on a
    third, untouched split (a maximum over checkpoints is biased upward).

    Arguments:
        module: The module (or an iterable of parameters) to optimise.
        objective: Maps a batch to a scalar tensor to maximise (e.g. a bound).
        sample_batch: ``(step, generator) -> batch``; called once per step.
        validate: Held-out value, higher is better; None disables early stopping.
        steps: Maximum number of optimisation steps.
        lr: Adam learning rate.
        eval_every: Steps between validations (and history points).
        patience: Evaluations without improvement before stopping.
        min_steps: Never stop before this many steps (default ``steps // 2``).
        tolerance: Improvement smaller than this does not reset the patience.
        seed: Seeds the minibatch generator (and nothing global).
        device: Where the generator lives (the caller puts the module and data there).
        progress: Show a progress bar on stderr.
        description: The progress bar's label.
        restore_best: Reload the parameters with the best validation value at the end.
        weight_decay: Adam weight decay.
        grad_clip: Clip the gradient norm to this value (None: no clipping).

    Returns:
        A :class:`TrainResult` with the history.

    Raises:
        ValueError: Non-positive ``steps``/``eval_every``/``patience``, non-positive ``lr``,
            or an objective that becomes NaN.
    """
    steps = check_int("steps", steps)
    eval_every = check_int("eval_every", eval_every)
    patience = check_int("patience", patience)
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise InvalidValueError(f"lr: expected a positive number, got {lr!r}")
    if min_steps is None:
        min_steps = steps // 2
    elif isinstance(min_steps, bool) or not isinstance(min_steps, int) or min_steps < 0:
        raise InvalidValueError(f"min_steps: expected a non-negative integer, got {min_steps!r}")
    params = _parameters(module)
    optimiser = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    gen_device = torch.device(device) if device is not None else params[0].device
    generator = torch_generator(seed, "train.minibatches", gen_device)

    history: dict[str, list[float]] = {"step": [], "train": []}
    if validate is not None:
        history["validation"] = []
    best_value = -math.inf
    best_step = 0
    best_state: list[Tensor] | None = None
    bad_evals = 0
    window: list[float] = []
    stopped_early = False
    start = time.perf_counter()

    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True, console=stderr_console())
        bar.start()
        task_id = bar.add_task(description, total=steps)

    step = 0
    try:
        for step in range(1, steps + 1):
            batch = sample_batch(step, generator)
            value = objective(batch)
            if value.ndim != 0:
                raise InvalidValueError(
                    f"objective: expected a scalar tensor, got shape {tuple(value.shape)}"
                )
            if not bool(torch.isfinite(value)):
                raise InvalidValueError(
                    f"objective: became non-finite ({float(value.detach())}) at step {step}; "
                    "lower lr or use a bounded objective (e.g. js or smile)"
                )
            optimiser.zero_grad(set_to_none=True)
            (-value).backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimiser.step()
            window.append(float(value.detach()))
            if bar is not None:
                bar.update(task_id, advance=1)
            if step % eval_every == 0 or step == steps:
                history["step"].append(step)
                history["train"].append(sum(window) / len(window))
                window = []
                if validate is not None:
                    with torch.no_grad():
                        val = float(validate())
                    if not math.isfinite(val):
                        val = -math.inf
                    history["validation"].append(val)
                    if bar is not None:
                        bar.update(task_id, description=f"{description} (val {val:.3f})")
                    if val > best_value + tolerance or len(history["validation"]) == 1:
                        best_value, best_step, bad_evals = max(val, best_value), step, 0
                        if restore_best:
                            best_state = [p.detach().clone() for p in params]
                    else:
                        bad_evals += 1
                        if bad_evals >= patience and step >= min_steps:
                            stopped_early = step < steps
                            break
    finally:
        if bar is not None:
            bar.stop()

    if validate is None:
        best_step = step
    elif restore_best and best_state is not None:
        with torch.no_grad():
            for p, saved in zip(params, best_state, strict=True):
                p.copy_(saved)

    converged = True
    vals = history.get("validation", [])
    if len(vals) >= 2 and not stopped_early:
        finite = [v for v in vals if math.isfinite(v)]
        if finite and vals[-1] >= max(finite) and vals[-1] - vals[-2] > 10 * tolerance:
            converged = False
    return TrainResult(
        history=history,
        best_step=best_step,
        steps_run=step,
        stopped_early=stopped_early,
        converged=converged,
        seconds=time.perf_counter() - start,
    )
