"""Reports from a results file: markdown tables and PNG plots.

- :func:`estimate_table`: rows are tasks (and sample sizes), columns estimators, each cell the
  estimate (mean over seeds, ± their standard deviation when there are several) and its ratio
  to the truth; sandwich cells show ``[lower, upper]``; failures are marked; a cell whose
  estimate carries diagnostics gets ``⚠`` and the numbers of its diagnostics, listed once each
  below the table.
- :func:`staircase_table`: the staircase runs, one row per method and critic, one column per
  level (mean ± standard deviation of the per-step values over the level's second half).
- :func:`plot_estimates`: estimate vs true MI, one panel per estimator, with the diagonal and
  InfoNCE's ceiling log B.
- :func:`plot_staircase`: the staircase curves over training steps (Poole et al. Figure 2).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mibound._checks import InvalidValueError, optional_import

__all__ = [
    "estimate_table",
    "failure_list",
    "plot_estimates",
    "plot_staircase",
    "staircase_table",
    "timing_table",
    "write_report",
]

Row = Mapping[str, Any]


def _ordered(values: Iterable[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e4:
        return f"{value:.3g}"
    return f"{value:.{digits}f}"


def _ratio(value: float, truth: float) -> str:
    """The ratio estimate / truth; one far outside [−100, 100] reads ``≪0`` or ``≫1``."""
    ratio = value / truth
    if ratio <= -100:
        return "≪0"
    if ratio >= 100:
        return "≫1"
    return f"{ratio:.2f}"


_NUMBER = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?")
_COUNTED = re.compile(r"\s*\([^()]*\d[^()]*\)")  # a parenthesis holding a number


def _readable(message: str) -> str:
    """The message with huge decimals (|x| ≥ 10⁴) in scientific notation."""
    return _NUMBER.sub(lambda m: _num(float(m.group()), len(m.group().split(".")[1])), message)


def _diagnostic_label(message: str) -> tuple[str, str]:
    """``(key, label)`` of a diagnostic message: the label is its head (before the first ": " or
    "; ") without parenthesised numbers; the key, used to deduplicate, also blanks the numbers
    left in the label (``"reverse HMC acceptance 0.42 ..."``)."""
    head = re.split(r": |; ", message, maxsplit=1)[0]
    label = _COUNTED.sub("", head).strip() or head.strip()
    return re.sub(r"\d+(?:\.\d+)?", "#", label), label


class _Diagnostics:
    """Numbers the distinct diagnostics of a table's cells in order of appearance."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def mark(self, group: Sequence[Row], where: str) -> str:
        """The marker of a cell (``" ⚠1,3"``, or ``""`` without diagnostics)."""
        numbers: list[int] = []
        for r in group:
            if r.get("status") != "ok":
                continue
            for message in r.get("diagnostics") or []:
                key, label = _diagnostic_label(str(message))
                entry = self.entries.get(key)
                if entry is None:
                    entry = {"label": label, "example": (where, str(message)), "cells": set()}
                    entry["number"] = len(self.entries) + 1
                    self.entries[key] = entry
                entry["cells"].add(where)
                if entry["number"] not in numbers:
                    numbers.append(entry["number"])
        if not numbers:
            return ""
        return " ⚠" + ",".join(str(i) for i in sorted(numbers))

    def notes(self) -> str:
        if not self.entries:
            return ""
        lines = [
            "\n⚠ Diagnostics attached by the estimators (the numbers after ⚠ in a cell); each is "
            "listed once, with the message of its first cell:\n"
        ]
        for entry in self.entries.values():
            where, message = entry["example"]
            if message.startswith(entry["label"] + ": "):  # the label is printed already
                message = message[len(entry["label"]) + 2 :]
            cells = len(entry["cells"])
            lines.append(
                f"{entry['number']}. **{entry['label']}** ({cells} cell{'s' if cells > 1 else ''})"
                f" — e.g. {where}: {_readable(message)}"
            )
        return "\n".join(lines) + "\n"


def _log_batch(row: Row) -> float | None:
    """log B of an InfoNCE-type row, from its options or the settings its estimator recorded."""
    for source in (row.get("settings") or {}, row.get("options") or {}):
        b = source.get("batch_size")
        if isinstance(b, (int, float)) and b >= 2:
            return math.log(b)
    return None


def _estimate_rows(rows: Iterable[Row]) -> list[Row]:
    return [r for r in rows if r.get("runner", "estimate") != "staircase"]


