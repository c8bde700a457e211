"""Runs ``python -m mibound`` in a subprocess on this checkout's sources (for the CLI tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def run_mibound(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``mibound ARGS`` with ``PYTHONPATH`` on ``src/``, without ``MIBOUND_DEBUG``, captured."""
    full_env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    full_env.pop("MIBOUND_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "mibound", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        cwd=cwd,
    )
