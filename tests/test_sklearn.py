"""Tests of mibound.sklearn: the scikit-learn drop-ins agree with scikit-learn where defined."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from mibound import sklearn as ms

fs = pytest.importorskip("sklearn.feature_selection")


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    X = np.column_stack(
        [
            labels + rng.standard_normal(n),
            rng.standard_normal(n),
            labels % 2,  # discrete
            rng.integers(0, 4, n),  # discrete, independent
            np.exp(rng.standard_normal(n)) * (labels + 1),
        ]
    )
    y = X[:, 0] ** 2 + 0.3 * rng.standard_normal(n)
    return X, y, labels


@pytest.mark.parametrize("discrete", [False, [2, 3], np.array([False, False, True, True, False])])
def test_classif_equals_scikit_learn(discrete) -> None:
    X, _, labels = _data()
    ours = ms.mutual_info_classif(X, labels, discrete_features=discrete, random_state=0)
    theirs = fs.mutual_info_classif(X, labels, discrete_features=discrete, random_state=0)
    tie_free = [0, 1, 4]  # integer columns read as continuous depend on the tie-breaking noise
    np.testing.assert_allclose(ours[tie_free], theirs[tie_free], atol=1e-9)
    np.testing.assert_allclose(ours, theirs, atol=1e-9 if discrete is not False else 0.02)


@pytest.mark.parametrize("discrete", [False, [2, 3]])
def test_regression_equals_scikit_learn(discrete) -> None:
    X, y, _ = _data()
    ours = ms.mutual_info_regression(X, y, discrete_features=discrete, random_state=1)
    theirs = fs.mutual_info_regression(X, y, discrete_features=discrete, random_state=1)
    tie_free = [0, 1, 4]
    np.testing.assert_allclose(ours[tie_free], theirs[tie_free], atol=1e-9)
    np.testing.assert_allclose(ours, theirs, atol=1e-9 if discrete is not False else 0.02)
    assert ours[0] > 0.5 and ours[1] < 0.03 and np.all(ours >= 0)  # clipped, as scikit-learn


def test_sparse_input_is_discrete_by_default() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    _, _, labels = _data(600)
    rng = np.random.default_rng(1)
    X = sparse.csr_matrix(
        np.column_stack([labels * (rng.random(600) < 0.8), rng.integers(0, 2, 600)])
    )
    ours = ms.mutual_info_classif(X, labels, random_state=0)
    np.testing.assert_allclose(ours, fs.mutual_info_classif(X, labels, random_state=0), atol=1e-12)


def test_select_k_best_with_partial() -> None:
    feature_selection = pytest.importorskip("sklearn.feature_selection")
    X, _, labels = _data()
    selector = feature_selection.SelectKBest(
        partial(ms.mutual_info_classif, random_state=0, discrete_features=[2, 3]), k=2
    ).fit(X, labels)
    assert selector.get_support().tolist() == [True, False, True, False, False]


def test_seeds_threads_and_stderr() -> None:
    X, y, _ = _data(1500)
    a = ms.mutual_info_regression(X, y, random_state=3, n_jobs=1)
    b = ms.mutual_info_regression(X, y, random_state=3, n_jobs=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ms.mutual_info_regression(X, y), ms.mutual_info_regression(X, y))
    seeded = ms.mutual_info_regression(X, y, random_state=np.random.RandomState(0))
    assert seeded.shape == (5,)
    raw, se = ms.mutual_info_regression(X, y, random_state=3, return_stderr=True, clip=False)
    np.testing.assert_array_equal(np.maximum(raw, 0), a)
    assert raw[1] < 0 and np.all(se > 0) and np.all(np.isfinite(se))


def test_stderr_matches_the_spread_over_seeds() -> None:
    values, stderrs = [], []
    for seed in range(30):
        X, y, _ = _data(1000, seed=seed)
        mi, se = ms.mutual_info_regression(X[:, :1], y, random_state=seed, return_stderr=True)
        values.append(mi[0])
        stderrs.append(se[0])
    assert 0.6 < np.mean(stderrs) / np.std(values, ddof=1) < 1.6


def test_values_match_the_closed_form() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((20000, 1))
    y = 0.8 * x[:, 0] + 0.6 * rng.standard_normal(20000)
    mi, se = ms.mutual_info_regression(x, y, random_state=0, return_stderr=True)
    assert abs(mi[0] - (-0.5 * math.log(1 - 0.64))) < 4 * se[0] + 0.01


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda X, y, c: ms.mutual_info_classif(X, y), ValueError, "y: expected class labels"),
        (
            lambda X, y, c: ms.mutual_info_regression(X, y[:10]),
            ValueError,
            "X, y: expected the same",
        ),
        (lambda X, y, c: ms.mutual_info_regression(X[:, 0], y), ValueError, "X: expected shape"),
        (
            lambda X, y, c: ms.mutual_info_regression(X, y, discrete_features="yes"),
            ValueError,
            "discrete_features: expected 'auto'",
        ),
        (
            lambda X, y, c: ms.mutual_info_regression(X, y, discrete_features=[9]),
            ValueError,
            "discrete_features: index out of range",
        ),
        (
            lambda X, y, c: ms.mutual_info_regression(X, y, n_neighbors=0),
            ValueError,
            "n_neighbors: expected a positive integer",
        ),
        (
            lambda X, y, c: ms.mutual_info_regression(X, y, random_state="a"),
            TypeError,
            "random_state: expected None",
        ),
        (lambda X, y, c: ms.mutual_info_regression(X, y, n_jobs=0), ValueError, "n_jobs"),
    ],
)
def test_bad_input_names_the_argument(call, error, match) -> None:
    X, y, labels = _data(200)
    with pytest.raises(error, match=match):
        call(X, y, labels)
