"""Held-out accuracy of every neural method on correlated Gaussians (the default-method choice).

For each true MI in ``--mi`` and each seed, draws N pairs of a 5-d x 5-d correlated Gaussian
(``mibound.tasks.gaussian(5, mi=...)``), runs ``neural_estimate`` with default settings for every
method and prints the mean held-out value and its RMSE to the truth over seeds.

Run: ``python benchmarks/neural_methods.py --n 5000 --seeds 3 --mi 1 2 4 6``
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from _machine import footer, machine_line

from mibound.neural import METHODS, neural_estimate
from mibound.tasks.gaussian import gaussian


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mi", type=float, nargs="+", default=[1.0, 2.0, 4.0, 6.0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    args = parser.parse_args()
    print(machine_line())

    values: dict[tuple[str, float], list[float]] = {}
    seconds: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        for mi in args.mi:
            x, y = gaussian(5, mi=mi).sample(args.n, seed=100 + seed)
            for method in args.methods:
                start = time.perf_counter()
                est = neural_estimate(x, y, method, seed=seed, device="cpu")
                seconds.setdefault(method, []).append(time.perf_counter() - start)
                values.setdefault((method, mi), []).append(est.value)
                print(f"  seed {seed} MI {mi:g} {method:8s} {est.value:8.3f} ± {est.stderr:.3f}")

    print(f"\nN = {args.n}, {args.seeds} seeds, default settings; mean value (RMSE to the truth)")
    print("| method | " + " | ".join(f"I = {mi:g}" for mi in args.mi) + " | median s |")
    print("|---|" + "---|" * len(args.mi) + "---|")
    for method in args.methods:
        cells = []
        for mi in args.mi:
            v = values[(method, mi)]
            rmse = math.sqrt(sum((a - mi) ** 2 for a in v) / len(v))
            cells.append(f"{statistics.fmean(v):.2f} ({rmse:.2f})")
        median_s = statistics.median(seconds[method])
        print(f"| {method} | " + " | ".join(cells) + f" | {median_s:.1f} |")
    print(footer())


if __name__ == "__main__":
    main()
