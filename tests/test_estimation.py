"""Tests of mibound.estimate: dispatch, input validation and input types."""

from __future__ import annotations

import numpy as np
import pytest

import mibound
from mibound.estimation import METHODS, NEURAL_METHODS, estimate


def data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    return x, x + rng.standard_normal((n, 2))


def test_public_names() -> None:
    assert mibound.estimate is estimate
    assert mibound.ksg(*data()).method == "ksg"
    assert mibound.gaussian(*data()).method == "gaussian"


def test_dispatch_to_ksg_and_gaussian() -> None:
    x, y = data()
    assert estimate(x, y, method="ksg", seed=3, k=4).value == mibound.ksg(x, y, k=4, seed=3).value
    assert estimate(x, y, method="KSG").settings["k"] == 3
    assert estimate(x, y, method="gaussian").value == mibound.gaussian(x, y).value


def test_unknown_method_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"expected one of auto, nwj, .*ksg, gaussian.*'foo'"):
        estimate(*data(), method="foo")


def test_gaussian_takes_no_options() -> None:
    with pytest.raises(
        TypeError, match="options: method .gaussian. takes only bias_correction, got k"
    ):
        estimate(*data(), method="gaussian", k=3)


@pytest.mark.parametrize("method", NEURAL_METHODS)
def test_dispatch_to_neural(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def neural_estimate(x, y, method, *, seed, **options):
        calls.append((x, y, method, seed, options))
        return "sentinel"

    import mibound.neural

    monkeypatch.setattr(mibound.neural, "neural_estimate", neural_estimate)
    x, y = data()
    assert estimate(x.tolist(), y, method=method, seed=5, steps=10) == "sentinel"
    (cx, cy, cmethod, cseed, coptions) = calls[0]
    assert np.array_equal(cx, x) and cx.dtype == np.float64 and cy.shape == (300, 2)
    assert (cmethod, cseed, coptions) == (method, 5, {"steps": 10})


def test_default_method_is_auto() -> None:
    import inspect

    assert inspect.signature(estimate).parameters["method"].default == "auto"
    assert set(METHODS) == {"auto", *NEURAL_METHODS, "ksg", "gaussian"}


def _bad_inputs() -> list:
    x, y = data(50)
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"a": x[:, 0], "label": ["u"] * 49 + [1.5]}, dtype=object)
    nan_x = x.copy()
    nan_x[7, 1] = np.nan
    inf_y = y.copy()
    inf_y[3, 0] = np.inf
    constant = x.copy()
    constant[:, 1] = 4.0
    return [
        ("different n", x, y[:40], ValueError, "x, y: expected the same number"),
        ("nan", nan_x, y, ValueError, "x: expected finite values.*row 7"),
        ("inf", x, inf_y, ValueError, "y: expected finite values"),
        ("mixed column", frame, y, TypeError, "x: column 'label' mixes categories and numbers"),
        ("strings", np.array(["a"] * 50), y, TypeError, "x: expected numeric data"),
        ("zero variance", constant, y, ValueError, r"x: column\(s\) \[1\] are constant"),
        ("3-d", x, np.zeros((50, 2, 2)), ValueError, r"y: expected shape \(n,\) or \(n, d\)"),
        ("none", None, y, TypeError, "x: expected an array.*None"),
    ]


@pytest.mark.parametrize("method", ["auto", "ksg", "gaussian", "smile"])
@pytest.mark.parametrize("case", range(8))
def test_bad_inputs_name_the_argument(method: str, case: int) -> None:
    _, x, y, error, match = _bad_inputs()[case]
    with pytest.raises(error, match=match):
        estimate(x, y, method=method)


@pytest.mark.parametrize(
    ("method", "n", "options", "match"),
    [
        ("ksg", 3, {}, "k: expected fewer than N / 2 = 1.5 neighbours, got k = 3"),
        ("ksg", 6, {"k": 6}, "k: expected fewer than N / 2 = 3 neighbours, got k = 6"),
        ("ksg", 12, {"k": 6}, "k: expected fewer than N / 2 = 6 neighbours, got k = 6"),
        ("gaussian", 4, {}, r"x, y: .*n > d_x \+ d_y = 4, got n = 4"),
        ("gaussian", 1, {}, "x: expected at least 2 samples"),
    ],
)
def test_too_few_samples_for_the_method(method: str, n: int, options: dict, match: str) -> None:
    x, y = data(n, seed=1)
    with pytest.raises(ValueError, match=match):
        estimate(x, y, method=method, **options)


@pytest.mark.parametrize("method", ["ksg", "gaussian"])
def test_numpy_torch_pandas_give_identical_results(method: str) -> None:
    torch = pytest.importorskip("torch")
    pandas = pytest.importorskip("pandas")
    x, y = data()
    reference = estimate(x, y, method=method).to_dict()
    for xx, yy in [
        (torch.from_numpy(x), torch.from_numpy(y)),
        (pandas.DataFrame(x, columns=["a", "b"]), pandas.DataFrame(y)),
    ]:
        assert estimate(xx, yy, method=method).to_dict() == reference
    one_d = estimate(x[:, 0], pandas.Series(y[:, 0]), method=method).to_dict()
    assert one_d == estimate(x[:, :1], y[:, :1], method=method).to_dict()
