"""The 40 tasks of the bmi benchmark (Czyż et al. 2023), sampled by ``benchmark-mi`` 0.1.3.

Three stages, so that mibound never depends on JAX:

1. ``sample`` runs in an environment with ``benchmark-mi==0.1.3`` and ``jax``/``jaxlib``
   0.4.33 (not mibound's: ``python -m venv bmi-env && bmi-env/bin/pip install
   benchmark-mi==0.1.3 jax==0.4.33 jaxlib==0.4.33``). It writes one ``.npz`` per task, size
   and seed, plus ``tasks.json`` with each task's true MI, using the package's own samplers.
2. ``run`` runs in mibound's environment. It estimates every (task, n, seed, method) cell and
   appends one JSON line per finished cell to ``results.jsonl`` (flushed and fsync-ed), so a
   killed run loses only the cell in flight and ``run`` again resumes where it stopped.
3. ``report`` writes the markdown table (per task, mean absolute error, median seconds, next to
   the published numbers) and a figure (estimate against truth per task).

Example::

    bmi-env/bin/python benchmarks/bmi_suite.py sample --out bmi-samples
    python benchmarks/bmi_suite.py run --samples bmi-samples --out bmi-results --n 5000
    python benchmarks/bmi_suite.py report --out bmi-results --doc docs/accuracy.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _machine import footer, machine_line, peak_rss_mb

#: Mean absolute error (nats) on the same 40 tasks at N = 5000, five seeds, neural baselines
#: tuned per task, as published in Franzese et al. 2026, "In-context, zero-shot, mutual
#: information estimation".
PUBLISHED = {
    "Alice-Base (in-context, pretrained)": 0.063,
    "MINDE-C (diffusion)": 0.070,
    "MINE": 0.117,
    "InfoNCE": 0.123,
    "CCA": 0.192,
    "KSG": 0.240,
    "DV": 0.279,
}

DEFAULT_METHODS = ("auto", "gaussian", "ksg")


def sample(out: Path, sizes: list[int], seeds: list[int]) -> None:
    """Writes ``{task}__n{n}__s{seed}.npz`` and ``tasks.json`` with benchmark-mi's samplers."""
    import bmi  # benchmark-mi 0.1.3
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    meta = []
    for task in bmi.benchmark.BENCHMARK_TASKS.values():
        for n in sizes:
            for seed in seeds:
                path = out / f"{task.id}__n{n}__s{seed}.npz"
                if path.exists():
                    continue
                x, y = task.sample(n, seed=seed)
                np.savez(path, x=np.asarray(x, np.float64), y=np.asarray(y, np.float64))
        meta.append(
            {
                "id": task.id,
                "name": task.name,
                "dim_x": task.dim_x,
                "dim_y": task.dim_y,
                "mutual_information": float(task.mutual_information),
            }
        )
    (out / "tasks.json").write_text(json.dumps(meta, indent=1))
    print(f"{len(meta)} tasks, sizes {sizes}, seeds {seeds} -> {out}")


def _cell_id(task: str, n: int, seed: int, method: str) -> str:
    return f"{task}|n={n}|seed={seed}|{method}"


def _done(path: Path) -> set[str]:
    """Cell ids already in the results file (a cut-off last line is dropped)."""
    if not path.exists():
        return set()
    done = set()
    lines = path.read_text().splitlines()
    good = []
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        good.append(line)
        done.add(row["cell"])
    if len(good) != len(lines):
        path.write_text("".join(g + "\n" for g in good))
    return done


def run(
    samples: Path,
    out: Path,
    sizes: list[int],
    seeds: list[int],
    methods: list[str],
    shard: tuple[int, int] = (0, 1),
) -> None:
    """Estimates every cell not yet in the results; one fsync-ed JSON line per finished cell.

    ``shard = (i, k)`` runs every k-th task starting at the i-th, into its own file
    ``results-i-of-k.jsonl``, so k processes can share the work (and resume independently).
    """
    import numpy as np

    import mibound

    meta = json.loads((samples / "tasks.json").read_text())[shard[0] :: shard[1]]
    out.mkdir(parents=True, exist_ok=True)
    results = out / (
        "results.jsonl" if shard[1] == 1 else f"results-{shard[0]}-of-{shard[1]}.jsonl"
    )
    done = _done(results)
    print(machine_line())
    with results.open("a") as fh:
        for n in sizes:
            for seed in seeds:
                for task in meta:
                    data = np.load(samples / f"{task['id']}__n{n}__s{seed}.npz")
                    for method in methods:
                        cell = _cell_id(task["id"], n, seed, method)
                        if cell in done:
                            continue
                        start, cpu = time.perf_counter(), time.process_time()
                        row: dict[str, Any] = {
                            "cell": cell,
                            "task": task["id"],
                            "n": n,
                            "seed": seed,
                            "method": method,
                            "truth": task["mutual_information"],
                            "load": os.getloadavg()[0],
                        }
                        try:
                            est = mibound.estimate(data["x"], data["y"], method=method, seed=seed)
                            row.update(
                                value=est.value,
                                stderr=est.stderr,
                                kind=est.kind,
                                diagnostics=est.diagnostics,
                                path=est.settings.get("path"),
                            )
                        except Exception as err:  # recorded, the run goes on
                            row["error"] = f"{type(err).__name__}: {err}"
                        row["seconds"] = time.perf_counter() - start
                        row["cpu_seconds"] = time.process_time() - cpu
                        row["peak_rss_mib"] = round(peak_rss_mb())
                        fh.write(json.dumps(row) + "\n")
                        fh.flush()
                        os.fsync(fh.fileno())
                        err_text = (
                            f"{row['value'] - row['truth']:+.3f}" if "value" in row else "ERR"
                        )
                        print(f"{cell:70s} {err_text} {row['seconds']:.1f}s", flush=True)
    print(footer())


