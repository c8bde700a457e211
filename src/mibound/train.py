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

from mibound._checks import InvalidTypeError, InvalidValueError, check_int, check_number
from mibound._progress import progress_bar
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
        cpu_seconds: CPU time of the process during the loop (all its threads).
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    best_step: int = 0
    steps_run: int = 0
    stopped_early: bool = False
    converged: bool = True
    seconds: float = 0.0
    cpu_seconds: float = 0.0


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
    lr = check_number("lr", lr, low=0.0)
    min_steps = steps // 2 if min_steps is None else check_int("min_steps", min_steps, 0)
    params = _parameters(module)
    # The fused kernel updates all parameters in one call (torch >= 2.4 on CPU and CUDA): for
    # small critics the per-parameter loop of the default Adam is a fifth of each step.
    fused = all(
        p.dtype in (torch.float32, torch.float64) and p.device.type in ("cpu", "cuda")
        for p in params
    )
    optimiser = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused or None)
    gen_device = torch.device(device) if device is not None else params[0].device
    generator = torch_generator(seed, "train.minibatches", gen_device)
    stopper = _EarlyStopping(params, patience, min_steps, tolerance, restore_best)
    history: dict[str, list[float]] = {"step": [], "train": []}
    if validate is not None:
        history["validation"] = []
    window: list[float] = []
    start = time.perf_counter()
    start_cpu = time.process_time()
    step = 0
    with progress_bar(description, steps, progress) as advance:
        for step in range(1, steps + 1):
            value = _step(objective, sample_batch(step, generator), step, optimiser, grad_clip)
            window.append(value)
            advance()
            if step % eval_every == 0 or step == steps:
                history["step"].append(step)
                history["train"].append(sum(window) / len(window))
                window = []
                if validate is not None:
                    with torch.inference_mode():
                        val = float(validate())
                    history["validation"].append(val if math.isfinite(val) else -math.inf)
                    if stopper.update(history["validation"][-1], step, steps):
                        break
    best_step = step if validate is None else stopper.finish()
    return TrainResult(
        history=history,
        best_step=best_step,
        steps_run=step,
        stopped_early=stopper.stopped_early,
        converged=_converged(history.get("validation", []), stopper.stopped_early, tolerance),
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - start_cpu,
    )


def _step(
    objective: Callable[[Any], Tensor],
    batch: Any,
    step: int,
    optimiser: torch.optim.Optimizer,
    grad_clip: float | None,
) -> float:
    """One Adam step ascending ``objective(batch)``; returns the objective's value."""
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
        params = [p for group in optimiser.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimiser.step()
    return float(value.detach())


class _EarlyStopping:
    """Tracks the best validation value, its step and parameters, and when to stop."""

    def __init__(
        self,
        params: list[Tensor],
        patience: int,
        min_steps: int,
        tolerance: float,
        restore_best: bool,
    ) -> None:
        self.params, self.patience, self.min_steps = params, patience, min_steps
        self.tolerance, self.restore_best = tolerance, restore_best
        self.best_value, self.best_step, self.bad_evals, self.evals = -math.inf, 0, 0, 0
        self.best_state: list[Tensor] | None = None
        self.stopped_early = False

    def update(self, value: float, step: int, steps: int) -> bool:
        """Records a validation value; True when training should stop."""
        self.evals += 1
        if value > self.best_value + self.tolerance or self.evals == 1:
            self.best_value, self.best_step, self.bad_evals = max(value, self.best_value), step, 0
            if self.restore_best:
                self.best_state = [p.detach().clone() for p in self.params]
            return False
        self.bad_evals += 1
        if self.bad_evals >= self.patience and step >= self.min_steps:
            self.stopped_early = step < steps
            return True
        return False

    def finish(self) -> int:
        """Restores the best parameters (with ``restore_best``); returns the best step."""
        if self.restore_best and self.best_state is not None:
            with torch.no_grad():
                for p, saved in zip(self.params, self.best_state, strict=True):
                    p.copy_(saved)
        return self.best_step


def _converged(validation: list[float], stopped_early: bool, tolerance: float) -> bool:
    """False when the validation value was still clearly rising at the end."""
    if len(validation) < 2 or stopped_early:
        return True
    finite = [v for v in validation if math.isfinite(v)]
    return not (
        finite
        and validation[-1] >= max(finite)
        and validation[-1] - validation[-2] > 10 * tolerance
    )
