"""Tests of ``mibound estimate --discrete`` (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mibound import tasks
from mibound.cli import main


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    x, y = tasks.get("label-mixture-d-1-k-3-sep-2").sample(600, seed=0)
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="label,v", comments="")
    return path


def _json(capsys: pytest.CaptureFixture, *args: str) -> dict:
    assert main(["estimate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_auto_guess_is_reported_and_can_be_overridden(labelled: Path, capsys) -> None:
    auto = _json(capsys, str(labelled), "--x", "label", "--y", "v", "--method", "ksg")
    assert auto["method"] == "mixed-ross"
    assert any("guessed discrete" in d for d in auto["diagnostics"])
    none = _json(
        capsys, str(labelled), "--x", "label", "--y", "v", "--method", "ksg", "--discrete", "none"
    )
    assert none["method"] == "ksg" and none["settings"]["discrete"]["x"]["discrete_columns"] == []
    named = _json(
        capsys, str(labelled), "--x", "label", "--y", "v", "--method", "ksg", "--discrete", "label"
    )
    assert named["method"] == "mixed-ross"
    assert named["settings"]["discrete"]["x"]["source"] == ["declared"]
    assert named["value"] == pytest.approx(auto["value"], abs=1e-12)


def test_unknown_discrete_column_is_one_line(labelled: Path, capsys) -> None:
    assert main(["estimate", str(labelled), "--x", "label", "--y", "v", "--discrete", "w"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--discrete: no column 'w'" in err


def test_declared_discrete_continuous_column_is_one_line(labelled: Path, capsys) -> None:
    args = ["estimate", str(labelled), "--x", "label", "--y", "v", "--method", "ksg"]
    assert main([*args, "--discrete", "label,v"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "discrete_y: column '0' is declared discrete" in err
