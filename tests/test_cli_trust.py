"""Answers a user can trust, through the installed binary on real files.

Regression data (scikit-learn's diabetes as CSV) trains as regression with the built-in model
and with a user's ``Dense(1)`` model; a classification CSV stays classification; a model whose
output does not fit the task is refused. A continued study with another budget or another
family list is refused before anything is written. ``export --format csv`` writes nested cells
as JSON.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import optuna
import pandas as pd
import pytest
from conftest import run_cli
from sklearn.datasets import load_diabetes
from sklearn.datasets import load_wine

QUIET = ["--progress", "off"]

DENSE1_MODEL = """
import keras

def build(input_shape, n_outputs):
    inputs = keras.Input(input_shape)
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(n_outputs)(hidden))

def softmax(input_shape, n_outputs):
    return keras.Sequential([keras.Input(input_shape),
                             keras.layers.Dense(max(n_outputs, 2), activation="softmax")])
"""


def _study(workdir: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{workdir}/studies/lrsearch.db")


def _diabetes_csv(workdir: Path) -> str:
    load_diabetes(as_frame=True).frame.to_csv(workdir / "diabetes.csv", index=False)
    return "diabetes.csv"


def _check_regression_trials(study: optuna.Study, trials: int) -> None:
    done = study.get_trials(deepcopy=False)
    assert len(done) == trials
    for t in done:
        assert t.state != optuna.trial.TrialState.FAIL, t.user_attrs
        history = t.user_attrs["history"]
        assert "accuracy" not in history and "val_accuracy" not in history, history
        assert "mae" in history and "val_mae" in history, history
        # values are MSE on the standardised target (a 214-class cross-entropy is ~5.4)
        finite = [v for v in history["val_loss"] if v is not None]
        assert finite and min(finite) < 2.0, history["val_loss"]
    assert study.user_attrs["lrsearch_config"]["task"] == "regression"
    assert study.user_attrs["lrsearch_data"]["task"] == "regression"


@pytest.mark.slow
def test_diabetes_csv_is_regression_with_the_built_in_and_a_dense1_model(workdir: Path) -> None:
    csv = _diabetes_csv(workdir)
    (workdir / "reg_model.py").write_text(DENSE1_MODEL)
    common = [*QUIET, "--dataset", csv, "--trials", "2", "--epochs", "3", "--initial-lr",
              "0.001,0.05", "--families", "constant,cosine"]  # fmt: skip
    result = run_cli(["tune", *common, "--study-name", "mlp"], cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "task: regression" in result.stderr and "--task classification" in result.stderr
    _check_regression_trials(_study(workdir, "mlp"), 2)

    result = run_cli(
        ["tune", *common, "--model", "reg_model.py:build", "--study-name", "user"], cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    _check_regression_trials(_study(workdir, "user"), 2)

    # best says what was done to the target and pastes an MSE compile
    best = run_cli(["best", "--study-name", "user"], cwd=workdir)
    assert best.returncode == 0, best.stderr
    assert "regression" in best.stdout and "y_scaled = (y - " in best.stdout
    assert 'loss="mean_squared_error", metrics=["mae"]' in best.stdout
    summary = json.loads(
        run_cli(["best", "--study-name", "user", "--format", "json"], cwd=workdir).stdout
    )
    assert summary["task"] == "regression" and summary["best_val_mae"] > 0

    # report and compare show MAE where classification shows accuracy
    report = run_cli(["report", "--study-name", "mlp", "--out", "report"], cwd=workdir)
    assert report.returncode == 0, report.stderr
    assert (workdir / "report" / "val_mae.png").stat().st_size > 1000
    assert not (workdir / "report" / "val_accuracy.png").exists()
    summary_md = (workdir / "report" / "summary.md").read_text()
    assert "task regression" in summary_md and "mean squared error" in summary_md
    compare = run_cli(
        ["compare", "--study-name", "mlp", "--seeds", "1", "--out", "cmp", "--format", "json"],
        cwd=workdir,
    )
    assert compare.returncode == 0, compare.stderr
    result = json.loads(compare.stdout)
    assert result["task"] == "regression"
    for family in result["families"]:
        assert family["epochs"] == 3  # the budget its trial ran
        assert "best_val_mae" in family and "best_val_accuracy" not in family
    assert (workdir / "cmp" / "compare_val_mae.png").stat().st_size > 1000


@pytest.mark.slow
def test_explicit_regression_and_classification_csv(workdir: Path) -> None:
    load_wine(as_frame=True).frame.to_csv(workdir / "wine.csv", index=False)
    base = [*QUIET, "--dataset", "wine.csv", "--trials", "1", "--epochs", "2"]
    result = run_cli(["tune", *base, "--study-name", "cls"], cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "task: classification" in result.stderr
    (t,) = _study(workdir, "cls").get_trials()
    assert "val_accuracy" in t.user_attrs["history"]
    result = run_cli(["tune", *base, "--task", "regression", "--study-name", "reg"], cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "task:" not in result.stderr  # nothing to decide
    (t,) = _study(workdir, "reg").get_trials()
    assert "val_mae" in t.user_attrs["history"] and "val_accuracy" not in t.user_attrs["history"]


def test_model_that_does_not_fit_the_task_exits_2_and_writes_nothing(workdir: Path) -> None:
    csv = _diabetes_csv(workdir)
    (workdir / "reg_model.py").write_text(DENSE1_MODEL)
    result = run_cli(
        ["tune", *QUIET, "--dataset", csv, "--model", "reg_model.py:softmax", "--trials", "1"],
        cwd=workdir,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Dense(1)" in result.stderr
    assert not (workdir / "studies").exists()
    result = run_cli(["tune", *QUIET, "--dataset", "digits", "--task", "regression"], cwd=workdir)
    assert result.returncode == 2 and "classification dataset" in result.stderr
    assert not (workdir / "studies").exists()


@pytest.mark.slow
def test_continued_study_with_other_settings_is_refused(workdir: Path) -> None:
    base = [*QUIET, "--trials", "1", "--epochs", "2", "--families", "step,cosine"]
    assert run_cli(["tune", *base], cwd=workdir).returncode == 0
    db = workdir / "studies" / "lrsearch.db"
    before = db.read_bytes()

    result = run_cli(["tune", *QUIET, "--trials", "1", "--epochs", "3", "--families",
                      "step,cosine"], cwd=workdir)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "--epochs 2 stored, 3 given" in result.stderr
    assert "--study-name" in result.stderr
    assert len(_study(workdir, "lrsearch").get_trials()) == 1

    result = run_cli(["tune", *QUIET, "--trials", "1", "--epochs", "2", "--families",
                      "step,exponential"], cwd=workdir)  # fmt: skip
    assert result.returncode in (0, 2), result.stderr
    assert "--families step,cosine stored, step,exponential given" in result.stderr
    study = _study(workdir, "lrsearch")
    assert all(t.state != optuna.trial.TrialState.FAIL for t in study.get_trials())
    assert len(study.get_trials()) == 1
    assert db.read_bytes() == before  # refused before anything was written

    # the same families in another order continue the study
    result = run_cli(["tune", *QUIET, "--trials", "1", "--epochs", "2", "--families",
                      "cosine,step"], cwd=workdir)  # fmt: skip
    assert result.returncode == 0, result.stderr
    study = _study(workdir, "lrsearch")
    assert len(study.get_trials()) == 2
    assert all(t.state != optuna.trial.TrialState.FAIL for t in study.get_trials())

    # export: every nested cell of the CSV is JSON
    export = run_cli(["export", "--format", "csv"], cwd=workdir)
    assert export.returncode == 0, export.stderr
    frame = pd.read_csv(io.StringIO(export.stdout))
    nested = [c for c in frame.columns if c in ("user_attrs_history", "user_attrs_spec")]
    assert len(nested) == 2
    for column in nested:
        for cell in frame[column]:
            assert isinstance(json.loads(cell), dict)
    history = json.loads(frame["user_attrs_history"][0])
    assert len(history["val_loss"]) == 2
