"""``lrsearch.pruners``: trials judged at their schedule's phase by a wrapper pruner (no Keras),
on synthetic curves, and the registry."""

from __future__ import annotations

import math
import sys
from typing import Any

import optuna
import pytest

from lrsearch.pruners import PRUNERS
from lrsearch.pruners import ScheduleAwareHyperbandPruner
from lrsearch.pruners import ScheduleAwarePruner
from lrsearch.pruners import in_warmup
from lrsearch.pruners import make_pruner
from lrsearch.pruners import phase_lag
from lrsearch.pruners import warmup_epochs_of

EPOCHS = 6
GOOD = 0.1  # val_loss of the finished trials, every epoch
BAD = 10.0  # val_loss of the trial under test: worse than the median at every epoch


def _median() -> optuna.pruners.MedianPruner:
    return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)


def _study(pruner: optuna.pruners.BasePruner) -> optuna.Study:
    """An in-memory study with two finished trials at ``GOOD`` every epoch."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(pruner=pruner)
    for _ in range(2):
        trial = study.ask()
        for epoch in range(EPOCHS):
            trial.report(GOOD, epoch)
        study.tell(trial, GOOD)
    return study


def _pruned_epochs(study: optuna.Study, attrs: dict[str, Any]) -> list[int]:
    """Epochs at which ``should_prune()`` is true for a trial reporting ``BAD`` every epoch."""
    trial = study.ask()
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    pruned = []
    for epoch in range(EPOCHS):
        trial.report(BAD, epoch)
        if trial.should_prune():
            pruned.append(epoch)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return pruned


def test_the_wrapped_pruner_alone_prunes_from_the_first_epoch() -> None:
    assert _pruned_epochs(_study(_median()), {"warmup_epochs": 3}) == list(range(EPOCHS))


@pytest.mark.parametrize(
    "attrs",
    [
        {"warmup_epochs": 3},
        {"spec": {"family": "linear_warmup", "params": {"initial_lr": 0.1, "warmup_epochs": 3}}},
        {"spec": {"family": "step", "params": {"initial_lr": 0.1, "warmup_epochs": 3}}},
        {"spec": {"family": "one_cycle", "params": {"initial_lr": 0.1, "total_epochs": 10}}},
        {"warmup_epochs": 2.5},
        {"warmup_epochs": 1},  # epoch 0 trains at start_lr: a lag of one epoch
    ],
    ids=[
        "attribute",
        "linear_warmup",
        "step-with-warmup",
        "one_cycle-pct-0.3",
        "fractional",
        "one-epoch",
    ],
)
def test_a_bad_warmup_is_judged_at_its_phase_not_exempted(attrs: dict[str, Any]) -> None:
    """Epoch 0 of a 3-epoch ramp lags a whole epoch (nothing to compare yet); from epoch 1 the
    trial is compared with the others' epoch 0, and a bad one is pruned inside its warm-up."""
    study = _study(ScheduleAwarePruner(_median()))
    assert _pruned_epochs(study, attrs) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"warmup_epochs": 0},
        {"spec": {"family": "step", "params": {"initial_lr": 0.1, "drop_rate": 0.5}}},
        {"spec": {"family": "not-an-lrsearch-family", "params": {"warmup_epochs": 3}}},
        {"spec": "not a dict"},
    ],
)
def test_without_a_warmup_the_wrapped_pruner_decides(attrs: dict[str, Any]) -> None:
    study = _study(ScheduleAwarePruner(_median()))
    assert _pruned_epochs(study, attrs) == list(range(EPOCHS))


@pytest.mark.parametrize("warmup", [0, 0.5, 1, 2, 2.5, 3, 4.2])
def test_spared_epochs_are_those_trial_reporter_spared(warmup: float) -> None:
    """The rule of the former ``TrialReporter``: prune at epoch e only if e + 1 >= ceil(W)."""
    study = optuna.create_study()
    trial = study.ask()
    trial.set_user_attr("warmup_epochs", warmup)
    for epoch in range(8):
        trial.report(1.0, epoch)
        frozen = study._storage.get_trial(trial._trial_id)
        assert in_warmup(frozen) == (not epoch + 1 >= math.ceil(warmup))


