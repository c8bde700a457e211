"""What every benchmark prints: the machine, library versions, load average, peak memory."""

from __future__ import annotations

import os
import platform
import resource
import sys


def load_average() -> float:
    """The one-minute load average (NaN where the OS has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory in MiB of this process (or of its finished children) so far."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20  # KiB on Linux, B on macOS


def machine_line(*extra: str) -> str:
    """One line: CPU model and count, python, numpy, torch and mibound versions, load."""
    import numpy as np

    import mibound

    versions = [f"mibound {mibound.__version__}", f"python {platform.python_version()}"]
    versions.append(f"numpy {np.__version__}")
    for name in ("scipy", "numba", "torch", *extra):
        try:
            module = __import__(name)
        except ImportError:
            continue
        versions.append(f"{name} {getattr(module, '__version__', '?')}")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()}; {', '.join(versions)}; "
        f"load average {load_average():.1f}"
    )


def footer() -> str:
    """The closing line: peak resident memory and load average at the end."""
    return f"peak resident memory {peak_rss_mb():.0f} MiB; load average {load_average():.1f}"
