"""Reading paired samples (x, y) from .csv, .tsv, .npy, .npz and .parquet files."""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mibound._checks import InvalidTypeError, InvalidValueError, MissingDependencyError

__all__ = ["SUFFIXES", "parse_columns", "read_pair"]

SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".npy", ".npz", ".parquet")


def read_pair(
    path: str | os.PathLike[str],
    x: str | None = None,
    y: str | None = None,
    *,
    dropna: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Reads two arrays of paired samples from a file.

    Column specs (``x``/``y``):

    - .csv/.tsv/.parquet: comma-separated column names (``a,b``), 0-based indices (``0,2,4``),
      or index ranges ``start:stop`` (stop exclusive, as in Python: ``0:5``), mixed freely.
      Without a spec, ``x`` is the first data column and ``y`` all the others (``y`` alone:
      ``x`` is every other data column, and conversely). A header row is detected when its
      first line has a non-numeric field. Only the selected columns are parsed, so text columns
      (ids, labels) elsewhere in the file do no harm. An index column written by pandas (an
      unnamed first column, ``Unnamed: 0`` or ``__index_level_0__``) is never chosen by
      default; it can still be selected by index.
    - .npy (one 2-D array): index specs as above; default first column vs the rest.
    - .npz: array names (``--x a --y b``); default: the file's two arrays when it has exactly two.

    Missing values (empty fields, ``NA``, ``NaN``, ``null``, or nulls in .parquet) in the
    selected columns are an error unless ``dropna`` is set; then the rows with a missing value
    are dropped from both x and y (so the pairs stay aligned) and counted in
    ``names["dropped_rows"]``.

    Arguments:
        path: The file.
        x: Which columns or array hold X.
        y: Which columns or array hold Y.
        dropna: Drop rows with missing values in the selected columns instead of failing.

    Returns:
        ``(x, y, names)``: float64 arrays of shape ``(n, d)`` and the column names used
        (``names["x"]``, ``names["y"]``) with ``names["dropped_rows"]`` (an int).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: Unknown extension, bad column spec, missing arrays, unparsable or corrupt
            data, missing values without ``dropna``.
        ImportError: .parquet without pyarrow.
    """
    if not isinstance(dropna, bool):
        raise InvalidTypeError(f"dropna: expected True or False, got {dropna!r}")
    for option, spec in (("--x", x), ("--y", y)):
        if spec is not None and not isinstance(spec, str):
            raise InvalidTypeError(f"{option}: expected a column spec string, got {spec!r}")
        if spec is not None and not spec.strip():
            raise InvalidValueError(
                f"{option}: expected column names, indices or ranges, got an empty string"
            )
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"FILE: no such file: {path}")
    if path.is_dir():
        raise InvalidValueError(f"FILE: expected a file, got a directory: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        xa, ya, names = _read_npz(path, x, y)
    elif suffix == ".npy":
        array = _load_npy(path)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise InvalidValueError(
                f"FILE: expected one 2-D array (n, columns) in {path.name}, got shape {array.shape}"
            )
        labels = [str(i) for i in range(array.shape[1])]
        xi, yi = _select(labels, x, y, path.name, allow_names=False, index=())
        xa, ya = _numeric(array[:, xi], path.name), _numeric(array[:, yi], path.name)
        names = {"x": [labels[i] for i in xi], "y": [labels[i] for i in yi]}
    elif suffix in (".csv", ".tsv", ".parquet"):
        table = (
            _Delimited(path, "," if suffix == ".csv" else "\t")
            if suffix != ".parquet"
            else _Parquet(path)
        )
        xi, yi = _select(table.names, x, y, path.name, allow_names=True, index=table.index)
        xa, ya = table.columns(xi), table.columns(yi)
        names = {"x": [table.names[i] for i in xi], "y": [table.names[i] for i in yi]}
    else:
        raise InvalidValueError(
            f"FILE: unknown file type {path.suffix or '(none)'!r} for {path.name}; "
            f"expected one of {', '.join(SUFFIXES)}"
        )
    return _missing(xa, ya, names, path.name, dropna)


def _missing(
    xa: np.ndarray, ya: np.ndarray, names: dict[str, Any], filename: str, dropna: bool
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Drops (``dropna``) or refuses rows with NaN in the selected columns."""
    if 1 <= xa.ndim <= 2 and 1 <= ya.ndim <= 2 and xa.shape[0] == ya.shape[0]:
        bad = np.isnan(xa.reshape(len(xa), -1)).any(axis=1)
        bad |= np.isnan(ya.reshape(len(ya), -1)).any(axis=1)
        count = int(bad.sum())
        if count and not dropna:
            raise InvalidValueError(
                f"FILE: {filename} has missing values in {count} row(s) of the selected "
                f"columns (first in data row {int(np.flatnonzero(bad)[0]) + 1}); drop them "
                "with --dropna (dropna=True) or fill them in"
            )
        if count:
            xa, ya = xa[~bad], ya[~bad]
        names["dropped_rows"] = count
    else:
        names["dropped_rows"] = 0
    return xa, ya, names


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


_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})
_INDEX_NAMES = frozenset({"", "Unnamed: 0", "__index_level_0__"})


