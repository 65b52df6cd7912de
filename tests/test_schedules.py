"""Schedule maths: closed forms, Keras and PyTorch agreement, config round trips, validation."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from numpy.testing import assert_allclose

from lrsearch import schedules
from lrsearch.keras import InGraphSchedule
from lrsearch.keras import PlateauCallback
from lrsearch.schedules import REGISTRY
from lrsearch.schedules import validate_plateau
from lrsearch.space._draws import RecordingDraw

KS = keras.optimizers.schedules
TIME_FAMILIES = [name for name, fam in REGISTRY.items() if fam.schedule_cls is not None]
T_RANGE = range(0, 60)


def _values(fn: Callable[[int], Any], ts: range | list[int] = T_RANGE) -> np.ndarray:
    """``fn(t)`` for each ``t``, one Python call each."""
    return np.array([float(fn(t)) for t in ts])


def _keras_values(
    schedule: keras.optimizers.schedules.LearningRateSchedule,
    ts: range | list[int] = T_RANGE,
    *,
    vectorised: bool = True,
) -> np.ndarray:
    """A Keras schedule at each step: on a vector of steps, or step by step in a tf.function.

    The step-by-step path is how an optimizer calls it: a scalar int64 step in a graph.
    """
    steps = np.asarray(list(ts), dtype="int64")
    if vectorised:
        return np.asarray(keras.ops.convert_to_numpy(schedule(steps)), dtype="float64")
    fn = tf.function(lambda step: schedule(step))
    return np.array([float(fn(tf.constant(s, dtype="int64"))) for s in steps])


# ---------------------------------------------------------------------------------------------
# Example parameters for every family: the articles' defaults and both ends of the search ranges.


def _examples(family: str, epochs: int = 20) -> list[dict[str, Any]]:
    entry = REGISTRY[family]
    out = [dict(entry.article_defaults(epochs))]
    for end in ("low", "high"):
        rec = RecordingDraw({}, end=end)
        out.append({"initial_lr": 0.1, **entry.sample(rec, 0.1, epochs)})
    return out


FAMILY_CASES = [
    pytest.param(family, params, id=f"{family}-{i}")
    for family in REGISTRY
    for i, params in enumerate(_examples(family))
]
TIME_CASES = [p for p in FAMILY_CASES if p.values[0] != "plateau"]


def test_families_contain_the_contract() -> None:
    expected = {
        "constant",
        "time_based",
        "step",
        "exponential",
        "polynomial",
        "cosine",
        "cyclical",
        "linear_warmup",
        "plateau",
        "one_cycle",
        "cosine_restarts",
        "warmup_cosine",
        "wsd",
    }
    assert expected <= set(schedules.FAMILIES)
    assert set(schedules.FAMILIES) == set(REGISTRY)


# ---------------------------------------------------------------------------------------------
# Closed forms, written independently of the library from DESIGN.md.


def ref_constant(t: float, initial_lr: float) -> float:
    return initial_lr


def ref_time_based(t: float, initial_lr: float, decay: float) -> float:
    return initial_lr / (1 + decay * t)


def ref_step(t: float, initial_lr: float, drop_rate: float, epochs_drop: float) -> float:
    return initial_lr * drop_rate ** math.floor(t / epochs_drop)


def ref_exponential(t: float, initial_lr: float, k: float) -> float:
    return initial_lr * math.exp(-k * t)


def ref_polynomial(
    t: float, initial_lr: float, power: float, decay_epochs: float, end_lr: float = 0.0
) -> float:
    T = decay_epochs
    return (initial_lr - end_lr) * (1 - min(t, T) / T) ** power + end_lr


def ref_cosine(t: float, initial_lr: float, decay_epochs: float, end_lr: float = 0.0) -> float:
    T = decay_epochs
    return end_lr + (initial_lr - end_lr) * 0.5 * (1 + math.cos(math.pi * min(t, T) / T))


def ref_cyclical(
    t: float,
    initial_lr: float,
    max_lr: float,
    step_size: float,
    mode: str = "triangular",
    gamma: float = 1.0,
) -> float:
    cycle = math.floor(1 + t / (2 * step_size))
    x = abs(t / step_size - 2 * cycle + 1)
    base = max(0.0, 1 - x)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = 1 / 2 ** (cycle - 1)
    else:
        scale = gamma**t
    return initial_lr + (max_lr - initial_lr) * base * scale


def ref_linear_warmup(t: float, initial_lr: float, start_lr: float, warmup_epochs: float) -> float:
    W = warmup_epochs
    if t < W - 1:
        return start_lr + t * (initial_lr - start_lr) / (W - 1)
    return initial_lr


def ref_one_cycle(
    t: float,
    initial_lr: float,
    total_epochs: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    return torch_one_cycle_reference(
        int(t), initial_lr, int(total_epochs), pct_start, div_factor, final_div_factor
    )


def ref_cosine_restarts(
    t: float,
    initial_lr: float,
    first_decay_epochs: float,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    end_lr: float = 0.0,
) -> float:
    # Walk the cycles one by one (not the closed form the library uses).
    alpha = end_lr / initial_lr
    start, length, i = 0.0, float(first_decay_epochs), 0
    while t >= start + length:
        start += length
        length *= t_mul
        i += 1
    frac = (t - start) / length
    return initial_lr * ((1 - alpha) * 0.5 * m_mul**i * (1 + math.cos(math.pi * frac)) + alpha)


def ref_warmup_cosine(
    t: float,
    initial_lr: float,
    start_lr: float,
    warmup_epochs: float,
    decay_epochs: float,
    end_lr: float = 0.0,
) -> float:
    W, D = warmup_epochs, decay_epochs
    if t < W:
        return start_lr + (initial_lr - start_lr) * t / W
    frac = min(t - W, D) / D
    return end_lr + (initial_lr - end_lr) * 0.5 * (1 + math.cos(math.pi * frac))


def ref_wsd(
    t: float,
    initial_lr: float,
    warmup_epochs: float,
    decay_epochs: float,
    total_epochs: float,
    start_lr: float = 0.0,
    end_lr: float = 0.0,
) -> float:
    W, D = warmup_epochs, decay_epochs
    if t < W:
        return start_lr + (initial_lr - start_lr) * t / W
    if t < total_epochs - D:
        return initial_lr
    return initial_lr + (end_lr - initial_lr) * min(1.0, (t - (total_epochs - D)) / D)


REFERENCES: dict[str, Callable[..., float]] = {
    "constant": ref_constant,
    "time_based": ref_time_based,
    "step": ref_step,
    "exponential": ref_exponential,
    "polynomial": ref_polynomial,
    "cosine": ref_cosine,
    "cyclical": ref_cyclical,
    "linear_warmup": ref_linear_warmup,
    "one_cycle": ref_one_cycle,
    "cosine_restarts": ref_cosine_restarts,
    "warmup_cosine": ref_warmup_cosine,
    "wsd": ref_wsd,
}


def test_every_time_family_has_a_reference() -> None:
    assert set(REFERENCES) == set(TIME_FAMILIES)


@pytest.mark.parametrize(("family", "params"), TIME_CASES)
def test_closed_form(family: str, params: dict[str, Any]) -> None:
    schedule = schedules.get(family, **params)
    ts = range(0, 80) if family != "one_cycle" else range(int(params["total_epochs"]))
    expected = [REFERENCES[family](t, **params) for t in ts]
    assert_allclose(_values(schedule, ts), expected, rtol=1e-12, atol=1e-15)


def test_time_based_article_check_per_batch() -> None:
    schedule = schedules.get("time_based", initial_lr=0.1, decay=0.01)
    assert round(schedule(250), 4) == 0.0286
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(100) == pytest.approx(0.05)


def test_step_article_values() -> None:
    schedule = schedules.get("step", initial_lr=0.5, drop_rate=0.8, epochs_drop=10)
    for t in (0, 5, 9, 10, 19, 20, 25, 39, 40, 99):
        assert schedule(t) == pytest.approx(0.5 * 0.8 ** math.floor(t / 10))
    assert schedule(9) == pytest.approx(0.5)
    assert schedule(10) == pytest.approx(0.4)
    assert schedule(25) == pytest.approx(0.32)


def test_linear_warmup_article_values() -> None:
    schedule = schedules.get("linear_warmup", initial_lr=0.01, start_lr=0.005, warmup_epochs=5)
    got = [schedule(t) for t in range(8)]
    assert_allclose(got, [0.005, 0.00625, 0.0075, 0.00875, 0.01, 0.01, 0.01, 0.01], rtol=1e-12)


def test_cyclical_smith_triangular() -> None:
    # Smith (2017): base_lr 0.001, max_lr 0.006, stepsize 2000 iterations.
    s = schedules.get("cyclical", initial_lr=0.001, max_lr=0.006, step_size=2000)
    points = {0: 0.001, 1000: 0.0035, 2000: 0.006, 3000: 0.0035, 4000: 0.001, 6000: 0.006}
    for t, lr in points.items():
        assert s(t) == pytest.approx(lr, rel=1e-12), t


def test_cyclical_triangular2_halves_amplitude() -> None:
    s = schedules.get(
        "cyclical", initial_lr=0.001, max_lr=0.006, step_size=2000, mode="triangular2"
    )
    assert s(2000) == pytest.approx(0.006)  # first peak: full amplitude
    assert s(6000) == pytest.approx(0.001 + 0.005 / 2)  # second: half
    assert s(10000) == pytest.approx(0.001 + 0.005 / 4)  # third: quarter
    assert s(4000) == pytest.approx(0.001)
    assert s(5000) == pytest.approx(0.001 + 0.005 / 4)  # half-way up cycle 2


def test_cyclical_exp_range_scales_by_gamma_power_t() -> None:
    s = schedules.get(
        "cyclical", initial_lr=0.001, max_lr=0.006, step_size=4, mode="exp_range", gamma=0.9
    )
    assert s(4) == pytest.approx(0.001 + 0.005 * 0.9**4)
    assert s(12) == pytest.approx(0.001 + 0.005 * 0.9**12)
    assert s(2) == pytest.approx(0.001 + 0.005 * 0.5 * 0.9**2)
    assert s(8) == pytest.approx(0.001)


def test_wsd_phases() -> None:
    s = schedules.get(
        "wsd", initial_lr=0.1, warmup_epochs=4, decay_epochs=5, total_epochs=20, end_lr=0.01
    )
    assert_allclose([s(t) for t in range(5)], [0.0, 0.025, 0.05, 0.075, 0.1], rtol=1e-12)
    assert_allclose([s(t) for t in range(4, 16)], [0.1] * 12, rtol=1e-12)
    assert s(17) == pytest.approx(0.1 + (0.01 - 0.1) * 2 / 5)
    assert s(20) == pytest.approx(0.01)
    assert s(100) == pytest.approx(0.01)


def test_polynomial_and_cosine_hold_end_lr_after_decay() -> None:
    p = schedules.get("polynomial", initial_lr=0.1, power=2.0, decay_epochs=10, end_lr=0.001)
    c = schedules.get("cosine", initial_lr=0.1, decay_epochs=10, end_lr=0.001)
    for s in (p, c):
        assert s(0) == pytest.approx(0.1)
        assert s(10) == pytest.approx(0.001)
        assert s(1000) == pytest.approx(0.001)
    assert c(5) == pytest.approx(0.001 + 0.099 * 0.5)


# ---------------------------------------------------------------------------------------------
# Step-for-step agreement with Keras' own schedules.


@pytest.mark.parametrize("lr0", [0.1, 0.5])
@pytest.mark.parametrize("k", [0.0, 0.01, 0.1, 0.3])
def test_exponential_matches_keras(lr0: float, k: float) -> None:
    ours = schedules.get("exponential", initial_lr=lr0, k=k)
    theirs = KS.ExponentialDecay(lr0, 1, math.exp(-k))
    assert_allclose(_values(ours), _keras_values(theirs), rtol=1e-5)


@pytest.mark.parametrize("decay", [0.0, 0.01, 0.5, 2.0])
def test_time_based_matches_keras(decay: float) -> None:
    ours = schedules.get("time_based", initial_lr=0.1, decay=decay)
    theirs = KS.InverseTimeDecay(0.1, 1, decay)
    assert_allclose(_values(ours), _keras_values(theirs), rtol=1e-5)


@pytest.mark.parametrize(
    ("T", "end_lr", "power"), [(10, 0.0, 1.0), (25, 0.001, 2.0), (40, 0.01, 0.5), (7, 0.0, 3.0)]
)
def test_polynomial_matches_keras(T: int, end_lr: float, power: float) -> None:
    ours = schedules.get("polynomial", initial_lr=0.1, power=power, decay_epochs=T, end_lr=end_lr)
    theirs = KS.PolynomialDecay(0.1, T, end_lr, power)
    assert_allclose(_values(ours), _keras_values(theirs), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(("T", "end_lr"), [(10, 0.0), (30, 0.001), (45, 0.02)])
def test_cosine_matches_keras(T: int, end_lr: float) -> None:
    ours = schedules.get("cosine", initial_lr=0.1, decay_epochs=T, end_lr=end_lr)
    theirs = KS.CosineDecay(0.1, T, alpha=end_lr / 0.1)
    assert_allclose(_values(ours), _keras_values(theirs), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    ("start_lr", "W", "D", "end_lr"),
    [(0.001, 5, 20, 0.0), (0.01, 3, 40, 0.005), (0.0, 10, 10, 0.001), (0.05, 1, 30, 0.0)],
)
def test_warmup_cosine_matches_keras(start_lr: float, W: int, D: int, end_lr: float) -> None:
    lr0 = 0.1
    ours = schedules.get(
        "warmup_cosine",
        initial_lr=lr0,
        start_lr=start_lr,
        warmup_epochs=W,
        decay_epochs=D,
        end_lr=end_lr,
    )
    theirs = KS.CosineDecay(start_lr, D, alpha=end_lr / lr0, warmup_target=lr0, warmup_steps=W)
    assert_allclose(_values(ours), _keras_values(theirs, vectorised=False), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("t_mul", [1.0, 2.0, 1.5])
@pytest.mark.parametrize("m_mul", [1.0, 0.5, 0.9])
@pytest.mark.parametrize(("first", "end_lr"), [(3, 0.0), (5, 0.001), (10, 0.01)])
def test_cosine_restarts_matches_keras(
    t_mul: float, m_mul: float, first: int, end_lr: float
) -> None:
    lr0 = 0.1
    ours = schedules.get(
        "cosine_restarts",
        initial_lr=lr0,
        first_decay_epochs=first,
        t_mul=t_mul,
        m_mul=m_mul,
        end_lr=end_lr,
    )
    theirs = KS.CosineDecayRestarts(lr0, first, t_mul, m_mul, alpha=end_lr / lr0)
    assert_allclose(_values(ours), _keras_values(theirs), rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# one_cycle against PyTorch's OneCycleLR (its get_lr algorithm, transcribed).


def _annealing_cos(start: float, end: float, pct: float) -> float:
    cos_out = math.cos(math.pi * pct) + 1
    return end + (start - end) / 2.0 * cos_out


def torch_one_cycle_reference(
    step_num: int,
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """``torch.optim.lr_scheduler.OneCycleLR.get_lr`` (anneal_strategy="cos", two phases)."""
    if step_num > total_steps:
        raise ValueError("Tried to step more than total_steps")
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    phases = [
        {"end_step": float(pct_start * total_steps) - 1, "start_lr": initial_lr, "end_lr": max_lr},
        {"end_step": total_steps - 1, "start_lr": max_lr, "end_lr": min_lr},
    ]
    start_step = 0.0
    for i, phase in enumerate(phases):
        end_step = phase["end_step"]
        if step_num <= end_step or i == len(phases) - 1:
            pct = (step_num - start_step) / (end_step - start_step)
            return _annealing_cos(phase["start_lr"], phase["end_lr"], pct)
        start_step = phase["end_step"]
    raise AssertionError("unreachable")


ONE_CYCLE_CASES = [
    (100, 0.3, 25.0, 1e4),
    (50, 0.25, 10.0, 100.0),
    (37, 0.5, 5.0, 1e3),
    (20, 0.1, 25.0, 1e4),
    (10, 0.45, 50.0, 10.0),
    (3, 0.3, 25.0, 1e4),  # phase 1 ends before step 0: all annealing
]


@pytest.mark.parametrize(("total", "pct_start", "div", "final_div"), ONE_CYCLE_CASES)
def test_one_cycle_matches_pytorch_formula(
    total: int, pct_start: float, div: float, final_div: float
) -> None:
    s = schedules.get(
        "one_cycle",
        initial_lr=0.4,
        total_epochs=total,
        pct_start=pct_start,
        div_factor=div,
        final_div_factor=final_div,
    )
    ts = range(total)
    expected = [torch_one_cycle_reference(t, 0.4, total, pct_start, div, final_div) for t in ts]
    assert_allclose(_values(s, ts), expected, rtol=1e-10)


def test_one_cycle_landmarks() -> None:
    s = schedules.get("one_cycle", initial_lr=0.4, total_epochs=100)
    assert s(0) == pytest.approx(0.4 / 25)
    assert s(29) == pytest.approx(0.4)  # peak at pct_start * total - 1
    assert s(99) == pytest.approx(0.4 / 25 / 1e4)
    assert s(500) == pytest.approx(0.4 / 25 / 1e4)  # stays at the final rate afterwards
    values = _values(s, range(100))
    assert np.all(np.diff(values[:30]) > 0)
    assert np.all(np.diff(values[29:]) < 0)


@pytest.mark.parametrize(("total", "pct_start", "div", "final_div"), ONE_CYCLE_CASES)
def test_one_cycle_matches_real_pytorch(
    total: int, pct_start: float, div: float, final_div: float
) -> None:
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=0.4,
        total_steps=total,
        pct_start=pct_start,
        div_factor=div,
        final_div_factor=final_div,
        anneal_strategy="cos",
        cycle_momentum=False,
    )
    theirs = []
    for _ in range(total):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    s = schedules.get(
        "one_cycle",
        initial_lr=0.4,
        total_epochs=total,
        pct_start=pct_start,
        div_factor=div,
        final_div_factor=final_div,
    )
    assert_allclose(_values(s, range(total)), theirs, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Every family of the registry: config round trip, sane values.


@pytest.mark.parametrize(("family", "params"), FAMILY_CASES)
def test_config_round_trip(family: str, params: dict[str, Any]) -> None:
    if family == "plateau":
        full = validate_plateau(params)
        assert json.loads(json.dumps(full)) == full
        assert validate_plateau(json.loads(json.dumps(full))) == full
        cb = PlateauCallback(**full)
        assert cb.initial_lr == pytest.approx(full["initial_lr"])
        assert cb.factor == pytest.approx(full["factor"])
        assert cb.patience == full["patience"]
        return
    schedule = schedules.get(family, **params)
    config = schedule.get_config()
    assert config["family"] == family
    text = json.dumps(config)
    rebuilt = schedules.from_config(json.loads(text))
    assert rebuilt == schedule
    assert type(rebuilt) is type(schedule)
    assert rebuilt.get_config() == config
    assert _values(rebuilt, range(30)).tolist() == _values(schedule, range(30)).tolist()


@pytest.mark.parametrize(("family", "params"), TIME_CASES)
def test_rates_non_negative_and_finite(family: str, params: dict[str, Any]) -> None:
    values = _values(schedules.get(family, **params), range(0, 201))
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)
    assert values[0] > 0 or family in ("warmup_cosine", "wsd")  # warm-ups may start at 0
    assert values.max() <= max(params["initial_lr"], params.get("max_lr", 0)) * (1 + 1e-12)


def test_schedule_accepts_numpy_and_float_steps() -> None:
    s = schedules.get("step", initial_lr=0.5, drop_rate=0.8, epochs_drop=10)
    assert s(np.int64(25)) == pytest.approx(0.32)
    assert s(np.float32(25.0)) == pytest.approx(0.32)
    assert s(25.5) == pytest.approx(0.32)
    with pytest.raises(ValueError, match="`t`"):
        s(-1)


# ---------------------------------------------------------------------------------------------
# Bad arguments: ValueError naming the argument and the received value.


def _assert_names(exc: pytest.ExceptionInfo[ValueError], name: str, value: Any) -> None:
    message = str(exc.value)
    assert name in message, message
    assert f"{name}={value!r}" in message, message


VALID = {family: dict(_examples(family)[0]) for family in REGISTRY}


@pytest.mark.parametrize("family", list(REGISTRY))
@pytest.mark.parametrize("bad", [0, -0.1, 0.0])
def test_non_positive_initial_lr(family: str, bad: float) -> None:
    params = {**VALID[family], "initial_lr": bad}
    with pytest.raises(ValueError) as exc:
        if family == "plateau":
            validate_plateau(params)
        else:
            schedules.get(family, **params)
    _assert_names(exc, "initial_lr", bad)


BAD_VALUES = [
    ("time_based", "decay", -0.01),
    ("step", "drop_rate", 0.0),
    ("step", "drop_rate", 1.5),
    ("step", "drop_rate", -0.2),
    ("step", "epochs_drop", 0),
    ("step", "epochs_drop", 0.5),
    ("exponential", "k", -0.1),
    ("polynomial", "power", -1.0),
    ("polynomial", "decay_epochs", 0),
    ("polynomial", "decay_epochs", -3),
    ("cosine", "decay_epochs", 0),
    ("cyclical", "step_size", 0),
    ("cyclical", "max_lr", -1.0),
    ("cyclical", "mode", "sawtooth"),
    ("linear_warmup", "warmup_epochs", 0),
    ("linear_warmup", "start_lr", -0.001),
    ("one_cycle", "total_epochs", 0),
    ("one_cycle", "pct_start", 1.5),
    ("one_cycle", "div_factor", 0),
    ("cosine_restarts", "first_decay_epochs", 0),
    ("cosine_restarts", "t_mul", 0.5),
    ("cosine_restarts", "m_mul", -0.5),
    ("warmup_cosine", "warmup_epochs", 0),
    ("warmup_cosine", "decay_epochs", 0),
    ("wsd", "warmup_epochs", 0),
    ("wsd", "decay_epochs", -1),
    ("wsd", "total_epochs", 0),
    ("plateau", "factor", 0.0),
    ("plateau", "factor", 1.0),
    ("plateau", "patience", -1),
    ("plateau", "min_lr", -0.1),
    ("step", "initial_lr", float("nan")),
    ("exponential", "k", float("inf")),
    ("time_based", "decay", "0.1"),
    ("step", "drop_rate", True),
]


@pytest.mark.parametrize(("family", "name", "bad"), BAD_VALUES)
def test_bad_value_names_argument_and_value(family: str, name: str, bad: Any) -> None:
    params = {**VALID[family], name: bad}
    if family == "cyclical" and name == "max_lr":
        params["initial_lr"] = 0.01
    with pytest.raises(ValueError) as exc:
        if family == "plateau":
            validate_plateau(params)
        else:
            schedules.get(family, **params)
    _assert_names(exc, name, bad)


@pytest.mark.parametrize("family", list(REGISTRY))
def test_unknown_parameter(family: str) -> None:
    params = {**VALID[family], "bogus": 1}
    with pytest.raises(ValueError, match="bogus") as exc:
        if family == "plateau":
            validate_plateau(params)
        else:
            schedules.get(family, **params)
    assert "initial_lr" in str(exc.value)  # names the valid parameters


@pytest.mark.parametrize("family", TIME_FAMILIES)
def test_missing_parameter(family: str) -> None:
    params = dict(VALID[family])
    del params["initial_lr"]
    with pytest.raises(ValueError, match="initial_lr") as exc:
        schedules.get(family, **params)
    assert "issing" in str(exc.value)


def test_missing_plateau_initial_lr() -> None:
    with pytest.raises(ValueError, match="initial_lr"):
        validate_plateau({"factor": 0.5})


@pytest.mark.parametrize("family", ["bogus", "Step", "", 3, None])
def test_unknown_family(family: Any) -> None:
    with pytest.raises(ValueError) as exc:
        schedules.get(family, initial_lr=0.1)
    message = str(exc.value)
    assert repr(family) in message
    for name in schedules.FAMILIES:
        assert name in message


def test_from_config_unknown_family_and_bad_config() -> None:
    with pytest.raises(ValueError, match="cosine"):
        schedules.from_config({"family": "cosin", "initial_lr": 0.1})
    with pytest.raises(ValueError, match="family"):
        schedules.from_config({"initial_lr": 0.1})


def test_get_plateau_raises() -> None:
    with pytest.raises(ValueError, match="PlateauCallback"):
        schedules.get("plateau", initial_lr=0.1)
    with pytest.raises(ValueError):
        schedules.from_config({"family": "plateau", "initial_lr": 0.1})


def test_validate_plateau_fills_defaults() -> None:
    full = validate_plateau({"initial_lr": 0.1})
    assert full == {"initial_lr": 0.1, "factor": 0.5, "patience": 2, "min_lr": 0.0}


# ---------------------------------------------------------------------------------------------
# In-graph schedules evaluate the same formula.


@pytest.mark.parametrize(("family", "params"), TIME_CASES)
def test_in_graph_matches_python(family: str, params: dict[str, Any]) -> None:
    schedule = schedules.get(family, **params)
    in_graph = InGraphSchedule(schedule)
    ts = range(0, 60)
    assert_allclose(
        _keras_values(in_graph, ts, vectorised=False), _values(schedule, ts), rtol=1e-5, atol=1e-9
    )


@pytest.mark.parametrize(("family", "params"), TIME_CASES)
def test_in_graph_with_steps_per_epoch_is_epoch_indexed(
    family: str, params: dict[str, Any]
) -> None:
    schedule = schedules.get(family, **params)
    spe = 7
    in_graph = InGraphSchedule(schedule, steps_per_epoch=spe)
    steps = list(range(0, 25 * spe, 3))
    expected = [schedule(step // spe) for step in steps]
    assert_allclose(
        _keras_values(in_graph, steps, vectorised=False), expected, rtol=1e-5, atol=1e-9
    )


def test_in_graph_config_round_trip() -> None:
    schedule = schedules.get("step", initial_lr=0.5, drop_rate=0.8, epochs_drop=10)
    in_graph = InGraphSchedule(schedule, steps_per_epoch=4)
    config = json.loads(json.dumps(in_graph.get_config()))
    rebuilt = InGraphSchedule.from_config(config)
    assert rebuilt.schedule == schedule
    assert rebuilt.steps_per_epoch == 4
    serialized = keras.optimizers.schedules.serialize(in_graph)
    again = keras.optimizers.schedules.deserialize(serialized)
    assert isinstance(again, InGraphSchedule)
    assert again.schedule == schedule


def test_in_graph_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="schedule"):
        InGraphSchedule(0.1)  # type: ignore[arg-type]
    schedule = schedules.get("constant", initial_lr=0.1)
    with pytest.raises(ValueError, match="steps_per_epoch=0"):
        InGraphSchedule(schedule, steps_per_epoch=0)


# ---------------------------------------------------------------------------------------------
# Warm-up on any family (issue 17): t < W: start_lr + (lr0 - start_lr) * t / W; then lr(t - W).

WARMUP_FAMILIES = [name for name, fam in REGISTRY.items() if fam.optional_warmup]
WARMUP_CASES = [p for p in TIME_CASES if p.values[0] in WARMUP_FAMILIES]
WARMUPS = [(3, 0.0), (2.5, 0.2), (1, 0.5)]  # (W, start_lr as a fraction of initial_lr)


def test_warmup_families_are_the_contract() -> None:
    own_warmup = {"linear_warmup", "warmup_cosine", "wsd", "one_cycle", "plateau"}
    assert set(WARMUP_FAMILIES) == set(REGISTRY) - own_warmup
    assert [f for f, fam in REGISTRY.items() if fam.needs_metric] == ["plateau"]


def ref_with_warmup(
    family: str, t: float, params: dict[str, Any], w: float, start: float
) -> float:
    lr0 = params["initial_lr"]
    if t < w:
        return start + (lr0 - start) * t / w
    return REFERENCES[family](t - w, **params)


@pytest.mark.parametrize(("w", "start_frac"), WARMUPS)
@pytest.mark.parametrize(("family", "params"), WARMUP_CASES)
def test_warmup_closed_form(
    family: str, params: dict[str, Any], w: float, start_frac: float
) -> None:
    start = start_frac * params["initial_lr"]
    schedule = schedules.get(family, **params, warmup_epochs=w, start_lr=start)
    ts = [i / 4 for i in range(0, 320)]  # fractional epochs: the ramp works per step
    expected = [ref_with_warmup(family, t, params, w, start) for t in ts]
    assert_allclose([schedule(t) for t in ts], expected, rtol=1e-12, atol=1e-15)
    assert schedule(0) == pytest.approx(start)
    assert schedule(w) == pytest.approx(REFERENCES[family](0, **params))  # the family's lr(0)


def test_warmup_fractional_ramp_values() -> None:
    s = schedules.get("cosine", initial_lr=0.1, decay_epochs=10, warmup_epochs=2, start_lr=0.02)
    assert_allclose([s(0), s(0.5), s(1), s(1.5), s(2)], [0.02, 0.04, 0.06, 0.08, 0.1], rtol=1e-12)
    assert s(7) == pytest.approx(0.05)  # half-way through the cosine, 5 epochs after W
    assert s(12) == pytest.approx(0.0)


def test_warmup_cosine_is_cosine_with_a_warmup() -> None:
    params = {"initial_lr": 0.1, "decay_epochs": 20, "end_lr": 0.001}
    ramped = schedules.get("cosine", **params, warmup_epochs=5, start_lr=0.01)
    own = schedules.get("warmup_cosine", **params, warmup_epochs=5, start_lr=0.01)
    ts = [i / 3 for i in range(0, 120)]
    assert [ramped(t) for t in ts] == [own(t) for t in ts]


@pytest.mark.parametrize(("family", "params"), WARMUP_CASES)
def test_warmup_zero_is_the_family_unchanged(family: str, params: dict[str, Any]) -> None:
    plain = schedules.get(family, **params)
    zero = schedules.get(family, **params, warmup_epochs=0, start_lr=0.0)
    assert zero == plain
    assert zero.get_config() == plain.get_config()
    assert "warmup_epochs" not in plain.get_config()
    assert "start_lr" not in plain.get_config()
    assert _values(zero).tolist() == _values(plain).tolist()
    # start_lr alone changes nothing without a warm-up
    lone = schedules.get(family, **params, start_lr=params["initial_lr"] / 2)
    assert _values(lone).tolist() == _values(plain).tolist()


@pytest.mark.parametrize(("family", "params"), WARMUP_CASES)
def test_warmup_config_round_trip(family: str, params: dict[str, Any]) -> None:
    schedule = schedules.get(family, **params, warmup_epochs=2, start_lr=params["initial_lr"] / 10)
    config = json.loads(json.dumps(schedule.get_config()))
    assert config["warmup_epochs"] == 2
    assert config["start_lr"] == pytest.approx(params["initial_lr"] / 10)
    rebuilt = schedules.from_config(config)
    assert rebuilt == schedule
    assert rebuilt.get_config() == config
    assert _values(rebuilt).tolist() == _values(schedule).tolist()
    # from_config accepts the defaults written out as well as left out
    explicit = {"family": family, **params, "warmup_epochs": 0, "start_lr": 0.0}
    assert schedules.from_config(explicit) == schedules.get(family, **params)


WARMUP_BAD = [
    ("warmup_epochs", -1, "Argument `warmup_epochs` must be >= 0. Received: warmup_epochs=-1"),
    ("warmup_epochs", float("nan"), "Argument `warmup_epochs` must be a number."),
    ("warmup_epochs", "2", "Argument `warmup_epochs` must be a number."),
    ("start_lr", -0.01, "Argument `start_lr` must be >= 0. Received: start_lr=-0.01"),
    ("start_lr", 10.0, "Argument `start_lr` must be <= `initial_lr`"),
]


@pytest.mark.parametrize("family", WARMUP_FAMILIES)
@pytest.mark.parametrize(("name", "bad", "message"), WARMUP_BAD)
def test_warmup_bad_arguments(family: str, name: str, bad: Any, message: str) -> None:
    params = {**VALID[family], "warmup_epochs": 2, name: bad}
    with pytest.raises(ValueError) as exc:
        schedules.get(family, **params)
    assert message in str(exc.value)
    _assert_names(exc, name, bad)


@pytest.mark.parametrize("family", ["one_cycle", "wsd", "warmup_cosine", "linear_warmup"])
def test_families_with_their_own_warmup_take_no_second_one(family: str) -> None:
    extra = "start_lr" if family == "one_cycle" else "bogus"
    params = {**VALID[family], "warmup_epochs": 2} if family == "one_cycle" else VALID[family]
    with pytest.raises(ValueError, match="Unknown parameter"):
        schedules.get(family, **{**params, extra: 0.0})


def test_family_warmup_epochs_reads_the_parameter() -> None:
    params = {"initial_lr": 0.1, "k": 0.1, "warmup_epochs": 3}
    assert REGISTRY["exponential"].warmup_epochs(params) == 3
    assert REGISTRY["exponential"].warmup_epochs({"initial_lr": 0.1, "k": 0.1}) == 0
    assert REGISTRY["plateau"].warmup_epochs(VALID["plateau"]) == 0


IN_GRAPH_WARMUP = [
    ("constant", {"initial_lr": 0.1}),
    ("step", {"initial_lr": 0.5, "drop_rate": 0.8, "epochs_drop": 3}),
    ("cosine", {"initial_lr": 0.1, "decay_epochs": 10, "end_lr": 0.001}),
    ("cyclical", {"initial_lr": 0.01, "max_lr": 0.1, "step_size": 2}),
    ("cosine_restarts", {"initial_lr": 0.1, "first_decay_epochs": 3, "t_mul": 2.0}),
]


@pytest.mark.parametrize("w", [2.5, 3])
@pytest.mark.parametrize(("family", "params"), IN_GRAPH_WARMUP)
def test_in_graph_warmup_per_step_matches_python(
    family: str, params: dict[str, Any], w: float
) -> None:
    schedule = schedules.get(family, **params, warmup_epochs=w, start_lr=params["initial_lr"] / 5)
    spe = 4
    steps = list(range(0, 25 * spe))
    per_step = InGraphSchedule(schedule, steps_per_epoch=spe, granularity="step")
    assert_allclose(
        _keras_values(per_step, steps, vectorised=False),
        [schedule(s / spe) for s in steps],
        rtol=1e-5,
        atol=1e-9,
    )
    per_epoch = InGraphSchedule(schedule, steps_per_epoch=spe)
    assert_allclose(
        _keras_values(per_epoch, steps, vectorised=False),
        [schedule(s // spe) for s in steps],
        rtol=1e-5,
        atol=1e-9,
    )
    per_raw_step = InGraphSchedule(schedule)
    assert_allclose(
        _keras_values(per_raw_step, steps), [schedule(s) for s in steps], rtol=1e-5, atol=1e-9
    )


def test_in_graph_granularity_round_trip_and_validation() -> None:
    schedule = schedules.get("cosine", initial_lr=0.1, decay_epochs=10, warmup_epochs=2)
    in_graph = InGraphSchedule(schedule, steps_per_epoch=5, granularity="step")
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(in_graph))
    assert isinstance(again, InGraphSchedule)
    assert again.schedule == schedule
    assert (again.steps_per_epoch, again.granularity) == (5, "step")
    old = {"schedule": schedule.get_config(), "steps_per_epoch": 5}  # written before granularity
    assert InGraphSchedule.from_config(old).granularity == "epoch"
    with pytest.raises(ValueError, match="granularity='batch'"):
        InGraphSchedule(schedule, steps_per_epoch=5, granularity="batch")


# ---------------------------------------------------------------------------------------------
# The pieces every family is made of (optax's join_schedules).


def test_join_shifts_the_second_piece_and_skips_an_empty_first() -> None:
    from lrsearch.schedules._pieces import join
    from lrsearch.schedules._pieces import warmup

    m = schedules.PY
    assert join(1.0, 2.0, lambda t: 10 + t, lambda u: 100 + u, m) == 11.0
    assert join(2.0, 2.0, lambda t: 10 + t, lambda u: 100 + u, m) == 100.0
    assert join(5.0, 2.0, lambda t: 10 + t, lambda u: 100 + u, m) == 103.0
    assert join(2.0, 2.0, lambda t: 10 + t, lambda u: 100 + u, m, closed=True) == 12.0

    def never(t: float) -> float:
        raise AssertionError("the first piece of an empty join is not evaluated")

    assert join(0.0, 0.0, never, lambda u: 100 + u, m) == 100.0
    assert warmup(0.0, 0.0, 1.0, 0.0, lambda u: 7.0, m) == 7.0  # W = 0: no division by 0
    assert warmup(0.5, 0.0, 1.0, 2.0, lambda u: 7.0, m) == 0.25
