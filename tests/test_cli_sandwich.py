"""End-to-end tests of ``mibound sandwich`` and ``mibound lautum`` (subprocess and in-process)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_runner import run_mibound
from mibound.cli import main

FACTORIES = """
import torch
from torch.distributions import Independent, Normal
from mibound.models import DecoderModel, LinearGaussian

def with_encoder():
    model = LinearGaussian.with_mutual_information(3.0, 2, 4)
    return model, model.posterior

def decoder():
    net = torch.nn.Linear(2, 4).double()
    prior = Independent(Normal(torch.zeros(2, dtype=torch.float64), 1.0), 1)
    return DecoderModel(lambda z: Independent(Normal(net(z), 0.5), 1), prior)

def wrong_type():
    return 42

def wrong_encoder():
    return LinearGaussian.with_mutual_information(3.0, 2, 4), "not an encoder"

def raises():
    raise RuntimeError("boom")

not_callable = 3
"""


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return run_mibound(*args, env={"OMP_NUM_THREADS": "1"})


@pytest.fixture
def factories(tmp_path: Path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(FACTORIES)
    return path


def test_builtin_linear_gaussian_json_with_the_exact_posterior() -> None:
    proc = run_cli(
        "sandwich",
        "linear-gaussian:k=2,d=4,mi=3",
        "--n",
        "500",
        "--k",
        "8",
        "--json",
        "--proposal",
        "exact",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["settings"]["proposal"] == "exact posterior p(z|x)"
    assert out["settings"]["model"] == "linear-gaussian:k=2,d=4,mi=3.0,sigma=1.0,seed=0"
    assert out["true_value"] == pytest.approx(3.0, abs=1e-9)
    assert abs(out["upper"] - out["lower"]) < 1e-9
    assert abs(out["lower"] - 3.0) < 4 * out["lower_stderr"]
    assert out["settings"]["k"] == 8 and out["settings"]["n"] == 500


def test_mixture_prior_table_and_file_factories(factories: Path) -> None:
    proc = run_cli(
        "sandwich", "mixture:c=3,d=2,sep=2", "--proposal", "prior", "--k", "32", "--n", "800"
    )
    assert proc.returncode == 0, proc.stderr
    for word in ("lower", "upper", "width", "truth", "Monte Carlo", "prior p(z)", "mixture:c=3"):
        assert word in proc.stdout, word
    proc = run_cli("sandwich", f"{factories}:with_encoder", "--n", "300", "--k", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["settings"]["proposal"] == "encoder from the factory"
    assert abs(out["upper"] - out["lower"]) < 1e-9


def test_decoder_factory_fits_an_encoder_and_lautum_runs(factories: Path) -> None:
    proc = run_cli(
        "sandwich", f"{factories}:decoder", "--fit-steps", "20", "--n", "300", "--k", "8", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["settings"]["proposal"].startswith("GaussianEncoder fitted for")
    assert out["settings"]["fit"]["steps"] == 20
    assert out["true_value"] is None
    assert out["lower"] <= out["upper"] + 4 * out["settings"]["width_stderr"]
    proc = run_cli(
        "lautum",
        "linear-gaussian:k=2,d=4,mi=2",
        "--n",
        "500",
        "--k",
        "8",
        "--json",
        "--proposal",
        "exact",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["quantity"] == "lautum information"
    assert abs(out["upper"] - out["lower"]) < 1e-9
    assert abs(out["lower"] - out["true_value"]) < 4 * out["lower_stderr"]


def test_error_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    proc = run_cli("sandwich", str(tmp_path / "missing.py") + ":f")
    assert proc.returncode == 2
    assert proc.stderr.startswith("mibound: error: MODEL: file not found")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sandwich", "gaussian:k=2"], "MODEL: expected linear-gaussian"),
        (["sandwich", "linear-gaussian:q=1"], "MODEL: unknown parameter 'q' for linear-gaussian"),
        (["sandwich", "linear-gaussian:k=two"], "MODEL: parameter k expects an integer"),
        (["sandwich", "linear-gaussian:k"], "MODEL: expected key=value"),
        (["sandwich", "linear-gaussian:k=5,d=2"], "MODEL: k, d: expected integers"),
        (["sandwich", "mixture:c=9,d=2"], "MODEL: c: expected at most"),
        (["sandwich", "{f}"], "MODEL: expected path/to/file.py:factory"),
        (["sandwich", "{f}:nothing"], "has no attribute 'nothing'"),
        (["sandwich", "{f}:not_callable"], "expected a callable"),
        (["sandwich", "{f}:wrong_type"], "returned int; expected a mibound.models"),
        (["sandwich", "{f}:wrong_encoder"], "returned an encoder of type str"),
        (["sandwich", "{f}:raises"], "raised RuntimeError: boom"),
        (["sandwich", "{f}:decoder", "--proposal", "exact"], "--proposal exact: DecoderModel"),
        (
            ["sandwich", "linear-gaussian:k=2,d=4", "--proposal", "exact", "--fit-steps", "10"],
            "--fit-steps: applies to --proposal fit or auto, not --proposal exact",
        ),
        (
            ["sandwich", "linear-gaussian:k=2,d=4", "--proposal", "prior", "--fit-steps", "10"],
            "--fit-steps: applies to",
        ),
        (["sandwich", "linear-gaussian:k=2,d=4", "--steps", "3"], "--steps: applies to"),
        (["sandwich", "linear-gaussian:k=2,d=4", "--method", "ais", "--k", "3"], "--k: applies"),
        (["sandwich", "linear-gaussian:k=2,d=4", "--k", "0"], "--k"),
        (["lautum", "mixture:c=2,d=2", "--proposal", "fit"], "--proposal fit: model:"),
    ],
)
def test_user_errors(
    args: list[str], message: str, factories: Path, capsys: pytest.CaptureFixture
) -> None:
    args = [a.replace("{f}", str(factories)) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("mibound: error:"), err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1


def test_cli_default_proposal_is_the_python_default() -> None:
    # `mibound sandwich MODEL` and `mibound.sandwich(model)` must give the same bounds.
    import mibound
    from mibound.models import LinearGaussian

    proc = run_cli("sandwich", "linear-gaussian:k=2,d=4,mi=3", "--n", "400", "--k", "16", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["settings"]["proposal"] == "prior p(z)"
    model = LinearGaussian.with_mutual_information(3.0, 2, 4, sigma=1.0, seed=0)
    bounds = mibound.sandwich(model, k=16, n=400, seed=0, progress=False)
    assert out["lower"] == pytest.approx(bounds.lower, abs=1e-9)
    assert out["upper"] == pytest.approx(bounds.upper, abs=1e-9)
