"""Tests of mibound.io.read_pair: formats, column specs and errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from mibound.io import parse_columns, read_pair


@pytest.fixture
def table() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.round(rng.standard_normal((20, 5)), 6)


def write_delimited(path: Path, table: np.ndarray, delimiter: str, header: bool) -> Path:
    lines = [delimiter.join(["a", "b", "c", "d", "e"])] if header else []
    lines += [delimiter.join(repr(float(v)) for v in row) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("suffix", "delimiter"), [(".csv", ","), (".tsv", "\t")])
@pytest.mark.parametrize("header", [True, False])
def test_delimited(tmp_path: Path, table: np.ndarray, suffix: str, delimiter: str, header: bool):
    path = write_delimited(tmp_path / f"data{suffix}", table, delimiter, header)
    x, y, names = read_pair(path, "0:2", "2,4")
    assert np.array_equal(x, table[:, :2]) and np.array_equal(y, table[:, [2, 4]])
    assert names["x"] == (["a", "b"] if header else ["0", "1"])
    x, y, _ = read_pair(path)  # default: first column vs the rest
    assert np.array_equal(x, table[:, :1]) and np.array_equal(y, table[:, 1:])
    x, y, _ = read_pair(path, y="3:")  # x: every other column
    assert np.array_equal(x, table[:, :3]) and np.array_equal(y, table[:, 3:])


def test_column_names(tmp_path: Path, table: np.ndarray) -> None:
    path = write_delimited(tmp_path / "data.csv", table, ",", True)
    x, y, names = read_pair(path, "e,a", "c")
    assert np.array_equal(x, table[:, [4, 0]]) and np.array_equal(y, table[:, [2]])
    assert names == {"x": ["e", "a"], "y": ["c"]}


def test_npy_and_npz(tmp_path: Path, table: np.ndarray) -> None:
    np.save(tmp_path / "data.npy", table)
    x, y, _ = read_pair(tmp_path / "data.npy", "0:3", "3:5")
    assert np.array_equal(x, table[:, :3]) and np.array_equal(y, table[:, 3:])
    np.savez(tmp_path / "data.npz", left=table[:, :2], right=table[:, 2])
    x, y, names = read_pair(tmp_path / "data.npz", "left", "right")
    assert x.shape == (20, 2) and np.array_equal(y, table[:, 2])
    assert names == {"x": ["left"], "y": ["right"]}
    x, _, _ = read_pair(tmp_path / "data.npz")  # exactly two arrays: no names needed
    assert x.shape == (20, 2)


def test_parquet(tmp_path: Path, table: np.ndarray) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(
        pa.table({n: table[:, i] for i, n in enumerate("abcde")}), tmp_path / "d.parquet"
    )
    x, y, _ = read_pair(tmp_path / "d.parquet", "a,b", "2:5")
    assert np.array_equal(x, table[:, :2]) and np.array_equal(y, table[:, 2:])


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"reading \.parquet needs pyarrow: pip install"):
        read_pair(tmp_path / "d.parquet")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("z", "--x: no column named 'z'; columns are a, b, c, d, e"),
        ("0:9", "--x: column range '0:9' is empty or outside 0:5"),
        ("3:1", "--x: column range '3:1'"),
        ("7", "--x: column index 7 out of range"),
        ("1:2:3", "--x: bad column range"),
        ("0,,1", "--x: empty item"),
        ("a,0", "--x: column spec 'a,0' repeats a column"),
    ],
)
def test_bad_column_specs(spec: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_columns(spec, list("abcde"), option="--x", allow_names=True)


def test_file_errors(tmp_path: Path, table: np.ndarray) -> None:
    with pytest.raises(FileNotFoundError, match="FILE: no such file"):
        read_pair(tmp_path / "missing.csv")
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"unknown file type '\.xlsx'.*\.csv, \.tsv, \.npy"):
        read_pair(tmp_path / "data.xlsx")
    path = write_delimited(tmp_path / "data.csv", table, ",", True)
    with pytest.raises(ValueError, match="--x, --y: column"):
        read_pair(path, "a,b", "b")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match="line 3, column 'b': expected a number, got 'oops'"):
        read_pair(tmp_path / "bad.csv")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    with pytest.raises(ValueError, match="line 2 has 1 fields, expected 2"):
        read_pair(tmp_path / "ragged.csv")
    np.savez(tmp_path / "three.npz", a=table, b=table, c=table)
    with pytest.raises(ValueError, match="holds 3 arrays"):
        read_pair(tmp_path / "three.npz")
    with pytest.raises(ValueError, match="--y: no array named 'zz'"):
        read_pair(tmp_path / "three.npz", "a", "zz")
    np.save(tmp_path / "cube.npy", np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="one 2-D array"):
        read_pair(tmp_path / "cube.npy")
    np.save(tmp_path / "data.npy", table)
    with pytest.raises(ValueError, match="--x: bad column index 'a'"):
        read_pair(tmp_path / "data.npy", "a")