def _cell_text(group: Sequence[Row], truth: float | None) -> str:
    ok = [r for r in group if r.get("status") == "ok"]
    failed = len(group) - len(ok)
    if not ok:
        reason = group[-1].get("error") or "unknown error"
        short = reason.split(":")[0]
        return f"**failed** ({short})"
    if ok[0].get("runner") == "sandwich":
        lows = [r["lower"] for r in ok if r.get("lower") is not None]
        ups = [r["upper"] for r in ok if r.get("upper") is not None]
        low = statistics.fmean(lows) if lows else None
        up = statistics.fmean(ups) if ups else None
        text = f"[{_num(low)}, {_num(up)}]"
    else:
        values = [r["value"] for r in ok if r.get("value") is not None]
        if not values:
            return "**n/a**"
        mean = statistics.fmean(values)
        text = _num(mean)
        if len(values) > 1:
            text += f" ± {_num(statistics.stdev(values))}"
        if truth is not None and truth > 0:
            text += f" ({_ratio(mean, truth)})"
    if failed:
        text += f" ⚠ {failed}/{len(group)} failed"
    return text


def estimate_table(rows: Iterable[Row]) -> str:
    """A markdown table: tasks (× n) by estimators; ``estimate (ratio to truth)``.

    With several seeds the cell is the mean ± the standard deviation over seeds. Sandwich cells
    show ``[lower, upper]``. A cell whose runs all failed shows **failed** and the error type;
    partial failures are counted. A ratio beyond ±100 reads ``≪0`` or ``≫1``. A cell whose
    estimate carries diagnostics ends with ``⚠`` and their numbers; the numbered diagnostics
    follow the table, each once, with one cell's full message. A value far below zero gets a
    one-line explanation (partition-function bounds blowing up) rather than being clipped.
    """
    rows = _estimate_rows(rows)
    if not rows:
        return "_No estimate cells in this results file._\n"
    estimators = _ordered(r["estimator"] for r in rows)
    sizes = _ordered(r.get("n") for r in rows)
    keys = _ordered((r.get("task"), r.get("n")) for r in rows)
    groups: dict[tuple[Any, Any, str], list[Row]] = {}
    truths: dict[Any, float | None] = {}
    for r in rows:
        groups.setdefault((r.get("task"), r.get("n"), r["estimator"]), []).append(r)
        if r.get("truth") is not None:
            truths[r.get("task")] = r["truth"]
    show_n = len(sizes) > 1
    head = ["task", *(["n"] if show_n else []), "truth", *estimators]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    diagnostics = _Diagnostics()
    blown: list[str] = []
    for task, n in keys:
        truth = truths.get(task)
        cells = [f"`{task}`", *([str(n)] if show_n else []), _num(truth)]
        for est in estimators:
            group = groups.get((task, n, est))
            if not group:
                cells.append("")
                continue
            where = f"`{task}`{f' (n = {n})' if show_n else ''} × `{est}`"
            cells.append(_cell_text(group, truth) + diagnostics.mark(group, where))
            values = [
                r["value"] for r in group if r.get("status") == "ok" and r.get("value") is not None
            ]
            if values and statistics.fmean(values) < -max(1.0, truth or 0.0):
                blown.append(f"{est} {_num(statistics.fmean(values))} on `{task}`")
        lines.append("| " + " | ".join(cells) + " |")
    n_text = f"n = {sizes[0]}" if len(sizes) == 1 and sizes[0] is not None else "n as listed"
    seeds = _ordered(r.get("seed") for r in rows)
    note = (
        f"\nValues in nats ({n_text}, {len(seeds)} seed{'s' if len(seeds) > 1 else ''}); "
        "in parentheses the ratio to the truth; "
        + ("± is the standard deviation over seeds; " if len(seeds) > 1 else "")
        + "[lower, upper] are known-density bounds.\n"
    )
    if blown:
        note += (
            f"\nFar below zero ({'; '.join(blown)}): not clipped. NWJ, DV/MINE and TUBA average "
            "e^f over held-out negative pairs, and on heavy-tailed data e^f of an unseen pair is "
            "unbounded, so one pair can drag the value down by orders of magnitude: the "
            "exp(MI)/variance failure of partition-function bounds, reported as measured.\n"
        )
    return "\n".join(lines) + "\n" + note + diagnostics.notes()


