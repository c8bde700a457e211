"""Bad inputs through the Python API and the CLI: a clear error naming the argument, never a
traceback of another type, never a silent NaN; plus a property test over random data."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mibound
from mibound._checks import InputError
from mibound.cli import main
from mibound.io import read_pair
from mibound.models import LinearGaussian

RNG = np.random.default_rng(0)
X = RNG.standard_normal((200, 2))
Y = X[:, :1] + RNG.standard_normal((200, 1))
NO_CUDA = not torch.cuda.is_available()


def _model() -> LinearGaussian:
    return LinearGaussian.with_mutual_information(2.0, 2, 4)


def _nullable_frame() -> object:
    pd = pytest.importorskip("pandas")
    values = pd.array([1, None, *range(2, 200)], dtype="Int64")
    return pd.DataFrame({"a": values})


def _memory_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    import mibound._memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 2**20)
    mibound.ksg(X, Y, k=90, n_jobs=10**5)


# (id, call, exception type, the argument the message must name)
API_CASES: list[tuple[str, Callable[..., object], type, str]] = [
    ("ksg k=0", lambda: mibound.ksg(X, Y, k=0), ValueError, "k: "),
    ("ksg k float", lambda: mibound.ksg(X, Y, k=2.5), ValueError, "k: "),
    ("ksg k >= n/2", lambda: mibound.ksg(X, Y, k=100), ValueError, "k: "),
    ("ksg seed str", lambda: mibound.ksg(X, Y, seed="abc"), TypeError, "seed: "),
    ("ksg seed float", lambda: mibound.ksg(X, Y, seed=1.5), TypeError, "seed: "),
    ("ksg seed negative", lambda: mibound.ksg(X, Y, seed=-1), ValueError, "seed: "),
    ("ksg noise negative", lambda: mibound.ksg(X, Y, noise=-1.0), ValueError, "noise: "),
    ("ksg subsamples=1", lambda: mibound.ksg(X, Y, subsamples=1), ValueError, "subsamples: "),
    ("ksg backend", lambda: mibound.ksg(X, Y, backend="fortran"), ValueError, "backend: "),
    ("ksg standardize", lambda: mibound.ksg(X, Y, standardize="yes"), TypeError, "standardize: "),
    ("ksg y copy of x", lambda: mibound.ksg(X, 3 * X[:, 1] + 1), ValueError, "x, y: "),
    ("estimate method", lambda: mibound.estimate(X, Y, method="foo"), ValueError, "method: "),
    ("estimate seed str", lambda: mibound.estimate(X, Y, "ksg", seed="abc"), TypeError, "seed: "),
    ("estimate seed -1", lambda: mibound.estimate(X, Y, "ksg", seed=-1), ValueError, "seed: "),
    ("x None", lambda: mibound.estimate(None, Y, "ksg"), TypeError, "x: "),
    ("x strings", lambda: mibound.estimate([["a"], ["b"]] * 10, Y[:20], "ksg"), TypeError, "x: "),
    ("mismatched n", lambda: mibound.estimate(X, Y[:150], "ksg"), ValueError, "x, y: "),
    (
        "nan in y",
        lambda: mibound.estimate(X, np.r_[Y[:-1], [[np.nan]]], "ksg"),
        ValueError,
        "y: ",
    ),
    (
        "constant column",
        lambda: mibound.estimate(np.c_[X, np.ones(200)], Y, "ksg"),
        ValueError,
        "x: ",
    ),
    ("3-d x", lambda: mibound.estimate(X.reshape(200, 2, 1), Y, "ksg"), ValueError, "x: "),
    ("complex x", lambda: mibound.estimate(X + 1j, Y, "ksg"), TypeError, "x: "),
    ("nullable NA", lambda: mibound.estimate(_nullable_frame(), Y, "ksg"), ValueError, "x: "),
    ("gaussian option", lambda: mibound.estimate(X, Y, "gaussian", k=3), TypeError, "options: "),
    (
        "gaussian bias_correction",
        lambda: mibound.gaussian(X, Y, bias_correction="no"),
        TypeError,
        "bias_correction: ",
    ),
    ("gaussian n <= d", lambda: mibound.gaussian(X[:3], Y[:3]), ValueError, "x, y: "),
    ("neural steps=0", lambda: mibound.estimate(X, Y, "smile", steps=0), ValueError, "steps: "),
    (
        "neural batch too large",
        lambda: mibound.estimate(X, Y, "smile", batch_size=500, steps=2),
        ValueError,
        "batch_size: ",
    ),
    (
        "neural dtype",
        lambda: mibound.estimate(X, Y, "smile", dtype="float16"),
        ValueError,
        "dtype: ",
    ),
    pytest.param(
        "neural cuda",
        lambda: mibound.estimate(X, Y, "smile", device="cuda", steps=2),
        ValueError,
        "device: ",
        marks=pytest.mark.skipif(not NO_CUDA, reason="CUDA is available"),
    ),
    pytest.param(
        "sandwich cuda",
        lambda: mibound.sandwich(_model(), device="cuda", n=10, k=2),
        ValueError,
        "device: ",
        marks=pytest.mark.skipif(not NO_CUDA, reason="CUDA is available"),
    ),
    (
        "sandwich float16",
        lambda: mibound.sandwich(_model(), dtype=torch.float16, n=10, k=2),
        ValueError,
        "dtype: ",
    ),
    (
        "sandwich seed",
        lambda: mibound.sandwich(_model(), seed="abc", n=10, k=2),
        TypeError,
        "seed: ",
    ),
    ("sandwich model", lambda: mibound.sandwich("model", n=10, k=2), TypeError, "model: "),
    (
        "huge mi",
        lambda: LinearGaussian.with_mutual_information(1e6, 4, 16),
        ValueError,
        "mi: ",
    ),
    (
        "mi beyond float64",
        lambda: LinearGaussian.with_mutual_information(200.0, 4, 16),
        ValueError,
        "mi: ",
    ),
    ("negative mi", lambda: LinearGaussian.with_mutual_information(-1.0, 2, 4), ValueError, "mi: "),
    ("k > d", lambda: LinearGaussian.with_mutual_information(1.0, 5, 2), ValueError, "k, d: "),
    (
        "permutations",
        lambda: mibound.independence_test(X, Y, permutations=5),
        ValueError,
        "permutations: ",
    ),
    (
        "statistic",
        lambda: mibound.independence_test(X, Y, statistic="smile"),
        ValueError,
        "statistic: ",
    ),
]


@pytest.mark.parametrize(
    ("name", "call", "error", "argument"),
    [case if hasattr(case, "values") else pytest.param(*case, id=case[0]) for case in API_CASES],
)
def test_api_mistakes(name: str, call: Callable, error: type, argument: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, InputError), type(info.value)
    assert str(info.value).startswith(argument) or f" {argument}" in str(info.value), info.value


def test_memory_refusal_names_k(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"^k: KSG with k = 90 .* GiB") as info:
        _memory_refusal(monkeypatch)
    assert isinstance(info.value, InputError)


def test_memory_refusal_names_batch_size_for_the_concat_critic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mibound._memory as memory
    from mibound.neural import neural_estimate

    # B = 256, hidden 256, 2 ReLU layers: one kept (B^2, hidden) float32 layer is 64 MiB.
    monkeypatch.setattr(memory, "available_bytes", lambda: 70 * 2**20)
    x = np.random.default_rng(0).standard_normal((3000, 2))
    with pytest.raises(
        ValueError, match=r"^batch_size: the concat critic on all 256\^2 pairs"
    ) as info:
        neural_estimate(x, x[:, ::-1].copy(), "nwj", critic="concat", batch_size=256, steps=1)
    assert isinstance(info.value, InputError)
    assert "critic='separable'" in str(info.value)
    # The separable critic needs no such memory and is not refused.
    est = neural_estimate(x, x[:, ::-1].copy(), "nwj", batch_size=256, steps=2, eval_every=1)
    assert math.isfinite(est.value)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(1)
    table = rng.standard_normal((300, 3))
    paths = {"csv": root / "ok.csv"}
    np.savetxt(paths["csv"], table, delimiter=",", header="a,b,c", comments="")
    paths["holes"] = root / "holes.csv"
    paths["holes"].write_text("a,b\n1,2\n,3\n4,5\n6,7\n8,9\n1,3\n")
    paths["text"] = root / "text.csv"
    paths["text"].write_text("a,b,label\n" + "".join(f"{i},{i % 7},w{i}\n" for i in range(60)))
    paths["npz"] = root / "broken.npz"
    paths["npz"].write_bytes(b"PK\x03\x04 not a zip archive")
    paths["xlsx"] = root / "sheet.xlsx"
    paths["xlsx"].write_text("x")
    return paths


# (id, arguments with {csv}-style placeholders, the text the one-line message must contain)
CLI_CASES: list[tuple[str, list[str], str]] = [
    ("--seed negative", ["estimate", "{csv}", "-m", "ksg", "--seed", "-5"], "--seed"),
    ("--seed text", ["estimate", "{csv}", "-m", "ksg", "--seed", "abc"], "--seed"),
    ("--x empty", ["estimate", "{csv}", "-m", "ksg", "--x", ""], "--x"),
    ("--y empty", ["estimate", "{csv}", "-m", "ksg", "--y", " "], "--y"),
    ("--x unknown", ["estimate", "{csv}", "-m", "ksg", "--x", "zz"], "--x"),
    ("--x overlaps --y", ["estimate", "{csv}", "-m", "ksg", "--x", "a", "--y", "a"], "--x, --y"),
    ("--k zero", ["estimate", "{csv}", "-m", "ksg", "--k", "0"], "--k"),
    ("--k huge", ["estimate", "{csv}", "-m", "ksg", "--k", "100000000"], "k: "),
    ("--method", ["estimate", "{csv}", "--method", "bogus"], "--method"),
    ("--k with gaussian", ["estimate", "{csv}", "-m", "gaussian", "--k", "3"], "--k"),
    ("--tau with ksg", ["estimate", "{csv}", "-m", "ksg", "--tau", "3"], "--tau"),
    ("--steps zero", ["estimate", "{csv}", "-m", "smile", "--steps", "0"], "--steps"),
    ("missing file", ["estimate", "{csv}.missing", "-m", "ksg"], "FILE"),
    ("unknown suffix", ["estimate", "{xlsx}", "-m", "ksg"], "FILE"),
    ("corrupt npz", ["estimate", "{npz}", "--x", "a", "--y", "b", "-m", "ksg"], "broken.npz"),
    ("missing values", ["estimate", "{holes}", "-m", "ksg"], "--dropna"),
    ("text column selected", ["estimate", "{text}", "--x", "label", "--y", "b"], "'label'"),
    ("sandwich mi=200", ["sandwich", "linear-gaussian:k=4,d=16,mi=200", "-q"], "mi: "),
    ("sandwich mi=1e6", ["sandwich", "linear-gaussian:k=4,d=16,mi=1e6", "-q"], "mi: "),
    (
        "--fit-steps with exact",
        ["sandwich", "linear-gaussian:k=2,d=4", "--proposal", "exact", "--fit-steps", "10"],
        "--fit-steps",
    ),
    ("sandwich --seed", ["sandwich", "linear-gaussian:k=2,d=4", "--seed", "-1"], "--seed"),
    ("independence --permutations", ["independence", "{csv}", "--permutations", "3"], "--perm"),
    ("independence --statistic", ["independence", "{csv}", "--statistic", "smile"], "--statistic"),
]


@pytest.mark.parametrize(("name", "args", "argument"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_mistakes(
    name: str,
    args: list[str],
    argument: str,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MIBOUND_DEBUG", raising=False)
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("mibound: error: ") and "Traceback" not in captured.err
    assert argument in lines[0], lines[0]


@pytest.mark.skipif(not NO_CUDA, reason="CUDA is available")
def test_cli_sandwich_without_cuda(capsys: pytest.CaptureFixture) -> None:
    assert main(["sandwich", "linear-gaussian:k=2,d=4", "--device", "cuda", "-q"]) == 2
    assert "device: 'cuda' requested but CUDA is not available" in capsys.readouterr().err


def test_read_pair_dropna_must_be_a_bool(files: dict[str, Path]) -> None:
    with pytest.raises(TypeError, match="^dropna: expected True or False"):
        read_pair(files["csv"], dropna="yes")


def test_there_are_at_least_forty_distinct_mistakes() -> None:
    assert len(API_CASES) + len(CLI_CASES) + 3 >= 40


# --------------------------------------------------------------------------------------------
# Property test: random shapes, dtypes, ties, duplicates and scales.
# --------------------------------------------------------------------------------------------


@st.composite
def samples(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 60))
    dx, dy = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dx))
    y = draw(st.sampled_from([0.0, 0.5, 1.0])) * x[:, :1] + rng.standard_normal((n, dy))
    if draw(st.booleans()):  # ties: a coarse grid
        step = draw(st.sampled_from([0.5, 1.0, 3.0]))
        x, y = np.round(x / step), np.round(y / step)
    if draw(st.booleans()):  # duplicated rows
        copies = draw(st.integers(2, 4))
        x, y = np.repeat(x, copies, axis=0)[:n], np.repeat(y, copies, axis=0)[:n]
    scale = draw(st.sampled_from([1.0, 1e-300, 1e-8, 1e8, 1e300]))
    x = x * scale
    kind = draw(st.sampled_from(["float64", "float32", "int64", "bool"]))
    if kind == "float32":
        with np.errstate(over="ignore"):  # may overflow to inf: then an error is right
            x = x.astype(np.float32)
    elif kind in ("int64", "bool"):
        x = (x > 0) if kind == "bool" else np.clip(np.round(x), -1e15, 1e15).astype(np.int64)
    return x, y


def _check(call: Callable[[], mibound.results.Estimate]) -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # warnings would leak
        try:
            result = call()
        except (ValueError, TypeError) as err:
            assert isinstance(err, InputError), f"{type(err).__name__}: {err}"
            assert ":" in str(err)
            return
    assert math.isfinite(result.value), result
    assert isinstance(result.diagnostics, list)
    if not math.isfinite(result.stderr):
        assert any("standard error" in d for d in result.diagnostics), result
        assert math.isnan(result.stderr)


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=samples(), k=st.integers(1, 6))
def test_ksg_property(data: tuple[np.ndarray, np.ndarray], k: int) -> None:
    x, y = data
    _check(lambda: mibound.ksg(x, y, k=k))


@settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=samples(), method=st.sampled_from(["ksg", "gaussian"]))
def test_estimate_property(data: tuple[np.ndarray, np.ndarray], method: str) -> None:
    x, y = data
    _check(lambda: mibound.estimate(x, y, method=method))


@settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=samples())
def test_neural_estimate_property(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    x, y = np.tile(x, (6, 1))[:300], np.tile(y, (6, 1))[:300]  # enough rows to train at all
    _check(
        lambda: mibound.estimate(
            x, y, method="smile", steps=4, eval_every=2, hidden=8, device="cpu", progress=False
        )
    )
