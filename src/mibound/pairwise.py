"""MI between every pair of columns of a table: a labelled matrix with standard errors.

Pairs run in parallel (local processes or Ray, as ``mibound bench``) and each finished pair is
appended, flushed and fsync'd to an optional JSON-lines file, so a killed run resumes where it
stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from mibound._checks import InputError, InvalidValueError, error_name
from mibound._discrete_columns import resolve_columns
from mibound._jsonl import append_row, read_rows
from mibound._random import stream_seed
from mibound.results import _plain

__all__ = ["PairwiseResult", "pairwise"]


@dataclass
class PairwiseResult:
    """MI between every pair of columns, in nats.

    Attributes:
        names: The column labels, in order.
        values: Symmetric array ``(d, d)``; ``values[i, j]`` estimates I(column i; column j).
            The diagonal is NaN: it is not estimated (I(X;X) = H(X), infinite for a
            continuous X).
        stderr: Standard errors, same layout.
        kinds: Per pair, the result's kind (``"estimate"``, ``"lower bound"``).
        methods: Per pair, the method that produced it (e.g. ``"ksg"``, ``"mixed-ross"``).
        n: The number of rows.
        diagnostics: ``{"a|b": [...]}`` for pairs with diagnostics, plus ``"*"`` for the table.
        settings: Method, options, seed, which columns were discrete, the results file.
    """

    names: list[str]
    values: np.ndarray
    stderr: np.ndarray
    kinds: dict[str, str]
    methods: dict[str, str]
    n: int
    diagnostics: dict[str, list[str]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_frame(self, what: str = "value") -> Any:
        """The matrix of ``"value"`` or ``"stderr"`` as a labelled pandas DataFrame."""
        import pandas as pd

        if what not in ("value", "stderr"):
            raise InvalidValueError(f"what: expected 'value' or 'stderr', got {what!r}")
        array = self.values if what == "value" else self.stderr
        return pd.DataFrame(array, index=self.names, columns=self.names)

    def to_csv(self, path: str | os.PathLike[str], what: str = "value") -> Path:
        """Writes the ``"value"`` or ``"stderr"`` matrix with a header row and a name column."""
        if what not in ("value", "stderr"):
            raise InvalidValueError(f"what: expected 'value' or 'stderr', got {what!r}")
        array = self.values if what == "value" else self.stderr
        path = Path(path)
        lines = [",".join(["", *(_csv_field(n) for n in self.names)])]
        for name, row in zip(self.names, array, strict=True):
            cells = ["" if math.isnan(v) else repr(float(v)) for v in row]
            lines.append(",".join([_csv_field(name), *cells]))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN on the diagonal becomes None)."""
        return _plain(
            {
                "names": self.names,
                "values": [[None if math.isnan(v) else v for v in row] for row in self.values],
                "stderr": [[None if math.isnan(v) else v for v in row] for row in self.stderr],
                "kinds": self.kinds,
                "methods": self.methods,
                "n": self.n,
                "diagnostics": self.diagnostics,
                "settings": self.settings,
            }
        )

    def plot(self, path: str | os.PathLike[str] | None = None, *, title: str | None = None) -> Any:
        """A heat map of the matrix (``pip install 'mibound[plot]'``); saved to ``path`` if given.

        Returns:
            The matplotlib Figure.
        """
        from mibound._checks import optional_import

        backend = optional_import("matplotlib.backends.backend_agg", "plot", "plot")
        figure = optional_import("matplotlib.figure", "plot", "plot")
        d = len(self.names)
        size = max(4.0, 0.45 * d + 2.0)
        fig = figure.Figure(figsize=(size + 1.0, size))
        backend.FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        masked = np.ma.masked_invalid(self.values)
        image = ax.imshow(masked, cmap="viridis", vmin=0.0)
        fig.colorbar(image, ax=ax, label="MI (nats)")
        ax.set_xticks(range(d), self.names, rotation=90)
        ax.set_yticks(range(d), self.names)
        if d <= 12:
            top = float(np.nanmax(self.values)) if np.isfinite(self.values).any() else 0.0
            for i in range(d):
                for j in range(d):
                    value = self.values[i, j]
                    if i != j and math.isfinite(value):
                        colour = "k" if value > 0.6 * top else "w"
                        ax.text(
                            j, i, f"{value:.2f}", ha="center", va="center", color=colour, fontsize=8
                        )
        method = self.settings.get("method", "")
        ax.set_title(title or f"pairwise MI ({method}, n = {self.n}); diagonal not estimated")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _pair_key(a: str, b: str) -> str:
    return f"{a}|{b}"


def _run_pair(item: dict[str, Any]) -> dict[str, Any]:
    """One cell: the estimate for one pair (runs in a worker process)."""
    from mibound.estimation import estimate

    try:
        est = estimate(
            item["x"],
            item["y"],
            item["method"],
            seed=item["seed"],
            discrete_x=item["discrete_x"],
            discrete_y=item["discrete_y"],
            **item["options"],
        )
    except InputError as err:
        return {"a": item["a"], "b": item["b"], "error": f"{error_name(err)}: {err}"}
    return {
        "a": item["a"],
        "b": item["b"],
        "value": est.value,
        "stderr": est.stderr if math.isfinite(est.stderr) else None,
        "kind": est.kind,
        "method": est.method,
        "diagnostics": list(est.diagnostics),
    }