def test_a_trial_that_reported_nothing_is_not_in_warmup() -> None:
    study = optuna.create_study()
    trial = study.ask()
    trial.set_user_attr("warmup_epochs", 5)
    assert not in_warmup(study._storage.get_trial(trial._trial_id))


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "3", True, None])
def test_a_bad_warmup_attribute_is_a_value_error(bad: Any) -> None:
    study = optuna.create_study()
    trial = study.ask()
    trial.set_user_attr("warmup_epochs", bad)
    with pytest.raises(ValueError, match="`warmup_epochs` user attribute must be"):
        warmup_epochs_of(study._storage.get_trial(trial._trial_id))


def test_the_attribute_wins_over_the_spec() -> None:
    study = optuna.create_study()
    trial = study.ask()
    trial.set_user_attr("warmup_epochs", 1)
    trial.set_user_attr(
        "spec", {"family": "linear_warmup", "params": {"initial_lr": 0.1, "warmup_epochs": 4}}
    )
    assert warmup_epochs_of(study._storage.get_trial(trial._trial_id)) == 1.0


def test_the_wrapper_needs_a_pruner() -> None:
    with pytest.raises(TypeError, match="`wrapped` must be an optuna.pruners.BasePruner"):
        ScheduleAwarePruner("median")  # type: ignore[arg-type]


def test_schedule_aware_hyperband_judges_at_the_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to show in epoch 0 of a 3-epoch ramp; afterwards Hyperband decides (here: always
    prune), on the phase view."""
    seen: list[dict[int, float]] = []

    def prune(self: Any, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        seen.append(dict(trial.intermediate_values))
        return True

    monkeypatch.setattr(optuna.pruners.HyperbandPruner, "prune", prune)
    study = _study(ScheduleAwareHyperbandPruner(min_resource=1, max_resource=EPOCHS))
    assert _pruned_epochs(study, {"warmup_epochs": 3}) == [1, 2, 3, 4, 5]
    assert seen[0] == {0: BAD}  # epoch 1 of the ramp stands at step 0


# --------------------------------------------------------------------------- phase, on curves


def _curve_study(pruner: optuna.pruners.BasePruner, curve: Any) -> optuna.Study:
    """Two finished trials following ``curve(epoch)``."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(pruner=pruner)
    for _ in range(2):
        trial = study.ask()
        for epoch in range(EPOCHS):
            trial.report(curve(epoch), epoch)
        study.tell(trial, min(curve(e) for e in range(EPOCHS)))
    return study


def _pruned_on(study: optuna.Study, values: list[float], attrs: dict[str, Any]) -> list[int]:
    trial = study.ask()
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    pruned = []
    for epoch, value in enumerate(values):
        trial.report(value, epoch)
        if trial.should_prune():
            pruned.append(epoch)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return pruned


def _full_rate(epoch: int) -> float:
    return 1.0 / (epoch + 1)


# a 3-epoch ramp learning as the others do, 2 epochs later (its lag), a little better
_WARM = [0.95 * _full_rate(max(0, e - 2)) for e in range(EPOCHS)]


def test_a_warmup_as_good_as_the_others_at_its_phase_is_kept() -> None:
    plain = _curve_study(_median(), _full_rate)
    assert _pruned_on(plain, _WARM, {"warmup_epochs": 3}) == [1, 2, 3, 4, 5]  # unfair
    aware = _curve_study(ScheduleAwarePruner(_median()), _full_rate)
    assert _pruned_on(aware, _WARM, {"warmup_epochs": 3}) == []


def test_a_warmup_worse_than_the_others_at_its_phase_is_pruned() -> None:
    late = [2.0 * v for v in _WARM]  # twice the others' loss at the same phase
    aware = _curve_study(ScheduleAwarePruner(_median()), _full_rate)
    assert _pruned_on(aware, late, {"warmup_epochs": 3})[:1] == [1]


