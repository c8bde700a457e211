"""Conditional MI I(X;Y|Z): mibound's Frenzel–Pompe k-NN against NPEET's ``mi(x, y, z)``.

Data: the closed-form tasks ``conditional-gaussian-*`` (Z drives X and Y; given Z the pairs of X
and Y have correlation rho). Both implementations get the SAME tie-broken data: the noise is
added once here (1e-10 x column std, seeded) and NPEET's own noise is switched off, so the values
must agree to rounding. Times: best of --repeats runs in this process, wall and CPU seconds
(mibound threads over all cores, NPEET uses one). On a shared machine compare the CPU column.

Run:
    pip install npeet-plus   # the peer (NPEET's maintained fork on PyPI)
    python benchmarks/conditional_vs_npeet.py [--sizes 2000 10000 30000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from _machine import footer, machine_line

from mibound import tasks
from mibound.conditional import conditional_ksg

K = 3
TASKS = ("conditional-gaussian-d-1-dz-1-rho-0.6-c-1", "conditional-gaussian-d-2-dz-2-rho-0.6-c-1")


def make_data(name: str, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    x, y, z = tasks.get_conditional(name).sample(n, seed=seed)
    noise = np.random.default_rng(seed + 1)
    return tuple(v + 1e-10 * v.std(axis=0) * noise.standard_normal(v.shape) for v in (x, y, z))


def timed(fn: Callable[[], float], repeats: int) -> tuple[float, float, float]:
    """(value, best wall seconds, CPU seconds of that run summed over threads)."""
    best, cpu, value = math.inf, math.nan, math.nan
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = fn()
        wall = time.perf_counter() - start
        if wall < best:
            best, cpu = wall, time.process_time() - start_cpu
    return value, best, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 30000])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    try:
        import npeet_plus.estimators as npeet
    except ImportError:
        raise SystemExit("npeet-plus not installed: pip install npeet-plus") from None
    npeet.add_noise = lambda a, intens=0.0: a  # the data are already tie-broken

    def ours(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
        return conditional_ksg(x, y, z, k=K, noise=0.0, subsamples=0).value

    def theirs(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
        return float(npeet.mi(x, y, z=z, k=K, base=math.e))

    print(machine_line("npeet_plus"))
    print(f"k={K}")
    ours(*make_data(TASKS[0], 500))  # warm-up: numba cache load, imports
    theirs(*make_data(TASKS[0], 500))
    header = (
        f"{'task':<44} {'N':>6} {'truth':>6} {'mibound':>8} {'NPEET':>8} {'|diff|':>8} "
        f"{'wall ours':>9} {'wall NPEET':>10} {'cpu ours':>8} {'cpu NPEET':>9} "
        f"{'wall x':>6} {'cpu x':>6}"
    )
    print(header)
    print("-" * len(header))
    for name in TASKS:
        truth = tasks.get_conditional(name).conditional_mutual_information
        for n in args.sizes:
            data = make_data(name, n)
            a, wa, ca = timed(lambda data=data: ours(*data), args.repeats)
            b, wb, cb = timed(lambda data=data: theirs(*data), args.repeats)
            print(
                f"{name:<44} {n:>6} {truth:>6.3f} {a:>8.4f} {b:>8.4f} {abs(a - b):>8.1e} "
                f"{wa:>9.2f} {wb:>10.2f} {ca:>8.2f} {cb:>9.2f} {wb / wa:>6.1f} {cb / ca:>6.1f}"
            )
    print(footer())


if __name__ == "__main__":
    main()