def staircase_table(rows: Iterable[Row]) -> str:
    """A markdown table of staircase runs: method (critic) by level, mean ± std per level."""
    rows = [r for r in rows if r.get("runner") == "staircase"]
    if not rows:
        return "_No staircase cells in this results file._\n"
    levels = _ordered(
        lv["truth"] for r in rows if r.get("status") == "ok" for lv in r.get("levels") or []
    )
    head = ["method", "critic", "seed", *[f"MI = {lv:g}" for lv in levels]]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for r in rows:
        critic = (r.get("options") or {}).get("critic", "separable")
        cells = [r["method"], critic, str(r.get("seed"))]
        if r.get("status") != "ok":
            cells += [f"**failed** ({(r.get('error') or '').split(':')[0]})"] + [""] * (
                len(levels) - 1
            )
        else:
            by_truth = {lv["truth"]: lv for lv in r["levels"]}
            for lv in levels:
                got = by_truth.get(lv)
                cells.append(f"{_num(got['mean'], 2)} ± {_num(got['std'], 2)}" if got else "")
        lines.append("| " + " | ".join(cells) + " |")
    return (
        "\n".join(lines)
        + "\n\nPer level: mean ± standard deviation of the per-step values over the level's "
        "second half (nats).\n"
    )


def timing_table(rows: Iterable[Row]) -> str:
    """A markdown table of the wall time per cell (median and total seconds) per estimator."""
    times: dict[str, list[float]] = {}
    for r in rows:
        if isinstance(r.get("seconds"), (int, float)):
            times.setdefault(r["estimator"], []).append(float(r["seconds"]))
    if not times:
        return ""
    lines = ["| estimator | cells | median s | total s |", "|---|---|---|---|"]
    for est, ts in times.items():
        lines.append(f"| {est} | {len(ts)} | {statistics.median(ts):.2f} | {sum(ts):.1f} |")
    return "\n".join(lines) + "\n"


def failure_list(rows: Iterable[Row]) -> str:
    """A markdown list of failed cells with their error messages (empty string if none)."""
    failed = [r for r in rows if r.get("status") != "ok"]
    if not failed:
        return ""
    out = [
        f"- `{r.get('task')}` × `{r['estimator']}` (seed {r.get('seed')}): {r.get('error')}"
        for r in failed
    ]
    return "\n".join(out) + "\n"


def _figure(width: float, height: float) -> Any:
    backend = optional_import("matplotlib.backends.backend_agg", "plot", "figures")
    figure = optional_import("matplotlib.figure", "plot", "figures")
    fig = figure.Figure(figsize=(width, height), dpi=110)
    backend.FigureCanvasAgg(fig)
    return fig


