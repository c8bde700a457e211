"""Append-only JSON-lines files that survive a killed run (bench results, pairwise matrices).

Each row is one ``write`` of one line, flushed and ``fsync``-ed, so a killed process leaves at
most a torn last line, which reading skips and repairing cuts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["append_row", "read_rows"]


def append_row(fh: IO[bytes], row: Mapping[str, Any]) -> None:
    """Writes ``row`` as one compact JSON line (NaN refused), then flushes and fsyncs."""
    line = json.dumps(row, allow_nan=False, separators=(",", ":")) + "\n"
    fh.write(line.encode())
    fh.flush()
    os.fsync(fh.fileno())


def read_rows(path: Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The JSON objects of the file's lines, skipping blank, unparsable and non-object lines.

    Arguments:
        path: The file (it must exist).
        repair: First cut the file after its last complete line (what a killed run can leave),
            so that appending starts on a fresh line; the cut line is not read.
    """
    data = path.read_bytes()
    if repair and data and not data.endswith(b"\n"):
        with open(path, "r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)
            fh.flush()
            os.fsync(fh.fileno())
        data = data[: data.rfind(b"\n") + 1]
    rows = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows
