"""How much information does a VAE's decoder carry? Posterior collapse measured with sandwiches.

A small VAE (Gaussian encoder and decoder, latent dimension 6) is trained on scikit-learn's
8x8 digits for several KL weights β (the β-VAE objective E log p(x|z) − β KL(q(z|x) || p(z))).
For each trained decoder we report:

- the usual "rate" E_x KL(q(z|x) || p(z)) on the data set: an upper bound on the MI of the
  *encoder's* joint q(z|x) p_data(x), and the number VAE papers plot to diagnose collapse;
- the MI of the *decoder's* own generative model p(z) p(x|z), sandwiched between the SNIS
  lower and upper bounds of mibound (proposal: the VAE's encoder, fine-tuned on samples of the
  decoder with ``fit_encoder``, IWAE objective), and the AIS/BDMC sandwich started from that
  encoder.

A collapsed decoder ignores z: its MI is near zero, and the sandwich proves it (both sides near
zero), whatever the encoder does. With a small β the decoder uses z and its MI is large.

Run: ``python examples/vae_posterior_collapse.py`` (about a minute or two on two cores);
``--quick`` for a tiny smoke run; ``--out`` for the plot's path.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.distributions import Independent, Normal, kl_divergence

import mibound
from mibound.encoders import GaussianEncoder, fit_encoder
from mibound.models import DecoderModel


class Decoder(nn.Module):
    """z -> Independent(Normal(mean(z), σ), 1) over the 64 pixels, with a learned global σ."""

    def __init__(self, z_dim: int, x_dim: int = 64, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, x_dim),
        )
        self.log_sigma = nn.Parameter(torch.tensor(math.log(0.3)))

    def forward(self, z: Tensor) -> Independent:
        mean = torch.sigmoid(self.net(z))
        sigma = (self.log_sigma.exp() + 0.02).expand_as(mean)  # floor: no degenerate pixels
        return Independent(Normal(mean, sigma), 1)


def load_data(seed: int) -> Tensor:
    from sklearn.datasets import load_digits

    x = torch.as_tensor(load_digits().data, dtype=torch.float32) / 16.0
    g = torch.Generator().manual_seed(seed)
    return x[torch.randperm(len(x), generator=g)]


def train_vae(
    x: Tensor, beta: float, z_dim: int, epochs: int, seed: int
) -> tuple[GaussianEncoder, Decoder, float, float]:
    """β-VAE training by Adam; returns the encoder, the decoder, the rate and the distortion."""
    torch.manual_seed(seed)  # parameter initialisation only (examples may seed globally)
    encoder, decoder = GaussianEncoder(x.shape[1], z_dim), Decoder(z_dim, x.shape[1])
    params = [*encoder.parameters(), *decoder.parameters()]
    optimiser = torch.optim.Adam(params, lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    prior = Independent(Normal(torch.zeros(z_dim), torch.ones(z_dim)), 1)
    batch = 128
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=g)
        warm = min(1.0, (epoch + 1) / max(1, epochs // 4))  # KL warm-up over the first quarter
        for start in range(0, len(x), batch):
            xb = x[order[start : start + batch]]
            q = encoder(xb)
            z = q.rsample()
            loss = -(decoder(z).log_prob(xb) - warm * beta * kl_divergence(q, prior)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        q = encoder(x)
        rate = float(kl_divergence(q, prior).mean())
        distortion = float(-decoder(q.sample()).log_prob(x).mean())
    return encoder, decoder, rate, distortion


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--betas", type=float, nargs="+", default=[0.1, 1.0, 4.0, 30.0])
    parser.add_argument("--latent-dim", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--k", type=int, default=1024, help="SNIS proposal samples")
    parser.add_argument("--n", type=int, default=512, help="simulated data points per sandwich")
    parser.add_argument("--fit-steps", type=int, default=1500, help="encoder fine-tuning steps")
    parser.add_argument("--ais-steps", type=int, default=100, help="AIS steps T (0: no AIS)")
    parser.add_argument("--ais-chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny networks)")
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    parser.add_argument("--out", type=Path, default=Path("vae_collapse.png"))
    args = parser.parse_args(argv)
    if args.quick:
        args.betas, args.epochs, args.k, args.n = [0.5, 30.0], 3, 64, 64
        args.fit_steps, args.ais_steps, args.ais_chains = 20, 10, 2
    torch.set_num_threads(args.threads)

    x = load_data(args.seed)
    prior = Independent(Normal(torch.zeros(args.latent_dim), torch.ones(args.latent_dim)), 1)
    print(
        f"digits: {tuple(x.shape)}; latent dim {args.latent_dim}; {args.epochs} epochs; "
        f"SNIS K={args.k}, n={args.n}; AIS T={args.ais_steps}, M={args.ais_chains}"
    )
    rows = []
    for beta in args.betas:
        start = time.perf_counter()
        encoder, decoder, rate, distortion = train_vae(
            x, beta, args.latent_dim, args.epochs, args.seed
        )
        for p in decoder.parameters():
            p.requires_grad_(False)
        model = DecoderModel(decoder, prior)
        # The VAE's encoder was trained on real digits; the sandwich draws x from the decoder,
        # so fine-tune a copy on the model's own samples (it stays a valid proposal either way).
        proposal = copy.deepcopy(encoder)
        train_seconds = time.perf_counter() - start
        clock = time.perf_counter()
        if args.fit_steps > 0:
            # The IWAE objective (mass-covering) was far more robust here than the multisample
            # one, whose early steps can shrink q below the posterior's width.
            fit_encoder(
                model, proposal, k=16, steps=args.fit_steps, seed=args.seed, objective="iwae"
            )
        proposal.eval()
        fit_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        snis = mibound.sandwich(model, proposal, k=args.k, n=args.n, seed=args.seed)
        snis_seconds = time.perf_counter() - clock
        ais, ais_seconds = None, math.nan
        if args.ais_steps > 0:
            clock = time.perf_counter()
            ais = mibound.ais_sandwich(
                model,
                proposal,
                n=min(args.n, 256),
                steps=args.ais_steps,
                chains=args.ais_chains,
                seed=args.seed,
            )
            ais_seconds = time.perf_counter() - clock
        rows.append(
            {
                "beta": beta,
                "rate": rate,
                "distortion": distortion,
                "sigma": float(decoder.log_sigma.exp()) + 0.02,
                "snis": snis,
                "ais": ais,
                "seconds": time.perf_counter() - start,
                "times": (train_seconds, fit_seconds, snis_seconds, ais_seconds),
            }
        )

    head = (
        f"{'beta':>6} {'rate E KL':>10} {'distortion':>10} {'sigma':>6} "
        f"{'SNIS lower':>10} {'SNIS upper':>10} {'se':>5} {'AIS lower':>10} {'AIS upper':>10} "
        f"{'se':>5} {'s':>6} {'train':>6} {'fit q':>6} {'SNIS':>6} {'AIS':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ais = r["ais"]
        ais_cols = (
            f"{ais.lower:10.3f} {ais.upper:10.3f} {ais.lower_stderr:5.2f}"
            if ais
            else f"{'-':>10} {'-':>10} {'-':>5}"
        )
        print(
            f"{r['beta']:6.2f} {r['rate']:10.3f} {r['distortion']:10.2f} {r['sigma']:6.3f} "
            f"{r['snis'].lower:10.3f} {r['snis'].upper:10.3f} {r['snis'].lower_stderr:5.2f} "
            f"{ais_cols} {r['seconds']:6.1f} " + " ".join(f"{t:6.1f}" for t in r["times"])
        )
    print(
        "rate: E_x KL(q(z|x) || p(z)) on the digits (nats). SNIS/AIS: lower and upper bounds on "
        "I(X; Z) of the decoder's model p(z) p(x|z); se: standard error of each side over the "
        "simulated data points (SNIS and AIS use different simulated data); s: seconds for the "
        "row, split into training the VAE, fitting the proposal q and each sandwich"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    betas = [r["beta"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(betas, [r["rate"] for r in rows], "o-", label="rate E KL(q(z|x) || p(z))")
    lo = [r["snis"].lower for r in rows]
    up = [r["snis"].upper for r in rows]
    ax.fill_between(betas, lo, up, alpha=0.3, color="C1", label="decoder MI: SNIS sandwich")
    ax.plot(betas, lo, "^-", color="C1", ms=4)
    ax.plot(betas, up, "v-", color="C1", ms=4)
    if all(r["ais"] is not None for r in rows):
        ais_lo = [r["ais"].lower for r in rows]
        ais_up = [r["ais"].upper for r in rows]
        ax.vlines(betas, ais_lo, ais_up, color="C2", lw=3, label="decoder MI: AIS/BDMC")
        ax.plot(betas + betas, ais_lo + ais_up, "_", color="C2", ms=12)
    ax.set_xscale("log")
    ax.set_xlabel("KL weight β")
    ax.set_ylabel("nats")
    ax.set_title("VAE on digits: posterior collapse")
    ax.legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"plot: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
