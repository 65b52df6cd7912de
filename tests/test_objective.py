"""``lrsearch.objective``: the ``on_trial_end`` hook and pruning left to the study's pruner.

The hook tests train real models on iris. The pruning test needs curves it controls: a
stand-in trainer feeds the trial's callbacks chosen epoch logs (no model is fitted there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
import pytest

from lrsearch.data import load_dataset
from lrsearch.objective import DIVERGED_CONSTRAINT
from lrsearch.objective import Objective
from lrsearch.pruners import ScheduleAwarePruner
from lrsearch.pruners import phase_lag
from lrsearch.space import ScheduleSpec
from lrsearch.space import SearchSpace
from lrsearch.training import Trainer

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


def _iris_trainer() -> Trainer:
    return Trainer(load_dataset("iris", seed=0), "mlp", batch_size=32)


def test_the_hook_gets_each_trial_however_it_ends() -> None:
    """Real training on iris: a trial that finishes and one that diverges (a huge rate)."""
    seen: list[tuple[int, str, list[float | None]]] = []

    def hook(trial: optuna.trial.Trial, spec: ScheduleSpec, history: dict[str, Any]) -> None:
        assert trial.user_attrs["history"] == history  # stored before the hook runs
        seen.append((trial.number, spec.family, list(history["val_loss"])))

    space = SearchSpace(families=["constant"], initial_lr=(1e-3, 1e6), epochs=3)
    study = _study()
    study.enqueue_trial({"family": "constant", "initial_lr": 0.05, "momentum": 0.9})
    study.enqueue_trial({"family": "constant", "initial_lr": 1e6, "momentum": 0.9})
    study.optimize(Objective(space, _iris_trainer(), epochs=3, on_trial_end=hook), n_trials=2)
    assert [t.state for t in study.trials] == [
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
    ]
    assert [(n, f) for n, f, _ in seen] == [(0, "constant"), (1, "constant")]
    assert len(seen[0][2]) == 3 and all(v is not None for v in seen[0][2])
    assert seen[1][2][-1] is None  # the diverged epoch is recorded as None
    assert "diverged" in study.trials[1].user_attrs["pruned_reason"]


def test_a_failing_hook_is_never_fatal(capsys: pytest.CaptureFixture[str]) -> None:
    def hook(*args: Any) -> None:
        raise RuntimeError("no dashboard here")

    space = SearchSpace(families=["constant"], initial_lr=(0.01, 0.1), epochs=2)
    study = _study()
    objective = Objective(space, _iris_trainer(), epochs=2, on_trial_end=hook)
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
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
    space = SearchSpace(families=["step"], initial_lr=(0.01, 0.1), epochs=3)
    objective = Objective(space, _iris_trainer(), epochs=3, on_trial_end=hook)
    study.optimize(objective, n_trials=1)
    body = get_note(trials[0])
    assert "`step` schedule" in body and "| 3 |" in body


def test_warmups_are_judged_at_their_phase_by_the_studys_pruner() -> None:
    """A trial worse than the median every epoch is pruned at its first epoch past the lag of
    its warm-up (:func:`lrsearch.pruners.phase_lag`), inside the warm-up if it is long."""
    pruner = ScheduleAwarePruner(optuna.pruners.MedianPruner(n_startup_trials=1))
    study = _study(pruner)
    good, bad = [0.1] * EPOCHS, [9.0] * EPOCHS
    space = SearchSpace(families=["linear_warmup"], epochs=EPOCHS)
    study.optimize(Objective(space, FakeTrainer(good, bad, bad, bad), epochs=EPOCHS), n_trials=4)
    for trial in study.trials[1:]:
        assert trial.state == optuna.trial.TrialState.PRUNED
        warmup = trial.user_attrs["spec"]["params"]["warmup_epochs"]
        first = next(e for e in range(EPOCHS) if e >= math.floor(phase_lag(warmup, e) + 1e-9))
        assert trial.user_attrs["pruned_reason"].startswith(f"pruned at epoch {first}:")
        assert len(trial.user_attrs["history"]["val_loss"]) == first + 1


def test_a_diverged_trial_is_infeasible_for_the_sampler() -> None:
    """Its constraint ``diverged`` is 1.0 (violated); a trial that trained carries none."""
    study = _study()
    space = SearchSpace(families=["constant"], epochs=3)
    objective = Objective(space, FakeTrainer([0.5, 0.4, 0.3], [0.5, math.nan, 0.1]), epochs=3)
    study.optimize(objective, n_trials=2)
    fine, diverged = study.trials
    assert fine.state == optuna.trial.TrialState.COMPLETE and fine.constraints == {}
    assert diverged.state == optuna.trial.TrialState.PRUNED
    assert diverged.constraints == {DIVERGED_CONSTRAINT: 1.0}
    assert diverged.user_attrs["pruned_reason"].startswith("diverged")