def _select(
    names: list[str],
    x: str | None,
    y: str | None,
    filename: str,
    *,
    allow_names: bool,
    index: tuple[int, ...],
) -> tuple[list[int], list[int]]:
    """Column indices of x and y; index columns are never chosen by default."""
    data = [i for i in range(len(names)) if i not in index]
    if len(data) < 2 and (x is None or y is None):
        shown = " besides the index column" if index else ""
        raise InvalidValueError(
            f"FILE: {filename} has {len(data)} column(s){shown}; need at least 2 (x and y)"
        )
    xi = parse_columns(x, names, option="--x", allow_names=allow_names) if x is not None else None
    yi = parse_columns(y, names, option="--y", allow_names=allow_names) if y is not None else None
    if xi is None and yi is None:
        xi, yi = data[:1], data[1:]
    elif xi is None:
        assert yi is not None
        xi = [i for i in data if i not in set(yi)]
    elif yi is None:
        yi = [i for i in data if i not in set(xi)]
    if not xi or not yi:
        raise InvalidValueError("--x, --y: every column is used by one side; the other has none")
    overlap = sorted(set(xi) & set(yi))
    if overlap:
        raise InvalidValueError(
            f"--x, --y: column(s) {', '.join(names[i] for i in overlap)} used for both x and y"
        )
    return xi, yi


