"""The examples run end to end (tiny ``--quick`` settings, in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.slow
def test_vae_posterior_collapse_quick(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "collapse.png"
    result = run_example("vae_posterior_collapse.py", "--quick", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.exists() and out.stat().st_size > 1000
    lines = [line.split() for line in result.stdout.splitlines()]
    # 11 result columns, then the seconds of the row, the VAE's training, q's fit, SNIS, AIS
    table = [row for row in lines if len(row) == 15 and row[0] in ("0.50", "30.00")]
    assert [row[0] for row in table] == ["0.50", "30.00"]
    for row in table:
        rate, lower, upper = float(row[1]), float(row[4]), float(row[5])
        assert rate >= 0 and lower <= upper + 0.05
    # the collapsed decoder (β = 30) carries next to no information
    assert float(table[1][5]) < 0.2
