"""Reading paired samples (x, y) from .csv, .tsv, .npy, .npz and .parquet files."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from mibound._checks import InvalidValueError, MissingDependencyError

__all__ = ["SUFFIXES", "parse_columns", "read_pair"]

SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".npy", ".npz", ".parquet")


def read_pair(
    path: str | os.PathLike[str], x: str | None = None, y: str | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, list[str]]]:
    """Reads two arrays of paired samples from a file.

    Column specs (``x``/``y``):

    - .csv/.tsv/.parquet: comma-separated column names (``a,b``), 0-based indices (``0,2,4``),
      or index ranges ``start:stop`` (stop exclusive, as in Python: ``0:5``), mixed freely.
      Without a spec, ``x`` is the first column and ``y`` all the others (``y`` alone: ``x`` is
      every other column, and conversely). A header row is detected when its first line has a
      non-numeric field.
    - .npy (one 2-D array): index specs as above; default first column vs the rest.
    - .npz: array names (``--x a --y b``); default: the file's two arrays when it has exactly two.

    Arguments:
        path: The file.
        x: Which columns or array hold X.
        y: Which columns or array hold Y.

    Returns:
        ``(x, y, names)``: float64 arrays of shape ``(n, d)`` and the column names used
        (``names["x"]``, ``names["y"]``).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: Unknown extension, bad column spec, missing arrays, unparsable data.
        ImportError: .parquet without pyarrow.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"FILE: no such file: {path}")
    if path.is_dir():
        raise InvalidValueError(f"FILE: expected a file, got a directory: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path, x, y)
    if suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise InvalidValueError(
                f"FILE: expected one 2-D array (n, columns) in {path.name}, got shape {array.shape}"
            )
        names = [str(i) for i in range(array.shape[1])]
        return _split_table(array, names, x, y, path.name, allow_names=False)
    if suffix in (".csv", ".tsv"):
        table, names = _read_delimited(path, "," if suffix == ".csv" else "\t")
        return _split_table(table, names, x, y, path.name, allow_names=True)
    if suffix == ".parquet":
        table, names = _read_parquet(path)
        return _split_table(table, names, x, y, path.name, allow_names=True)
    raise InvalidValueError(
        f"FILE: unknown file type {path.suffix or '(none)'!r} for {path.name}; "
        f"expected one of {', '.join(SUFFIXES)}"
    )


def parse_columns(spec: str, names: list[str], *, option: str, allow_names: bool) -> list[int]:
    """Parses a column spec (``"a,b"``, ``"0:5"``, ``"0,2,4"``) into column indices.

    Arguments:
        spec: The spec as typed by the user.
        names: The table's column names (``"0"``, ``"1"``, ... when it has none).
        option: The option's name for error messages (``"--x"``).
        allow_names: Whether column names are allowed (not for .npy).
    """
    width = len(names)
    out: list[int] = []
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            raise InvalidValueError(f"{option}: empty item in column spec {spec!r}")
        if allow_names and part in names and not _is_int(part):
            out.append(names.index(part))
        elif ":" in part:
            bits = part.split(":")
            if len(bits) != 2 or not all(_is_int(b) or b.strip() == "" for b in bits):
                raise InvalidValueError(
                    f"{option}: bad column range {part!r} (expected start:stop)"
                )
            start = int(bits[0]) if bits[0].strip() else 0
            stop = int(bits[1]) if bits[1].strip() else width
            if not (0 <= start < stop <= width):
                raise InvalidValueError(
                    f"{option}: column range {part!r} is empty or outside 0:{width} "
                    f"(the file has {width} columns)"
                )
            out.extend(range(start, stop))
        elif _is_int(part):
            index = int(part)
            if not 0 <= index < width:
                raise InvalidValueError(
                    f"{option}: column index {index} out of range (the file has {width} columns)"
                )
            out.append(index)
        else:
            shown = ", ".join(names[:10]) + (", ..." if width > 10 else "")
            what = f"no column named {part!r}" if allow_names else f"bad column index {part!r}"
            raise InvalidValueError(f"{option}: {what}; columns are {shown}")
    if len(set(out)) != len(out):
        raise InvalidValueError(f"{option}: column spec {spec!r} repeats a column")
    return out


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _split_table(
    table: np.ndarray,
    names: list[str],
    x: str | None,
    y: str | None,
    filename: str,
    *,
    allow_names: bool,
) -> tuple[np.ndarray, np.ndarray, dict[str, list[str]]]:
    width = table.shape[1]
    if width < 2 and (x is None or y is None):
        raise InvalidValueError(
            f"FILE: {filename} has {width} column(s); need at least 2 (x and y)"
        )
    xi = parse_columns(x, names, option="--x", allow_names=allow_names) if x else None
    yi = parse_columns(y, names, option="--y", allow_names=allow_names) if y else None
    if xi is None and yi is None:
        xi, yi = [0], list(range(1, width))
    elif xi is None:
        assert yi is not None
        xi = [i for i in range(width) if i not in set(yi)]
    elif yi is None:
        yi = [i for i in range(width) if i not in set(xi)]
    if not xi or not yi:
        raise InvalidValueError("--x, --y: every column is used by one side; the other has none")
    overlap = sorted(set(xi) & set(yi))
    if overlap:
        raise InvalidValueError(
            f"--x, --y: column(s) {', '.join(names[i] for i in overlap)} used for both x and y"
        )
    return (
        table[:, xi],
        table[:, yi],
        {"x": [names[i] for i in xi], "y": [names[i] for i in yi]},
    )


def _read_delimited(path: Path, delimiter: str) -> tuple[np.ndarray, list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle, delimiter=delimiter) if row]
    if not rows:
        raise InvalidValueError(f"FILE: {path.name} is empty")
    header = any(not _is_number(field) for field in rows[0])
    names = [f.strip() for f in rows[0]] if header else [str(i) for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    if not body:
        raise InvalidValueError(f"FILE: {path.name} has a header but no data rows")
    width = len(names)
    table = np.empty((len(body), width), dtype=np.float64)
    for r, row in enumerate(body):
        line = r + (2 if header else 1)
        if len(row) != width:
            raise InvalidValueError(
                f"FILE: {path.name} line {line} has {len(row)} fields, expected {width}"
            )
        for c, field in enumerate(row):
            try:
                table[r, c] = float(field)
            except ValueError:
                raise InvalidValueError(
                    f"FILE: {path.name} line {line}, column {names[c]!r}: "
                    f"expected a number, got {field!r}"
                ) from None
    return table, names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_parquet(path: Path) -> tuple[np.ndarray, list[str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            "reading .parquet needs pyarrow: pip install 'mibound[parquet]'"
        ) from None
    table = pq.read_table(path)
    names = [str(n) for n in table.column_names]
    columns = []
    for name, column in zip(names, table.columns, strict=True):
        try:
            columns.append(np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64))
        except (TypeError, ValueError):
            raise InvalidValueError(
                f"FILE: {path.name} column {name!r} is not numeric ({column.type})"
            ) from None
    return np.column_stack(columns), names


def _read_npz(
    path: Path, x: str | None, y: str | None
) -> tuple[np.ndarray, np.ndarray, dict[str, list[str]]]:
    with np.load(path, allow_pickle=False) as archive:
        available = list(archive.files)
        if x is None and y is None:
            if len(available) != 2:
                raise InvalidValueError(
                    f"--x, --y: {path.name} holds {len(available)} arrays "
                    f"({', '.join(available)}); name the two to use with --x and --y"
                )
            x, y = available
        elif x is None or y is None:
            raise InvalidValueError("--x, --y: for .npz files give both array names")
        arrays = []
        for option, name in (("--x", x), ("--y", y)):
            if name not in available:
                raise InvalidValueError(
                    f"{option}: no array named {name!r} in {path.name}; "
                    f"arrays are {', '.join(available)}"
                )
            arrays.append(np.asarray(archive[name]))
    return arrays[0], arrays[1], {"x": [x], "y": [y]}
