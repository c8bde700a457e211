r"""Neural black-box MI estimators: a critic trained on one split, reported on another.

:func:`neural_estimate` trains a critic (:mod:`mibound.critics`) with one of the sample-based
bounds of :mod:`mibound.bounds`, using the shared loop :func:`mibound.train.train`:

1. the samples are shuffled (from ``seed``) into train / validation / test splits; repeated
   ``(x, y)`` rows are kept on one side (every copy goes where its first copy falls), so the
   test split never holds copies of training pairs, and a diagnostic reports them;
2. the critic's input standardisation is fitted on the training split; every step draws a fresh
   minibatch of the training split (epoch-wise reshuffling, no pair twice in a batch);
3. the validation split is used only for early stopping (and to restore the best checkpoint);
4. the reported value is computed on the **test split, which training and early stopping never
   saw**: the bound averaged over many minibatches of size ``batch_size`` drawn as disjoint
   partitions of the test split (several random partitions). It is never a maximum over
   checkpoints (that is biased upward).

The standard error comes from the spread of the bound across disjoint held-out minibatches:
with :math:`m` disjoint batches per partition and batch values :math:`v_{p,b}`,
:math:`\mathrm{se} = s / \sqrt{m}` where :math:`s^2` is the pooled *within-partition* variance
(deviations from each partition's own mean, :math:`P(m - 1)` degrees of freedom), an unbiased
estimate of one batch value's variance: the se of a single partition's mean. Averaging over
several partitions can only lower the variance, so this is conservative. (One sd over all
:math:`P m` batches around a common mean would be biased low by the factor
:math:`\sqrt{(m-1)/m}`, since every partition reuses the same test rows.)
``ci = value ± 1.96 se``. It measures the test split's sampling noise given the trained critic,
not the critic's training randomness (another seed trains another critic), nor the gap between
the critic's bound and the MI (the bound's own bias, which for SMILE can be of either sign):
an interval that excludes the truth is not evidence of a defect. To test whether there is any
dependence at all, use :func:`mibound.independence_test`.

Methods (all with the critic convention of :mod:`mibound.bounds`, optimal critic = pointwise MI):

=========  ======================================  ============================  ===============
method     trained with                            reported on the test split    kind
=========  ======================================  ============================  ===============
nwj        :func:`~mibound.bounds.nwj`             NWJ                           lower bound
dv         :func:`~mibound.bounds.dv`              DV (plug-in, biased upward     estimate
                                                   by about :math:`\chi^2/(2M)`)
mine       DV with MINE's moving-average gradient  DV                            estimate
infonce    :func:`~mibound.bounds.infonce`         InfoNCE (ceiling log B)       lower bound
tuba       :func:`~mibound.bounds.tuba`, learned   TUBA                          lower bound
           log-baseline :math:`\log a(x)` (MLP)
alpha      :func:`~mibound.bounds.interpolated`,   α-InfoNCE (ceiling            lower bound
           learned :math:`\log a(x)`               :math:`1 + \log((B-1)/α)`)
js         :func:`~mibound.bounds.js`              NWJ on the JS-trained critic  lower bound
smile      JS gradient, SMILE value (Song, Ermon)  SMILE(τ)                      estimate
=========  ======================================  ============================  ===============

Early stopping uses the training objective on the validation split (DV for MINE, the JS
objective for js and smile). For the JS-trained critics this matters: picking the checkpoint
with the largest held-out SMILE value favours critics whose clipped partition term is too small,
and measured SMILE then lands far above the truth from 4 nats on (benchmarks/README.md).

JS is a training objective, not a bound: the ``js`` method reports the NWJ bound of the critic
it trained, an honest held-out lower bound, without the :math:`-1/e` offset other
implementations need (our NWJ has no shift). DV's plug-in value is biased upward by about
:math:`\chi^2(p \,\|\, p_x p_y)/(2M)` through the log of a sample mean; mibound estimates that
bias on the test split (``settings["dv_bias_estimate"]``) and warns when it matters.

References:
    Poole et al. (2019), https://arxiv.org/abs/1905.06922;
    Song & Ermon (2020), https://arxiv.org/abs/1910.06222;
    Belghazi et al. (2018), https://arxiv.org/abs/1801.04062;
    McAllester & Stratos (2020), https://arxiv.org/abs/1811.04251.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn

from mibound import diagnostics, methods
from mibound._checks import (
    InvalidTypeError,
    InvalidValueError,
    check_bool,
    check_int,
    check_number,
    check_seed,
)
from mibound._inputs import as_pair, power_of_two_scale, row_groups, same_columns
from mibound._memory import check_memory
from mibound._placement import check_device
from mibound._random import numpy_rng, seeded, torch_generator
from mibound._stats import Z95, interval95
from mibound.critics import CRITICS, Standardizer, make_critic, mlp
from mibound.methods import MethodSpec
from mibound.results import Estimate
from mibound.train import TrainResult, train

__all__ = ["DEFAULT_METHOD", "METHODS", "neural_estimate"]

METHODS: tuple[str, ...] = tuple(methods.NEURAL)
#: The default method: SMILE (τ = 5), an estimate. Measured on 5-d x 5-d correlated Gaussians,
#: N = 5000, default settings, 3 seeds, mean (RMSE to the truth) at 1, 2, 4, 6 nats:
#: SMILE 0.89 (0.11), 1.78 (0.23), 3.77 (0.24), 6.80 (0.90); α-InfoNCE (α = 0.01, the best lower
#: bound) 0.91 (0.09), 1.85 (0.16), 3.52 (0.49), 5.00 (1.01); InfoNCE 0.94, 1.82, 3.32, 4.30;
#: NWJ 0.90, 1.87, 3.45, 4.09 (benchmarks/README.md). Use ``"alpha"`` for a lower bound.
DEFAULT_METHOD = "smile"
_MAX_BATCH = 128
_MIN_BATCH = 8


@dataclass(frozen=True)
class NeuralConfig:
    """The options of :func:`neural_estimate`, validated once when the object is made.

    Attributes:
        critic: ``"separable"``, ``"concat"`` or ``"bilinear"``
            (:func:`~mibound.critics.make_critic`).
        hidden: Hidden width of the critic's MLPs.
        layers: Hidden layers of the critic's MLPs.
        embed_dim: Embedding size of the separable critic.
        activation: Hidden activation of the MLPs.
        steps: Maximum training steps.
        batch_size: Minibatch size B for training and evaluation. Default: 128, or a quarter of
            the test split when that is smaller (so the test split holds at least 4 disjoint
            batches for the standard error); smaller B lowers the InfoNCE ceiling log B and
            raises the NWJ/DV variance.
        lr: Adam learning rate.
        weight_decay: Adam weight decay (L2 penalty), >= 0.
        split: Fractions (train, validation, test), positive, summing to 1.
        tau: SMILE's clipping threshold τ.
        alpha: α of the interpolated bound, in (0, 1].
        mine_rate: Weight of the newest minibatch in MINE's moving average, in (0, 1].
        eval_every: Steps between validations.
        patience: Validations without improvement before early stopping.
        eval_batches: About how many held-out minibatches to average on the test split.
        device: ``"cpu"``, ``"cuda"``, ... (default: CUDA when available, else CPU).
        dtype: ``"float32"`` or ``"float64"`` (or the torch dtype) for training; the held-out
            bound is always computed in float64 from the critic's scores.
        threads: CPU threads for torch during this call (restored afterwards). Default: 1 for
            the separable and bilinear critics, whose small matrix products gain nothing from
            intra-op threads and slow down badly when the cores are shared; torch's current
            setting for the concat critic.
        progress: Show a progress bar on stderr.
    """

    critic: str = "separable"
    hidden: int = 256
    layers: int = 2
    embed_dim: int = 32
    activation: str = "relu"
    steps: int = 2000
    batch_size: int | None = None
    lr: float = 5e-4
    weight_decay: float = 0.0
    split: Sequence[float] = (0.6, 0.2, 0.2)
    tau: float = 5.0
    alpha: float = 0.01
    mine_rate: float = 0.01
    eval_every: int = 100
    patience: int = 5
    eval_batches: int = 64
    device: str | torch.device | None = None
    dtype: str | torch.dtype = "float32"
    threads: int | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.critic, str) or self.critic not in CRITICS:
            raise InvalidValueError(
                f"critic: expected one of {', '.join(CRITICS)}, got {self.critic!r}"
            )
        checked: dict[str, Any] = {
            "hidden": check_int("hidden", self.hidden),
            "layers": check_int("layers", self.layers, minimum=0),
            "embed_dim": check_int("embed_dim", self.embed_dim),
            "steps": check_int("steps", self.steps),
            "eval_every": check_int("eval_every", self.eval_every),
            "patience": check_int("patience", self.patience),
            "eval_batches": check_int("eval_batches", self.eval_batches),
            "lr": check_number("lr", self.lr, low=0.0),
            "weight_decay": check_number(
                "weight_decay", self.weight_decay, low=0.0, low_open=False
            ),
            "tau": check_number("tau", self.tau, low=0.0, finite=False),
            "alpha": check_number("alpha", self.alpha, low=0.0, high=1.0, high_open=False),
            "mine_rate": check_number(
                "mine_rate", self.mine_rate, low=0.0, high=1.0, high_open=False
            ),
            "progress": check_bool("progress", self.progress),
            "threads": None if self.threads is None else check_int("threads", self.threads),
            "batch_size": None
            if self.batch_size is None
            else check_int("batch_size", self.batch_size, minimum=4),
            "split": _split(self.split),
            "dtype": _dtype(self.dtype),
            "device": _device(self.device),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> NeuralConfig:
        """A config from keyword options; an unknown name is a TypeError listing the known ones."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise InvalidTypeError(
                f"options: unexpected {', '.join(unknown)} for a neural method; expected some of "
                f"{', '.join(known)}"
            )
        return cls(**options)


def neural_estimate(
    x: Any,
    y: Any,
    method: str = DEFAULT_METHOD,
    *,
    seed: int = 0,
    config: NeuralConfig | None = None,
    **options: Any,
) -> Estimate:
    r"""Trains a critic on part of the data and reports its bound on untouched held-out data.

    See the module docstring for the methods, the split protocol and the standard error.
    Reported value on the test split (B = ``batch_size``, :math:`S_{ij} = f(x_i, y_j)`):

    .. math:: \hat I = \frac{1}{P m} \sum_{p=1}^{P} \sum_{b=1}^{m}
        \mathrm{bound}\big(S^{(p, b)}\big), \qquad
        \mathrm{se}^2 = \frac{1}{m} \cdot \frac{1}{P (m - 1)} \sum_{p, b}
        \big(\mathrm{bound}(S^{(p, b)}) - \overline{\mathrm{bound}}^{(p)}\big)^2

    with :math:`m = \lfloor n_\mathrm{test} / B \rfloor` disjoint batches per random partition
    and :math:`P` partitions (about ``eval_batches`` batches in all).

    Side: a **lower bound** (up to test-set noise) for every method but ``smile``, ``dv`` and
    ``mine``, which are **estimates** (SMILE is clipped; the DV plug-in is the log of a sample
    mean, biased upward). Ceilings: InfoNCE :math:`\log B`; α-InfoNCE
    :math:`1 + \log((B-1)/α)` (:math:`\log(B-1)` at α = 1);
    NWJ/DV/MINE/TUBA/JS need on the order of :math:`e^{I}` negatives per batch; a
    distribution-free lower bound with confidence :math:`1 - \delta` from N samples exceeds
    :math:`\ln(2kN^2)` with probability at most :math:`\delta + 1.01/k`
    (:func:`mibound.diagnostics.mcallester_stratos_limit`).

    Arguments:
        x: Samples of X, shape ``(n,)`` or ``(n, d_x)``.
        y: Samples of Y, shape ``(n,)`` or ``(n, d_y)``, paired with ``x``.
        method: One of :data:`METHODS`.
        seed: Seeds the split, the initialisation, the minibatches and the evaluation batches.
        config: A :class:`NeuralConfig`; None builds one from ``options``.
        options: The fields of :class:`NeuralConfig` (``steps``, ``batch_size``, ``critic``,
            ``device``, ``progress``, ...), validated once; not allowed with ``config``.

    Returns:
        An :class:`~mibound.results.Estimate` with ``history`` (the training curves of
        :class:`~mibound.train.TrainResult`) and ``settings`` (every option, the split sizes,
        the device, ``steps_run``, ``seconds``).

    Raises:
        ValueError: Unknown method or critic, bad option values, or too few samples for the
            splits and batch size.
        TypeError: Options of the wrong type.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal((600, 2))
        >>> y = 0.8 * x + 0.6 * rng.standard_normal((600, 2))
        >>> est = neural_estimate(x, y, "infonce", hidden=32, steps=100, device="cpu")
        >>> est.kind, est.settings["n_test"]
        ('lower bound', 120)
    """
    start = time.perf_counter()
    spec = methods.get(method)
    xa, ya = as_pair(x, y)
    # Exact power-of-two rescaling of columns beyond 2**+-60: the critic standardises its
    # inputs anyway, and values such as x * 1e300 would overflow its variances (or float32).
    xa, ya = power_of_two_scale(xa, outside=2.0**60), power_of_two_scale(ya, outside=2.0**60)
    seed = check_seed(seed)
    if config is None:
        config = NeuralConfig.from_options(options)
    elif options:
        raise InvalidTypeError(
            f"options: pass either config or keyword options, got both ({', '.join(options)})"
        )
    elif not isinstance(config, NeuralConfig):
        raise InvalidTypeError(f"config: expected a NeuralConfig, got {type(config).__name__}")
    dev = cast(torch.device, config.device)
    threads = config.threads
    if dev.type == "cpu" and threads is None and config.critic != "concat":
        threads = 1
    previous_threads = torch.get_num_threads()
    if dev.type == "cpu" and threads is not None:
        torch.set_num_threads(threads)
    try:
        return _fit(xa, ya, spec, config, seed, start)
    finally:
        torch.set_num_threads(previous_threads)


