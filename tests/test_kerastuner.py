"""lrsearch.kerastuner: KerasTuner searches whose trials are an Optuna study's (real fits)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import TrialState
from sklearn.datasets import load_digits

import lrsearch
from lrsearch.kerastuner import TRIAL_ID_ATTR
from lrsearch.kerastuner import OptunaOracle
from lrsearch.kerastuner import OptunaSearch
from lrsearch.kerastuner import distribution_of
from lrsearch.kerastuner import suggest_values

EPOCHS = 3
SPACE = lrsearch.SearchSpace(families=["constant", "step"], initial_lr=(0.01, 0.3), epochs=EPOCHS)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, ...]:
    d = load_digits()
    x = (d.data / 16.0).astype("float32")
    y = d.target.astype("int64")
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))[:600]
    return x[idx[:450]], y[idx[:450]], x[idx[450:]], y[idx[450:]]


def build_model(hp: keras_tuner.HyperParameters) -> keras.Model:
    """Int with a step, Choice, Boolean, a log Float, a conditional, and an lrsearch schedule."""
    spec = SPACE.from_hp(hp)
    layers: list[Any] = [keras.Input((64,))]
    layers.append(keras.layers.Dense(hp.Int("units", 16, 48, step=16), activation="relu"))
    dropout = hp.Boolean("dropout")
    with hp.conditional_scope("dropout", [True]):  # KerasTuner's conditional pattern
        if dropout:
            layers.append(keras.layers.Dropout(hp.Float("rate", 0.05, 0.4, sampling="log")))
    layers.append(keras.layers.Activation(hp.Choice("activation", ["relu", "tanh"])))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=spec.build_optimizer(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _search(tuner: Any, digits: tuple[np.ndarray, ...], **kw: Any) -> None:
    x, y, xv, yv = digits
    tuner.search(x, y, epochs=EPOCHS, batch_size=64, validation_data=(xv, yv), verbose=0, **kw)


def _check_trials(trials: list[optuna.trial.FrozenTrial]) -> None:
    """Every trial ended COMPLETE or PRUNED with one intermediate value per epoch it ran, its
    active parameters only, and the user attributes of ``lrsearch tune`` trials."""
    for t in trials:
        assert t.state in (TrialState.COMPLETE, TrialState.PRUNED), t
        ran = len(t.user_attrs["history"]["val_accuracy"])
        assert sorted(t.intermediate_values) == list(range(ran))
        assert t.state == TrialState.PRUNED or ran == EPOCHS
        if t.state == TrialState.PRUNED:
            assert "pruned" in t.user_attrs["pruned_reason"]
        assert t.user_attrs[TRIAL_ID_ATTR] == str(t.number)
        # inactive conditional parameters are absent
        assert ("rate" in t.params) == t.params["dropout"]
        assert {"units", "activation", "family", "initial_lr"} <= set(t.params)
        # lrsearch attributes, as `lrsearch tune` writes them
        assert t.user_attrs["family"] == t.params["family"]
        spec = lrsearch.ScheduleSpec.from_dict(t.user_attrs["spec"])
        history = t.user_attrs["history"]
        assert {"loss", "val_loss", "learning_rate", "accuracy", "val_accuracy"} <= set(history)
        assert history["learning_rate"][0] == pytest.approx(spec.initial_lr, rel=1e-5)


# ---------------------------------------------------------------- distributions (no training)


def test_every_hyperparameter_kind_maps_to_an_optuna_distribution() -> None:
    hp = keras_tuner.HyperParameters()
    hp.Int("i", 8, 70, step=16)
    hp.Int("ilog", 1, 1024, sampling="log")
    hp.Int("igrid", 2, 64, step=2, sampling="log")
    hp.Float("f", 0.0, 1.0)
    hp.Float("fstep", 0.1, 0.95, step=0.2)
    hp.Float("flog", 1e-4, 1e-1, sampling="log")
    hp.Choice("c", ["a", "b"])
    hp.Boolean("b")
    hp.Fixed("x", 3)
    got = {p.name: distribution_of(p) for p in hp.space}
    assert got["i"] == IntDistribution(8, 56, step=16)  # KerasTuner's last grid value
    assert got["ilog"] == IntDistribution(1, 1024, log=True)
    assert got["igrid"] == CategoricalDistribution([2, 4, 8, 16, 32, 64])
    assert got["f"] == FloatDistribution(0.0, 1.0)
    assert isinstance(got["fstep"], FloatDistribution) and got["fstep"].step == 0.2
    assert math.isclose(got["fstep"].high, 0.9)
    assert got["flog"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert got["c"] == CategoricalDistribution(["a", "b"])
    assert got["b"] == CategoricalDistribution([False, True])
    assert got["x"] == CategoricalDistribution([3])


def test_conditional_hyperparameters_are_suggested_only_when_active() -> None:
    hp = keras_tuner.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["cnn"]):
        hp.Int("filters", 8, 32, step=8)
    hp.Int("units", 8, 64, parent_name="model", parent_values=["mlp"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        values = suggest_values(hp, trial)
        expected = {"model", "filters"} if values["model"] == "cnn" else {"model", "units"}
        assert set(values) == expected
        seen.add(values["model"])
        study.tell(trial, 0.0)
        assert study.trials[-1].params == values
    assert seen == {"mlp", "cnn"}


def test_objective_direction_and_bad_max_trials(tmp_path: Path) -> None:
    assert OptunaOracle("val_accuracy").direction == "maximize"
    assert OptunaOracle("val_loss").direction == "minimize"
    assert OptunaOracle(keras_tuner.Objective("score", "max")).direction == "maximize"
    with pytest.raises(ValueError, match="max_trials"):
        OptunaOracle(max_trials=0)


# ----------------------------------------------------------------------- real searches


@pytest.mark.slow
def test_optuna_search_on_val_accuracy(tmp_path: Path, digits: tuple[np.ndarray, ...]) -> None:
    tuner = OptunaSearch(
        build_model,
        objective="val_accuracy",
        max_trials=7,
        seed=0,
        directory=tmp_path,
        project_name="digits",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
    )
    _search(tuner, digits)
    study = tuner.study
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert study.study_name == "digits"
    assert (tmp_path / "digits" / "optuna_study.db").exists()
    trials = study.get_trials()
    assert len(trials) == 7
    _check_trials(trials)
    best_hp = tuner.get_best_hyperparameters()[0]
    assert best_hp.values == study.best_trial.params
    best_kt = tuner.oracle.get_best_trials()[0]
    assert best_kt.trial_id == study.best_trial.user_attrs[TRIAL_ID_ATTR]
    assert best_kt.score == pytest.approx(study.best_value)
    model = tuner.get_best_models()[0]
    x, y, xv, yv = digits
    assert model.predict(xv[:5], verbose=0).shape == (5, 10)
    tuner.results_summary()
    tuner.search_space_summary()

    # the lrsearch commands read the study
    from lrsearch.study import best_summary

    summary = best_summary(study)
    assert summary["family"] == study.best_trial.user_attrs["family"]


@pytest.mark.slow
def test_a_second_search_resumes_to_max_trials(
    tmp_path: Path, digits: tuple[np.ndarray, ...]
) -> None:
    kw = dict(objective="val_accuracy", seed=1, directory=tmp_path, project_name="p")
    first = OptunaSearch(build_model, max_trials=3, **kw)
    _search(first, digits)
    before = {t.number: (t.state, t.value, t.params) for t in first.study.get_trials()}
    assert len(before) == 3
    second = OptunaSearch(build_model, max_trials=5, **kw)
    assert second.remaining_trials == 2
    assert len(second.oracle.trials) == 3  # read back from the study
    _search(second, digits)
    after = second.study.get_trials()
    assert len(after) == 5
    assert {t.number: (t.state, t.value, t.params) for t in after[:3]} == before
    assert second.remaining_trials == 0
    # overwrite=True starts afresh
    third = OptunaSearch(build_model, max_trials=1, overwrite=True, **kw)
    _search(third, digits)
    assert len(third.study.get_trials()) == 1


@pytest.mark.slow
def test_optuna_oracle_with_a_plain_tuner(tmp_path: Path, digits: tuple[np.ndarray, ...]) -> None:
    oracle = OptunaOracle(
        objective="val_accuracy",
        max_trials=5,
        seed=2,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0),
    )
    tuner = keras_tuner.Tuner(oracle=oracle, hypermodel=build_model, directory=tmp_path)
    _search(tuner, digits)  # no callback passed: the oracle adds its own
    trials = oracle.study.get_trials()
    assert oracle.study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert len(trials) == 5
    _check_trials(trials)
    assert tuner.get_best_hyperparameters()[0].values == oracle.study.best_trial.params
    assert tuner.get_best_models()[0].predict(digits[2][:3], verbose=0).shape == (3, 10)
    tuner.results_summary()

    # a subclass whose run_trial fits by itself, given the callback explicitly as well:
    # reported once per epoch, not twice
    class Custom(keras_tuner.Tuner):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
            model = self.hypermodel.build(trial.hyperparameters)
            return model.fit(*args, **kwargs)

    other = OptunaOracle(objective="val_accuracy", max_trials=1, seed=3)
    custom = Custom(oracle=other, hypermodel=build_model, directory=tmp_path / "c")
    _search(custom, digits, callbacks=[other.trial_callback()])
    (t,) = other.study.get_trials()
    _check_trials([t])
    assert len(t.user_attrs["history"]["loss"]) == EPOCHS


@pytest.mark.slow
def test_a_nan_objective_is_a_pruned_trial(tmp_path: Path, digits: tuple[np.ndarray, ...]) -> None:
    def diverging(hp: keras_tuner.HyperParameters) -> keras.Model:
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
        lr = hp.Float("lr", 1e12, 1e13, sampling="log")
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
        return model

    x, y, xv, yv = digits
    tuner = OptunaSearch(diverging, max_trials=2, directory=tmp_path, seed=0)
    y10 = keras.utils.to_categorical(y, 10) * 1e30
    tuner.search(
        x, y10, epochs=3, validation_data=(xv, keras.utils.to_categorical(yv, 10)), verbose=0
    )
    trials = tuner.study.get_trials()
    assert [t.state for t in trials] == [TrialState.PRUNED, TrialState.PRUNED]
    assert all("NaN or infinite" in t.user_attrs["pruned_reason"] for t in trials)
    assert all(t.status == "STOPPED" for t in tuner.oracle.trials.values())


def test_a_study_keeps_its_objective(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = OptunaOracle("val_loss", storage=url, study_name="s").study
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    assert study.user_attrs["keras_tuner_objective"] == "val_loss"
    with pytest.raises(ValueError, match="maximize"):
        _ = OptunaOracle("val_accuracy", storage=url, study_name="s").study
    with pytest.raises(ValueError, match="not comparable"):
        _ = OptunaOracle("loss", storage=url, study_name="s").study
    with pytest.raises(ValueError, match="storage"):
        _ = OptunaOracle("val_loss").study  # no tuner directory, no storage


@pytest.mark.slow
def test_the_pruner_ends_a_trial_cleanly(tmp_path: Path, digits: tuple[np.ndarray, ...]) -> None:
    fits = {"epochs": 0}

    class Count(keras.callbacks.Callback):
        def __deepcopy__(self, memo: dict[int, Any]) -> Any:
            return self

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            fits["epochs"] += 1

    tuner = OptunaSearch(
        build_model,
        objective="val_accuracy",
        max_trials=2,
        directory=tmp_path,
        executions_per_trial=2,
        pruner=optuna.pruners.ThresholdPruner(lower=2.0, n_warmup_steps=1),  # prunes at epoch 1
    )
    _search(tuner, digits, callbacks=[Count()])
    trials = tuner.study.get_trials()
    assert [t.state for t in trials] == [TrialState.PRUNED] * 2
    assert all(sorted(t.intermediate_values) == [0, 1] for t in trials)
    assert all(t.user_attrs["pruned_reason"].startswith("pruned at epoch 1") for t in trials)
    assert fits["epochs"] == 2 * 2  # two epochs each, and no second execution once pruned
    assert {t.status for t in tuner.oracle.trials.values()} == {"STOPPED"}
    tuner.results_summary()


def test_populate_space_fills_random_values_and_records_nothing(tmp_path: Path) -> None:
    """KerasTuner's ``populate_space``: values in the space (conditional ones only when
    active), ``STOPPED`` once the space is exhausted; the study gets no trial from it."""
    from keras_tuner.engine.trial import TrialStatus

    storage = f"sqlite:///{tmp_path / 'kt.db'}"
    oracle = OptunaOracle("val_loss", max_trials=5, storage=storage, seed=0)
    hp = oracle.hyperparameters
    hp.Float("lr", 1e-3, 1.0, sampling="log")
    hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["cnn"]):
        hp.Int("filters", 8, 32, step=8)
    for i in range(10):
        filled = oracle.populate_space(f"x{i}")
        assert filled["status"] == TrialStatus.RUNNING
        values = filled["values"]
        assert 1e-3 <= values["lr"] <= 1.0 and values["model"] in {"mlp", "cnn"}
        assert ("filters" in values) == (values["model"] == "cnn"), values
    assert oracle.study.trials == []

    small = OptunaOracle("val_loss", max_trials=5, storage=storage, study_name="s", seed=0)
    small.hyperparameters.Choice("model", ["mlp"])
    first = small.populate_space("a")
    assert first == {"status": TrialStatus.RUNNING, "values": {"model": "mlp"}}
    small._tried_so_far.add(small._compute_values_hash(first["values"]))  # a trial ran it
    assert small.populate_space("b") == {"status": TrialStatus.STOPPED, "values": None}
