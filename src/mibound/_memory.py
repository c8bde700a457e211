"""Memory estimates before large allocations: refuse with a clear message, not a kill."""

from __future__ import annotations

import os

from mibound._checks import InvalidValueError

__all__ = ["available_bytes", "check_memory"]


def available_bytes() -> int | None:
    """The memory available to new allocations (bytes), or None when it cannot be read.

    Reads ``MemAvailable`` from ``/proc/meminfo`` (Linux), else the free physical pages.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(needed: float, what: str, advice: str, *, fraction: float = 0.8) -> None:
    """Raises ``ValueError`` with a plain message when ``needed`` bytes would not fit.

    A ValueError (not MemoryError): the cause is an argument the user can change, and the
    message names it.

    Arguments:
        needed: The estimated peak memory of the call (bytes).
        what: The argument(s) responsible and their values, e.g. ``"k: k = 100000000"``.
        advice: What to change.
        fraction: The share of the available memory the call may use.

    Raises:
        ValueError: ``needed`` exceeds ``fraction`` of the available memory.
    """
    available = available_bytes()
    if available is None or needed <= fraction * available:
        return
    raise InvalidValueError(
        f"{what} needs about {needed / 2**30:.1f} GiB of memory, more than the "
        f"{available / 2**30:.1f} GiB available; {advice}"
    )
