"""Warm-up on any family, per-step granularity in the spec, and ``for_epochs`` (issue 17).

Pure Python (no Keras): the join formula against optax's ``join_schedules`` and Keras'
``CosineDecay(warmup_target, warmup_steps)`` semantics, written out from their documentation;
per-step ``one_cycle`` against PyTorch's ``OneCycleLR`` closed form at every step; the budget
carried to another length on every family.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
import pytest

from lrsearch import ScheduleSpec
from lrsearch import SearchSpace
from lrsearch.schedules import DURATION_PARAMS
from lrsearch.schedules import FAMILIES
from lrsearch.schedules import REGISTRY
from lrsearch.schedules import from_config
from lrsearch.schedules import get
from lrsearch.schedules import scale_durations

# ------------------------------------------------------------------------- references


def optax_linear(init: float, end: float, steps: int, transition_begin: int = 0) -> Any:
    """optax.linear_schedule: ``init`` before ``transition_begin``, then a line to ``end`` over
    ``steps`` steps, then ``end``."""

    def f(count: float) -> float:
        frac = 1.0 - min(max(count - transition_begin, 0), steps) / steps
        return (init - end) * frac + end

    return f


def optax_join(schedules: list[Any], boundaries: list[float]) -> Any:
    """optax.join_schedules: schedule i from boundary i-1 on, called with ``count - boundary``."""

    def f(count: float) -> float:
        output = schedules[0](count)
        for boundary, schedule in zip(boundaries, schedules[1:], strict=True):
            output = schedule(count - boundary) if count >= boundary else output
        return output

    return f


def keras_cosine_decay_with_warmup(
    initial: float, decay_steps: float, alpha: float, target: float, warmup_steps: float
) -> Any:
    """keras.optimizers.schedules.CosineDecay(initial, decay_steps, alpha, warmup_target=target,
    warmup_steps=warmup_steps), as its documentation writes it."""

    def f(step: float) -> float:
        if step < warmup_steps:
            completed = step / warmup_steps
            return initial + (target - initial) * completed
        step = min(step - warmup_steps, decay_steps)
        cosine = 0.5 * (1 + math.cos(math.pi * step / decay_steps))
        return target * ((1 - alpha) * cosine + alpha)

    return f


def torch_one_cycle(
    max_lr: float, total_steps: int, pct_start: float, div: float, fdiv: float
) -> Any:
    """PyTorch OneCycleLR (cos, two phases), closed form of its ``get_lr`` at each step."""
    initial = max_lr / div
    final = initial / fdiv
    end_up = float(pct_start * total_steps) - 1
    end_down = float(total_steps) - 1

    def anneal(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    def f(step: int) -> float:
        if step <= end_up:
            return anneal(initial, max_lr, step / end_up)
        return anneal(max_lr, final, (step - end_up) / (end_down - end_up))

    return f


# ------------------------------------------------------------------------- the join formula


def test_step_with_warmup_gives_the_issue_values_and_round_trips() -> None:
    s = get("step", initial_lr=0.1, drop_rate=0.5, epochs_drop=2, warmup_epochs=2, start_lr=0.01)
    assert [s(t) for t in range(6)] == pytest.approx([0.01, 0.055, 0.1, 0.1, 0.05, 0.05])
    again = from_config(s.get_config())
    assert again == s and again.get_config()["warmup_epochs"] == 2
    assert again.get_config()["start_lr"] == 0.01


@pytest.mark.parametrize("warm", [1, 3, 5])
@pytest.mark.parametrize(
    "family,params,own",
    [
        ("constant", {"initial_lr": 0.2}, lambda t: 0.2),
        ("exponential", {"initial_lr": 0.2, "k": 0.3}, lambda t: 0.2 * math.exp(-0.3 * t)),
        ("time_based", {"initial_lr": 0.2, "decay": 0.5}, lambda t: 0.2 / (1 + 0.5 * t)),
        (
            "step",
            {"initial_lr": 0.2, "drop_rate": 0.5, "epochs_drop": 2},
            lambda t: 0.2 * 0.5 ** math.floor(t / 2),
        ),
    ],
)
def test_warmup_is_optax_join_of_a_linear_ramp_and_the_family(
    warm: int, family: str, params: dict[str, Any], own: Any
) -> None:
    s = get(family, **params, warmup_epochs=warm, start_lr=0.01)
    ref = optax_join([optax_linear(0.01, 0.2, warm), own], [warm])
    for step in range(40):  # step for step, and at fractional epochs
        for t in (step, step + 0.25, step + 0.5):
            assert s(t) == pytest.approx(ref(t), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("warm,decay,end", [(1, 10, 0.0), (4, 8, 0.002), (7, 3, 0.01)])
def test_cosine_with_warmup_is_keras_cosine_decay_with_warmup(
    warm: int, decay: int, end: float
) -> None:
    s = get("cosine", initial_lr=0.1, decay_epochs=decay, end_lr=end, warmup_epochs=warm,
            start_lr=0.003)  # fmt: skip
    ref = keras_cosine_decay_with_warmup(0.003, decay, end / 0.1, 0.1, warm)
    for step in range(3 * (warm + decay)):
        for t in (step, step + 0.5):
            assert s(t) == pytest.approx(ref(t), rel=1e-12, abs=1e-15)
    # the same as the warmup_cosine family
    wc = get("warmup_cosine", initial_lr=0.1, start_lr=0.003, warmup_epochs=warm,
             decay_epochs=decay, end_lr=end)  # fmt: skip
    assert [wc(t) for t in range(30)] == pytest.approx([s(t) for t in range(30)])


@pytest.mark.parametrize(
    "max_lr,epochs,n,pct,div,fdiv",
    [(0.1, 10, 20, 0.3, 25.0, 1e4), (0.5, 4, 7, 0.25, 10.0, 100.0), (1.0, 3, 33, 0.5, 5.0, 1e3)],
)
def test_one_cycle_per_step_is_torch_one_cycle_at_every_step(
    max_lr: float, epochs: int, n: int, pct: float, div: float, fdiv: float
) -> None:
    """Per step, the schedule's epochs are counted in steps: total_epochs = epochs * n steps."""
    total = epochs * n
    s = get("one_cycle", initial_lr=max_lr, total_epochs=total, pct_start=pct, div_factor=div,
            final_div_factor=fdiv)  # fmt: skip
    ref = torch_one_cycle(max_lr, total, pct, div, fdiv)
    for step in range(total):
        assert s(step) == pytest.approx(ref(step), rel=1e-9, abs=1e-15)