def plot_estimates(rows: Iterable[Row], path: str | Path) -> Path | None:
    """Estimate vs true MI, one panel per estimator; returns the PNG path (None if no data).

    Each point is a task (mean ± standard deviation over seeds); the dashed diagonal is the
    truth; InfoNCE panels draw the ceiling log B. Sandwich panels draw lower (▲) and upper (▼).
    """
    rows = [
        r for r in _estimate_rows(rows) if r.get("status") == "ok" and r.get("truth") is not None
    ]
    if not rows:
        return None
    estimators = _ordered(r["estimator"] for r in rows)
    cols = min(4, len(estimators))
    nrows = math.ceil(len(estimators) / cols)
    fig = _figure(3.3 * cols, 3.0 * nrows)
    top = max(r["truth"] for r in rows)
    floor = -0.5 * top - 1.0  # values below are drawn at this edge with their number
    for i, est in enumerate(estimators):
        ax = fig.add_subplot(nrows, cols, i + 1)
        mine = [r for r in rows if r["estimator"] == est]
        groups: dict[tuple[Any, Any], list[Row]] = {}
        for r in mine:
            groups.setdefault((r["task"], r.get("n")), []).append(r)
        hi = top
        for group in groups.values():
            truth = group[0]["truth"]
            if group[0].get("runner") == "sandwich":
                lows = [g["lower"] for g in group if g.get("lower") is not None]
                ups = [g["upper"] for g in group if g.get("upper") is not None]
                if lows:
                    ax.plot([truth], [statistics.fmean(lows)], "^", color="C2", ms=5)
                if ups:
                    ax.plot([truth], [statistics.fmean(ups)], "v", color="C3", ms=5)
                    hi = max(hi, statistics.fmean(ups))
                continue
            values = [g["value"] for g in group if g.get("value") is not None]
            if not values:
                continue
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            mean = statistics.fmean(values)
            if mean < floor:  # far below the truth (e.g. an NWJ blow-up): marked at the edge
                ax.plot([truth], [floor], "v", color="C0", ms=6)
                ax.annotate(
                    f"{mean:.3g}",
                    (truth, floor),
                    fontsize=6,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
                continue
            ax.errorbar([truth], [mean], yerr=[sd], fmt="o", color="C0", ms=4)
            hi = max(hi, mean)
        ax.plot([0, top * 1.05], [0, top * 1.05], "--", color="0.5", lw=1, label="truth")
        method = mine[0].get("method")
        if method == "infonce":
            log_b = _log_batch(mine[0])
            if log_b is not None:
                ax.axhline(log_b, color="C1", lw=1, label=f"log B = {log_b:.2f}")
                ax.legend(fontsize=7, loc="upper left")
        ax.set_title(est, fontsize=8)
        ax.set_xlabel("true MI (nats)", fontsize=8)
        ax.set_ylabel("estimate (nats)", fontsize=8)
        ax.set_ylim(max(floor, min(-0.2, ax.get_ylim()[0])), min(max(hi, top), 3 * top) * 1.1 + 0.1)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def plot_staircase(rows: Iterable[Row], path: str | Path) -> Path | None:
    """The staircase curves over training steps: window means with a ±1 sd band, the true MI
    as a step line and, for InfoNCE, log B. One panel per method, one row per critic."""
    rows = [r for r in rows if r.get("runner") == "staircase" and r.get("status") == "ok"]
    if not rows:
        return None
    methods = _ordered(r["method"] for r in rows)
    critics = _ordered((r.get("options") or {}).get("critic", "separable") for r in rows)
    fig = _figure(2.7 * len(methods), 2.5 * len(critics) + 0.3)
    for ci, critic in enumerate(critics):
        for mi, method in enumerate(methods):
            ax = fig.add_subplot(len(critics), len(methods), ci * len(methods) + mi + 1)
            mine = [
                r
                for r in rows
                if r["method"] == method
                and (r.get("options") or {}).get("critic", "separable") == critic
            ]
            top = 1.0
            for k, r in enumerate(mine):
                h = r["history"]
                steps, mean, sd = h["step"], h["mean"], h["std"]
                ax.plot(steps, mean, color=f"C{k}", lw=0.9)
                ax.fill_between(
                    steps,
                    [m - s for m, s in zip(mean, sd, strict=True)],
                    [m + s for m, s in zip(mean, sd, strict=True)],
                    color=f"C{k}",
                    alpha=0.25,
                    lw=0,
                )
                ax.step(steps, h["truth"], where="pre", color="k", lw=1)
                top = max(top, max(h["truth"]))
                log_b = r.get("settings", {}).get("log_batch")
                if method == "infonce" and log_b:
                    ax.axhline(log_b, color="C1", ls="--", lw=1)
                    ax.text(steps[0], log_b + 0.2, f"log B = {log_b:.2f}", fontsize=7, color="C1")
            ax.set_ylim(-1, top + 3)
            shown = "js (NWJ on a JS-trained critic)" if method == "js" else method
            ax.set_title(f"{shown}, {critic} critic", fontsize=8)
            ax.tick_params(labelsize=7)
            if mi == 0:
                ax.set_ylabel("MI (nats)", fontsize=8)
            if ci == len(critics) - 1:
                ax.set_xlabel("training step", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def write_report(
    results: str | Path | Sequence[Row], out: str | Path, *, title: str = "mibound benchmark"
) -> Path:
    """Writes ``out/report.md``, ``out/estimates.png`` and ``out/staircase.png`` (when there is
    data for them) from a results file or a list of rows; returns the report's path.

    Raises:
        FileNotFoundError: The results file does not exist.
        ValueError: The file holds no rows.
    """
    from mibound.bench.runner import latest_rows, read_results

    optional_import("matplotlib", "plot", "reports")  # fail before any work, naming the extra
    source = None
    if isinstance(results, (str, Path)):
        source = Path(results)
        rows = read_results(source)
        if not rows:
            raise InvalidValueError(f"RESULTS: {source} holds no result rows")
    else:
        rows = [dict(row) for row in results]
    rows = latest_rows(rows)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = [f"# {title}\n"]
    ok = sum(r.get("status") == "ok" for r in rows)
    meta = f"{len(rows)} cells, {ok} ok, {len(rows) - ok} failed"
    if source is not None:
        meta += f"; from `{source}`"
    versions = rows[-1].get("versions") or {}
    if versions:
        meta += "; " + ", ".join(f"{k} {v}" for k, v in versions.items())
    parts.append(meta + ".\n")
    if _estimate_rows(rows):
        parts += ["## Estimates vs truth\n", estimate_table(rows)]
        png = plot_estimates(rows, out / "estimates.png")
        if png is not None:
            parts.append(f"![estimate vs true MI]({png.name})\n")
    if any(r.get("runner") == "staircase" for r in rows):
        parts += ["## Staircase\n", staircase_table(rows)]
        png = plot_staircase(rows, out / "staircase.png")
        if png is not None:
            parts.append(f"![staircase]({png.name})\n")
    timing = timing_table(rows)
    if timing:
        parts += ["## Time per cell\n", timing]
    failures = failure_list(rows)
    if failures:
        parts += ["## Failures\n", failures]
    report = out / "report.md"
    report.write_text("\n".join(parts), encoding="utf-8")
    return report
