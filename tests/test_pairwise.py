"""Tests of mibound.pairwise and ``mibound matrix``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import mibound
from mibound import tasks
from mibound._random import stream_seed
from mibound.cli import main
from mibound.pairwise import pairwise


def _table(n: int = 1500) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n)
    b = 0.8 * a + 0.6 * rng.standard_normal(n)  # I(a; b) = -0.5 log(1 - 0.64) = 0.511
    label = rng.integers(0, 3, n)
    c = label + rng.standard_normal(n)
    d = rng.standard_normal(n)
    return np.column_stack([a, b, label, c, d]), ["a", "b", "label", "c", "d"]


def test_matrix_is_each_pairs_estimate() -> None:
    table, names = _table()
    m = pairwise(table, "ksg", names=names, seed=3)
    assert m.names == names and m.values.shape == (5, 5)
    assert np.all(np.isnan(np.diag(m.values))) and np.allclose(m.values, m.values.T, equal_nan=True)
    one = mibound.estimate(
        table[:, 0],
        table[:, 1],
        method="ksg",
        seed=stream_seed(3, "pairwise:a:b"),
        discrete_x=False,
        discrete_y=False,
    )
    assert m.values[0, 1] == one.value and m.stderr[0, 1] == one.stderr
    assert m.methods["label|c"] == "mixed-ross" and m.methods["a|b"] == "ksg"
    assert any("guessed discrete" in note for note in m.diagnostics["*"])
    truth = -0.5 * math.log(1 - 0.64)
    assert abs(m.values[0, 1] - truth) < 4 * m.stderr[0, 1] + 0.02
    assert abs(m.values[0, 4]) < 4 * m.stderr[0, 4] + 0.01  # independent pair


def test_gaussian_matrix_and_frames() -> None:
    pd = pytest.importorskip("pandas")
    table, names = _table()
    frame = pd.DataFrame(table, columns=names)
    frame["label"] = pd.Categorical(frame["label"].astype(int).map({0: "x", 1: "y", 2: "z"}))
    m = pairwise(frame, "gaussian")
    assert m.names == names
    assert m.values[0, 1] == pytest.approx(mibound.gaussian(table[:, 0], table[:, 1]).value)
    assert m.to_frame().loc["a", "b"] == m.values[0, 1]
    assert m.to_frame("stderr").loc["b", "a"] == m.stderr[0, 1]
    assert json.loads(json.dumps(m.to_dict()))["values"][0][0] is None


@pytest.mark.slow
def test_parallel_equals_serial_and_resume(tmp_path: Path) -> None:
    table, names = _table(600)
    serial = pairwise(table, "ksg", names=names, discrete=["label"])
    results = tmp_path / "pairs.jsonl"
    parallel = pairwise(table, "ksg", names=names, discrete=["label"], n_jobs=2, results=results)
    np.testing.assert_array_equal(serial.values, parallel.values)
    lines = results.read_text().splitlines()
    assert len(lines) == 10
    # Keep 4 finished pairs and a torn last line: a rerun computes only the other 6.
    results.write_text("\n".join(lines[:4]) + "\n" + lines[4][:20])
    resumed = pairwise(table, "ksg", names=names, discrete=["label"], results=results)
    np.testing.assert_array_equal(serial.values, resumed.values)
    assert len(results.read_text().splitlines()) == 10
    with pytest.raises(ValueError, match="results: .* holds pairs of other data or settings"):
        pairwise(table, "ksg", names=names, results=results, k=5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "nope"}, ValueError, "method: expected one of"),
        ({"names": ["a"]}, ValueError, "names: expected 5 names, got 1"),
        ({"names": ["a"] * 5}, ValueError, "names: expected distinct column names"),
        ({"discrete": ["zz"]}, ValueError, "discrete: no column"),
        ({"n_jobs": 0}, ValueError, "n_jobs: expected a positive integer"),
        ({"discrete": [4]}, ValueError, "discrete: column '4' is declared discrete"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match) -> None:
    table, _ = _table(300)
    with pytest.raises(error, match=match):
        pairwise(table, **kwargs)


def test_single_column_is_an_error() -> None:
    with pytest.raises(ValueError, match="data: expected at least 2 columns"):
        pairwise(np.random.default_rng(0).standard_normal((50, 1)))


def test_matrix_command(tmp_path: Path, capsys) -> None:
    x, y = tasks.get("label-mixture-d-1-k-3-sep-2").sample(800, seed=0)
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([x, y, y**2]), delimiter=",", header="l,v,w", comments="")
    out, png = tmp_path / "m.csv", tmp_path / "m.png"
    assert main(["matrix", str(path), "--out", str(out), "--plot", str(png), "-q"]) == 0
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert rows[0] == ["", "l", "v", "w"] and rows[1][1] == ""
    assert float(rows[1][2]) == pytest.approx(float(rows[2][1]))
    assert (tmp_path / "m.stderr.csv").exists() and png.stat().st_size > 1000
    assert "guessed discrete" in capsys.readouterr().out
    assert main(["matrix", str(path), "--discrete", "q"]) == 2
    assert "--discrete: no column 'q'" in capsys.readouterr().err


@pytest.mark.slow
def test_ray_executor_matches_local() -> None:
    pytest.importorskip("ray", reason="ray is not installed (pip install 'mibound[ray]')")
    table, names = _table(400)
    local = pairwise(table, "ksg", names=names, discrete=["label"])
    ray = pairwise(table, "ksg", names=names, discrete=["label"], executor="ray", n_jobs=1)
    np.testing.assert_array_equal(local.values, ray.values)


def test_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path: Path, capsys) -> None:
    import sys

    table, names = _table(200)
    m = pairwise(table, "gaussian", names=names)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'mibound\[plot\]'"):
        m.plot()
    path = tmp_path / "d.csv"
    np.savetxt(path, table, delimiter=",", header=",".join(names), comments="")
    assert main(["matrix", str(path), "--plot", str(tmp_path / "m.png")]) == 2
    assert "--plot: needs matplotlib" in capsys.readouterr().err
