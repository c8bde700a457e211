"""Progress bars, always on stderr (stdout is kept for results such as ``--json``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["progress_bar", "stderr_console", "track"]

T = TypeVar("T")


def stderr_console() -> Any:
    """A rich console writing to stderr."""
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def progress_bar(description: str, total: float, show: bool) -> Iterator[Callable[..., None]]:
    """A transient bar on stderr; yields ``advance(steps=1)`` (a no-op when ``show`` is False)."""
    if not show:
        yield lambda steps=1: None
        return
    from rich.progress import Progress

    with Progress(transient=True, console=stderr_console()) as bar:
        task = bar.add_task(description, total=total)
        yield lambda steps=1: bar.advance(task, steps)


def track(items: Iterable[T], show: bool, description: str) -> Iterable[T]:
    """``items``, with a transient bar on stderr when ``show`` is True."""
    if not show:
        return items
    from rich.progress import track as rich_track

    return rich_track(items, description=description, transient=True, console=stderr_console())
