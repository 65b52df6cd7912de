"""``lrsearch.load_best``: the winner of a study, dropped into a user's own ``model.fit``."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from conftest import run_cli

import lrsearch
from lrsearch import ScheduleSpec
from lrsearch import UsageError

SPECS = {
    0.5: ScheduleSpec("constant", {"initial_lr": 0.02}, "sgd", 0.9),
    0.2: ScheduleSpec("step", {"initial_lr": 0.1, "drop_rate": 0.5, "epochs_drop": 2}, "sgd", 0.5),
    0.9: ScheduleSpec("exponential", {"initial_lr": 0.05, "k": 0.1}, "adam", 0.0),
}


def _add_trials(study: optuna.Study) -> None:
    families = optuna.distributions.CategoricalDistribution(["constant", "step", "exponential"])
    for value, spec in SPECS.items():
        study.add_trial(
            optuna.trial.create_trial(
                params={"family": spec.family},
                distributions={"family": families},
                value=value,
                user_attrs={"family": spec.family, "spec": spec.to_dict()},
            )
        )
    # a pruned trial with a lower last report is not a winner
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.PRUNED,
            params={"family": "constant"},
            distributions={"family": families},
            intermediate_values={0: 0.01},
            user_attrs={"family": "constant", "spec": SPECS[0.5].to_dict()},
        )
    )


def test_load_best_returns_the_best_trials_spec(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/studies.db"
    study = optuna.create_study(storage=url, study_name="mine", direction="minimize")
    _add_trials(study)
    spec = lrsearch.load_best(url, "mine")
    assert isinstance(spec, ScheduleSpec)
    assert spec == SPECS[0.2]
    assert spec == ScheduleSpec.from_dict(study.best_trial.user_attrs["spec"])


@pytest.mark.parametrize("what", ["study", "database", "folder"])
def test_load_best_of_something_missing_raises_value_error_and_writes_nothing(
    tmp_path: Path, what: str
) -> None:
    if what == "study":
        url = f"sqlite:///{tmp_path}/studies.db"
        optuna.create_study(storage=url, study_name="mine")
        before = sorted(p.name for p in tmp_path.iterdir())
        name = "not-there"
    else:
        folder = tmp_path if what == "database" else tmp_path / "nowhere"
        url = f"sqlite:///{folder}/missing.db"
        before = sorted(p.name for p in tmp_path.iterdir())
        name = "mine"
    with pytest.raises(ValueError, match="lrsearch tune") as info:
        lrsearch.load_best(url, name)
    assert isinstance(info.value, UsageError)
    after = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm")))
    assert after == before  # no database, no folder (the WAL files of an existing one aside)
    if what == "study":
        assert optuna.get_all_study_names(url) == ["mine"]  # no study created


def test_load_best_of_a_study_without_finished_trials_raises(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/studies.db"
    optuna.create_study(storage=url, study_name="mine").ask()
    with pytest.raises(ValueError, match="no finished trial"):
        lrsearch.load_best(url, "mine")


@pytest.mark.slow
def test_best_of_a_cli_study_trains_a_users_own_model(workdir: Path) -> None:
    result = run_cli(
        [
            "tune",
            "--trials",
            "2",
            "--epochs",
            "3",
            "--families",
            "step,exponential,cosine",
            "--seed",
            "4",
            "--progress",
            "off",
        ],
        cwd=workdir,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    url = f"sqlite:///{workdir}/studies/lrsearch.db"
    spec = lrsearch.load_best(url, "lrsearch")
    best = optuna.load_study(study_name="lrsearch", storage=url).best_trial
    assert spec == ScheduleSpec.from_dict(best.user_attrs["spec"])
    assert spec.family == best.params["family"]

    # the user's own model and data, their own fit: only the optimizer and callbacks come
    # from lrsearch
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=spec.build_optimizer(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    epochs = 4
    history = model.fit(
        x[:1400],
        y[:1400],
        epochs=epochs,
        batch_size=64,
        validation_data=(x[1400:], y[1400:]),
        callbacks=spec.callbacks(),
        verbose=0,
    ).history
    assert history["learning_rate"] == pytest.approx(spec.learning_rates(epochs), rel=1e-5)
    assert np.all(np.isfinite(history["loss"]))
    assert history["val_accuracy"][-1] > 0.5  # it trained