@dataclass
class _Splits:
    """The train / validation / test tensors on the device, and the batch size B."""

    x_tr: Tensor
    y_tr: Tensor
    x_va: Tensor
    y_va: Tensor
    x_te: Tensor
    y_te: Tensor
    batch: int
    distinct: int  # distinct (x, y) rows
    split_note: str | None  # why copies of a row could not be kept in one split

    @property
    def sizes(self) -> tuple[int, int, int]:
        return len(self.x_tr), len(self.x_va), len(self.x_te)


def _splits(xa: np.ndarray, ya: np.ndarray, cfg: NeuralConfig, seed: int) -> _Splits:
    """Shuffles the pairs (from ``seed``) into the train / validation / test splits."""
    n = xa.shape[0]
    n_train, n_val, n_test = _split_sizes(n, cast(tuple[float, float, float], cfg.split))
    batch = _batch_size(cfg.batch_size, n, n_train, n_val, n_test)
    # Every copy of a row goes to the split of its first copy in the random order.
    order = numpy_rng(seed, "neural.split").permutation(n)
    labels, distinct = row_groups(xa, ya)
    parts, split_note = _group_split(order, labels, distinct, (n_train, n_val), batch)
    dev, dtype = cast(torch.device, cfg.device), cast(torch.dtype, cfg.dtype)
    xt = torch.tensor(xa, dtype=dtype, device=dev)
    yt = torch.tensor(ya, dtype=dtype, device=dev)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = (
        (xt[torch.as_tensor(p, device=dev)], yt[torch.as_tensor(p, device=dev)]) for p in parts
    )
    return _Splits(
        x_tr, y_tr, x_va, y_va, x_te, y_te, batch=batch, distinct=distinct, split_note=split_note
    )


