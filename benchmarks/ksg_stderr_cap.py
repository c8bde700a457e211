"""KSG's standard error with capped parts against the observed spread of full-sample values.

From N = 500,000, ``mibound.ksg`` computes its standard error from 10 parts of 50,000 points
(not N / 10), rescaled by sqrt(50,000 / N). This script applies the same kind of extrapolation
at small N, where many data sets are cheap: for each of --reps seeded Gaussian data sets
(d + d dims, coordinate correlation rho, known MI) it runs the default call with the parts
capped at --cap points and uncapped, and prints the mean reported standard error of each
against the standard deviation of the full-sample values over the data sets.

Run:
    python benchmarks/ksg_stderr_cap.py --n 8000 --d 2 --rho 0.6 --cap 400 --reps 150
    python benchmarks/ksg_stderr_cap.py --n 10000 --d 1 --rho 0.8 --cap 500 --reps 150
    python benchmarks/ksg_stderr_cap.py --n 20000 --d 5 --rho 0.7777 --cap 1000 --reps 30
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from _machine import footer, machine_line

from mibound import knn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--rho", type=float, default=0.6)
    parser.add_argument("--cap", type=int, default=400)
    parser.add_argument("--reps", type=int, default=150)
    args = parser.parse_args()
    print(machine_line())
    truth = -0.5 * args.d * math.log(1 - args.rho**2)
    values, capped, full = [], [], []
    start = time.process_time()
    for rep in range(args.reps):
        rng = np.random.default_rng(1000 + rep)
        x = rng.standard_normal((args.n, args.d))
        y = args.rho * x + math.sqrt(1 - args.rho**2) * rng.standard_normal((args.n, args.d))
        knn._PART_MAX = args.cap
        small = knn.ksg(x, y, k=3, seed=rep)
        knn._PART_MAX = args.n
        whole = knn.ksg(x, y, k=3, seed=rep)
        values.append(whole.value)
        capped.append(small.stderr)
        full.append(whole.stderr)
    spread = float(np.std(values, ddof=1))
    print(
        f"N = {args.n}, {args.d} + {args.d} dims, rho = {args.rho}, MI {truth:.3f} nats, "
        f"{args.reps} data sets: mean value {np.mean(values):.4f}, spread (sd) {spread:.4f}"
    )
    for name, se in (("capped", capped), ("uncapped", full)):
        parts = args.cap if name == "capped" else args.n // 10
        inside = np.mean(np.abs(np.array(values) - truth) < 1.96 * np.array(se))
        print(
            f"  {name:<8} (parts of {parts:>6}): mean se {np.mean(se):.4f}, se / spread "
            f"{np.mean(se) / spread:.2f}, value +- 1.96 se covers the MI in {inside:.0%}"
        )
    print(f"{time.process_time() - start:.1f} s of CPU time; {footer()}")


if __name__ == "__main__":
    main()
