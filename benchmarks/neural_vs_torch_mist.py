"""Neural MI estimators: mibound vs torch-mist 0.2.17 on the same data, in one process.

Equal setup for both libraries:

- data: 5-d X, 5-d Y correlated Gaussian (``mibound.tasks.gaussian(5, mi=2.0)``, true MI 2 nats;
  ``--mi`` changes it),
  one sample of N pairs split once into train / validation / test (60/20/20) and handed to both;
- critic (``--critics``): separable, two MLPs 5 -> 256 -> 256 -> 32 (ReLU), score = dot
  product; concat, one MLP 10 -> 256 -> 256 -> 1 (ReLU) on all B^2 pairs [x_i, y_j];
- objective: NWJ, InfoNCE, SMILE (tau = 5, trained with the JS objective in both), negatives
  = the other pairs of the batch (InfoNCE: the whole batch, positive included);
- batch 128, Adam lr 5e-4, exactly ``--steps`` optimisation steps (no early stop for either;
  both restore their best validation checkpoint: mibound every 100 steps, torch-mist every
  epoch), the same number of CPU threads for both (``--threads``, default 1);
- held-out accuracy: each library's own estimate on the same untouched test split at batch 128
  (mibound: ``Estimate.value``; torch-mist: ``evaluate_mi`` on the test data), compared with
  the truth.

torch-mist runs with ``fast_train=True`` (it then skips evaluating the MI on every training
batch), its fastest mode. Repeats are interleaved (the libraries alternate within each round) so
machine load hits both alike; the table reports medians over rounds.

Install (torch-mist pins numpy < 2; ``--no-deps`` keeps the installed numpy and torch):

    pip install --no-deps torch-mist==0.2.17 pyro-ppl pyro-api opt_einsum tqdm

Run: ``python benchmarks/neural_vs_torch_mist.py --steps 1000 --rounds 3``
(``--critics separable concat`` adds the concat critic).

``--profile`` instead prints where one mibound training run spends its time (torch.profiler).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import statistics
import time

import numpy as np
import torch
from _machine import footer, machine_line

from mibound.neural import neural_estimate
from mibound.tasks.gaussian import gaussian

METHODS = ("nwj", "infonce", "smile")
BATCH = 128
HIDDEN = 256
EMBED = 32
LR = 5e-4


def split(x: np.ndarray, y: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """mibound's split rule (seeded permutation, 60/20/20), so both libraries see the same rows."""
    n = x.shape[0]
    n_val = math.floor(0.2 * n)
    n_test = math.floor(0.2 * n)
    order = np.random.default_rng(seed).permutation(n)
    parts = np.split(order, [n - n_val - n_test, n - n_test])
    return [(x[p], y[p]) for p in parts]


def run_mibound(
    x: np.ndarray, y: np.ndarray, method: str, steps: int, seed: int, critic: str
) -> dict:
    est = neural_estimate(
        x,
        y,
        method,
        seed=seed,
        critic=critic,
        hidden=HIDDEN,
        layers=2,
        embed_dim=EMBED,
        steps=steps,
        batch_size=BATCH,
        lr=LR,
        patience=steps,  # never stop early: exactly `steps` steps
        tau=5.0,
        device="cpu",
        threads=torch.get_num_threads(),
    )
    assert est.settings["steps_run"] == steps
    return {
        "value": est.value,
        "seconds": est.settings["train_seconds"],
        "cpu": est.settings["train_cpu_seconds"],  # the training loop, as for torch-mist
        "steps": est.settings["steps_run"],
    }


