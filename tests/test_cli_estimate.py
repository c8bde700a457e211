"""End-to-end tests of ``mibound estimate`` (subprocess) and its error handling (in-process)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli_runner import run_mibound
from mibound.cli import main

RHO = 0.8
TRUTH = -math.log(1 - RHO**2)  # two independent pairs with correlation RHO


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return run_mibound("estimate", *args)


@pytest.fixture(scope="module")
def table() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1500, 2))
    y = RHO * x + math.sqrt(1 - RHO**2) * rng.standard_normal((1500, 2))
    return np.c_[x, y]


def write(tmp_path: Path, table: np.ndarray, fmt: str) -> tuple[Path, list[str]]:
    """Writes the table; returns the file and the --x/--y arguments selecting x=0:2, y=2:4."""
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        path = tmp_path / f"data.{fmt}"
        np.savetxt(path, table, delimiter=sep, header=sep.join("abcd"), comments="", fmt="%.17g")
        return path, ["--x", "a,b", "--y", "c,d"]
    if fmt == "npy":
        np.save(tmp_path / "data.npy", table)
        return tmp_path / "data.npy", ["--x", "0:2", "--y", "2:4"]
    if fmt == "npz":
        np.savez(tmp_path / "data.npz", x=table[:, :2], y=table[:, 2:])
        return tmp_path / "data.npz", ["--x", "x", "--y", "y"]
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({c: table[:, i] for i, c in enumerate("abcd")}), tmp_path / "d.parquet")
    return tmp_path / "d.parquet", ["--x", "0:2", "--y", "c,d"]


@pytest.mark.parametrize(
    ("fmt", "method"),
    [
        ("csv", "ksg"),
        ("tsv", "gaussian"),
        ("npy", "ksg"),
        ("npz", "gaussian"),
        ("parquet", "ksg"),
    ],
)
def test_json_end_to_end(tmp_path: Path, table: np.ndarray, fmt: str, method: str) -> None:
    path, columns = write(tmp_path, table, fmt)
    proc = run_cli(str(path), *columns, "--method", method, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["method"] == method
    assert result["n"] == 1500
    assert result["kind"] == "estimate"
    assert abs(result["value"] - TRUTH) < 4 * result["stderr"] + 0.05
    assert result["ci"][0] < result["value"] < result["ci"][1]


def test_human_table(tmp_path: Path, table: np.ndarray) -> None:
    path, columns = write(tmp_path, table, "csv")
    proc = run_cli(str(path), *columns, "--method", "ksg", "--k", "5", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    for word in ("value", "95% CI", "kind", "estimate", "method", "ksg", "1500", "diagnostics"):
        assert word in proc.stdout
    for word in ("(sampling noise only, not bias)",):
        assert word in proc.stdout
    assert proc.stderr == ""


def test_missing_file_subprocess(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "nope.csv"), "--method", "ksg")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("mibound: error: FILE: no such file")
    assert "Traceback" not in proc.stderr


def _main_error(capsys: pytest.CaptureFixture, *args: str) -> str:
    assert main(["estimate", *args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("mibound: error: ")
    assert captured.out == ""
    return lines[0]


def test_user_errors_are_one_line(
    tmp_path: Path, table: np.ndarray, capsys: pytest.CaptureFixture
) -> None:
    path, _ = write(tmp_path, table, "csv")
    assert "no column named 'zz'" in _main_error(capsys, str(path), "--x", "zz", "-m", "ksg")
    assert "--method: expected one of" in _main_error(capsys, str(path), "--method", "bogus")
    assert "no such file" in _main_error(capsys, str(tmp_path / "missing.npz"), "-m", "ksg")
    assert "--k applies to --method ksg" in _main_error(
        capsys, str(path), "-m", "gaussian", "--k", "3"
    )
    assert "--steps" in _main_error(capsys, str(path), "-m", "ksg", "--steps", "3")
    assert "--critic" in _main_error(capsys, str(path), "-m", "ksg", "--critic", "concat")
    assert "--tau applies to --method smile" in _main_error(
        capsys, str(path), "-m", "nwj", "--tau", "3"
    )
    assert "--alpha applies to --method alpha" in _main_error(
        capsys, str(path), "-m", "infonce", "--alpha", "0.1"
    )
    (tmp_path / "nan.csv").write_text("a,b\n1,2\nnan,3\n2,5\n0,1\n7,1\n")
    assert "missing values in 1 row(s) of the selected columns" in _main_error(
        capsys, str(tmp_path / "nan.csv"), "-m", "ksg"
    )
    assert "--seed" in _main_error(capsys, str(path), "-m", "ksg", "--seed", "-5")
    assert "--x: expected column names" in _main_error(capsys, str(path), "--x", "", "-m", "ksg")


def test_parquet_without_pyarrow(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    line = _main_error(capsys, str(tmp_path / "d.parquet"), "-m", "ksg")
    assert line == "mibound: error: reading .parquet needs pyarrow: pip install 'mibound[parquet]'"


def test_neural_method_end_to_end(tmp_path: Path, table: np.ndarray) -> None:
    path, columns = write(tmp_path, table, "npy")
    proc = run_cli(str(path), *columns, "--method", "smile", "--steps", "50", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["method"] == "smile"
    assert math.isfinite(result["value"])
    proc = run_cli(
        str(path),
        *columns,
        "-m",
        "alpha",
        "--alpha",
        "0.1",
        "--critic",
        "bilinear",
        "--steps",
        "30",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["settings"]["critic"] == "bilinear"
    assert result["settings"]["alpha"] == 0.1


def _pair_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "pair.csv"
    np.savetxt(path, rng.standard_normal((50, 2)), delimiter=",", header="x,y", comments="")
    return path


@pytest.mark.parametrize("error", [ValueError("shape mismatch in matmul"), TypeError("bad call")])
def test_errors_that_are_not_input_errors_show_a_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    # A ValueError or TypeError raised by a bug (inside mibound or torch) is not a user error.
    import mibound.estimation

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.delenv("MIBOUND_DEBUG", raising=False)
    monkeypatch.setattr(mibound.estimation, "estimate", broken)
    assert main(["estimate", str(_pair_file(tmp_path)), "--method", "ksg"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and str(error) in err
    assert "internal error" in err and "please report it" in err


def test_input_errors_raised_by_the_library_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mibound.estimation
    from mibound._checks import InvalidTypeError

    def rejects(*args: object, **kwargs: object) -> None:
        raise InvalidTypeError("k: expected an integer >= 1, got 2.5")

    monkeypatch.delenv("MIBOUND_DEBUG", raising=False)
    monkeypatch.setattr(mibound.estimation, "estimate", rejects)
    line = _main_error(capsys, str(_pair_file(tmp_path)), "--method", "ksg")
    assert line == "mibound: error: k: expected an integer >= 1, got 2.5"


def test_dropna_reports_the_rows_dropped(
    tmp_path: Path, table: np.ndarray, capsys: pytest.CaptureFixture
) -> None:
    lines = ["a,b,c,d,label"] + [
        ",".join(f"{v:.17g}" for v in row) + ",word" for row in table[:400]
    ]
    lines[5] = ",".join([*lines[5].split(",")[:1], "", *lines[5].split(",")[2:]])
    lines[9] = "NA," + ",".join(lines[9].split(",")[1:])
    (tmp_path / "holes.csv").write_text("\n".join(lines) + "\n")
    path = str(tmp_path / "holes.csv")
    assert "--dropna" in _main_error(capsys, path, "--x", "a,b", "--y", "c,d", "-m", "ksg")
    assert (
        main(["estimate", path, "--x", "a,b", "--y", "c,d", "-m", "ksg", "--dropna", "--json"]) == 0
    )
    captured = capsys.readouterr()
    assert "dropped 2 row(s) with missing values" in captured.err
    out = json.loads(captured.out)
    assert out["n"] == 398 and out["settings"]["dropped_rows"] == 2


def test_pandas_csv_index_column_is_not_x(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    a = rng.standard_normal(500)
    frame = pd.DataFrame({"a": a, "b": a + rng.standard_normal(500)})
    frame.to_csv(tmp_path / "frame.csv")  # the index 0..499 is an unnamed first column
    for args in ([], ["--y", "b"]):
        assert main(["estimate", str(tmp_path / "frame.csv"), *args, "-m", "ksg", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["settings"]["columns"] == {"x": ["a"], "y": ["b"]}
        assert abs(out["value"] - 0.5 * math.log(2)) < 0.1
    frame["id"] = [f"row{i}" for i in range(500)]  # a text column that is not selected
    frame.to_csv(tmp_path / "ids.csv")
    path = str(tmp_path / "ids.csv")
    assert main(["estimate", path, "--x", "a", "--y", "b", "-m", "ksg", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 500
