"""KSG speed and agreement: mibound.ksg against NPEET (npeet-plus), infomeasure and scipy.

Data: 5-d X and 5-d Y, standard Gaussian, coordinate pairs with correlation rho chosen so that
the true MI is 2 nats (rho = sqrt(1 - exp(-2 * 2 / 5))). Every implementation gets the SAME
tie-broken data: the noise is added once here (mibound's rule: 1e-10 x column std, seeded) and
each peer's own noise is switched off (NPEET adds uniform noise from the global numpy RNG, which
we replace by the identity; infomeasure gets noise_level=0), so the values must agree to
rounding (mibound also runs with standardize=False: dividing each column by its sample standard
deviation would change the distances slightly, and the peers do not). Times are the best of
--repeats runs, measured in this one process: wall-clock
seconds and CPU seconds (summed over threads: mibound uses all cores, the peers one). On a
shared machine (load average printed) compare the CPU column; on an idle one, the wall column.
The headline row is mibound's default call (value and standard error from 10 disjoint
subsamples; only the noise and the standardisation switched off, as above); no peer computes a
standard error.

The scaling curve runs mibound's true default call, ksg(x, y, k=3), once per size (N = 10^3 ...
10^6 unless --scaling says otherwise), each in a fresh process so that its peak resident memory
is its own.

Run:
    pip install npeet-plus infomeasure   # peers (neither replaces numpy or torch)
    python benchmarks/ksg_speed.py                  # N = 50,000 against the peers, then the curve
    python benchmarks/ksg_speed.py --sizes 2000 10000 50000 --repeats 3 --scaling   # no curve
    python benchmarks/ksg_speed.py --sizes --scaling 1000 100000 1000000             # curve only
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from _machine import footer, load_average, machine_line, peak_rss_mb
from scipy.spatial import cKDTree
from scipy.special import digamma

from mibound.knn import ksg

TRUE_MI = 2.0
DIM = 5
K = 3


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rho = math.sqrt(1 - math.exp(-2 * TRUE_MI / DIM))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM))
    y = rho * x + math.sqrt(1 - rho**2) * rng.standard_normal((n, DIM))
    noise = np.random.default_rng(seed + 1)
    x = x + 1e-10 * x.std(axis=0) * noise.standard_normal(x.shape)
    y = y + 1e-10 * y.std(axis=0) * noise.standard_normal(y.shape)
    return x, y


def scipy_reference(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """A plain single-threaded cKDTree KSG-1 (the textbook recipe)."""
    n = x.shape[0]
    joint = np.hstack([x, y])
    eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, k]
    r = np.nextafter(eps, 0)
    n_x = cKDTree(x).query_ball_point(x, r, p=np.inf, return_length=True) - 1
    n_y = cKDTree(y).query_ball_point(y, r, p=np.inf, return_length=True) - 1
    return float(digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1)))


def peers() -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    out: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {}
    try:
        import npeet_plus.estimators as npeet

        npeet.add_noise = lambda a, intens=0.0: a  # the data are already tie-broken

        def run_npeet(x: np.ndarray, y: np.ndarray) -> float:
            return float(npeet.mi(x, y, k=K, base=math.e))

        out["npeet-plus"] = run_npeet
    except ImportError:
        print("npeet-plus not installed: pip install npeet-plus")
    try:
        import infomeasure

        def run_infomeasure(x: np.ndarray, y: np.ndarray) -> float:
            return float(
                infomeasure.mutual_information(
                    x, y, approach="ksg", k=K, noise_level=0, minkowski_p=np.inf, base="e"
                )
            )

        out["infomeasure"] = run_infomeasure
    except ImportError:
        print("infomeasure not installed: pip install infomeasure")
    out["scipy cKDTree"] = lambda x, y: scipy_reference(x, y, K)
    return out


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


def _mibound(x: np.ndarray, y: np.ndarray, backend: str, subsamples: int | None) -> float:
    return ksg(
        x, y, k=K, noise=0.0, standardize=False, subsamples=subsamples, backend=backend
    ).value


def _child(n: int) -> None:
    """One default call at size n in this fresh process; prints a JSON line."""
    # Load the compiled kernels (about a second, once per process; N < 5000 alone uses scipy).
    ksg(*make_data(500), k=K, backend="numba" if n >= 5000 else "auto")
    x, y = make_data(n)
    start, start_cpu = time.perf_counter(), time.process_time()
    est = ksg(x, y, k=K)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    row = {"n": n, "value": est.value, "stderr": est.stderr, "wall": wall, "cpu": cpu}
    row |= {"backend": est.settings["backend"], "rss": peak_rss_mb(), "load": load_average()}
    print(json.dumps(row), flush=True)


def scaling(sizes: list[int]) -> None:
    """The default call (value + standard error) at each size, each in a fresh process."""
    # Compile or load the numba cache once so that no child pays for compilation.
    ksg(*make_data(500), k=K)
    print("scaling: mibound.ksg(x, y, k=3) default call (value + standard error), 5 + 5 dims")
    header = (
        f"{'N':>8} {'backend':<8} {'value':>8} {'stderr':>8} {'wall s':>8} {'cpu s':>8} "
        f"{'peak RSS MiB':>12} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['n']:>8} {r['backend']:<8} {r['value']:>8.4f} {r['stderr']:>8.4f} "
            f"{r['wall']:>8.2f} {r['cpu']:>8.2f} {r['rss']:>12.0f} {r['load']:>5.1f}",
            flush=True,
        )
        if r["n"] == 1_000_000:
            print(
                f"N = 10^6 budget (60 s wall on 2 cores, 2048 MiB): wall {r['wall']:.1f} s, "
                f"cpu {r['cpu']:.1f} s (cpu / 2 = {r['cpu'] / 2:.1f} s), peak RSS "
                f"{r['rss']:.0f} MiB; load average {r['load']:.1f} (above 0 the other jobs "
                "share the cores)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[50000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--scaling", type=int, nargs="*", default=[1000, 10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    print(machine_line("sklearn"))
    print(f"k={K}, d_x=d_y={DIM}, true MI {TRUE_MI} nats")
    if args.sizes:
        compare(args.sizes, args.repeats)
    if args.scaling:
        scaling(args.scaling)
    print(footer())


def compare(sizes: list[int], repeats: int) -> None:
    runners = peers()
    # Warm-up (imports, numba compilation or cache load) on small data, not timed.
    x, y = make_data(500)
    for backend in ("numba", "scipy", "torch"):
        ksg(x, y, k=K, noise=0.0, backend=backend)
    for fn in runners.values():
        fn(x, y)
    header = (
        f"{'N':>6} {'implementation':<34} {'value':>9} {'|diff|':>9} {'wall s':>8} "
        f"{'cpu s':>8} {'wall/ours':>9} {'cpu/ours':>9}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        x, y = make_data(n)
        rows = [
            (
                "mibound.ksg default (+ stderr)",
                *timed(partial(_mibound, x, y, "auto", None), repeats),
            )
        ]
        backends = ["numba", "scipy"] + (["torch"] if n <= 20_000 else [])
        for backend in backends:
            rows.append(
                (
                    f"mibound.ksg [{backend}] value only",
                    *timed(partial(_mibound, x, y, backend, 0), repeats),
                )
            )
        n_ours = len(rows)
        for name, fn in runners.items():
            rows.append((name, *timed(partial(fn, x, y), repeats)))
        _, ours, wall_ours, cpu_ours = rows[0]
        for name, value, wall, cpu in rows:
            print(
                f"{n:>6} {name:<34} {value:>9.5f} {abs(value - ours):>9.2e} {wall:>8.3f} "
                f"{cpu:>8.3f} {wall / wall_ours:>9.2f} {cpu / cpu_ours:>9.2f}"
            )
        fastest = min(rows[n_ours:], key=lambda row: row[2])
        print(
            f"{n:>6} fastest peer ({fastest[0]}, value only) / mibound default call (value + "
            f"stderr): wall {fastest[2] / wall_ours:.2f}x, cpu {fastest[3] / cpu_ours:.2f}x; "
            f"load average {load_average():.1f}; peak RSS so far {peak_rss_mb():.0f} MiB\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
