"""Tests of ``mibound estimate --discrete`` and ``--z`` (in-process)."""

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


@pytest.fixture
def triple(tmp_path: Path) -> Path:
    task = tasks.get_conditional("conditional-gaussian-d-1-dz-1-rho-0.6-c-1")
    x, y, z = task.sample(1500, seed=0)
    path = tmp_path / "c.csv"
    np.savetxt(path, np.column_stack([x, y, z, z**2]), delimiter=",", header="a,b,c,d", comments="")
    return path


def test_conditional_from_the_command_line(triple: Path, capsys) -> None:
    out = _json(capsys, str(triple), "--x", "a", "--y", "b", "--z", "c", "--method", "gaussian")
    assert out["method"] == "gaussian-conditional"
    assert abs(out["value"] - 0.2231) < 4 * out["stderr"] + 0.01
    two = _json(capsys, str(triple), "--x", "a", "--y", "b", "--z", "c,d", "--method", "ksg")
    assert two["method"] == "ksg-conditional" and two["settings"]["columns"]["z"] == ["c", "d"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--x", "a", "--y", "b", "--z", "a"], "--x, --z: column(s) a used for both x and z"),
        (["--x", "a", "--z", "c"], "--y: give the Y columns explicitly with --z"),
        (["--x", "a", "--y", "b", "--z", "b"], "--z, --y: column(s) b used for both z and y"),
        (["--x", "a", "--y", "b", "--z", "q"], "--z: no column named 'q'"),
    ],
)
def test_conditional_user_errors_are_one_line(triple: Path, capsys, args, message) -> None:
    assert main(["estimate", str(triple), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