def _rows(out: Path) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(out.glob("**/results*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows.setdefault(row["cell"], row)  # a cell run twice (resumed shards): the first
    return list(rows.values())


def report(out: Path, doc: Path | None, figure: Path | None) -> str:
    """The markdown table of per-task values and the summary against the published numbers."""
    rows = [r for r in _rows(out) if "value" in r]
    methods = sorted({r["method"] for r in rows}, key=lambda m: (m != "auto", m))
    sizes = sorted({r["n"] for r in rows})
    lines = [
        "| method | n | seed | mean abs. error | tasks within 0.1 | off by > 0.3 | max abs. error "
        "| median s/task (wall) | median CPU s/task | flagged (diagnostic) among errors > 0.1 "
        "| 95% CI covers truth |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method in methods:
        for n in sizes:
            for seed in sorted({r["seed"] for r in rows}):
                sel = [r for r in rows if (r["method"], r["n"], r["seed"]) == (method, n, seed)]
                if not sel:
                    continue
                errors = [abs(r["value"] - r["truth"]) for r in sel]
                seconds = statistics.median(r["seconds"] for r in sel)
                cpu = [r["cpu_seconds"] for r in sel if r.get("cpu_seconds") is not None]
                cpu_median = f"{statistics.median(cpu):.1f}" if len(cpu) == len(sel) else "—"
                covered = sum(
                    abs(r["value"] - r["truth"]) <= 1.959964 * r["stderr"]
                    for r in sel
                    if r["stderr"] is not None and math.isfinite(r["stderr"])
                )
                bad = [r for r in sel if abs(r["value"] - r["truth"]) > 0.1]
                flagged = sum(1 for r in bad if r.get("diagnostics"))
                lines.append(
                    f"| {method} | {n} | {seed} | {statistics.mean(errors):.3f} "
                    f"({len(sel)} tasks) | {sum(e <= 0.1 for e in errors)} | "
                    f"{sum(e > 0.3 for e in errors)} | {max(errors):.3f} | {seconds:.1f} | "
                    f"{cpu_median} | {flagged} of {len(bad)} | {covered} of {len(sel)} |"
                )
    lines += [
        "",
        "Published on the same 40 tasks at N = 5000 (mean absolute error, nats): "
        + ", ".join(f"{k} {v:.3f}" for k, v in PUBLISHED.items())
        + ".",
    ]
    tasks = sorted({r["task"] for r in rows}, key=lambda t: [r["task"] for r in rows].index(t))
    for n in sizes:
        lines += [
            "",
            f"Per task, n = {n} (value − truth, nats; seeds side by side; † = a diagnostic fired):",
            "",
            "| task | truth | " + " | ".join(methods) + " |",
            "|---|---|" + "---|" * len(methods),
        ]
        for task in tasks:
            cells = []
            truth = math.nan
            for method in methods:
                sel = sorted(
                    (r for r in rows if (r["task"], r["n"], r["method"]) == (task, n, method)),
                    key=lambda r: r["seed"],
                )
                truth = sel[0]["truth"] if sel else truth
                cells.append(
                    " / ".join(
                        f"{r['value'] - r['truth']:+.3f}" + ("†" if r.get("diagnostics") else "")
                        for r in sel
                    )
                )
            lines.append(f"| {task} | {truth:.3f} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    if doc is not None:
        doc.write_text(text)
    if figure is not None:
        _figure(rows, figure)
    return text


def _figure(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = 5000 if any(r["n"] == 5000 for r in rows) else max(r["n"] for r in rows)
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = sorted({r["method"] for r in rows}, key=lambda m: (m != "auto", m))
    fig, ax = plt.subplots(figsize=(12, 5))
    for k, method in enumerate(methods):
        sel = [r for r in rows if r["n"] == n and r["method"] == method]
        xs = [tasks.index(r["task"]) + 0.15 * (k - 1) for r in sel]
        ax.scatter(xs, [r["value"] for r in sel], s=12, label=method)
    truth = {r["task"]: r["truth"] for r in rows}
    ax.scatter(
        range(len(tasks)), [truth[t] for t in tasks], marker="_", s=200, c="k", label="truth"
    )
    ax.set_xticks(range(len(tasks)), tasks, rotation=90, fontsize=6)
    ax.set_ylabel("MI (nats)")
    ax.set_title(f"bmi benchmark, n = {n}: estimate against truth")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="stage", required=True)
    s = sub.add_parser("sample", help="sample the tasks (needs benchmark-mi 0.1.3 and jax)")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 10000])
    s.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    r = sub.add_parser("run", help="estimate every cell (resumable)")
    r.add_argument("--samples", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--n", type=int, nargs="+", default=[5000])
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    r.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS))
    r.add_argument("--shard", default="0/1", help="i/k: every k-th task from the i-th")
    p = sub.add_parser("report", help="markdown table and figure")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--doc", type=Path)
    p.add_argument("--figure", type=Path)
    args = parser.parse_args(argv)
    if args.stage == "sample":
        sample(args.out, args.n, args.seeds)
    elif args.stage == "run":
        i, k = (int(part) for part in args.shard.split("/"))
        run(args.samples, args.out, args.n, args.seeds, args.methods, (i, k))
    else:
        print(report(args.out, args.doc, args.figure))
    return 0


if __name__ == "__main__":
    sys.exit(main())
