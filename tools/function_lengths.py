"""Lists the functions of src/ whose body (docstring excluded) is longer than a limit.

Usage: ``python tools/function_lengths.py [--limit 80] [paths ...]`` (default: src/mibound).
Prints ``lines  path:line  qualified.name``, longest first, and exits 0 (a report, not a gate).
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    has_docstring = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    if has_docstring:
        body = body[1:]
    if not body:
        return 0
    end = node.end_lineno if node.end_lineno is not None else body[-1].lineno
    return end - body[0].lineno + 1


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def long_functions(paths: list[Path], limit: int) -> list[tuple[int, str, str]]:
    """``(body lines, path:line, qualified name)`` of every function over ``limit`` lines."""
    found = []
    for path in paths:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
            for name, node in _functions(tree):
                assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                lines = _body_lines(node)
                if lines > limit:
                    where = f"{file.relative_to(ROOT)}:{node.lineno}"
                    found.append((lines, where, name))
    return sorted(found, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT / "src" / "mibound"])
    args = parser.parse_args()
    for lines, where, name in long_functions([p.resolve() for p in args.paths], args.limit):
        print(f"{lines:5d}  {where}  {name}")


if __name__ == "__main__":
    main()
