"""One short script that exercises every estimator's CUDA path and compares it with the CPU.

Run it on a machine with a GPU (a few minutes):

    python benchmarks/cuda_check.py            # checks, then the timing table
    python benchmarks/cuda_check.py --no-timing

The timing table runs every compute path (KSG at N = 20k and 200k, critic training, the SNIS
sandwich, AIS) once on the CPU and once on the device with the same settings and prints the
seconds of each and their ratio, with the machine, versions, load average and peak memory.

Each check prints ``ok`` or ``FAIL`` with the numbers; the exit status is the number of
failures. Values computed on CUDA must agree with the closed forms (and with the CPU run where
the randomness is shared) within the stated tolerance. Without CUDA the script says so and
exits 0 after running the CPU half, so it can be smoke-tested anywhere.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
from _machine import footer, machine_line

import mibound
from mibound import bounds
from mibound.encoders import GaussianEncoder, fit_encoder
from mibound.models import DecoderModel, GaussianMixture, LinearGaussian

FAILURES: list[str] = []


def check(name: str, fn: Callable[[], tuple[bool, str]]) -> None:
    start = time.perf_counter()
    try:
        ok, detail = fn()
    except Exception as err:  # report and go on: one broken path must not hide the others
        ok, detail = False, f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - start
    print(f"{'ok  ' if ok else 'FAIL'} {name:<48} {seconds:6.2f} s  {detail}", flush=True)
    if not ok:
        FAILURES.append(name)


def bounds_on(device: str) -> tuple[bool, str]:
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(8, 64, 64, generator=g, dtype=torch.float64)
    out = {}
    for name in ("nwj", "dv", "infonce", "js"):
        cpu = getattr(bounds, name)(scores)
        dev = getattr(bounds, name)(scores.to(device))
        out[name] = float((cpu - dev.cpu()).abs().max())
    worst = max(out.values())
    infonce_ok = float(bounds.infonce(scores.to(device) * 50).max()) <= math.log(64) + 1e-9
    return worst < 1e-10 and infonce_ok, f"max |cpu - {device}| = {worst:.1e}"


def neural_on(device: str) -> tuple[bool, str]:
    task = mibound.tasks.get("gaussian-dense-2x2-rho-0.5")
    x, y = task.sample(4000, seed=0)
    est = mibound.estimate(x, y, method="smile", steps=600, device=device, seed=0)
    truth = task.mutual_information
    ok = est.settings.get("device", "").startswith(device) and abs(est.value - truth) < 0.25
    return ok, f"smile {est.value:.3f} ± {est.stderr:.3f} vs truth {truth:.3f} on {device}"


def sandwich_on(device: str, dtype: torch.dtype) -> tuple[bool, str]:
    model = LinearGaussian.with_mutual_information(6.0, k=4, d=16, dtype=dtype).to(device)
    exact = mibound.sandwich(model, encoder=model.posterior, k=16, n=2048, seed=0)
    prior = mibound.sandwich(model, k=256, n=2048, seed=0)
    se = exact.lower_stderr
    ok = (
        abs(exact.lower - 6.0) < 4 * se
        and abs((exact.upper or 0) - exact.lower) < 1e-3
        and prior.lower < 6.0 + 4 * se
        and (prior.upper or 0) > 6.0 - 4 * se
    )
    return ok, (
        f"exact {exact.lower:.3f}/{exact.upper:.3f}, prior [{prior.lower:.2f}, "
        f"{prior.upper:.2f}], truth 6 ({dtype})"
    )


def fit_on(device: str) -> tuple[bool, str]:
    model = LinearGaussian.with_mutual_information(6.0, k=4, d=16).to(device)
    enc = GaussianEncoder(16, 4).to(device=device, dtype=torch.float64)
    fit_encoder(model, enc, k=8, steps=300, seed=0)
    fitted = mibound.sandwich(model, encoder=enc, k=64, n=2048, seed=0)
    prior = mibound.sandwich(model, k=64, n=2048, seed=0)
    ok = fitted.width is not None and prior.width is not None and fitted.width < prior.width
    return ok, f"width fitted {fitted.width:.3f} < prior {prior.width:.3f}"


def ais_on(device: str) -> tuple[bool, str]:
    model = LinearGaussian.with_mutual_information(3.0, k=2, d=8).to(device)
    result = mibound.sandwich(model, ais=mibound.AISOptions(steps=200, chains=4), n=256, seed=0)
    slack = 4 * max(result.lower_stderr, result.upper_stderr or 0)
    ok = result.lower - slack <= 3.0 <= (result.upper or -math.inf) + slack
    acc = result.settings.get("accept_forward")
    return ok, f"[{result.lower:.3f}, {result.upper:.3f}] truth 3, acceptance {acc}"


def mixture_on(device: str) -> tuple[bool, str]:
    model = GaussianMixture.separated(4, 3, 3.0).to(device)
    result = mibound.sandwich(model, k=64, n=2048, seed=0)
    truth = model.mutual_information()
    slack = 4 * max(result.lower_stderr, result.upper_stderr or 0)
    ok = result.lower - slack <= truth <= (result.upper or -math.inf) + slack
    return ok, f"[{result.lower:.3f}, {result.upper:.3f}] truth {truth:.3f}"


def decoder_on(device: str) -> tuple[bool, str]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 5))
    net = net.to(device=device, dtype=torch.float64)

    class Decoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, z: torch.Tensor) -> torch.distributions.Distribution:
            return torch.distributions.Independent(torch.distributions.Normal(self.net(z), 0.5), 1)

    zeros = torch.zeros(2, dtype=torch.float64, device=device)
    prior = torch.distributions.Independent(torch.distributions.Normal(zeros, 1.0), 1)
    model = DecoderModel(Decoder(), prior)
    result = mibound.sandwich(model, k=256, n=512, seed=0)
    ok = result.upper is not None and result.lower <= result.upper + 1e-6
    return ok, f"[{result.lower:.3f}, {result.upper:.3f}]"


def ksg_on(device: str) -> tuple[bool, str]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5000, 2))
    y = x + rng.standard_normal((5000, 2))
    est = mibound.ksg(x, y, device=device)
    tree = mibound.ksg(x, y, backend="scipy")
    truth = math.log(2.0)
    same = est.value == tree.value and est.stderr == tree.stderr
    ok = same and abs(est.value - truth) < 0.05 and est.settings["backend"] == "torch"
    return ok, f"{est.value:.6f} (scipy tree {tree.value:.6f}) vs truth {truth:.3f}"


def _seconds(fn: Callable[[], object]) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def timing(device: str) -> None:
    """Seconds of each compute path on the CPU and on ``device``, same settings."""
    rng = np.random.default_rng(0)
    task = mibound.tasks.get("gaussian-dense-2x2-rho-0.5")
    x_n, y_n = task.sample(10_000, seed=0)
    lg = LinearGaussian.with_mutual_information(20.0, k=10, d=50)
    paths: list[tuple[str, Callable[[str], object]]] = []
    for n in (20_000, 200_000):
        x = rng.standard_normal((n, 5))
        y = 0.8 * x + 0.6 * rng.standard_normal((n, 5))
        paths.append(
            (
                f"ksg N={n} 5+5 (cpu: numba trees)",
                lambda d, x=x, y=y: mibound.ksg(x, y, **({} if d == "cpu" else {"device": d})),
            )
        )
    for critic in ("separable", "concat"):
        paths.append(
            (
                f"critic training nwj {critic}, 500 steps",
                lambda d, c=critic: mibound.estimate(
                    x_n, y_n, method="nwj", critic=c, steps=500, patience=500, device=d, seed=0
                ),
            )
        )
    paths.append(
        (
            "SNIS sandwich LinearGaussian 20 nats, prior K=4096",
            lambda d: mibound.sandwich(lg.to(d), k=4096, n=512, seed=0),
        )
    )
    paths.append(
        (
            "AIS sandwich LinearGaussian 20 nats, T=200 M=4",
            lambda d: mibound.sandwich(
                lg.to(d), ais=mibound.AISOptions(steps=200, chains=4), n=512, seed=0
            ),
        )
    )
    head = f"{'path':<52} {'cpu s':>8} {device + ' s':>10} {'cpu/' + device:>10}"
    print()
    print(head)
    print("-" * len(head))
    for name, fn in paths:
        try:
            cpu = _seconds(lambda fn=fn: fn("cpu"))
            dev = _seconds(lambda fn=fn: fn(device))
            print(f"{name:<52} {cpu:8.2f} {dev:10.2f} {cpu / dev:9.1f}x", flush=True)
        except Exception as err:  # report and go on
            print(f"{name:<52} FAIL {type(err).__name__}: {err}", flush=True)
            FAILURES.append(f"timing {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="device to check (default cuda)")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing table")
    args = parser.parse_args()
    print(machine_line() + f", cuda {torch.version.cuda}")
    devices = ["cpu"]
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available here: running the CPU half only")
    else:
        devices.append(args.device)
        if args.device.startswith("cuda"):
            print(f"device: {torch.cuda.get_device_name(torch.device(args.device))}")
    for device in devices:
        check(f"ksg torch backend [{device}]", lambda d=device: ksg_on(d))
        check(f"bounds [{device}]", lambda d=device: bounds_on(d))
        check(f"neural smile [{device}]", lambda d=device: neural_on(d))
        for dtype in (torch.float64, torch.float32):
            check(f"sandwich snis {dtype} [{device}]", lambda d=device, t=dtype: sandwich_on(d, t))
        check(f"fit_encoder narrows [{device}]", lambda d=device: fit_on(d))
        check(f"ais [{device}]", lambda d=device: ais_on(d))
        check(f"mixture [{device}]", lambda d=device: mixture_on(d))
        check(f"decoder model [{device}]", lambda d=device: decoder_on(d))
    if not args.no_timing and len(devices) > 1:
        timing(devices[1])
    print(f"{len(FAILURES)} failure(s)" + (f": {', '.join(FAILURES)}" if FAILURES else ""))
    print(footer())
    if torch.cuda.is_available():
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    return len(FAILURES)


if __name__ == "__main__":
    sys.exit(main())
