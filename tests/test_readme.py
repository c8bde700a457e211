"""The README's numbers are the library's: its example lines run and match their comments.

A line of a README ``python`` block whose comment holds ``[lower, upper]`` must produce a Bounds
with those sides, and one whose comment holds ``value ± stderr`` an Estimate with those numbers,
each to the precision printed (one unit of the last digit). Lines that train a neural critic
are not run here (minutes on two cores); KSG, Gaussian and the known-density lines are.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
_BOUNDS = re.compile(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]")
_ESTIMATE = re.compile(r"(-?\d+\.\d+) ± (\d+\.\d+)")
_NEURAL = ('method="smile"', 'method="alpha"', 'method="infonce"', "mibound.estimate(x, y)")


def _blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def _close(value: float, printed: str) -> bool:
    decimals = len(printed.split(".")[1])
    return abs(value - float(printed)) <= 1.0001 * 10.0**-decimals


def _run_block(block: str) -> int:
    """Runs the block line by line, checking each commented number; returns how many."""
    namespace: dict[str, object] = {}
    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        code = code.strip()
        if not code or code.startswith("#") or "..." in code:
            continue
        if any(marker in code for marker in _NEURAL):
            continue
        bounds, estimate = _BOUNDS.search(comment), _ESTIMATE.search(comment)
        if not (bounds or estimate) or "=" in code.split("(")[0]:
            with contextlib.suppress(NameError):  # NameError: a skipped neural line's result
                exec(code, namespace)  # an import or an assignment
            continue
        result = eval(code, namespace)
        if bounds:
            low, high = bounds.groups()
            assert _close(result.lower, low) and _close(result.upper, high), (line, result)
        else:
            value, stderr = estimate.groups()
            assert _close(result.value, value) and _close(result.stderr, stderr), (line, result)
        checked += 1
    return checked


def test_the_readme_has_checked_examples() -> None:
    blocks = _blocks()
    assert any("mibound.sandwich(model, k=256)" in b for b in blocks)
    assert any('method="ksg"' in b for b in blocks)


def test_black_box_examples() -> None:
    block = next(b for b in _blocks() if 'method="ksg"' in b)
    assert _run_block(block) == 2  # KSG and Gaussian


@pytest.mark.slow
def test_sandwich_examples() -> None:
    block = next(b for b in _blocks() if "mibound.sandwich(model, k=256)" in b)
    assert _run_block(block) == 3  # prior, fitted encoder, AIS
