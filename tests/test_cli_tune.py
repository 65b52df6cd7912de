"""``lrsearch tune`` end to end through the installed binary, as a user runs it.

A study in the default storage (``sqlite:///studies/lrsearch.db`` in an empty working
directory), read back with Optuna; ``best`` and ``export`` on it; a second run continuing it;
a diverging learning rate; a user's CSV data with a user's model file; a binary dataset with a
sigmoid model.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import optuna
import pytest
from conftest import run_cli

from lrsearch import ScheduleSpec

pytestmark = pytest.mark.slow

QUIET = ["--progress", "off"]


def _study(workdir: Path, name: str = "lrsearch") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{workdir}/studies/lrsearch.db")


def _tune(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli(["tune", *QUIET, *args], cwd=workdir, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _check_trial(t: optuna.trial.FrozenTrial, epochs: int) -> None:
    """What every finished trial records: family, spec, per-epoch history, reports."""
    assert t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED), t
    family = t.params["family"]
    assert t.user_attrs["family"] == family
    spec = ScheduleSpec.from_dict(t.user_attrs["spec"])
    assert spec.family == family
    assert spec.initial_lr == pytest.approx(t.params["initial_lr"])
    history = t.user_attrs["history"]
    n = len(history["val_loss"])
    if t.state == optuna.trial.TrialState.COMPLETE:
        assert n == epochs
    else:
        assert 1 <= n <= epochs
    for key in ("loss", "val_loss", "learning_rate"):
        assert len(history[key]) == n, (key, history)
    # every epoch's val_loss was reported to Optuna, in order
    steps = sorted(t.intermediate_values)
    assert steps == list(range(len(steps)))
    reported = [t.intermediate_values[s] for s in steps]
    assert reported == pytest.approx(history["val_loss"][: len(reported)])
    assert len(reported) in (n, n - 1)  # a diverged epoch is recorded, not reported
    if t.state == optuna.trial.TrialState.COMPLETE:
        assert len(reported) == epochs
        assert t.value == pytest.approx(min(v for v in history["val_loss"] if v is not None))
    # the rate each epoch trained with is the schedule's (plateau reacts to val_loss instead)
    if family != "plateau":
        expected = [spec.schedule(e) for e in range(n)]
        assert history["learning_rate"] == pytest.approx(expected, rel=1e-5), family
    else:
        assert history["learning_rate"][0] == pytest.approx(spec.initial_lr, rel=1e-5)


def test_tune_records_trials_best_export_and_resumes(workdir: Path) -> None:
    result = _tune(workdir, "--trials", "6", "--epochs", "4")
    assert "task:" not in result.stderr  # digits is a classification dataset: nothing guessed
    assert (workdir / "studies" / "lrsearch.db").is_file()
    study = _study(workdir)
    trials = study.get_trials()
    assert len(trials) == 6
    assert [t.number for t in trials] == list(range(6))
    for t in trials:
        _check_trial(t, epochs=4)
    best = study.best_trial

    # best --format json matches the study's best trial
    result = run_cli(["best", "--format", "json"], cwd=workdir, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {"family", "params", "value", "trial"} <= set(summary)
    assert summary["trial"] == best.number
    assert summary["value"] == pytest.approx(best.value)
    assert summary["family"] == best.params["family"] == best.user_attrs["family"]
    assert summary["params"] == best.user_attrs["spec"]["params"]
    assert ScheduleSpec.from_dict(summary["spec"]) == ScheduleSpec.from_dict(
        best.user_attrs["spec"]
    )

    # best --format table: a report with the snippet to paste
    result = run_cli(["best", "--format", "table"], cwd=workdir, timeout=300)
    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert summary["family"] in table and f"#{best.number}" in table
    assert "ScheduleSpec.from_dict(" in table
    assert "spec.build_optimizer()" in table and "callbacks=spec.callbacks()" in table

    # export: the trials table, as CSV and as JSON
    import pandas as pd

    result = run_cli(["export", "--format", "csv"], cwd=workdir, timeout=300)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert len(frame) == 6
    assert sorted(frame["number"]) == list(range(6))
    assert {"state", "params_family", "user_attrs_family"} <= set(frame.columns)
    assert list(frame.sort_values("number")["params_family"]) == [
        t.params["family"] for t in trials
    ]
    # each trial's picture: one column of file names, not a column per artifact id
    assert not [c for c in frame.columns if c.startswith("system_attrs_artifacts:")]
    assert set(frame["system_attrs_artifacts"]) == {'["lr_and_loss.svg"]'}
    result = run_cli(["export", "--format", "json"], cwd=workdir, timeout=300)
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert isinstance(records, list) and len(records) == 6
    by_number = {r["number"]: r for r in records}
    assert sorted(by_number) == list(range(6))
    for t in trials:
        record = by_number[t.number]
        assert record["state"] == t.state.name
        assert record["user_attrs_family"] == t.params["family"]
        assert record["system_attrs_artifacts"] == ["lr_and_loss.svg"]
        assert len(record["user_attrs_history"]["val_loss"]) == len(
            t.user_attrs["history"]["val_loss"]
        )

    # the same command again continues the same study
    _tune(workdir, "--trials", "6", "--epochs", "4")
    study = _study(workdir)
    again = study.get_trials()
    assert len(again) == 12
    assert sorted(t.number for t in again) == list(range(12))
    for old, new in zip(trials, again[:6], strict=True):
        assert (new.number, new.state, new.params, new.value) == (
            old.number,
            old.state,
            old.params,
            old.value,
        )
    for t in again[6:]:
        _check_trial(t, epochs=4)
    assert len(optuna.get_all_study_names(f"sqlite:///{workdir}/studies/lrsearch.db")) == 1


def test_diverging_constant_rate_is_pruned_and_the_study_goes_on(workdir: Path) -> None:
    _tune(
        workdir,
        "--trials",
        "2",
        "--epochs",
        "3",
        "--families",
        "constant",
        "--initial-lr",
        "300,900",
        "--pruner",
        "none",
    )
    trials = _study(workdir).get_trials()
    assert len(trials) == 2
    for t in trials:
        assert t.state == optuna.trial.TrialState.PRUNED, t
        assert t.user_attrs["pruned_reason"].startswith("diverged"), t.user_attrs
        lr = t.user_attrs["diverged_lr"]
        assert lr == pytest.approx(t.params["initial_lr"], rel=1e-5)  # constant: the rate
        assert 300 <= lr <= 900
        history = t.user_attrs["history"]
        assert len(history["loss"]) < 3 and None in history["loss"]  # NaN stored as null
        assert t.value is None


def _blobs_csv(path: Path) -> None:
    """3 well-separated classes with string labels, a header row, the label last."""
    rng = np.random.default_rng(0)
    centers = {"red": (0.0, 0.0, 3.0), "green": (4.0, 0.0, 0.0), "blue": (0.0, 4.0, -2.0)}
    lines = ["f1,f2,f3,colour"]
    for label, center in centers.items():
        for row in rng.normal(center, 0.7, size=(60, 3)):
            lines.append(",".join(f"{v:.5f}" for v in row) + f",{label}")
    order = rng.permutation(len(lines) - 1) + 1
    path.write_text("\n".join([lines[0], *(lines[i] for i in order)]) + "\n")


FUNCTIONAL_MODEL = """\
import keras