def _group_split(
    order: np.ndarray,
    labels: np.ndarray,
    distinct: int,
    sizes: tuple[int, int],
    batch: int,
) -> tuple[list[np.ndarray], str | None]:
    """Train / validation / test row indices with every copy of a row in one split.

    The distinct ``(x, y)`` rows are laid out in the order of their first copy in the random
    ``order``, each with all its copies, and the sequence is cut at the group boundaries
    nearest to ``sizes`` (train, validation); without duplicates this is the plain split of
    ``order``. When a split would then be too small for ``batch`` or hold fewer than ``batch``
    distinct rows (data with few distinct rows, such as discrete data, whose splits would
    otherwise hold different values), the plain split is used and the returned note says so.
    """
    n = order.size
    bounds = [sizes[0], sizes[0] + sizes[1]]
    plain = np.split(order, bounds)
    if distinct == n:
        return plain, None
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    first = np.full(distinct, n, dtype=np.int64)
    np.minimum.at(first, labels, position)
    sequence = np.lexsort((position, first[labels]))
    grouped = labels[sequence]
    starts = np.r_[np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]), n]
    cuts = [int(starts[np.argmin(np.abs(starts - bound))]) for bound in bounds]
    parts = np.split(sequence, cuts)
    groups = [np.unique(labels[part]).size for part in parts]
    sizes_ok = min(parts[0].size, parts[2].size) >= 2 * batch and parts[1].size >= batch
    if sizes_ok and min(groups) >= batch:
        return parts, None
    return plain, (
        f"split with shared rows: only {distinct} distinct (x, y) rows, too few to keep every "
        "copy of a row within one of the train/validation/test splits; the held-out value is "
        "then partly computed on rows the critic was trained on"
    )


def _fit(
    xa: np.ndarray,
    ya: np.ndarray,
    spec: MethodSpec,
    cfg: NeuralConfig,
    seed: int,
    start: float,
) -> Estimate:
    """Training and held-out evaluation on validated options (see :func:`neural_estimate`)."""
    data = _splits(xa, ya, cfg, seed)
    _check_concat_memory(cfg, data.batch)
    module = _build(spec, cfg, xa.shape[1], ya.shape[1], seed, data.x_tr, data.y_tr)
    result = _train_critic(module, spec, cfg, data, seed)
    evaluation = _evaluate(module, spec, cfg, data, seed)
    estimate = _estimate(spec, cfg, data, seed, result, evaluation, start)
    copies = same_columns(xa, ya)
    if copies:
        pairs = ", ".join(f"y[{j}] ~ x[{i}]" for i, j in copies[:4])
        estimate.diagnostics.append(
            f"x identical to y: column(s) {pairs} are exact affine copies; for continuous data "
            "the MI is infinite and any value here is set by the method's ceiling and the "
            "sample size, not by the MI"
        )
    return estimate