def _fingerprint(values: np.ndarray, config: dict[str, Any]) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(values).tobytes())
    digest.update(json.dumps(_plain(config), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _read_done(path: Path, fingerprint: str) -> dict[str, dict[str, Any]]:
    """Rows of a results file for this configuration; cuts a partly written last line."""
    if not path.exists():
        return {}
    done: dict[str, dict[str, Any]] = {}
    for row in read_rows(path, repair=True):
        if "a" not in row:
            continue
        if row.get("fingerprint") != fingerprint:
            raise InvalidValueError(
                f"results: {path} holds pairs of other data or settings (fingerprint "
                f"{row.get('fingerprint')!r}, this run {fingerprint!r}); use another file"
            )
        done[_pair_key(row["a"], row["b"])] = row
    return done


def _column_names(data: Any, names: list[str] | None) -> list[str]:
    """The column labels: ``names``, else a DataFrame's columns, else "0", "1", ...; distinct."""
    frame_names = None
    if type(data).__module__.startswith("pandas") and getattr(data, "ndim", 0) == 2:
        frame_names = [str(c) for c in data.columns]
    probe_width = len(frame_names) if frame_names is not None else np.shape(data)[-1]
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != probe_width:
            raise InvalidValueError(f"names: expected {probe_width} names, got {len(names)}")
    else:
        names = frame_names or [str(i) for i in range(probe_width)]
    if len(set(names)) != len(names):
        raise InvalidValueError(f"names: expected distinct column names, got {names}")
    return names


def _discrete_indices(discrete: Any, names: list[str]) -> Any:
    """``discrete`` with column names replaced by their indices."""
    if isinstance(discrete, (list, tuple)) and any(isinstance(v, str) for v in discrete):
        unknown = [v for v in discrete if v not in names]
        if unknown:
            raise InvalidValueError(f"discrete: no column(s) {', '.join(map(str, unknown))}")
        return [names.index(v) for v in discrete]
    return discrete


def _pending_pairs(
    cols: Any,
    names: list[str],
    done: dict[str, dict[str, Any]],
    method: str,
    seed: int,
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    """One work item per pair (i < j) not yet in ``done``, with its own seed stream."""
    items = []
    for i, j in combinations(range(len(names)), 2):
        a, b = names[i], names[j]
        if _pair_key(a, b) in done:
            continue
        items.append(
            {
                "a": a,
                "b": b,
                "x": cols.values[:, i],
                "y": cols.values[:, j],
                "discrete_x": bool(cols.discrete[i]),
                "discrete_y": bool(cols.discrete[j]),
                "method": method,
                "seed": stream_seed(seed, f"pairwise:{a}:{b}"),
                "options": options,
            }
        )
    return items


def _run_pairs(
    items: list[dict[str, Any]],
    pool_spec: tuple[str, int, str | None],
    path: Path | None,
    fingerprint: str,
    done: dict[str, dict[str, Any]],
    progress: bool,
    total: int,
) -> list[str]:
    """Runs the items on the executor ``(name, n_jobs, address)``; each finished pair goes into
    ``done`` and, fsync'd, into the results file. Returns the failures."""
    from mibound.bench.executors import make_executor

    failures: list[str] = []
    pool = make_executor(*pool_spec)
    handle = open(path, "ab") if path is not None else None  # noqa: SIM115
    try:
        for row in pool.imap_unordered(_run_pair, items):
            if "error" in row:
                failures.append(f"{row['a']} vs {row['b']}: {row['error']}")
                continue
            row["fingerprint"] = fingerprint
            done[_pair_key(row["a"], row["b"])] = row
            if handle is not None:
                append_row(handle, _plain(row))
            if progress:
                import sys

                print(
                    f"{row['a']} vs {row['b']}: {row['value']:.4f} nats ({len(done)}/{total})",
                    file=sys.stderr,
                )
    finally:
        pool.close()
        if handle is not None:
            handle.close()
    return failures


def _assemble(
    done: dict[str, dict[str, Any]], names: list[str], notes: list[str]
) -> tuple[np.ndarray, np.ndarray, dict[str, str], dict[str, str], dict[str, list[str]]]:
    """The symmetric value and standard-error matrices (NaN diagonal), per-pair kinds, methods
    and diagnostics (``"*"``: the table's)."""
    d = len(names)
    values = np.full((d, d), np.nan)
    stderr = np.full((d, d), np.nan)
    kinds: dict[str, str] = {}
    methods: dict[str, str] = {}
    diagnostics: dict[str, list[str]] = {}
    if notes:
        diagnostics["*"] = notes
    missing_se = []
    for i, j in combinations(range(d), 2):
        key = _pair_key(names[i], names[j])
        row = done[key]
        values[i, j] = values[j, i] = row["value"]
        se = row["stderr"]
        stderr[i, j] = stderr[j, i] = math.nan if se is None else se
        if math.isnan(stderr[i, j]):
            missing_se.append(key)
        kinds[key] = row["kind"]
        methods[key] = row["method"]
        if row["diagnostics"]:
            diagnostics[key] = row["diagnostics"]
    if missing_se:
        diagnostics.setdefault("*", []).append(
            f"no standard error for {len(missing_se)} pair(s) (e.g. {missing_se[0]}): see "
            "their diagnostics"
        )
    return values, stderr, kinds, methods, diagnostics


def pairwise(
    data: Any,
    method: str = "ksg",
    *,
    names: list[str] | None = None,
    discrete: Any = None,
    seed: int = 0,
    n_jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    results: str | os.PathLike[str] | None = None,
    progress: bool = False,
    **options: Any,
) -> PairwiseResult:
    r"""Estimates :math:`I(C_i; C_j)` for every pair of columns of ``data``.

    Each pair is one call of :func:`mibound.estimate` with ``method`` and ``options``, so each
    entry has the same meaning, kind and standard error as there: with ``"ksg"`` discrete
    pairs get the plug-in (Miller–Madow), discrete–continuous pairs the mixed k-NN estimate.
    Which columns are discrete is decided once for the whole table (``discrete``: None guesses
    integer columns with few values and reports it; column indices/names, a bool or a mask
    override) and passed explicitly to every pair. Pair (i, j) uses the seed
    ``stream_seed(seed, "pairwise:<name i>:<name j>")``, so its value does not depend on the
    order or the number of workers.

    Arguments:
        data: A pandas DataFrame (names from its columns, categoricals discrete) or an array
            ``(n, d)`` with ``d >= 2``.
        method: Any method of :func:`mibound.estimate`.
        names: Column labels for an array (default ``"0"``, ``"1"``, ...).
        discrete: Which columns are discrete: None (guess), a bool, indices, names or a mask.
        seed: The base seed.
        n_jobs: Pairs run at once (processes); 1 runs in this process.
        executor: ``"local"`` (processes) or ``"ray"`` (``pip install 'mibound[ray]'``).
        address: Ray cluster address (with ``executor="ray"``).
        results: A JSON-lines file: each finished pair is appended and fsync'd; pairs already
            in it (for the same data and settings) are not recomputed. None keeps nothing.
        progress: Print one line per finished pair on stderr.
        options: Passed to the method (e.g. ``k=5``).

    Returns:
        A :class:`PairwiseResult` (symmetric ``values`` and ``stderr``, NaN diagonal).

    Raises:
        ValueError: Fewer than two columns, bad names, a results file from another run, or a
            pair that failed (the message names it; the finished pairs stay in ``results``).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.standard_normal(2000)
        >>> table = np.column_stack([a, a + rng.standard_normal(2000), rng.standard_normal(2000)])
        >>> m = pairwise(table, "gaussian", names=["a", "b", "c"])
        >>> round(m.values[0, 1], 1), abs(m.values[0, 2]) < 0.01
        (0.3, True)
    """
    from mibound.estimation import METHODS

    if not isinstance(method, str) or method.lower() not in METHODS:
        raise InvalidValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    method = method.lower()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise InvalidValueError(f"n_jobs: expected a positive integer, got {n_jobs!r}")
    names = _column_names(data, names)
    cols = resolve_columns("data", data, _discrete_indices(discrete, names), option="discrete")
    n, d = cols.values.shape
    if d < 2:
        raise InvalidValueError(f"data: expected at least 2 columns, got {d}")
    config = {
        "method": method,
        "options": options,
        "seed": seed,
        "names": names,
        "discrete": cols.discrete.tolist(),
    }
    fingerprint = _fingerprint(cols.values, config)
    path = Path(results) if results is not None else None
    done = _read_done(path, fingerprint) if path is not None else {}
    items = _pending_pairs(cols, names, done, method, seed, options)
    failures: list[str] = []
    if items:
        pool_spec = (executor, n_jobs, address)
        total = d * (d - 1) // 2
        failures = _run_pairs(items, pool_spec, path, fingerprint, done, progress, total)
    if failures:
        raise InvalidValueError(
            f"data: {len(failures)} pair(s) failed, first {failures[0]}"
            + (f" (the {len(done)} finished pairs are in {path})" if path is not None else "")
        )
    values, stderr, kinds, methods, diagnostics = _assemble(done, names, list(cols.notes))
    return PairwiseResult(
        names=names,
        values=values,
        stderr=stderr,
        kinds=kinds,
        methods=methods,
        n=n,
        diagnostics=diagnostics,
        settings={
            **config,
            "executor": executor,
            "n_jobs": n_jobs,
            "results": str(path) if path is not None else None,
            "fingerprint": fingerprint,
            "diagonal": "not estimated (NaN): I(X;X) = H(X), infinite for continuous X",
        },
    )
