"""mibound.sklearn's drop-ins against scikit-learn's mutual_info_regression / _classif.

Same data, same definitions: the values must agree to about 1e-9 (the tie-breaking noise comes
from different random streams; on tie-free continuous data it does not change a neighbour
count). Times: wall and CPU seconds, one run each, in this process; mibound computes features in
threads (n_jobs=None: all cores) with its numba k-d tree, scikit-learn with n_jobs=1 (its
default). At N = 1e6 only a few features are timed, to keep the run short.

Run:
    python benchmarks/sklearn_dropins.py [--sizes 10000 1000000] [--features 5 2]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from _machine import footer, machine_line
from sklearn import feature_selection as fs

from mibound import sklearn as ms


def make_data(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p continuous features; a regression target and class labels that depend on the first two."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    X = rng.standard_normal((n, p))
    X[:, 0] += labels
    y = X[:, 0] + np.sin(2 * X[:, min(1, p - 1)]) + 0.5 * rng.standard_normal(n)
    return X, y, labels


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - start, time.process_time() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--features", type=int, nargs="+", default=[5, 2], help="features per size")
    args = parser.parse_args()
    padded = args.features + args.features[-1:] * len(args.sizes)
    features = dict(zip(args.sizes, padded[: len(args.sizes)], strict=True))
    print(machine_line("sklearn"))
    print("n_neighbors=3")
    X, y, labels = make_data(500, 2)
    ms.mutual_info_regression(X, y)  # warm-up: numba cache load
    header = (
        f"{'function':<24} {'N':>8} {'p':>3} {'max |diff|':>10} {'wall sk':>8} {'wall ours':>9} "
        f"{'cpu sk':>7} {'cpu ours':>8} {'wall x':>7} {'cpu x':>6}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        p = features[n]
        X, y, labels = make_data(n, p)
        for name, ours, theirs, target in (
            ("mutual_info_regression", ms.mutual_info_regression, fs.mutual_info_regression, y),
            ("mutual_info_classif", ms.mutual_info_classif, fs.mutual_info_classif, labels),
        ):
            a, wa, ca = timed(lambda f=ours, t=target, X=X: f(X, t, random_state=0))
            b, wb, cb = timed(lambda f=theirs, t=target, X=X: f(X, t, random_state=0))
            diff = float(np.max(np.abs(a - b)))
            print(
                f"{name:<24} {n:>8} {p:>3} {diff:>10.1e} {wb:>8.2f} {wa:>9.2f} {cb:>7.2f} "
                f"{ca:>8.2f} {wb / wa:>7.1f} {cb / ca if ca > 0 else math.nan:>6.1f}"
            )
    print(footer())


if __name__ == "__main__":
    main()
