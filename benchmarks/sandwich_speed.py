"""Time and width of the known-joint MI sandwiches (SNIS and AIS/BDMC) at about 20 nats.

Model: ``LinearGaussian.with_mutual_information(20, k=10, d=50)`` (z ~ N(0, I_10),
x = W z + ε in 50 dimensions, I = 20 nats exactly). Rows:

- SNIS with the exact posterior (sanity: both sides equal the pointwise MI, width 0);
- SNIS with the prior as proposal (fails: the upper side needs K ~ e^20);
- SNIS with a fitted GaussianEncoder (MLP, diagonal covariance, ``fit_encoder``) at several K,
  and with the closed-form linear regression start (``initialise_linear``);
- AIS/BDMC from the prior and from the fitted encoder at several (T, M).

Target (issue 4): a sandwich at most 0.1 nat wide in under 60 seconds on two cores.

Run: ``python benchmarks/sandwich_speed.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from mibound import ais_sandwich, sandwich
from mibound.encoders import GaussianEncoder, fit_encoder, initialise_linear
from mibound.models import LinearGaussian


def row(name: str, settings: str, bounds, seconds: float, setup: float = 0.0) -> dict:
    return {
        "method": name,
        "settings": settings,
        "lower": bounds.lower,
        "upper": bounds.upper,
        "width": bounds.width,
        "width_se": bounds.settings.get("width_stderr", float("nan")),
        "lower_se": bounds.lower_stderr,
        "truth": bounds.true_value,
        "seconds": seconds,
        "setup": setup,
    }


def show(rows: list[dict]) -> None:
    head = (
        f"{'method':<26} {'settings':<30} {'lower':>9} {'upper':>11} {'width':>10} "
        f"{'±se':>7} {'lower se':>8} {'truth':>7} {'setup s':>7} {'seconds':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['method']:<26} {r['settings']:<30} {r['lower']:9.4f} {r['upper']:11.4f} "
            f"{r['width']:10.4f} {r['width_se']:7.4f} {r['lower_se']:8.4f} {r['truth']:7.3f} "
            f"{r['setup']:7.1f} {r['seconds']:8.2f}"
        )


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--n", type=int, default=512, help="data points per sandwich")
    parser.add_argument("--fit-steps", type=int, default=1500)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    quick = args.quick
    n = 64 if quick else args.n

    model = LinearGaussian.with_mutual_information(20.0, k=10, d=50, dtype=dtype)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.threads} torch threads, {args.dtype}, load average {load:.1f}; "
        f"LinearGaussian k=10, d=50, I = {model.mutual_information():.3f} nats, n = {n}"
    )
    rows: list[dict] = []

    # (a) SNIS ---------------------------------------------------------------------------
    b, s = timed(lambda: sandwich(model, model.posterior, k=16, n=n))
    rows.append(row("SNIS exact posterior", "K=16", b, s))
    for k in [1000] if quick else [1000, 100_000]:
        b, s = timed(lambda k=k: sandwich(model, None, k=k, n=min(n, 128)))
        rows.append(row("SNIS prior", f"K={k}, n={min(n, 128)}", b, s))

    linear = GaussianEncoder(50, 10, layers=0, covariance="full").to(dtype)
    _, s_lin = timed(lambda: initialise_linear(linear, model, seed=1))
    for k in [16] if quick else [16, 256]:
        b, s = timed(lambda k=k: sandwich(model, linear, k=k, n=n))
        rows.append(row("SNIS linear-regression q", f"K={k}", b, s, s_lin))

    mlp = GaussianEncoder(50, 10).to(dtype)  # MLP 2x128, diagonal covariance
    fit_steps = 100 if quick else args.fit_steps
    fit, s_fit = timed(lambda: fit_encoder(model, mlp, k=16, steps=fit_steps, seed=1))
    print(
        f"fit_encoder (MLP 2x128, diagonal, multisample K=16): {fit.steps_run} steps, "
        f"{s_fit:.1f} s, stopped early: {fit.stopped_early}"
    )
    mlp.eval()
    for k in [16] if quick else [1, 16, 256, 4096]:
        b, s = timed(lambda k=k: sandwich(model, mlp, k=k, n=n))
        rows.append(row("SNIS fitted MLP q", f"K={k}", b, s, s_fit))

    # (b) AIS / BDMC -------------------------------------------------------------------
    prior_grid = [(20, 2)] if quick else [(100, 4), (1000, 4), (4000, 2)]
    for steps, chains in prior_grid:
        b, s = timed(
            lambda t=steps, m=chains: ais_sandwich(model, None, n=n, steps=t, chains=m, seed=2)
        )
        acc = b.settings["accept_forward"]
        rows.append(row("AIS prior", f"T={steps}, M={chains}, acc={acc:.2f}", b, s))
    enc_grid = [(10, 2)] if quick else [(10, 4), (100, 4), (300, 4)]
    for steps, chains in enc_grid:
        b, s = timed(
            lambda t=steps, m=chains: ais_sandwich(model, mlp, n=n, steps=t, chains=m, seed=2)
        )
        acc = b.settings["accept_forward"]
        rows.append(row("AIS fitted MLP q", f"T={steps}, M={chains}, acc={acc:.2f}", b, s, s_fit))

    print()
    show(rows)
    print()
    print(
        "width ±se: paired standard error of upper - lower; lower se: standard error of each side"
        " (mostly the spread of the pointwise MI over the n data points); setup s: encoder fit"
        " or regression, done once and shared by the rows below it"
    )
    met = [
        r
        for r in rows
        if r["width"] <= 0.1
        and r["seconds"] + r["setup"] < 60
        and r["method"] != "SNIS exact posterior"
    ]
    if met:
        best = min(met, key=lambda r: r["seconds"] + r["setup"])
        print(
            f"target (width <= 0.1 nat in < 60 s including setup, without the exact posterior): "
            f"MET by {best['method']} {best['settings']}: width {best['width']:.4f} in "
            f"{best['seconds'] + best['setup']:.1f} s"
        )
    else:
        print("target (width <= 0.1 nat in < 60 s, without the exact posterior): NOT met")


if __name__ == "__main__":
    main()
