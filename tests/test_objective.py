"""``lrsearch.objective``: the ``on_trial_end`` hook and pruning left to the study's pruner.

A stand-in trainer feeds the trial's callbacks epoch logs (no model is fitted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
import pytest

from lrsearch.objective import Objective
from lrsearch.pruners import ScheduleAwarePruner
from lrsearch.space import ScheduleSpec
from lrsearch.space import SearchSpace

EPOCHS = 12


class FakeTrainer:
    """``fit`` reports ``losses[i]`` as loss and val_loss of epoch ``i`` (one list per call)."""

    def __init__(self, *runs: Sequence[float]) -> None:
        self.runs = list(runs)

    def fit(self, spec: ScheduleSpec, epochs: int, seed: int, callbacks: list[Any]) -> None:
        losses = self.runs.pop(0)
        schedule = spec.schedule
        for epoch in range(epochs):
            lr = schedule(epoch) if schedule is not None else None
            logs = {"loss": losses[epoch], "val_loss": losses[epoch], "learning_rate": lr}
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)


def _study(pruner: optuna.pruners.BasePruner | None = None) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(pruner=pruner or optuna.pruners.NopPruner())


def test_the_hook_gets_each_trial_however_it_ends() -> None:
    seen: list[tuple[int, str, list[float | None]]] = []

    def hook(trial: optuna.trial.Trial, spec: ScheduleSpec, history: dict[str, Any]) -> None:
        assert trial.user_attrs["history"] == history  # stored before the hook runs
        seen.append((trial.number, spec.family, list(history["val_loss"])))

    good = [1.0 / (i + 1) for i in range(EPOCHS)]
    diverging = [1.0, 0.5, math.nan] + [1.0] * (EPOCHS - 3)
    trainer = FakeTrainer(good, diverging)
    space = SearchSpace(families=["constant"], epochs=EPOCHS)
    study = _study()
    study.optimize(Objective(space, trainer, epochs=EPOCHS, on_trial_end=hook), n_trials=2)
    assert [t.state for t in study.trials] == [
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
    ]
    assert seen == [(0, "constant", good), (1, "constant", [1.0, 0.5, None])]


def test_a_failing_hook_is_never_fatal(capsys: pytest.CaptureFixture[str]) -> None:
    def hook(*args: Any) -> None:
        raise RuntimeError("no dashboard here")

    runs = [[0.5] * EPOCHS, [0.4] * EPOCHS]
    space = SearchSpace(families=["constant"], epochs=EPOCHS)
    study = _study()
    objective = Objective(space, FakeTrainer(*runs), epochs=EPOCHS, on_trial_end=hook)
    study.optimize(objective, n_trials=2)
    assert [t.value for t in study.trials] == [0.5, 0.4]
    err = capsys.readouterr().err
    assert err.count("on_trial_end hook failed (RuntimeError: no dashboard here)") == 1


def test_the_dashboard_note_is_a_hook(tmp_path: Any) -> None:
    from optuna_dashboard import get_note

    from lrsearch.dashboard import write_trial_note

    trials: list[optuna.trial.Trial] = []

    def hook(trial: optuna.trial.Trial, spec: ScheduleSpec, history: dict[str, Any]) -> None:
        trials.append(trial)  # get_note reads a live Trial
        write_trial_note(trial, spec, history)

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'o.db'}", study_name="o")
    space = SearchSpace(families=["step"], epochs=EPOCHS)
    trainer = FakeTrainer([0.5] * EPOCHS)
    study.optimize(Objective(space, trainer, epochs=EPOCHS, on_trial_end=hook), n_trials=1)
    body = get_note(trials[0])
    assert "`step` schedule" in body and f"| {EPOCHS} |" in body


def test_warmups_are_spared_by_the_studys_pruner() -> None:
    """A trial worse than the median every epoch is pruned at the first epoch after warm-up."""
    pruner = ScheduleAwarePruner(optuna.pruners.MedianPruner(n_startup_trials=1))
    study = _study(pruner)
    good, bad = [0.1] * EPOCHS, [9.0] * EPOCHS
    space = SearchSpace(families=["linear_warmup"], epochs=EPOCHS)
    study.optimize(Objective(space, FakeTrainer(good, bad, bad, bad), epochs=EPOCHS), n_trials=4)
    for trial in study.trials[1:]:
        assert trial.state == optuna.trial.TrialState.PRUNED
        warmup = trial.user_attrs["spec"]["params"]["warmup_epochs"]
        first = max(0, math.ceil(warmup) - 1)  # the epochs the former TrialReporter spared
        assert trial.user_attrs["pruned_reason"].startswith(f"pruned at epoch {first}:")
        assert len(trial.user_attrs["history"]["val_loss"]) == first + 1