def _scores(module: nn.ModuleDict, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor | None]:
    """The critic's score matrices and the log-baseline (None without one)."""
    scores = module["critic"](xb, yb)
    log_a = module["baseline"](xb).squeeze(-1) if "baseline" in module else None
    return scores, log_a


def _train_critic(
    module: nn.ModuleDict, spec: MethodSpec, cfg: NeuralConfig, data: _Splits, seed: int
) -> TrainResult:
    """Trains on fresh minibatches of the training split, early-stopping on validation."""
    batch, (n_train, n_val, _) = data.batch, data.sizes
    dev = cast(torch.device, cfg.device)
    objective_fn = spec.training_objective(tau=cfg.tau, alpha=cfg.alpha, mine_rate=cfg.mine_rate)
    state: dict[str, Any] = {"perm": None, "pos": 0}

    def sample_batch(step: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        # Epoch-wise reshuffling: no pair twice in a minibatch.
        if state["perm"] is None or state["pos"] + batch > n_train:
            state["perm"] = torch.randperm(n_train, generator=generator, device=dev)
            state["pos"] = 0
        idx = state["perm"][state["pos"] : state["pos"] + batch]
        state["pos"] += batch
        return data.x_tr[idx], data.y_tr[idx]

    # Fixed validation batches: the same disjoint batches at every evaluation.
    val_index = _partitions(
        n_val, batch, passes=1, seed=seed, purpose="neural.validation-batches", limit=16
    ).to(dev)

    def validate() -> float:
        values = []
        for chunk in _chunks(val_index, cfg.critic, batch):
            s, log_a = _scores(module, data.x_va[chunk], data.y_va[chunk])
            values.append(spec.validation_value(s, log_a, cfg.tau, cfg.alpha).reshape(-1))
        return float(torch.cat(values).mean())

    return train(
        module,
        lambda pair: objective_fn(*_scores(module, *pair)),
        sample_batch,
        validate=validate,
        steps=cfg.steps,
        lr=cfg.lr,
        weight_decay=float(cfg.weight_decay),
        eval_every=cfg.eval_every,
        patience=cfg.patience,
        seed=seed,
        device=dev,
        progress=cfg.progress,
        description=f"mibound {spec.name}",
    )


@dataclass
class _Evaluation:
    """Held-out batch values, their mean and se, log-partitions, and the training-split value."""

    values: np.ndarray
    log_z: np.ndarray
    value: float
    stderr: float
    disjoint: int
    passes: int
    train_value: float


def _evaluate(
    module: nn.ModuleDict, spec: MethodSpec, cfg: NeuralConfig, data: _Splits, seed: int
) -> _Evaluation:
    """The reported bound on the untouched test split (and on training pairs, for comparison)."""
    batch, (n_train, _, n_test) = data.batch, data.sizes
    dev = cast(torch.device, cfg.device)
    m = n_test // batch
    passes = max(1, min(50, math.ceil(cfg.eval_batches / m)))
    test_index = _partitions(
        n_test, batch, passes=passes, seed=seed, purpose="neural.test-batches"
    ).to(dev)
    module.eval()

    @torch.no_grad()
    def bound_on(xs: Tensor, ys: Tensor, index: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """The reported bound and log-partition of each minibatch ``index`` selects (float64)."""
        values_list, log_z_list = [], []
        for chunk in _chunks(index, cfg.critic, batch):
            s, log_a = _scores(module, xs[chunk], ys[chunk])
            s = s.double()
            log_a = None if log_a is None else log_a.double()
            values_list.append(spec.reported_value(s, log_a, cfg.tau, cfg.alpha))
            log_z_list.append(_log_partition(s))
        return torch.cat(values_list).cpu().numpy(), torch.cat(log_z_list).cpu().numpy()

    values, log_z = bound_on(data.x_te, data.y_te, test_index)
    # The same bound on training pairs (for the over-fitting diagnostic only).
    m_train = min(n_train // batch, max(m, 1))
    train_index = _partitions(
        n_train, batch, passes=1, seed=seed, purpose="neural.train-eval-batches", limit=m_train
    ).to(dev)
    train_value = float(bound_on(data.x_tr, data.y_tr, train_index)[0].mean())
    return _Evaluation(
        values, log_z, float(values.mean()), _stderr(values, m), m, passes, train_value
    )


def _estimate(
    spec: MethodSpec,
    cfg: NeuralConfig,
    data: _Splits,
    seed: int,
    result: TrainResult,
    ev: _Evaluation,
    start: float,
) -> Estimate:
    """The Estimate: value, se, ci, kind from the registry, diagnostics and settings."""
    n = sum(data.sizes)
    ceiling = spec.ceiling(data.batch, cfg.alpha)
    bias = _dv_bias(ev.log_z, data.batch) if spec.reported == "dv" else None
    notes = _diagnose(spec, ev, data.batch, n, ceiling, result, cfg.eval_every, bias)
    overfit = diagnostics.overfitting(ev.train_value, ev.value, ev.stderr)
    duplicated = diagnostics.duplicates(n, data.distinct, method=spec.name)
    below = diagnostics.negative(ev.value, ev.value + Z95 * ev.stderr, kind=spec.kind)
    for note in (overfit, duplicated, data.split_note, below):
        if note:
            notes.append(note)
    settings = _settings(spec, cfg, data, seed, result, ev, ceiling, bias)
    settings["seconds"] = time.perf_counter() - start
    return Estimate(
        value=ev.value,
        stderr=ev.stderr,
        ci=interval95(ev.value, ev.stderr),
        kind=spec.kind,
        method=spec.name,
        n=n,
        diagnostics=notes,
        history=result.history,
        settings=settings,
    )


def _settings(
    spec: MethodSpec,
    cfg: NeuralConfig,
    data: _Splits,
    seed: int,
    result: TrainResult,
    ev: _Evaluation,
    ceiling: float | None,
    bias: float | None,
) -> dict[str, Any]:
    """Every option and what the run did, for the record."""
    (n_train, n_val, n_test), batch = data.sizes, data.batch
    dev = cast(torch.device, cfg.device)
    settings: dict[str, Any] = {
        "method": spec.name,
        "reported_bound": spec.reported,
        "validated_on": {"mine": "dv", "smile": "js"}.get(spec.name, spec.name),
        "seed": seed,
        "critic": cfg.critic,
        "hidden": cfg.hidden,
        "layers": cfg.layers,
        "embed_dim": cfg.embed_dim if cfg.critic == "separable" else None,
        "activation": cfg.activation,
        "steps": cfg.steps,
        "steps_run": result.steps_run,
        "best_step": result.best_step,
        "stopped_early": result.stopped_early,
        "converged": result.converged,
        "batch_size": batch,
        "lr": cfg.lr,
        "weight_decay": float(cfg.weight_decay),
        "split": list(cfg.split),
        "n_train": n_train,
        "n_val": n_val,
        "n_test": n_test,
        "distinct_rows": data.distinct,
        "split_keeps_duplicates_together": data.split_note is None,
        "eval_every": cfg.eval_every,
        "patience": cfg.patience,
        "test_batches": int(ev.values.size),
        "test_batches_disjoint": ev.disjoint,
        "test_passes": ev.passes,
        "stderr_method": (
            "pooled within-partition sd of the bound over held-out test minibatches / "
            "sqrt(number of disjoint minibatches in one partition of the test split)"
        ),
        "interval_covers": (
            "sampling noise of the test split given the trained critic; not the training "
            "randomness (another seed trains another critic) nor the bound's own bias"
        ),
        "ceiling": ceiling,
        "train_value": ev.train_value,
        "device": str(dev),
        "threads": torch.get_num_threads() if dev.type == "cpu" else None,
        "dtype": str(cfg.dtype).replace("torch.", ""),
        "train_seconds": result.seconds,
        "train_cpu_seconds": result.cpu_seconds,
    }
    own_option = {"smile": "tau", "alpha": "alpha", "mine": "mine_rate"}.get(spec.name)
    if own_option is not None:
        settings[own_option] = getattr(cfg, own_option)
    if bias is not None:
        settings["dv_bias_estimate"] = bias
    if batch < _MAX_BATCH:
        settings["batch_size_note"] = (
            f"batch {batch} < {_MAX_BATCH}: the test split ({n_test} rows) must hold several "
            "disjoint batches for the standard error; a small batch lowers the InfoNCE ceiling "
            "log B and raises the NWJ/DV variance"
        )
    if spec.name == "js":
        settings["note"] = (
            "trained with the Jensen-Shannon objective; the value is the NWJ lower bound of "
            "that critic on the held-out test split (no -1/e offset: mibound's NWJ is unshifted)"
        )
    return settings


# --------------------------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------------------------


def _log_partition(scores: Tensor) -> Tensor:
    """log mean_{i != j} exp(S_ij) per batch."""
    b = scores.shape[-1]
    eye = torch.eye(b, dtype=torch.bool, device=scores.device)
    return torch.logsumexp(scores.masked_fill(eye, -math.inf), dim=(-2, -1)) - math.log(b * (b - 1))


def _stderr(values: np.ndarray, m: int) -> float:
    """se of one partition's mean from the pooled within-partition variance of batch values.

    ``values`` holds P partitions of m disjoint batches each, partition by partition. The
    partitions reuse the same test rows, so deviations are taken from each partition's own
    mean (P (m - 1) degrees of freedom); a single sd over all P m values would estimate the
    batch variance times (m - 1)/m.
    """
    if m < 2 or values.size % m:
        return math.nan
    v = values.reshape(-1, m)
    variance = float(((v - v.mean(axis=1, keepdims=True)) ** 2).sum()) / (v.shape[0] * (m - 1))
    return math.sqrt(variance / m)


def _dv_bias(log_z: np.ndarray, batch: int) -> float:
    r"""Upward bias of the DV plug-in, :math:`\mathrm{Var}(\hat Z)/(2 Z^2)`, from test batches.

    :math:`\hat Z` is a batch's partition estimate; its spread across held-out batches gives the
    relative variance directly, so the estimate needs no model of how the B(B-1) negatives
    are correlated.
    """
    z = np.exp(log_z - log_z.max())
    if z.size < 2 or not np.isfinite(z).all() or z.mean() == 0:
        return math.nan
    return float(z.var(ddof=1) / (2.0 * z.mean() ** 2))


def _diagnose(
    spec: MethodSpec,
    ev: _Evaluation,
    batch: int,
    n: int,
    ceiling: float | None,
    result: TrainResult,
    eval_every: int,
    bias: float | None,
) -> list[str]:
    notes: list[str | None] = []
    value = ev.value
    if not math.isfinite(value):
        notes.append(
            "not finite: the held-out value overflowed (critic scores too large for exp); "
            "use smile or infonce, or a smaller learning rate"
        )
    if ceiling is not None:
        name = {"infonce": "InfoNCE", "interpolated": "alpha-InfoNCE"}[spec.reported]
        notes.append(diagnostics.saturation(value, ceiling, name=name))
    if spec.partition:
        name = {"js": "NWJ", "mine": "DV"}.get(spec.name, spec.name.upper())
        notes.append(
            diagnostics.exp_variance(ev.values.tolist(), ev.log_z.tolist(), value, batch, name=name)
        )
    if bias is not None and math.isfinite(bias) and bias > max(0.05, ev.stderr):
        size = f"{bias:.3f} nats" if bias < 1 else f"more than a nat (second-order {bias:.3g})"
        notes.append(
            f"upward bias: the DV plug-in log of a minibatch mean is biased upward by about "
            f"chi^2/(2M), estimated here at {size}; prefer nwj or a larger batch"
        )
    notes.append(diagnostics.sample_limit(value, n))
    notes.append(
        diagnostics.not_converged(
            result.converged,
            result.stopped_early,
            result.best_step,
            result.steps_run,
            eval_every,
            result.history.get("validation", []),
        )
    )
    return [note for note in notes if note]


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def _build(
    spec: MethodSpec,
    cfg: NeuralConfig,
    x_dim: int,
    y_dim: int,
    seed: int,
    x_tr: Tensor,
    y_tr: Tensor,
) -> nn.ModuleDict:
    """The critic (and the log-baseline of TUBA/α), initialised on a named stream of ``seed``,
    its input standardisation fitted on the training split, on the config's device and dtype."""
    with seeded(seed, "neural.initialisation"):
        modules: dict[str, nn.Module] = {
            "critic": make_critic(
                cfg.critic,
                x_dim,
                y_dim,
                hidden=cfg.hidden,
                layers=cfg.layers,
                embed_dim=cfg.embed_dim,
                activation=cfg.activation,
            )
        }
        if spec.needs_baseline:
            # log a(x): a small MLP on standardised x.
            modules["baseline"] = nn.Sequential(
                Standardizer(x_dim), mlp(x_dim, 1, min(cfg.hidden, 64), 1, cfg.activation)
            )
    dtype = cast(torch.dtype, cfg.dtype)
    net: Any = modules["critic"]
    net.x_norm.fit(x_tr.cpu().to(dtype))
    net.y_norm.fit(y_tr.cpu().to(dtype))
    if "baseline" in modules:
        baseline: Any = modules["baseline"]
        baseline[0].fit(x_tr.cpu().to(dtype))
    return nn.ModuleDict(modules).to(device=cast(torch.device, cfg.device), dtype=dtype)


def _partitions(
    n: int, batch: int, *, passes: int, seed: int, purpose: str, limit: int | None = None
) -> Tensor:
    """Indices (passes * m, batch): each pass is a random partition into m disjoint batches."""
    m = n // batch
    if limit is not None:
        m = min(m, limit)
    generator = torch_generator(seed, purpose)
    rows = [
        torch.randperm(n, generator=generator)[: m * batch].view(m, batch) for _ in range(passes)
    ]
    return torch.cat(rows)


def _check_concat_memory(cfg: NeuralConfig, batch: int) -> None:
    """Refuses a concat critic whose (B, B, hidden) activations would not fit (CPU only).

    A training step keeps the outputs of hidden layers 2..L for all :math:`B^2` pairs (ReLU:
    the blocked MLP of :mod:`mibound._concat_relu`), or about two tensors per layer under
    autograd (other activations).
    """
    if cfg.critic != "concat" or cast(torch.device, cfg.device).type != "cpu":
        return
    itemsize = torch.empty((), dtype=cast(torch.dtype, cfg.dtype)).element_size()
    kept = max(cfg.layers - 1, 0) if cfg.activation == "relu" else 2 * cfg.layers + 1
    needed = float(itemsize) * batch * batch * (kept * cfg.hidden + 4)
    check_memory(
        needed,
        f"batch_size: the concat critic on all {batch}^2 pairs of a batch of {batch} "
        f"(hidden {cfg.hidden}, {cfg.layers} layers)",
        "use a smaller batch_size or critic='separable'",
    )


def _chunks(index: Tensor, critic: str, batch: int) -> list[Tensor]:
    """Groups of batches small enough to evaluate at once (the concat critic is O(B^2))."""
    per = max(1, (2**22 if critic == "concat" else 2**24) // (batch * batch * 64))
    return list(index.split(per))


def _split(split: object) -> tuple[float, float, float]:
    if isinstance(split, (str, bytes)) or not isinstance(split, Sequence):
        raise InvalidTypeError(
            f"split: expected three fractions (train, validation, test), got {split!r}"
        )
    if len(split) != 3:
        raise InvalidValueError(
            f"split: expected three fractions (train, validation, test), got {len(split)}"
        )
    out = []
    for value in split:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise InvalidTypeError(f"split: expected numbers, got {split!r}")
        if not (0.0 < float(value) < 1.0):
            raise InvalidValueError(f"split: expected fractions in (0, 1), got {list(split)}")
        out.append(float(value))
    if abs(sum(out) - 1.0) > 1e-6:
        raise InvalidValueError(
            f"split: expected fractions summing to 1, got {list(split)} (sum {sum(out)})"
        )
    return out[0], out[1], out[2]


def _split_sizes(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    n_val = math.floor(fractions[1] * n)
    n_test = math.floor(fractions[2] * n)
    return n - n_val - n_test, n_val, n_test


def _batch_size(batch_size: int | None, n: int, n_train: int, n_val: int, n_test: int) -> int:
    if batch_size is None:
        batch = min(_MAX_BATCH, n_test // 4, n_val, n_train // 2)
        if batch < _MIN_BATCH:
            need = math.ceil(4 * _MIN_BATCH / 0.2)
            raise InvalidValueError(
                f"x, y: expected enough samples for neural training with the default split "
                f"(at least {_MIN_BATCH} per batch and 4 test batches, about {need} samples), "
                f"got {n}; use method='ksg' or 'gaussian', or pass a smaller batch_size"
            )
        return batch
    batch = batch_size
    for name, size, factor in (
        ("test", n_test, 2),
        ("validation", n_val, 1),
        ("train", n_train, 2),
    ):
        if size < factor * batch:
            raise InvalidValueError(
                f"batch_size: {batch} is too large for the {name} split of {size} samples "
                f"(need at least {factor} batch{'es' if factor > 1 else ''}; n = {n}); "
                "lower batch_size or change split"
            )
    return batch


def _dtype(dtype: object) -> torch.dtype:
    table = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(dtype, torch.dtype):
        if dtype not in table.values():
            raise InvalidValueError(f"dtype: expected float32 or float64, got {dtype}")
        return dtype
    if not isinstance(dtype, str):
        raise InvalidTypeError(
            f"dtype: expected 'float32' or 'float64', got {type(dtype).__name__}"
        )
    if dtype not in table:
        raise InvalidValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
    return table[dtype]


def _device(device: object) -> torch.device:
    """The training device: CUDA when available by default; a CUDA request needs CUDA."""
    dev = check_device(device)
    if dev is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidValueError(f"device: {device!r} requested but CUDA is not available")
    return dev