def run_torch_mist(parts: list, method: str, steps: int, seed: int, critic: str) -> dict:
    from torch_mist.estimators.factories import instantiate_estimator
    from torch_mist.utils.evaluation import evaluate_mi
    from torch_mist.utils.logging.logger.base import DummyLogger
    from torch_mist.utils.train.mi_estimator import train_mi_estimator

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = [
        (torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32))
        for a, b in parts
    ]
    options: dict = {"tau": 5.0} if method == "smile" else {}
    if critic == "separable":
        options["k_dim"] = EMBED
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # torch-mist initialises and shuffles from the global RNG
        estimator = instantiate_estimator(
            estimator_name=method,
            x_dim=x_tr.shape[1],
            y_dim=y_tr.shape[1],
            hidden_dims=[HIDDEN, HIDDEN],
            critic_type="separable" if critic == "separable" else "joint",
            # NWJ/SMILE: every other pair of the batch as negatives (mibound's off-diagonal).
            # InfoNCE: the whole batch including the positive (torch-mist's default, and the
            # InfoNCE bound; excluding the positive would no longer be capped at log B).
            neg_samples=0 if method == "infonce" else -1,
            **options,
        )
        logger = DummyLogger()
        sink = io.StringIO()
        start = time.perf_counter()
        cpu = time.process_time()
        with contextlib.redirect_stdout(sink):
            train_mi_estimator(
                estimator=estimator,
                train_data=(x_tr, y_tr),
                valid_data=(x_va, y_va),
                batch_size=BATCH,
                max_iterations=steps,
                optimizer_params={"lr": LR},
                verbose=False,
                logger=logger,
                early_stopping=True,
                patience=10**9,  # restore the best epoch, never stop early
                fast_train=True,
            )
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu  # training only
        value = evaluate_mi(estimator, data=(x_te, y_te), batch_size=BATCH)
    return {
        "value": float(value),
        "seconds": seconds,
        "cpu": cpu,
        "steps": int(logger._iteration),
    }


def concat_floor_seconds(repeats: int = 5) -> float:
    """Best-of time of the three float32 products of the concat critic's 256 -> 256 layer.

    One training step on B^2 pairs needs H1 W2^T (forward), G W2 (gradient of H1) and G^T H1
    (gradient of W2), each a (B^2 x H) by (H x H) product: the least arithmetic any
    implementation of the same network, batch and precision must do.
    """
    gen = torch.Generator().manual_seed(0)
    h1 = torch.randn(BATCH * BATCH, HIDDEN, generator=gen)
    grad = torch.randn(BATCH * BATCH, HIDDEN, generator=gen)
    w2 = torch.randn(HIDDEN, HIDDEN, generator=gen)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        h1 @ w2.T
        grad @ w2
        grad.T @ h1
        best = min(best, time.perf_counter() - start)
    return best


