"""Tests of mibound.bench: cells and configs, the resumable runner (killed and resumed), the
local and Ray executors, the staircase trainer, reports, and the bench/report CLI."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_runner import SRC, run_mibound
from mibound import bench
from mibound.bench.runner import RESULTS_FILE
from mibound.cli import main

TINY_STAIRCASE = {
    "runner": "staircase",
    "method": "infonce",
    "dim": 4,
    "levels": [1, 2],
    "steps_per_level": 20,
    "batch_size": 16,
    "hidden": 16,
    "embed_dim": 8,
    "window": 5,
}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_mibound(*args, cwd=cwd)


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- cells and configs --------------------------------------------------------------------------


def test_cell_id_depends_on_settings_not_label():
    a = bench.grid(["gaussian-1x1-rho-0.75"], [{"method": "ksg", "k": 3}], [100], [0])[0]
    b = bench.grid(["gaussian-1x1-rho-0.75"], [{"method": "ksg", "k": 3, "name": "x"}], [100], [0])
    c = bench.grid(["gaussian-1x1-rho-0.75"], [{"method": "ksg", "k": 4}], [100], [0])[0]
    d = bench.grid(["gaussian-1x1-rho-0.75"], [{"method": "ksg", "k": 3}], [100], [1])[0]
    assert a["id"] == b[0]["id"] and b[0]["label"] == "x" and a["label"] == "ksg[k=3]"
    assert len({a["id"], c["id"], d["id"]}) == 3
    assert a["id"] == bench.cell_id(a) and len(a["id"]) == 16


def test_grid_counts_and_staircase_cells_ignore_tasks():
    cells = bench.grid(
        ["gaussian-1x1-rho-0.75", "bsc-eps-0.1"],
        [{"method": "ksg"}, {"method": "gaussian"}, TINY_STAIRCASE],
        [100, 200],
        [0, 1, 2],
    )
    assert len(cells) == 2 * 2 * 2 * 3 + 3
    stair = [c for c in cells if c["runner"] == "staircase"]
    assert {c["task"] for c in stair} == {"staircase-gaussian-4x4-mi-1-2"}
    assert all(c["n"] is None for c in stair)


def test_builtin_suites():
    quick = bench.suite("quick")
    assert {c["method"] for c in quick.cells} >= {"ksg", "gaussian", "infonce", "smile", "snis"}
    stair = bench.suite("staircase")
    assert len(stair) == 14
    for cell in stair.cells:
        o = cell["options"]
        assert (o["batch_size"], o["lr"], o["steps_per_level"]) == (64, 5e-4, 4000)
        assert o["levels"] == [2, 4, 6, 8, 10]
    assert {c["options"]["critic"] for c in stair.cells} == {"separable", "concat"}
    assert {c["options"].get("alpha") for c in stair.cells if c["method"] == "alpha"} == {0.01}
    assert {c["options"].get("tau") for c in stair.cells if c["method"] == "smile"} == {5.0}
    bmi = bench.suite("bmi-like")
    assert {c["n"] for c in bmi.cells} == {5000}
    assert {c["seed"] for c in bmi.cells} == set(range(5))
    with pytest.raises(ValueError, match="--suite: expected one of quick, staircase, bmi-like"):
        bench.suite("nope")


def test_toml_and_json_configs_give_the_same_cells(tmp_path):
    toml = tmp_path / "suite.toml"
    toml.write_text(
        'name = "mine"\n'
        'tasks = ["gaussian-1x1-rho-0.75", {factory = "gaussian", args = [2], '
        "kwargs = {rho = 0.5}}]\n"
        "sizes = [300]\nseeds = [0, 1]\n"
        '[[estimators]]\nmethod = "ksg"\nk = 5\n'
        '[[estimators]]\nmethod = "gaussian"\nname = "cca"\n'
    )
    data = {
        "name": "mine",
        "tasks": [
            "gaussian-1x1-rho-0.75",
            {"factory": "gaussian", "args": [2], "kwargs": {"rho": 0.5}},
        ],
        "sizes": [300],
        "seeds": [0, 1],
        "estimators": [{"method": "ksg", "k": 5}, {"method": "gaussian", "name": "cca"}],
    }
    (tmp_path / "suite.json").write_text(json.dumps(data))
    a = bench.load_config(toml)
    b = bench.load_config(tmp_path / "suite.json")
    assert a.name == "mine" and len(a) == 8
    assert [c["id"] for c in a.cells] == [c["id"] for c in b.cells]
    assert {c["label"] for c in a.cells} == {"ksg[k=5]", "cca"}


def test_config_grids_and_transformed_factory(tmp_path):
    path = tmp_path / "g.json"
    spec = {"factory": "transformed", "kwargs": {"base": "gaussian-1x1-rho-0.75", "x_map": "CUBE"}}
    path.write_text(
        json.dumps(
            {
                "grid": [
                    {"tasks": [spec], "estimators": [{"method": "gaussian"}], "sizes": [100]},
                    {"estimators": [TINY_STAIRCASE], "seeds": [3]},
                ]
            }
        )
    )
    suite = bench.load_config(path)
    assert len(suite) == 2
    task = bench.build_task(suite.cells[0]["task"])
    assert task.mutual_information == pytest.approx(
        bench.build_task("gaussian-1x1-rho-0.75").mutual_information
    )


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ({"tasks": ["nope"], "estimators": [{"method": "ksg"}]}, "unknown task 'nope'"),
        ({"tasks": ["bsc-eps-0.1"], "estimators": [{"method": "magic"}]}, "estimators.method"),
        ({"tasks": ["bsc-eps-0.1"], "estimators": [{"method": "ksg", "runner": "x"}]}, "runner"),
        ({"tasks": ["bsc-eps-0.1"], "estimators": []}, "at least one"),
        ({"tasks": ["bsc-eps-0.1"], "estimators": [{"method": "ksg"}], "sizes": [-1]}, "sizes"),
        ({"tasks": ["bsc-eps-0.1"], "estimators": [{"method": "ksg"}], "oops": 1}, "unexpected"),
        (
            {"tasks": ["bsc-eps-0.1"], "estimators": [{"runner": "sandwich", "method": "snis"}]},
            "latent model",
        ),
        ({"tasks": [{"factory": "open"}], "estimators": [{"method": "ksg"}]}, "task.factory"),
    ],
)
def test_bad_configs_name_the_key(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=match):
        bench.load_config(path)


def test_config_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="--config: no such file"):
        bench.load_config(tmp_path / "missing.toml")
    (tmp_path / "a.yaml").write_text("x: 1")
    with pytest.raises(ValueError, match=r"expected a \.toml or \.json file"):
        bench.load_config(tmp_path / "a.yaml")
    (tmp_path / "b.toml").write_text("this is = = not toml")
    with pytest.raises(ValueError, match="not valid TOML"):
        bench.load_config(tmp_path / "b.toml")


# -- cells and the runner -------------------------------------------------------------------


def test_run_cell_records_everything_and_is_deterministic():
    cell = bench.grid(["gaussian-dense-2x2-rho-0.5"], [{"method": "ksg"}], [400], [7])[0]
    row = bench.run_cell(cell)
    again = bench.run_cell(cell)
    assert row["status"] == "ok" and row["error"] is None
    assert row["value"] == again["value"]
    assert row["truth"] == pytest.approx(
        bench.build_task("gaussian-dense-2x2-rho-0.5").mutual_information
    )
    for key in ("cell_id", "task", "estimator", "n", "seed", "stderr", "ci", "kind", "seconds"):
        assert key in row
    assert set(row["versions"]) >= {"mibound", "torch", "numpy", "python"}
    assert row["host"]
    json.dumps(row, allow_nan=False)


def test_failed_cell_is_a_row_with_the_error():
    cell = bench.grid(["bsc-eps-0.1"], [{"method": "gaussian", "bogus": 1}], [100], [0])[0]
    row = bench.run_cell(cell)
    assert row["status"] == "failed"
    assert row["error"].startswith("TypeError: options: method 'gaussian' takes only")
    assert row["value"] is None if "value" in row else True


def test_sandwich_cells_bracket_the_truth():
    task = "linear-gaussian-k-2-d-10-mi-1"
    estimators = [
        {"runner": "sandwich", "method": "snis", "k": 8},
        {"runner": "sandwich", "method": "snis", "k": 4, "encoder": "posterior"},
        {"runner": "sandwich", "method": "snis", "k": 4, "encoder": "prior"},
    ]
    prior, exact, bad = (bench.run_cell(c) for c in bench.grid([task], estimators, [256], [0]))
    assert (
        prior["status"] == "ok"
        and prior["kind"] == "bounds"
        and prior["truth"] == pytest.approx(1.0)
    )
    # Monte Carlo bounds: each side within 4 standard errors of its side of the truth.
    assert (
        prior["lower"] - 4 * prior["lower_stderr"]
        <= 1.0
        <= prior["upper"] + 4 * prior["upper_stderr"]
    )
    assert prior["lower"] < prior["upper"]
    assert exact["lower"] == pytest.approx(exact["upper"], abs=1e-9)
    assert abs(exact["lower"] - 1.0) <= 4 * exact["lower_stderr"]
    assert bad["status"] == "failed"
    assert "options.encoder: expected 'posterior' or nothing, got 'prior'" in bad["error"]


def test_run_appends_refuses_to_overwrite_and_resumes(tmp_path):
    cells = bench.grid(
        ["gaussian-1x1-rho-0.75", "bsc-eps-0.1"], [{"method": "gaussian"}], [200], [0, 1]
    )
    summary = bench.run(cells, tmp_path, workers=1, progress=False)
    assert (summary.ran, summary.skipped, summary.failed) == (4, 0, 0)
    rows = lines_of(tmp_path / RESULTS_FILE)
    assert sorted(r["cell_id"] for r in rows) == sorted(c["id"] for c in cells)
    with pytest.raises(FileExistsError, match="--resume"):
        bench.run(cells, tmp_path, workers=1, progress=False)
    more = cells + bench.grid(["gaussian-1x1-rho-0.75"], [{"method": "ksg"}], [200], [0])
    summary = bench.run(more, tmp_path, workers=1, progress=False, resume=True)
    assert (summary.ran, summary.skipped) == (1, 4)
    assert lines_of(tmp_path / RESULTS_FILE)[:4] == rows


def test_resume_cuts_a_truncated_last_line_and_retries_failures_on_request(tmp_path):
    ok = bench.grid(["bsc-eps-0.1"], [{"method": "gaussian"}], [200], [0, 1])
    bad = bench.grid(["bsc-eps-0.1"], [{"method": "gaussian", "bogus": 1}], [200], [0])
    bench.run(ok + bad, tmp_path, workers=1, progress=False)
    path = tmp_path / RESULTS_FILE
    text = path.read_text()
    path.write_text(text + text.splitlines()[0][:37])  # a kill in the middle of a write
    assert len(bench.read_results(path)) == 3
    summary = bench.run(ok + bad, tmp_path, workers=1, progress=False, resume=True)
    assert summary.ran == 0
    assert path.read_text() == text  # the partial line is gone, nothing else changed
    summary = bench.run(
        ok + bad, tmp_path, workers=1, progress=False, resume=True, retry_failed=True
    )
    assert (summary.ran, summary.failed) == (1, 1)
    assert len(bench.latest_rows(bench.read_results(path))) == 3


def test_kill_mid_run_then_resume_recomputes_nothing(tmp_path):
    """A run killed with SIGKILL (whole process group) keeps every finished row intact; the
    resumed run adds exactly the missing cells; pool workers and the in-process path agree."""
    stair = [
        dict(TINY_STAIRCASE, steps_per_level=100, method=m) for m in ("infonce", "nwj", "smile")
    ]
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"name": "kill", "estimators": stair, "seeds": [0, 1, 2, 3, 4]}))
    expected = {c["id"] for c in bench.load_config(config).cells}
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mibound",
            "bench",
            "--config",
            str(config),
            "--out",
            str(out),
            "--workers",
            "2",
            "-q",
            "--no-report",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    path = out / RESULTS_FILE
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if path.exists() and path.read_bytes().count(b"\n") >= 3:
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = path.read_bytes()
    finished = [json.loads(line) for line in before.splitlines() if line.strip()]
    assert 3 <= len(finished) < len(expected), "the run was not killed mid-way"
    assert before.endswith(b"\n")
    summary = bench.run(
        bench.load_config(config).cells, out, workers=1, resume=True, progress=False
    )
    assert (summary.skipped, summary.ran) == (len(finished), len(expected) - len(finished))
    after = path.read_bytes()
    assert after.startswith(before)
    rows = [json.loads(line) for line in after.splitlines()]
    ids = [r["cell_id"] for r in rows]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert all(r["status"] == "ok" for r in rows)
    cells = {c["id"]: c for c in bench.load_config(config).cells}
    for row in finished[:2]:  # computed by a pool worker; recompute here, in this process
        assert bench.run_cell(cells[row["cell_id"]])["history"] == row["history"]


@pytest.mark.slow
def test_ray_executor_matches_local(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'mibound[ray]')")
    cells = bench.grid(["gaussian-dense-2x2-rho-0.5"], [{"method": "gaussian"}], [300], [0])
    cells += bench.grid([], [TINY_STAIRCASE], [], [0])
    bench.run(cells, tmp_path / "local", workers=1, progress=False)
    summary = bench.run(cells, tmp_path / "ray", executor="ray", workers=1, progress=False)
    assert (summary.ran, summary.failed) == (2, 0)
    local = {r["cell_id"]: r["value"] for r in lines_of(tmp_path / "local" / RESULTS_FILE)}
    ray = {r["cell_id"]: r["value"] for r in lines_of(tmp_path / "ray" / RESULTS_FILE)}
    assert local == ray


def test_ray_missing_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'mibound\[ray\]'"):
        bench.make_executor("ray")
    with pytest.raises(ValueError, match="--executor: expected one of local, ray"):
        bench.make_executor("dask")
    with pytest.raises(ValueError, match="--workers"):
        bench.make_executor("local", workers=0)


# -- staircase --------------------------------------------------------------------------------


def test_staircase_infonce_never_exceeds_log_batch_and_is_reproducible():
    options = {k: v for k, v in TINY_STAIRCASE.items() if k not in ("runner", "method")}
    a = bench.train_staircase("infonce", seed=3, **options)
    b = bench.train_staircase("infonce", seed=3, **options)
    assert a == b
    assert a["steps"] == 40 and len(a["history"]["mean"]) == 8
    assert max(
        m + 0 * s for m, s in zip(a["history"]["mean"], a["history"]["std"], strict=True)
    ) <= math.log(16)
    assert a["history"]["truth"] == [1.0] * 4 + [2.0] * 4
    with pytest.raises(ValueError, match="method: expected one of"):
        bench.train_staircase("ksg")


@pytest.mark.parametrize("method", bench.STAIRCASE_METHODS)
def test_every_staircase_method_runs(method):
    options = {k: v for k, v in TINY_STAIRCASE.items() if k not in ("runner", "method")}
    out = bench.train_staircase(method, critic="concat", seed=0, **options)
    assert all(math.isfinite(v) for v in out["history"]["mean"])
    assert [lv["truth"] for lv in out["levels"]] == [1.0, 2.0]


# -- reports ----------------------------------------------------------------------------------


def synthetic_rows() -> list[dict]:
    def est(task, truth, label, method, value, seed, status="ok", **extra):
        row = {
            "cell_id": f"{task}-{label}-{seed}",
            "task": task,
            "truth": truth,
            "estimator": label,
            "runner": "estimate",
            "method": method,
            "options": {"batch_size": 64} if method == "infonce" else {},
            "n": 1000,
            "seed": seed,
            "value": value if status == "ok" else None,
            "status": status,
            "error": None if status == "ok" else "RuntimeError: boom",
            "seconds": 0.5,
        }
        row.update(extra)
        return row

    rows = [
        est("t-a", 2.0, "ksg", "ksg", 1.9, 0),
        est("t-a", 2.0, "ksg", "ksg", 2.1, 1),
        est("t-a", 2.0, "infonce", "infonce", 4.0, 0),
        est("t-b", 8.0, "infonce", "infonce", 4.1, 0),
        est("t-b", 8.0, "ksg", "ksg", 0.0, 0, status="failed"),
        est("t-lg", 4.0, "snis[k=4]", "snis", None, 0, runner="sandwich", lower=1.5, upper=7.25),
    ]
    steps = list(range(10, 110, 10))
    rows.append(
        {
            "cell_id": "stair",
            "task": "staircase-gaussian-20x20-mi-2-4",
            "runner": "staircase",
            "method": "infonce",
            "estimator": "staircase-infonce",
            "options": {"critic": "separable"},
            "seed": 0,
            "status": "ok",
            "truth": 4.0,
            "value": 3.9,
            "history": {
                "step": steps,
                "truth": [2.0] * 5 + [4.0] * 5,
                "mean": [1.0] * 10,
                "std": [0.1] * 10,
            },
            "levels": [
                {"truth": 2.0, "mean": 1.5, "std": 0.2},
                {"truth": 4.0, "mean": 3.0, "std": 0.1},
            ],
            "settings": {"log_batch": math.log(64)},
        }
    )
    return rows


def test_report_table_and_plots_from_a_synthetic_file(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in synthetic_rows()) + '{"cell_id": "tr')
    report = bench.write_report(path, tmp_path / "rep")
    text = report.read_text()
    assert "| `t-a` | 2.000 | 2.000 ± 0.141 (1.00) | 4.000 (2.00) |" in text
    assert "| `t-b` | 8.000 | **failed** (RuntimeError) | 4.100 (0.51) |" in text
    assert "[1.500, 7.250]" in text
    assert "| infonce | separable | 0 | 1.50 ± 0.20 | 3.00 ± 0.10 |" in text
    assert "RuntimeError: boom" in text
    assert "| ksg | 3 | 0.50 | 1.5 |" in text
    for name in ("estimates.png", "staircase.png"):
        assert (tmp_path / "rep" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](estimates.png)" in text and "](staircase.png)" in text


def test_report_marks_diagnostics_and_explosive_values():
    variance = (
        "high variance: its held-out partition term varies by {} nats (sd) across minibatches; "
        "this value is unreliable"
    )
    stalled = "training may not have converged: still improving at step {} (validation 0.1 -> 0.2)"

    def est(task, truth, label, value, diagnostics, status="ok"):
        return {
            "task": task,
            "truth": truth,
            "estimator": label,
            "method": label,
            "n": 1000,
            "seed": 0,
            "value": value,
            "status": status,
            "error": None if status == "ok" else "RuntimeError: boom",
            "diagnostics": diagnostics,
        }

    rows = [
        est("t-x", 1.0, "nwj", -2.5e7, [variance.format("71537306.72")]),
        est("t-x", 1.0, "dv", 0.4, [stalled.format(400), variance.format("0.40")]),
        est("t-x", 1.0, "ksg", 0.9, []),
        est("t-y", 0.01, "ksg", 5.0, [stalled.format(100)]),
        est("t-y", 0.01, "dv", None, ["beyond the sample limit: 9.9 nats"], status="failed"),
    ]
    text = bench.report.estimate_table(rows)
    # Cells: the estimate, its ratio (beyond ±100 as ≪0 / ≫1), ⚠ and the diagnostic numbers.
    assert "| `t-x` | 1.000 | -2.5e+07 (≪0) ⚠1 | 0.400 (0.40) ⚠1,2 | 0.900 (0.90) |" in text
    assert "| `t-y` | 0.010 |  | **failed** (RuntimeError) | 5.000 (≫1) ⚠2 |" in text
    # Each diagnostic once, numbered as in the cells, counted over cells, with readable numbers;
    # a failed run's diagnostics are not counted.
    assert text.count("**high variance**") == 1 and "1. **high variance** (2 cells)" in text
    assert "2. **training may not have converged** (2 cells)" in text
    assert "7.15e+07 nats" in text and "71537306" not in text
    assert "sample limit" not in text
    # A value far below zero is explained, not clipped.
    assert "Far below zero (nwj -2.5e+07 on `t-x`)" in text
    clean = bench.report.estimate_table([est("t-x", 1.0, "ksg", 0.9, [])])
    assert "⚠" not in clean and "Far below zero" not in clean
    # One seed: no "± over seeds" claim; two seeds: the spread and the sentence.
    assert "standard deviation over seeds" not in clean and " ± " not in clean
    second = {**est("t-x", 1.0, "ksg", 0.7, []), "seed": 1}
    two = bench.report.estimate_table([est("t-x", 1.0, "ksg", 0.9, []), second])
    assert "± is the standard deviation over seeds" in two and "0.800 ± 0.141" in two


def test_report_cli(tmp_path, capsys):
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in synthetic_rows()))
    assert main(["report", str(path), "--out", str(tmp_path / "r")]) == 0
    assert f"report: {tmp_path / 'r' / 'report.md'}" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mibound: error: RESULTS: no such file") and err.count("\n") == 1
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["report", str(tmp_path / "empty.jsonl")]) == 2
    assert "holds no result rows" in capsys.readouterr().err


# -- bench CLI --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "nope"], "--suite: expected one of quick, staircase, bmi-like, got 'nope'"),
        (["--config", "missing.toml"], "--config: no such file: missing.toml"),
        (["--suite", "quick", "--executor", "dask"], "--executor: expected one of local, ray"),
        ([], "expected exactly one of --suite NAME or --config FILE"),
        (["--suite", "quick", "--config", "x.toml"], "expected exactly one of"),
        (["--suite", "quick", "--workers", "0"], "--workers: expected a positive integer"),
        (["--suite", "quick", "--address", "auto"], "--address: only with --executor ray"),
    ],
)
def test_bench_cli_bad_inputs_exit_2_with_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mibound: error: ") and message in err and err.count("\n") == 1


def test_bench_cli_end_to_end_with_a_tiny_config(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(
        'name = "tiny"\ntasks = ["gaussian-dense-2x2-rho-0.5", "bsc-eps-0.1"]\n'
        "sizes = [300]\nseeds = [0]\n"
        '[[estimators]]\nmethod = "gaussian"\n'
        '[[estimators]]\nmethod = "ksg"\nbackend = "scipy"\n'
    )
    out = tmp_path / "out"
    result = run_cli("bench", "--config", str(config), "--out", str(out), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "4 cells run (0 failed), 0 already done, 4 in suite 'tiny'" in result.stderr
    assert f"report: {out / 'report.md'}" in result.stdout
    assert "| `bsc-eps-0.1` |" in (out / "report.md").read_text()
    assert main(["bench", "--config", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and err.count("\n") == 1
    assert main(["bench", "--config", str(config), "--out", str(out), "--resume", "-q"]) == 0
    assert "0 cells run (0 failed), 4 already done" in capsys.readouterr().err
    assert main(["bench", "--config", str(config), "--out", str(out), "--resume", "--dry-run"]) == 0
    assert "suite 'tiny': 4 cells, 0 to run" in capsys.readouterr().out
    assert (
        main(["bench", "--config", str(config), "--out", str(tmp_path / "new"), "--dry-run"]) == 0
    )
    assert "4 cells, 4 to run" in capsys.readouterr().out
    assert not (tmp_path / "new").exists()