class _Delimited:
    """A .csv/.tsv file split into fields; columns are converted to numbers only on request."""

    def __init__(self, path: Path, delimiter: str) -> None:
        self.filename = path.name
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows = [row for row in csv.reader(handle, delimiter=delimiter) if row]
        except UnicodeDecodeError:
            raise InvalidValueError(f"FILE: {path.name} is not a UTF-8 text file") from None
        except csv.Error as err:
            raise InvalidValueError(
                f"FILE: {path.name} is not a valid delimited file: {err}"
            ) from None
        if not rows:
            raise InvalidValueError(f"FILE: {path.name} is empty")
        first = [f.strip() for f in rows[0]]
        header = any(not _is_number(f) and f.lower() not in _MISSING for f in first) or (
            # pandas' to_csv with integer column names: ",0,1" over rows "0,...", "1,...".
            len(rows) > 1
            and first[0] == ""
            and all(_is_number(f) for f in first[1:])
            and rows[1][0].strip() == "0"
        )
        self.names = first if header else [str(i) for i in range(len(first))]
        self.body = rows[1:] if header else rows
        self.offset = 2 if header else 1
        if not self.body:
            raise InvalidValueError(f"FILE: {path.name} has a header but no data rows")
        width = len(self.names)
        for r, row in enumerate(self.body):
            if len(row) != width:
                raise InvalidValueError(
                    f"FILE: {path.name} line {r + self.offset} has {len(row)} fields, "
                    f"expected {width}"
                )
        self.index = (0,) if header and self.names[0] in _INDEX_NAMES else ()

    def columns(self, indices: list[int]) -> np.ndarray:
        table = np.empty((len(self.body), len(indices)), dtype=np.float64)
        for j, c in enumerate(indices):
            for r, row in enumerate(self.body):
                field = row[c].strip()
                try:
                    table[r, j] = float(field)
                except ValueError:
                    if field.lower() in _MISSING:
                        table[r, j] = np.nan
                        continue
                    raise InvalidValueError(
                        f"FILE: {self.filename} line {r + self.offset}, column "
                        f"{self.names[c]!r}: expected a number, got {row[c]!r}"
                    ) from None
        return table


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Parquet:
    """A .parquet file; only the requested columns are read."""

    def __init__(self, path: Path) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise MissingDependencyError(
                "reading .parquet needs pyarrow: pip install 'mibound[parquet]'"
            ) from None
        self.path = path
        self._pq = pq
        try:
            schema = pq.read_schema(path)
        except Exception as err:  # pyarrow raises its own error types for corrupt files
            raise InvalidValueError(
                f"FILE: {path.name} is not a readable .parquet file: {err}"
            ) from None
        self.names = [str(n) for n in schema.names]
        self.index = tuple(i for i, n in enumerate(self.names) if n == "__index_level_0__")

    def columns(self, indices: list[int]) -> np.ndarray:
        wanted = [self.names[i] for i in indices]
        table = self._pq.read_table(self.path, columns=wanted)
        out = []
        for name, column in zip(wanted, table.columns, strict=True):
            if column.null_count:
                column = column.cast("float64")
            try:
                out.append(np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64))
            except (TypeError, ValueError):
                raise InvalidValueError(
                    f"FILE: {self.path.name} column {name!r} is not numeric ({column.type})"
                ) from None
        return np.column_stack(out)


def _load_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise InvalidValueError(
                f"FILE: {path.name} holds Python objects, which mibound never unpickles; "
                "save a numeric array"
            ) from None
        raise InvalidValueError(f"FILE: {path.name} is not a valid .npy file ({err})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise InvalidValueError(f"FILE: {path.name} is not a valid .npy file ({err})") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise InvalidValueError(f"FILE: {path.name} is an .npz archive, not one .npy array")
    return array


def _numeric(array: np.ndarray, filename: str, what: str = "") -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise InvalidValueError(
            f"FILE: {filename}{what} holds non-numeric data (dtype {array.dtype})"
        )
    if np.iscomplexobj(array):
        raise InvalidValueError(f"FILE: {filename}{what} holds complex numbers")
    return array.astype(np.float64)


def _read_npz(
    path: Path, x: str | None, y: str | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise InvalidValueError(f"FILE: {path.name} is not a valid .npz archive ({err})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise InvalidValueError(f"FILE: {path.name} is a single .npy array, not an .npz archive")
    with archive:
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
            try:
                array = np.asarray(archive[name])
            except ValueError as err:
                if "allow_pickle" in str(err):
                    raise InvalidValueError(
                        f"FILE: {path.name} array {name!r} holds Python objects, which mibound "
                        "never unpickles; save numeric arrays"
                    ) from None
                raise InvalidValueError(
                    f"FILE: {path.name} array {name!r} is corrupt ({err})"
                ) from None
            except (OSError, EOFError, zipfile.BadZipFile) as err:
                raise InvalidValueError(
                    f"FILE: {path.name} array {name!r} is corrupt ({err})"
                ) from None
            arrays.append(_numeric(array, path.name, f" array {name!r}"))
    return arrays[0], arrays[1], {"x": [x], "y": [y]}