def profile(x: np.ndarray, y: np.ndarray, critic: str, steps: int) -> None:
    """Where one mibound NWJ training run spends its time (torch.profiler, CPU)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    run_mibound(x, y, "nwj", 20, 0, critic)  # warm-up
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        out = run_mibound(x, y, "nwj", steps, 0, critic)
    print(
        f"\nprofile: mibound nwj, {critic} critic, {steps} steps, "
        f"{out['steps'] / out['seconds']:.0f} steps/s"
    )
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="pairs (60%% train)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mi", type=float, default=2.0, help="true MI in nats")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument(
        "--critics", nargs="+", default=["separable"], choices=["separable", "concat"]
    )
    parser.add_argument("--profile", action="store_true", help="profile mibound instead")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    task = gaussian(5, mi=args.mi)
    x, y = task.sample(args.n, seed=args.seed)
    parts = split(x, y, args.seed)
    truth = task.mutual_information
    print(machine_line("torch_mist"))
    print(f"{args.threads} torch thread(s)")
    if args.profile:
        for critic in args.critics:
            profile(x, y, critic, args.steps)
        print(footer())
        return
    for critic in args.critics:
        compare(args, x, y, parts, truth, critic)
    print(footer())


def compare(args: argparse.Namespace, x, y, parts, truth: float, critic: str) -> None:
    shape = f"separable 2x{HIDDEN} -> {EMBED}" if critic == "separable" else f"concat 2x{HIDDEN}"
    print(
        f"\n5-d x 5-d Gaussian, true MI {truth:.3f} nats, N = {args.n} (60/20/20 split), "
        f"{shape} critic, batch {BATCH}, {args.steps} steps, "
        f"{args.rounds} interleaved rounds (medians)"
    )

    results: dict[tuple[str, str], list[dict]] = {}
    for r in range(args.rounds):
        for method in args.methods:
            order = ("mibound", "torch-mist") if (r % 2 == 0) else ("torch-mist", "mibound")
            for lib in order:
                seed = args.seed + r
                if lib == "mibound":
                    out = run_mibound(x, y, method, args.steps, seed, critic)
                else:
                    out = run_torch_mist(parts, method, args.steps, seed, critic)
                results.setdefault((method, lib), []).append(out)
                print(
                    f"  round {r} {method:8s} {lib:10s} value {out['value']:8.4f} "
                    f"{out['steps'] / out['seconds']:8.1f} steps/s (wall) "
                    f"{out['steps'] / out['cpu']:8.1f} steps/s (cpu)",
                    flush=True,
                )

    head = (
        f"{'critic':9s} {'method':8s} {'library':10s} {'steps/s':>8s} {'cpu st/s':>9s} "
        f"{'value':>7s} {'|err|':>6s} {'speed (paired)':>15s} {'cpu speed':>10s} "
        f"{'|err| ratio':>11s}"
    )
    print()
    print(head)
    print("-" * len(head))
    for method in args.methods:
        ours, theirs = results[(method, "mibound")], results[(method, "torch-mist")]
        stats = {}
        for lib, runs in (("mibound", ours), ("torch-mist", theirs)):
            stats[lib] = (
                statistics.median(o["steps"] / o["seconds"] for o in runs),
                statistics.median(o["steps"] / o["cpu"] for o in runs),
                statistics.median(o["value"] for o in runs),
                statistics.median(abs(o["value"] - truth) for o in runs),
            )
        # Paired by round (adjacent runs share the machine's load).
        paired = statistics.median(
            (a["steps"] / a["seconds"]) / (b["steps"] / b["seconds"])
            for a, b in zip(ours, theirs, strict=True)
        )
        cpu_ratio = statistics.median(
            (a["steps"] / a["cpu"]) / (b["steps"] / b["cpu"])
            for a, b in zip(ours, theirs, strict=True)
        )
        err_ratio = stats["torch-mist"][3] / max(stats["mibound"][3], 1e-9)
        for lib, (rate, cpu_rate, value, err) in stats.items():
            extra = (
                f"{paired:14.2f}x {cpu_ratio:9.2f}x {err_ratio:10.2f}x" if lib == "mibound" else ""
            )
            print(
                f"{critic:9s} {method:8s} {lib:10s} {rate:8.1f} {cpu_rate:9.1f} {value:7.4f} "
                f"{err:6.4f} {extra}"
            )
    if critic == "concat":
        floor = concat_floor_seconds()
        theirs = statistics.median(
            o["seconds"] / o["steps"] for m in args.methods for o in results[(m, "torch-mist")]
        )
        print(
            f"\narithmetic floor (concat): the three {BATCH * BATCH}x{HIDDEN}x{HIDDEN} matrix "
            f"products of one step's hidden-to-hidden layer alone (its forward product and the "
            f"two of its backward pass) take {floor * 1e3:.0f} ms here; torch-mist's whole step "
            f"takes {theirs * 1e3:.0f} ms, so at equal architecture, batch and precision no "
            f"implementation can run more than {theirs / floor:.2f}x torch-mist's steps per "
            "second on this machine"
        )
    print(
        "\nspeed (paired) = median over rounds of mibound steps/s / torch-mist steps/s (wall "
        "time of the training loop); cpu speed = the same with the process CPU time of the "
        "training loop (validation included, split and test evaluation not); |err| ratio = "
        "torch-mist median |value - truth| / mibound's (>= 1: mibound at least as accurate)"
    )


if __name__ == "__main__":
    main()
