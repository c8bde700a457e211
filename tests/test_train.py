"""Tests of mibound.train: the shared optimisation loop."""

import math

import pytest
import torch
from torch import nn

from mibound.train import train


def _quadratic(target: float = 3.0):
    module = nn.Linear(1, 1, bias=False).double()
    with torch.no_grad():
        module.weight.zero_()

    def objective(batch: torch.Tensor) -> torch.Tensor:
        return -((module.weight.squeeze() - target) ** 2) + 0.0 * batch.sum()

    def sample(step: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn(4, generator=gen, dtype=torch.float64)

    return module, objective, sample


def test_maximises_objective_and_records_history() -> None:
    module, objective, sample = _quadratic()
    result = train(module, objective, sample, steps=600, lr=0.05, eval_every=50)
    assert abs(float(module.weight.detach()) - 3.0) < 1e-2
    assert result.history["step"] == list(range(50, 601, 50))
    assert all(type(s) is int for s in result.history["step"])
    assert len(result.history["train"]) == 12
    assert result.history["train"][-1] > result.history["train"][0]
    assert result.steps_run == 600 and not result.stopped_early


def test_early_stopping_respects_min_steps_and_restores_best() -> None:
    module, objective, sample = _quadratic()
    values = iter([1.0, 2.0, 5.0] + [0.0] * 100)
    result = train(
        module,
        objective,
        sample,
        validate=lambda: next(values),
        steps=1000,
        lr=0.01,
        eval_every=10,
        patience=3,
        min_steps=200,
    )
    assert result.stopped_early
    assert result.steps_run == 200  # patience ran out at step 60 but min_steps holds it to 200
    assert result.best_step == 30
    assert len(result.history["validation"]) == 20
    # restored the parameters of step 30 (after 30 steps of lr 0.01 Adam: weight ~ 0.3)
    assert 0.2 < float(module.weight.detach()) < 0.4


def test_same_seed_same_batches() -> None:
    seen: list[list[torch.Tensor]] = [[], []]
    for run in range(2):
        module, objective, _ = _quadratic()

        def sample(step: int, gen: torch.Generator, run: int = run) -> torch.Tensor:
            batch = torch.randn(3, generator=gen)
            seen[run].append(batch)
            return batch

        train(module, objective, sample, steps=5, eval_every=5, seed=7)
    assert all(torch.equal(a, b) for a, b in zip(*seen, strict=True))


def test_non_finite_objective_is_an_error() -> None:
    module, _, sample = _quadratic()

    def objective(batch: torch.Tensor) -> torch.Tensor:
        return module.weight.sum() * math.inf

    with pytest.raises(ValueError, match="objective: became non-finite"):
        train(module, objective, sample, steps=3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"steps": 0}, "steps"),
        ({"eval_every": 0}, "eval_every"),
        ({"patience": 0}, "patience"),
        ({"lr": -1.0}, "lr"),
        ({"min_steps": -2}, "min_steps"),
    ],
)
def test_bad_arguments(kwargs: dict, name: str) -> None:
    module, objective, sample = _quadratic()
    with pytest.raises(ValueError, match=name):
        train(module, objective, sample, **kwargs)


def test_not_converged_when_still_rising() -> None:
    module, objective, sample = _quadratic(target=100.0)
    vals = iter(range(100))
    result = train(
        module,
        objective,
        sample,
        validate=lambda: float(next(vals)),
        steps=50,
        eval_every=10,
        lr=1e-3,
    )
    assert not result.converged


def test_early_stopping_without_restoring_the_best() -> None:
    # restore_best=False must still track the best evaluation and stop early; it only skips
    # reloading those parameters at the end.
    runs = {}
    for restore in (True, False):
        module, objective, sample = _quadratic()
        values = iter([1.0, 2.0, 5.0] + [0.0] * 100)
        result = train(
            module,
            objective,
            sample,
            validate=lambda values=values: next(values),
            steps=1000,
            lr=0.01,
            eval_every=10,
            patience=3,
            min_steps=0,
            restore_best=restore,
        )
        runs[restore] = (result, float(module.weight.detach()))
    for result, _ in runs.values():
        assert result.stopped_early and result.steps_run == 60 and result.best_step == 30
    # Restored: the weight of step 30; not restored: the later weight of step 60.
    assert runs[False][1] > runs[True][1] + 0.1
