"""Every Bounds is checked for impossible values; sandwiches that lose precision say so."""

from __future__ import annotations

import math

import pytest
import torch

import mibound
from mibound.ais import ais_sandwich
from mibound.cli import main
from mibound.encoders import ExactPosterior
from mibound.models import LinearGaussian
from mibound.results import Bounds


def test_consistent_bounds_carry_no_note() -> None:
    assert Bounds(lower=1.0, upper=1.2, lower_stderr=0.01, upper_stderr=0.01).diagnostics == []
    # Within four standard errors: noise, not an inconsistency.
    assert Bounds(lower=1.03, upper=1.0, lower_stderr=0.01, upper_stderr=0.01).diagnostics == []


@pytest.mark.parametrize(
    ("fields", "start"),
    [
        ({"lower": 1.0, "upper": 0.5, "lower_stderr": 0.01, "upper_stderr": 0.01}, "inconsistent"),
        ({"lower": -3.0, "upper": -2.0, "lower_stderr": 0.1, "upper_stderr": 0.1}, "impossible"),
        ({"lower": math.nan, "upper": 1.0, "lower_stderr": 0.1, "upper_stderr": 0.1}, "non-finite"),
        ({"lower": 0.0, "upper": math.inf, "lower_stderr": 0.1, "upper_stderr": 0.1}, "non-finite"),
        ({"lower": 0.0, "upper": 1.0, "lower_stderr": math.nan, "upper_stderr": 0.1}, "non-finite"),
        ({"lower": -50.0, "upper": 2.0, "lower_stderr": 1.0, "upper_stderr": 0.1}, "far below 0"),
    ],
)
def test_impossible_bounds_are_flagged(fields: dict, start: str) -> None:
    notes = Bounds(**fields).diagnostics
    assert any(note.startswith(start) for note in notes), notes


def test_inconsistency_uses_the_paired_width_stderr() -> None:
    # Separate stderrs of 0.1 would hide a gap of 0.05, the paired width stderr 0.001 does not.
    bounds = Bounds(
        lower=1.05,
        upper=1.0,
        lower_stderr=0.1,
        upper_stderr=0.1,
        settings={"width_stderr": 0.001},
    )
    assert any(note.startswith("inconsistent") for note in bounds.diagnostics)


@pytest.mark.parametrize(("mi", "k"), [(160.0, 4), (200.0, 4), (1e6, 4), (40.0, 1)])
def test_models_beyond_float_resolution_are_refused(mi: float, k: int) -> None:
    with pytest.raises(ValueError, match=r"mi: .* nats over k = .*expected at most"):
        LinearGaussian.with_mutual_information(mi, k, 16)


def test_cli_large_mi_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    for spec in ("linear-gaussian:k=4,d=16,mi=200", "linear-gaussian:k=4,d=16,mi=1e6"):
        assert main(["sandwich", spec, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mibound: error: MODEL: mi:") and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_lost_precision_with_the_exact_posterior_is_flagged() -> None:
    # Built by hand past the limit: 40 nats in one direction, where the posterior's spread
    # (e^-40) is below float64's resolution of z. It used to return [-2477, 3262] silently.
    w = torch.zeros(4, 1, dtype=torch.float64)
    w[0, 0] = math.sqrt(math.expm1(80.0))
    model = LinearGaussian(w, 1.0)
    bounds = mibound.sandwich(model, ExactPosterior(model), k=8, n=200, progress=False)
    assert bounds.diagnostics[0].startswith("lost precision")
    # Within the limit the same check is silent and both sides equal the truth.
    fine = LinearGaussian.with_mutual_information(20.0, 1, 4)
    bounds = mibound.sandwich(fine, ExactPosterior(fine), k=8, n=200, progress=False)
    assert not any(d.startswith("lost precision") for d in bounds.diagnostics)
    assert bounds.upper - bounds.lower == pytest.approx(0.0, abs=1e-9)


def test_prior_proposal_note_only_when_the_sandwich_is_wide() -> None:
    narrow = LinearGaussian.with_mutual_information(0.01, 1, 2)
    bounds = mibound.sandwich(narrow, k=256, n=2000, progress=False)
    assert bounds.width < 0.05
    assert not any(d.startswith("proposal is the prior") for d in bounds.diagnostics)
    wide = LinearGaussian.with_mutual_information(8.0, 4, 16)
    bounds = mibound.sandwich(wide, k=16, n=500, progress=False)
    assert any(d.startswith("proposal is the prior") for d in bounds.diagnostics)


def test_ais_prior_note_not_at_zero_mi() -> None:
    narrow = LinearGaussian.with_mutual_information(0.01, 1, 2)
    bounds = ais_sandwich(narrow, n=64, steps=10, chains=2, progress=False)
    assert bounds.width < 0.05
    assert not any(d.startswith("q is the prior") for d in bounds.diagnostics)
