"""End-to-end test of ``mibound demo --quick`` (subprocess) and its argument errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from mibound.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"


def test_demo_quick_writes_report_and_figures(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("MIBOUND_DEBUG", None)
    out = tmp_path / "demo"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mibound",
            "demo",
            "--quick",
            "--out",
            str(out),
            "--workers",
            "1",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"report: {out / 'report.md'}" in result.stdout
    assert "total time:" in result.stdout
    report = (out / "report.md").read_text()
    for heading in ("## 1. Samples only: the staircase", "## 2. Known joint", "## 3. Every"):
        assert heading in report
    # Quick numbers are rough: the report says its sentences describe a full run.
    assert "_With --quick the critics train for too few steps" in report
    assert "_With --quick, K, T and n are tiny" in report
    assert (out / "staircase.png").read_bytes()[:4] == b"\x89PNG"
    assert "](staircase.png)" in report
    rows = [json.loads(line) for line in (out / "demo-results.jsonl").read_text().splitlines()]
    stair = {r["method"]: r for r in rows if r["runner"] == "staircase"}
    assert {"infonce", "smile"} <= set(stair)
    assert all(r["status"] == "ok" for r in stair.values())
    # InfoNCE on a minibatch of 64 never exceeds log 64, whatever the training did.
    assert max(stair["infonce"]["history"]["mean"]) <= math.log(64)
    assert {"ksg", "gaussian"} <= {r["method"] for r in rows if r["runner"] == "estimate"}
    assert not (out / ".demo-run").exists()


def test_demo_bad_workers_is_one_line(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "mibound: error: --workers: expected a positive integer, got 0\n"


def test_sandwich_section_orders_rows_and_states_the_sample_target():
    from mibound.demo import _sandwich_table, _sandwich_text

    def row(method, lower, upper, **options):
        return {
            "method": method,
            "options": options,
            "status": "ok",
            "truth": 4.0,
            "lower": lower,
            "upper": upper,
            "lower_stderr": 0.1,
            "upper_stderr": 0.1,
        }

    rows = [
        row("snis", 3.7, 3.9, k=1024),
        row("ais", 1e-17, 26.0, steps=1, chains=1),
        row("snis", 3.8, 3.8, k=16, encoder="posterior"),
        row("ais", 3.5, 4.5, steps=100, chains=1),
        row("snis", 0.7, 25.0, k=1),
    ]
    table = _sandwich_table(rows)
    order = [line.split(" | ")[1] for line in table.splitlines()[2:] if line.startswith("| ")]
    assert order == [
        "K = 1, q = prior",
        "K = 1024, q = prior",
        "K = 16, q = exact posterior",
        "T = 1, chains = 1",
        "T = 100, chains = 1",
    ]
    # The AIS lower bound at T = 1 is Barber–Agakov with q = prior: zero, with a footnote.
    assert "| 0.000 ± 0.100 ¹ |" in table and "\n¹ Zero up to rounding" in table
    assert "Barber–Agakov" in table
    # The target is the exact-posterior row (the shared sample), not the population MI.
    text = _sandwich_text(rows, 256)
    assert "Target for this sample: **3.800 ± 0.100**" in text
    assert "population MI 4 by -0.200 (2.0 se)" in text