def build(input_shape, n_classes):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Dense(16, activation="relu")(inputs)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="user_functional")
"""

SIGMOID_MODEL = """\
import keras


def build(input_shape, n_classes):
    assert n_classes == 2
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
"""


def _check_completed(workdir: Path, trials: int, epochs: int) -> list[optuna.trial.FrozenTrial]:
    done = _study(workdir).get_trials()
    assert len(done) == trials
    for t in done:
        assert t.state == optuna.trial.TrialState.COMPLETE, (t.state, t.user_attrs)
        history = t.user_attrs["history"]
        assert len(history["val_loss"]) == epochs
        assert all(v is not None and math.isfinite(v) for v in history["val_loss"])
        assert len(history["val_accuracy"]) == epochs
    return done


def test_user_csv_data_with_a_user_functional_model(workdir: Path) -> None:
    _blobs_csv(workdir / "blobs.csv")
    (workdir / "my_model.py").write_text(FUNCTIONAL_MODEL)
    _tune(
        workdir,
        "--dataset",
        "blobs.csv",
        "--model",
        "my_model.py:build",
        "--trials",
        "2",
        "--epochs",
        "3",
        "--batch-size",
        "16",
        "--families",
        "constant,step",
        "--initial-lr",
        "0.01,0.3",
        "--pruner",
        "none",  # every trial trains all its epochs (the default prunes the second)
    )
    done = _check_completed(workdir, trials=2, epochs=3)
    # well-separated blobs: a working fit ends far better than chance
    assert max(max(t.user_attrs["history"]["val_accuracy"]) for t in done) > 0.6


def test_binary_data_with_a_user_sigmoid_model(workdir: Path) -> None:
    (workdir / "binary_model.py").write_text(SIGMOID_MODEL)
    _tune(
        workdir,
        "--dataset",
        "breast_cancer",
        "--model",
        "binary_model.py:build",
        "--trials",
        "2",
        "--epochs",
        "3",
        "--families",
        "constant,exponential",
        "--initial-lr",
        "0.01,0.3",
        "--pruner",
        "none",  # every trial trains all its epochs (the default prunes the second)
    )
    done = _check_completed(workdir, trials=2, epochs=3)
    # binary cross-entropy on 0/1 labels: a sane loss and better-than-chance accuracy
    assert max(max(t.user_attrs["history"]["val_accuracy"]) for t in done) > 0.7
    assert all(t.value < 0.7 for t in done)