def test_a_cyclical_trial_at_the_peak_of_its_rate_is_judged_by_what_it_reached() -> None:
    """ThresholdPruner reads the last value: a plain one prunes at the rate's peak (epoch 2)."""
    cyclical = [0.8, 0.5, 2.0, 0.4, 1.5, 0.3]
    threshold = optuna.pruners.ThresholdPruner(upper=1.0)
    assert _pruned_on(_curve_study(threshold, _full_rate), cyclical, {}) == [2, 4]
    aware = ScheduleAwarePruner(optuna.pruners.ThresholdPruner(upper=1.0))
    assert _pruned_on(_curve_study(aware, _full_rate), cyclical, {}) == []


def test_a_nan_is_still_pruned() -> None:
    aware = ScheduleAwarePruner(optuna.pruners.ThresholdPruner(upper=1.0))
    assert _pruned_on(_curve_study(aware, _full_rate), [0.5, math.nan], {}) == [1]


def test_successive_halving_records_its_rungs_on_the_real_trial() -> None:
    study = _curve_study(ScheduleAwarePruner(make_pruner("halving", EPOCHS)), _full_rate)
    study.pruner = ScheduleAwarePruner(optuna.pruners.SuccessiveHalvingPruner(min_resource=1))
    trial = study.ask()
    trial.set_user_attr("warmup_epochs", 3)
    for epoch, value in enumerate(_WARM[:4]):
        trial.report(value, epoch)
        trial.should_prune()
    attrs = study._storage.get_trial(trial._trial_id).system_attrs
    assert attrs["completed_rung_0"] == pytest.approx(_WARM[3])  # epoch 3 is the phase's step 1


@pytest.mark.parametrize(
    ("warmup", "lags"),
    [(0, [0, 0, 0]), (1, [1, 1, 1]), (3, [1, 5 / 3, 2, 2]), (2.5, [1, 1.6, 1.8, 1.8])],
)
def test_phase_lag_of_a_linear_ramp(warmup: float, lags: list[float]) -> None:
    assert [phase_lag(warmup, e) for e in range(len(lags))] == pytest.approx(lags)


# --------------------------------------------------------------------------- registry


def test_registry_names() -> None:
    assert list(PRUNERS) == ["median", "hyperband", "halving", "none"]


def test_plain_pruners_are_those_of_lrsearch_tune() -> None:
    median = make_pruner("median", 10, schedule_aware=False)
    assert type(median) is optuna.pruners.MedianPruner
    assert (median._n_startup_trials, median._n_warmup_steps) == (5, 1)
    hyperband = make_pruner("hyperband", 10, schedule_aware=False)
    assert type(hyperband) is optuna.pruners.HyperbandPruner
    assert (hyperband._min_resource, hyperband._max_resource) == (1, 10)
    assert type(make_pruner("none", 10, schedule_aware=False)) is optuna.pruners.NopPruner
    halving = make_pruner("halving", 10, schedule_aware=False)
    assert type(halving) is optuna.pruners.SuccessiveHalvingPruner
    assert (halving._min_resource, halving._reduction_factor) == (1, 3)
    assert halving._min_early_stopping_rate == 0  # judged after epochs 2, 4, 10
    assert type(PRUNERS["median"](10)) is optuna.pruners.MedianPruner  # plain by default


def test_schedule_aware_pruners_wrap_the_same() -> None:
    median = make_pruner("median", 10)
    assert isinstance(median, ScheduleAwarePruner)
    assert type(median.wrapped) is optuna.pruners.MedianPruner
    assert median.wrapped._n_startup_trials == 5 and median.wrapped._n_warmup_steps == 1
    hyperband = make_pruner("hyperband", 10)
    # still a HyperbandPruner, so Optuna's samplers keep drawing within a bracket
    assert isinstance(hyperband, ScheduleAwareHyperbandPruner)
    assert isinstance(hyperband, optuna.pruners.HyperbandPruner)
    assert (hyperband._min_resource, hyperband._max_resource) == (1, 10)
    assert type(make_pruner("none", 10)) is optuna.pruners.NopPruner  # nothing to spare


def test_unknown_pruner_names_the_choices() -> None:
    with pytest.raises(
        ValueError, match="'median', 'hyperband', 'halving', 'none'. Received: name='foo'"
    ):
        make_pruner("foo", 10)


def test_pruners_import_no_keras() -> None:
    import subprocess

    code = "import sys, lrsearch.pruners; print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
