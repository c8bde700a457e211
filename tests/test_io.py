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
    assert names == {"x": ["e", "a"], "y": ["c"], "dropped_rows": 0}


def test_npy_and_npz(tmp_path: Path, table: np.ndarray) -> None:
    np.save(tmp_path / "data.npy", table)
    x, y, _ = read_pair(tmp_path / "data.npy", "0:3", "3:5")
    assert np.array_equal(x, table[:, :3]) and np.array_equal(y, table[:, 3:])
    np.savez(tmp_path / "data.npz", left=table[:, :2], right=table[:, 2])
    x, y, names = read_pair(tmp_path / "data.npz", "left", "right")
    assert x.shape == (20, 2) and np.array_equal(y, table[:, 2])
    assert names == {"x": ["left"], "y": ["right"], "dropped_rows": 0}
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


def test_unselected_columns_are_never_parsed(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("id,a,label,b\nu1,1.0,cat,2.0\nu2,3.0,dog,5.0\nu3,4,x,1\n")
    x, y, _ = read_pair(tmp_path / "d.csv", "a", "b")
    assert np.array_equal(x[:, 0], [1.0, 3.0, 4.0]) and np.array_equal(y[:, 0], [2.0, 5.0, 1.0])
    with pytest.raises(ValueError, match="line 2, column 'label': expected a number, got 'cat'"):
        read_pair(tmp_path / "d.csv", "a", "label")


def test_unselected_parquet_columns_are_never_read(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(
        pa.table({"id": ["u1", "u2", "u3"], "a": [1.0, 2.0, 3.0], "b": [1, 0, 1]}),
        tmp_path / "d.parquet",
    )
    x, y, _ = read_pair(tmp_path / "d.parquet", "a", "b")
    assert x.shape == (3, 1) and np.array_equal(y[:, 0], [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="column 'id' is not numeric"):
        read_pair(tmp_path / "d.parquet", "id", "b")


def test_pandas_index_column_is_never_x_by_default(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.standard_normal(30), "b": rng.standard_normal(30)})
    frame.to_csv(tmp_path / "named.csv")  # ",a,b" header, index 0..29 in the first column
    x, y, names = read_pair(tmp_path / "named.csv")
    assert names["x"] == ["a"] and names["y"] == ["b"]
    assert np.allclose(x[:, 0], frame["a"]) and np.allclose(y[:, 0], frame["b"])
    x, y, names = read_pair(tmp_path / "named.csv", y="b")
    assert names["x"] == ["a"]
    pd.DataFrame(rng.standard_normal((30, 3))).to_csv(tmp_path / "numbered.csv")
    _, y, names = read_pair(tmp_path / "numbered.csv")
    assert names == {"x": ["0"], "y": ["1", "2"], "dropped_rows": 0}
    pq = pytest.importorskip("pyarrow.parquet")  # noqa: F841 - pandas needs pyarrow for this
    frame.index = frame.index + 100  # a non-default index is stored as a column
    frame.to_parquet(tmp_path / "indexed.parquet")
    _, _, names = read_pair(tmp_path / "indexed.parquet")
    assert names["x"] == ["a"] and names["y"] == ["b"]


def test_empty_column_spec_is_an_error(tmp_path: Path, table: np.ndarray) -> None:
    path = write_delimited(tmp_path / "data.csv", table, ",", True)
    with pytest.raises(ValueError, match="--x: expected column names, indices or ranges, got an"):
        read_pair(path, "", "b")
    with pytest.raises(ValueError, match="--y: expected column names"):
        read_pair(path, "a", "  ")


@pytest.mark.parametrize("suffix", [".npz", ".npy"])
def test_corrupt_numpy_files_name_the_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    with pytest.raises(ValueError, match=f"FILE: broken{suffix} is not a valid") as info:
        read_pair(path, *(("a", "b") if suffix == ".npz" else ()))
    assert "allow_pickle" not in str(info.value)


def test_object_arrays_are_never_unpickled(tmp_path: Path) -> None:
    np.savez(tmp_path / "obj.npz", a=np.array([{"k": 1}, None], dtype=object), b=np.zeros(2))
    with pytest.raises(ValueError, match="obj.npz array 'a' holds Python objects") as info:
        read_pair(tmp_path / "obj.npz", "a", "b")
    assert "allow_pickle" not in str(info.value)
    np.save(tmp_path / "obj.npy", np.array([[1, "a"]], dtype=object))
    with pytest.raises(ValueError, match="obj.npy holds Python objects"):
        read_pair(tmp_path / "obj.npy")


def test_missing_values_need_dropna(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("a,b,c\n1,2,x\n,3,y\n4,NA,z\n5,6,w\n7,8,\n")
    with pytest.raises(ValueError, match=r"missing values in 2 row\(s\).*--dropna"):
        read_pair(tmp_path / "m.csv", "a", "b")
    x, y, names = read_pair(tmp_path / "m.csv", "a", "b", dropna=True)
    assert names["dropped_rows"] == 2
    assert np.array_equal(x[:, 0], [1.0, 5.0, 7.0]) and np.array_equal(y[:, 0], [2.0, 6.0, 8.0])


def test_nullable_parquet_column_with_nulls(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(
        pa.table({"a": pa.array([1, None, 3, 4], pa.int64()), "b": [1.0, 2.0, 3.0, 4.0]}),
        tmp_path / "n.parquet",
    )
    with pytest.raises(ValueError, match=r"missing values in 1 row\(s\)"):
        read_pair(tmp_path / "n.parquet")
    x, _, names = read_pair(tmp_path / "n.parquet", dropna=True)
    assert names["dropped_rows"] == 1 and np.array_equal(x[:, 0], [1.0, 3.0, 4.0])
