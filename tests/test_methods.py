"""Tests of the method registry (mibound.methods) and the neural engine's configuration object."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mibound import methods
from mibound.estimation import METHODS, NEURAL_METHODS
from mibound.neural import NeuralConfig, neural_estimate

# What each method is, written out independently of the registry.
KINDS = {
    "nwj": ("lower bound", "nwj"),
    "dv": ("estimate", "dv"),
    "mine": ("estimate", "dv"),
    "infonce": ("lower bound", "infonce"),
    "tuba": ("lower bound", "tuba"),
    "alpha": ("lower bound", "interpolated"),
    "js": ("lower bound", "nwj"),
    "smile": ("estimate", "smile"),
}


def test_registry_kinds_and_reported_bounds() -> None:
    assert set(methods.NEURAL) == set(KINDS)
    for name, (kind, reported) in KINDS.items():
        spec = methods.get(name.upper())
        assert (spec.kind, spec.reported) == (kind, reported), name
    assert [m for m, s in methods.NEURAL.items() if s.needs_baseline] == ["tuba", "alpha"]


def test_registry_ceilings() -> None:
    assert methods.get("infonce").ceiling(128, 0.01) == pytest.approx(math.log(128))
    assert methods.get("alpha").ceiling(128, 0.01) == pytest.approx(1 + math.log(12700))
    assert methods.get("alpha").ceiling(8, 1.0) == pytest.approx(math.log(7))
    for name in ("nwj", "dv", "mine", "tuba", "js", "smile"):
        assert methods.get(name).ceiling(128, 0.01) is None


def test_every_method_list_reads_the_registry() -> None:
    from mibound._commands import estimate as cli_estimate
    from mibound.bench.staircase import STAIRCASE_METHODS

    assert NEURAL_METHODS == tuple(methods.NEURAL) == STAIRCASE_METHODS
    assert ("auto", *NEURAL_METHODS, "ksg", "gaussian") == METHODS
    assert set(cli_estimate._METHODS) == set(METHODS)
    with pytest.raises(ValueError, match="method: expected one of nwj, dv"):
        methods.get("mutual")


def test_config_is_frozen_and_validated_once() -> None:
    cfg = NeuralConfig(steps=10, dtype="float64")
    assert str(cfg.dtype) == "torch.float64" and cfg.split == (0.6, 0.2, 0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="steps: expected an integer >= 1, got 0"):
        NeuralConfig(steps=0)
    with pytest.raises(TypeError, match="seed|steps: expected an integer"):
        NeuralConfig(steps=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha"):
        NeuralConfig(alpha=1.5)


def test_estimate_options_unknown_or_doubled() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((200, 1)), rng.standard_normal((200, 1))
    with pytest.raises(TypeError, match="options: unexpected stepz for a neural method"):
        neural_estimate(x, y, "nwj", stepz=3)
    with pytest.raises(TypeError, match="either config or keyword options"):
        neural_estimate(x, y, "nwj", config=NeuralConfig(steps=3), steps=3)
    with pytest.raises(TypeError, match="seed: expected a non-negative integer"):
        neural_estimate(x, y, "nwj", seed=1.0)


def _docs_method_table() -> dict[str, list[str]]:
    """The rows of the method table in docs/estimators.md: method name -> its other cells."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "estimators.md").read_text()
    lines = text[text.index("| method | kind |") :].splitlines()
    rows: dict[str, list[str]] = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].split("`")[1]] = cells[1:]
    return rows


def test_docs_table_matches_the_registry() -> None:
    """docs/estimators.md lists every method of estimate with the registry's kind, reported
    bound, ceiling and baseline."""
    rows = _docs_method_table()
    assert set(rows) == set(METHODS)
    shown = {
        "nwj": ("NWJ",),
        "dv": ("DV", "Donsker–Varadhan"),
        "infonce": ("InfoNCE",),
        "tuba": ("TUBA",),
        "interpolated": ("α-InfoNCE",),
        "smile": ("SMILE",),
    }
    ceilings = {"infonce": "≤ log B", "interpolated": "≤ 1 + log((B−1)/α)"}
    for name, spec in methods.NEURAL.items():
        kind, reported, ceiling = rows[name][0], rows[name][1], rows[name][2]
        assert kind.startswith(spec.kind), name
        assert any(word in reported for word in shown[spec.reported]), name
        assert ("learned baseline" in reported) == spec.needs_baseline, name
        if spec.ceiling(128, 0.01) is not None:
            assert ceilings[spec.reported] in ceiling, name
    for name in ("auto", "ksg", "gaussian"):
        assert rows[name][0] == "estimate", name