# ------------------------------------------------------------------------- the spec's fields


def test_spec_carries_granularity_and_epochs_through_dicts() -> None:
    spec = ScheduleSpec("cosine", {"initial_lr": 0.1, "decay_epochs": 10}, granularity="step",
                        epochs=10)  # fmt: skip
    data = spec.to_dict()
    assert data["granularity"] == "step" and data["epochs"] == 10
    assert ScheduleSpec.from_dict(data) == spec
    old = {"family": "cosine", "params": {"initial_lr": 0.1, "decay_epochs": 10}}
    assert ScheduleSpec.from_dict(old).granularity == "epoch"
    assert ScheduleSpec.from_dict(old).epochs is None


@pytest.mark.parametrize(
    "kwargs,word", [({"granularity": "batch"}, "granularity"), ({"epochs": 0}, "epochs")]
)
def test_spec_refuses_bad_granularity_or_epochs(kwargs: dict[str, Any], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        ScheduleSpec("constant", {"initial_lr": 0.1}, **kwargs)


# ------------------------------------------------------------------------- for_epochs


def test_for_epochs_scales_step_drop() -> None:
    spec = ScheduleSpec("step", {"initial_lr": 0.1, "drop_rate": 0.5, "epochs_drop": 3},
                        epochs=10)  # fmt: skip
    long = spec.for_epochs(30)
    assert long.params["epochs_drop"] == 9 and long.epochs == 30
    assert long.params["initial_lr"] == 0.1 and long.params["drop_rate"] == 0.5


def test_cosine_carried_to_25_epochs_ends_at_end_lr_at_25() -> None:
    spec = ScheduleSpec("cosine", {"initial_lr": 0.1, "decay_epochs": 10, "end_lr": 0.001},
                        epochs=10)  # fmt: skip
    long = spec.for_epochs(25)
    schedule = long.schedule
    assert schedule is not None
    assert long.params["decay_epochs"] == 25
    assert schedule(25) == pytest.approx(0.001)
    assert schedule(24) > 0.001


def test_for_epochs_refuses_bad_budgets() -> None:
    spec = ScheduleSpec("constant", {"initial_lr": 0.1}, epochs=5)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="epochs"):
            spec.for_epochs(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epochs"):
        ScheduleSpec("constant", {"initial_lr": 0.1}).for_epochs(10)


def _budget_specs() -> list[tuple[str, dict[str, Any]]]:
    """Every family at its article defaults for 10 epochs, plus a warm-up where optional."""
    out = []
    for family in FAMILIES:
        params = REGISTRY[family].article_defaults(10)
        if REGISTRY[family].optional_warmup:
            params = {**params, "warmup_epochs": 2, "start_lr": 0.0}
        out.append((family, params))
    return out


@pytest.mark.parametrize("family,params", _budget_specs(), ids=[f for f, _ in _budget_specs()])
@pytest.mark.parametrize("target", [1, 3, 10, 25, 100])
def test_for_epochs_on_every_family(family: str, params: dict[str, Any], target: int) -> None:
    spec = ScheduleSpec(family, params, "sgd", 0.9, granularity="step", epochs=10)
    long = spec.for_epochs(target)  # builds, so every family stays valid
    assert long.epochs == target
    assert (long.family, long.optimizer, long.momentum, long.granularity) == (
        family, "sgd", 0.9, "step"
    )  # fmt: skip
    factor = target / 10
    for name, value in spec.params.items():
        new = long.params[name]
        if name not in DURATION_PARAMS:
            assert new == value, name  # rates and shapes unchanged
        elif value == 0:
            assert new == 0
        elif family == "wsd" and name == "total_epochs":
            p = long.params
            assert new == max(round(value * factor + 1e-9), p["warmup_epochs"] + p["decay_epochs"])
        elif family == "one_cycle" and name == "total_epochs":
            assert new == max(2, math.floor(value * factor + 0.5))
        else:
            assert isinstance(new, int) and new == max(1, math.floor(value * factor + 0.5)), name
    assert long.for_epochs(10).epochs == 10
    if target == 10:
        assert long == spec


def test_scale_durations_keeps_fractions_and_refuses_bad_factor() -> None:
    out = scale_durations("cosine", {"initial_lr": 0.1, "decay_epochs": 2.5}, 2.0)
    assert out["decay_epochs"] == 5.0
    out = scale_durations("cosine", {"initial_lr": 0.1, "decay_epochs": 2.4}, 1.5)
    assert out["decay_epochs"] == pytest.approx(3.6)
    with pytest.raises(ValueError, match="factor"):
        scale_durations("cosine", {"initial_lr": 0.1, "decay_epochs": 2}, 0)


# ------------------------------------------------------------------------- the search space


def test_space_draws_no_warmup_by_default() -> None:
    space = SearchSpace(families=["step"], epochs=8)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    spec = space.suggest(trial)
    assert "warmup_epochs" not in spec.params and "warmup_epochs" not in trial.params
    assert spec.granularity == "epoch" and spec.epochs == 8


def test_space_draws_a_warmup_on_families_without_one_sharing_linear_warmups_parameters() -> None:
    families = ["step", "cosine", "linear_warmup", "one_cycle", "plateau", "cyclical"]
    space = SearchSpace(families=families, epochs=12, warmup=True, granularity="step",
                        warmup_epochs=(1, 3))  # fmt: skip
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen: dict[str, Any] = {}
    for _ in range(60):
        trial = study.ask()
        spec = space.suggest(trial)
        study.tell(trial, 1.0)
        assert spec.granularity == "step" and spec.epochs == 12
        entry = REGISTRY[spec.family]
        if entry.optional_warmup:
            w = spec.params["warmup_epochs"]
            assert 1 <= w <= 3 and spec.warmup_epochs == w
            assert 0 < spec.params["start_lr"] < spec.initial_lr
            if spec.family == "cosine":  # the decay still ends with the budget
                assert spec.params["decay_epochs"] == 12 - w
        elif spec.family in ("one_cycle", "plateau"):
            assert "warmup_epochs" not in spec.params
        seen[spec.family] = trial.distributions.get("warmup_epochs")
    dists = {d for f, d in seen.items() if d is not None}
    assert len(dists) == 1  # one distribution for warmup_epochs across the study
    assert dists == {optuna.distributions.IntDistribution(1, 3)}
    assert space.to_dict()["warmup"] is True and space.to_dict()["granularity"] == "step"


def test_space_refuses_bad_warmup_and_granularity() -> None:
    with pytest.raises(ValueError, match="warmup"):
        SearchSpace(warmup="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="granularity"):
        SearchSpace(granularity="batch")


def test_from_hp_draws_the_warmup_in_the_family_scope() -> None:
    kt = pytest.importorskip("keras_tuner")
    hp = kt.HyperParameters()
    space = SearchSpace(families=["exponential"], epochs=8, warmup=True)
    spec = space.from_hp(hp)
    assert "warmup_epochs" in spec.params
    assert "exponential/warmup_epochs" in hp.values


def test_schedule_aware_pruner_spares_an_optional_warmup() -> None:
    from lrsearch.pruners import in_warmup

    spec = ScheduleSpec("step", {"initial_lr": 0.1, "drop_rate": 0.5, "epochs_drop": 2,
                                 "warmup_epochs": 3, "start_lr": 0.01}, epochs=10)  # fmt: skip

    def frozen(last: int) -> optuna.trial.FrozenTrial:
        return optuna.trial.create_trial(
            state=optuna.trial.TrialState.RUNNING,
            intermediate_values={e: 1.0 for e in range(last + 1)},
            user_attrs={"spec": spec.to_dict()},
        )

    assert in_warmup(frozen(0)) and in_warmup(frozen(1))
    assert not in_warmup(frozen(2))


def test_dashboard_note_shows_the_warmup_and_the_granularity() -> None:
    from lrsearch.dashboard import trial_note

    params = {"initial_lr": 0.1, "drop_rate": 0.5, "epochs_drop": 2, "warmup_epochs": 2,
              "start_lr": 0.01}  # fmt: skip
    spec = ScheduleSpec("step", params, granularity="step")
    history = {"learning_rate": [0.01, 0.055, 0.1], "loss": [1.0, 0.9, 0.8]}
    note = trial_note(spec.to_dict(), history)
    assert "warmup_epochs=2" in note and "start_lr=0.01" in note
    assert "every step" in note
