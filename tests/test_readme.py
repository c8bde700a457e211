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
_DEFAULT = ("mibound.estimate(x, y)  #", "mibound.estimate(np.sinh(3 * x), y**3)")


def _blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def _close(value: float, printed: str) -> bool:
    decimals = len(printed.split(".")[1])
    return abs(value - float(printed)) <= 1.0001 * 10.0**-decimals


def _run_block(block: str, only: tuple[str, ...] = ()) -> int:
    """Runs the block line by line, checking each commented number; returns how many.

    With ``only``, the checked lines are those containing one of these markers (the default
    estimate, which trains a critic), and every other line with a number is skipped.
    """
    namespace: dict[str, object] = {}
    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        code = code.strip()
        if not code or code.startswith("#") or "..." in code:
            continue
        if only:
            if any(marker in line for marker in only):
                _check(eval(code, namespace), line, comment)
                checked += 1
            elif not (_BOUNDS.search(comment) or _ESTIMATE.search(comment)):
                with contextlib.suppress(NameError):
                    exec(code, namespace)
            continue
        if any(marker in code for marker in _NEURAL) or any(m in line for m in _DEFAULT):
            continue
        bounds, estimate = _BOUNDS.search(comment), _ESTIMATE.search(comment)
        if not (bounds or estimate) or "=" in code.split("(")[0]:
            with contextlib.suppress(NameError):  # NameError: a skipped neural line's result
                exec(code, namespace)  # an import or an assignment
            continue
        _check(eval(code, namespace), line, comment)
        checked += 1
    return checked


def _check(result: object, line: str, comment: str) -> None:
    bounds, estimate = _BOUNDS.search(comment), _ESTIMATE.search(comment)
    if bounds:
        low, high = bounds.groups()
        assert _close(result.lower, low) and _close(result.upper, high), (line, result)  # type: ignore[attr-defined]
    else:
        assert estimate is not None, line
        value, stderr = estimate.groups()
        assert _close(result.value, value) and _close(result.stderr, stderr), (line, result)  # type: ignore[attr-defined]


def test_the_readme_has_checked_examples() -> None:
    blocks = _blocks()
    assert any("mibound.sandwich(model, k=256)" in b for b in blocks)
    assert any('method="ksg"' in b for b in blocks)


def test_black_box_examples() -> None:
    block = next(b for b in _blocks() if 'method="ksg"' in b)
    assert _run_block(block) == 2  # KSG and Gaussian


@pytest.mark.slow
def test_default_estimate_examples() -> None:
    block = next(b for b in _blocks() if 'method="ksg"' in b)
    assert _run_block(block, only=_DEFAULT) == 2  # the default, on raw and warped data


@pytest.mark.slow
def test_sandwich_examples() -> None:
    block = next(b for b in _blocks() if "mibound.sandwich(model, k=256)" in b)
    assert _run_block(block) == 3  # prior, fitted encoder, AIS
