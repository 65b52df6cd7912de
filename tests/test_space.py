"""SearchSpace and ScheduleSpec: Optuna and KerasTuner front ends, validation, round trips."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import functools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
import optuna
import pytest
from numpy.testing import assert_allclose
from optuna_integration import KerasPruningCallback
from sklearn.datasets import load_digits

import lrsearch
from lrsearch.keras import InGraphSchedule
from lrsearch.keras import PlateauCallback
from lrsearch.keras import ScheduleCallback
from lrsearch.schedules import FAMILIES
from lrsearch.schedules import REGISTRY
from lrsearch.space import ScheduleSpec
from lrsearch.space import SearchSpace
from lrsearch.space._draws import RecordingDraw

optuna.logging.set_verbosity(optuna.logging.WARNING)


@functools.lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, ...]:
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int64")
    return x[:512], y[:512], x[512:768], y[512:768]


def build_mlp() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


class ReplayDraw:
    """Replays a trial's stored parameters through a family's sample function, recording names."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.names: set[str] = set()

    def _get(self, name: str) -> Any:
        self.names.add(name)
        return self.values[name]

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return float(self._get(name))

    def int(self, name: str, low: int, high: int) -> int:
        return int(self._get(name))

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._get(name)


def family_param_names(family: str, params: dict[str, Any], epochs: int) -> set[str]:
    """The names the registry's sample function asks for, given a trial's stored values."""
    draw = ReplayDraw(params)
    REGISTRY[family].sample(draw, float(params["initial_lr"]), epochs)
    return draw.names


# ---------------------------------------------------------------------------------------------
# An existing Optuna objective, with the three lrsearch lines.


def run_optuna_study(
    space: SearchSpace, families: Sequence[str], epochs: int, seed: int = 0
) -> optuna.Study:
    x, y, xv, yv = digits()

    def objective(trial: optuna.trial.Trial) -> float:
        keras.utils.set_random_seed(trial.number)
        spec = space.suggest(trial)  # lrsearch
        model = build_mlp()
        model.compile(
            optimizer=spec.build_optimizer(),  # lrsearch
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        trial.set_user_attr("spec", spec.to_dict())
        try:
            history = model.fit(
                x,
                y,
                batch_size=64,
                epochs=epochs,
                validation_data=(xv, yv),
                callbacks=[*spec.callbacks(), KerasPruningCallback(trial, "val_loss")],  # lrsearch
                verbose=0,
            )
        finally:
            logs = model.history.history if model.history is not None else {}
            trial.set_user_attr("learning_rate", [float(v) for v in logs["learning_rate"]])
        return float(min(history.history["val_loss"]))

    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )
    for family in families:
        study.enqueue_trial({"family": family})
    study.optimize(objective, n_trials=len(families))
    return study


def check_study(study: optuna.Study, space: SearchSpace, families: Sequence[str]) -> None:
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == len(families)
    assert [t.params["family"] for t in trials] == list(families)
    assert all(t.state != optuna.trial.TrialState.FAIL for t in trials)
    assert any(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    for t in trials:
        family = t.params["family"]
        spec = ScheduleSpec.from_dict(t.user_attrs["spec"])
        assert spec.family == family
        # the stored parameters: family, initial_lr, optimizer/momentum, the family's own only
        expected = {"family", "initial_lr"}
        if len(space.optimizers) > 1:
            expected.add("optimizer")
        if spec.optimizer in ("sgd", "nesterov"):
            expected.add("momentum")
            assert spec.momentum == t.params["momentum"]
        else:
            assert spec.momentum == 0.0
        expected |= family_param_names(family, t.params, space.epochs)
        assert set(t.params) == expected, (family, t.params)
        assert spec.initial_lr == t.params["initial_lr"]
        # the History's learning_rate is the schedule of the epoch index
        lrs = t.user_attrs["learning_rate"]
        assert len(lrs) >= 1
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert len(lrs) == space.epochs
        if spec.schedule is None:
            assert lrs[0] == pytest.approx(spec.initial_lr, rel=1e-6)
            assert all(b <= a * (1 + 1e-6) for a, b in zip(lrs, lrs[1:], strict=False))
        else:
            assert_allclose(lrs, [spec.schedule(e) for e in range(len(lrs))], rtol=1e-6)
        # the reported intermediate values are the val_loss of each epoch
        assert len(t.intermediate_values) == len(lrs) or t.state.name == "PRUNED"


def test_optuna_objective_drop_in() -> None:
    families = ["step", "cyclical", "plateau", "warmup_cosine"]
    space = SearchSpace(families=families, initial_lr=(1e-3, 0.3), epochs=3)
    study = run_optuna_study(space, families, epochs=3)
    check_study(study, space, families)
    assert study.best_trial.params["family"] in families


@pytest.mark.slow
def test_optuna_objective_every_family_several_optimizers() -> None:
    space = SearchSpace(
        initial_lr=(1e-3, 0.3), optimizers=("sgd", "nesterov", "adam", "rmsprop"), epochs=4
    )
    study = run_optuna_study(space, list(FAMILIES), epochs=4, seed=1)
    check_study(study, space, list(FAMILIES))
    assert len({t.params["optimizer"] for t in study.trials}) > 1


def test_suggest_parameters_without_training() -> None:
    """Many draws: each trial holds exactly the drawn family's parameters."""
    space = SearchSpace(optimizers=("sgd", "adam"), epochs=12)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(120):
        trial = study.ask()
        spec = space.suggest(trial)
        expected = {"family", "initial_lr", "optimizer"}
        if spec.optimizer == "sgd":
            expected.add("momentum")
        expected |= family_param_names(spec.family, trial.params, space.epochs)
        assert set(trial.params) == expected
        # each optimizer draws inside its own default range
        low, high = (1e-4, 1.0) if spec.optimizer == "sgd" else (1e-5, 1e-1)
        assert low <= spec.initial_lr <= high
        if spec.schedule is not None:
            lrs = spec.learning_rates(12)
            assert lrs is not None and all(math.isfinite(v) and v >= 0 for v in lrs)
        study.tell(trial, 0.0)
    assert {t.params["family"] for t in study.trials} == set(FAMILIES)


@pytest.mark.parametrize("epochs", [1, 2, 3, 5, 8])
def test_small_budgets_give_valid_specs(epochs: int) -> None:
    space = SearchSpace(optimizers=("sgd", "adagrad"), epochs=epochs)
    for spec, _ in _draw_many(space, 60):
        if spec.schedule is not None:
            lrs = spec.learning_rates(epochs)
            assert lrs is not None and len(lrs) == epochs
            assert all(math.isfinite(v) and v >= 0 for v in lrs)


def test_single_optimizer_without_momentum_is_not_a_parameter() -> None:
    space = SearchSpace(families=["exponential"], optimizers="adam", epochs=5)
    study = optuna.create_study()
    trial = study.ask()
    spec = space.suggest(trial)
    assert set(trial.params) == {"family", "initial_lr", "k"}
    assert spec.optimizer == "adam" and spec.momentum == 0.0


def test_fixed_trial_reproduces_a_spec() -> None:
    space = SearchSpace(families=["step", "cosine"], epochs=10)
    trial = optuna.trial.FixedTrial(
        {"family": "step", "initial_lr": 0.2, "momentum": 0.9, "drop_rate": 0.5, "epochs_drop": 3}
    )
    spec = space.suggest(trial)
    assert spec == ScheduleSpec(
        "step", {"initial_lr": 0.2, "drop_rate": 0.5, "epochs_drop": 3}, momentum=0.9, epochs=10
    )


# ---------------------------------------------------------------------------------------------
# An existing KerasTuner HyperModel with space.from_hp(hp).


class DigitsHyperModel(keras_tuner.HyperModel):
    def __init__(self, space: SearchSpace) -> None:
        super().__init__()
        self.space = space

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        self.spec = self.space.from_hp(hp)
        model = build_mlp()
        model.compile(
            optimizer=self.spec.build_optimizer(),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any):
        callbacks = [*kwargs.pop("callbacks", []), *self.spec.callbacks()]
        return model.fit(*args, callbacks=callbacks, **kwargs)


def test_kerastuner_random_search(tmp_path: Path) -> None:
    x, y, xv, yv = digits()
    space = SearchSpace(
        families=["exponential", "plateau", "one_cycle"],
        initial_lr=(1e-3, 0.3),
        optimizers=("sgd", "adam"),
        epochs=2,
    )
    tuner = keras_tuner.RandomSearch(
        DigitsHyperModel(space),
        objective="val_loss",
        max_trials=3,
        seed=3,
        directory=str(tmp_path),
        project_name="digits",
    )
    tuner.search(x, y, epochs=2, batch_size=64, validation_data=(xv, yv), verbose=0)
    trials = tuner.oracle.trials.values()
    assert len(trials) == 3
    assert all(t.status == "COMPLETED" for t in trials)
    best = tuner.get_best_hyperparameters(1)[0]
    assert best.values["family"] in space.families
    spec = space.from_hp(best)
    assert spec.family == best.values["family"]
    assert spec.optimizer == best.values["optimizer"]


def test_from_hp_conditional_parameters() -> None:
    space = SearchSpace(
        families=["step", "cyclical"], optimizers=("sgd", "adam"), epochs=8, k=(0.2, 0.3)
    )
    hp = keras_tuner.HyperParameters()
    hp.Choice("family", ["cyclical", "step"])
    hp.Choice("optimizer", ["adam", "sgd"])  # a non-momentum optimizer drawn first
    spec = space.from_hp(hp)
    assert spec.family == "cyclical" and spec.optimizer == "adam" and spec.momentum == 0.0
    assert "momentum" not in hp.values
    # sgd's and adam's initial_lr ranges differ: each optimizer has its own, conditional one
    assert "adam/initial_lr" in hp.values and "sgd/initial_lr" not in hp.values
    assert 1e-5 <= spec.initial_lr <= 1e-1
    assert {"cyclical/max_lr_factor", "cyclical/step_size", "cyclical/mode"} <= set(hp.values)
    assert not any(name.startswith("step/") for name in hp.values)
    hp = keras_tuner.HyperParameters()
    spec = space.from_hp(hp)  # defaults: first family, first optimizer
    assert spec.family == "step" and spec.optimizer == "sgd"
    assert set(hp.values) == {
        "family",
        "sgd/initial_lr",
        "optimizer",
        "momentum",
        "step/drop_rate",
        "step/epochs_drop",
    }


def test_from_hp_honours_overrides() -> None:
    space = SearchSpace(families=["exponential"], initial_lr=0.05, epochs=5, k=0.1, momentum=0.9)
    hp = keras_tuner.HyperParameters()
    spec = space.from_hp(hp)
    assert spec.params == {"initial_lr": 0.05, "k": 0.1}
    assert spec.momentum == 0.9


# ---------------------------------------------------------------------------------------------
# Construction-time validation (fast: before any training).


BAD_SPACES: list[tuple[dict[str, Any], str]] = [
    ({"initial_lr": (0.1, 0.01)}, "initial_lr"),
    ({"initial_lr": (0.1, 0.1)}, "initial_lr"),
    ({"initial_lr": (0.0, 0.1)}, "initial_lr"),
    ({"initial_lr": (-1.0, 0.1)}, "initial_lr"),
    ({"initial_lr": 0.0}, "initial_lr"),
    ({"initial_lr": -0.5}, "initial_lr"),
    ({"initial_lr": "0.1"}, "initial_lr"),
    ({"initial_lr": (0.1,)}, "initial_lr"),
    ({"initial_lr": (1e-3, "1")}, "initial_lr"),
    ({"k": (0.3, 0.2)}, "k"),
    ({"k": (0.2, 0.2)}, "k"),
    ({"k": (0.0, 0.2)}, "k"),  # log scale
    ({"k": "fast"}, "k"),
    ({"k": (0.1, 0.2, 0.3)}, "k"),
    ({"k": None}, "k"),
    ({"drop_rate": (0.5, 1.5)}, "drop_rate"),
    ({"epochs_drop": (1.5, 3)}, "epochs_drop"),
    ({"epochs_drop": (0, 3)}, "epochs_drop"),
    ({"momentum": (0.5, 1.0)}, "momentum"),
    ({"momentum": -0.1}, "momentum"),
    ({"mode": ["sawtooth"]}, "mode"),
    ({"mode": []}, "mode"),
    ({"families": ["step", "stpe"]}, "stpe"),
    ({"families": []}, "families"),
    ({"families": 3}, "families"),
    ({"optimizers": ["sgd", "lion"]}, "lion"),
    ({"optimizers": None}, "optimizers"),
    ({"optimizers": []}, "optimizer"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": "5"}, "epochs"),
    ({"bogus": (1, 2)}, "bogus"),
    ({"initial_learning_rate": (1e-3, 1e-1)}, "initial_learning_rate"),
    # per-optimizer mappings
    ({"optimizers": ["sgd", "adam"], "initial_lr": {"adm": (1e-5, 1e-2)}}, "'adm'"),
    ({"optimizers": ["sgd"], "initial_lr": {"adam": (1e-5, 1e-2)}}, "not searched"),
    ({"optimizers": ["sgd", "adam"], "initial_lr": {"adam": (1e-2, 1e-5)}}, "['adam']"),
    ({"optimizers": ["sgd", "adam"], "initial_lr": {"adam": (0.0, 1e-2)}}, "['adam']"),
    ({"optimizers": ["sgd", "adam"], "initial_lr": {"adam": -1e-3}}, "['adam']"),
    ({"optimizers": ["sgd", "adam"], "initial_lr": {"adam": "fast"}}, "['adam']"),
    ({"optimizers": ["sgd", "adam"], "initial_lr": {3: (1e-5, 1e-2)}}, "initial_lr"),
]


@pytest.mark.parametrize(("kwargs", "word"), BAD_SPACES)
def test_bad_space_raises_value_error(kwargs: dict[str, Any], word: str) -> None:
    with pytest.raises(ValueError) as exc:
        SearchSpace(**kwargs)
    assert word in str(exc.value)


def test_default_initial_lr_per_optimizer() -> None:
    from lrsearch.optimizers import DEFAULT_INITIAL_LR
    from lrsearch.optimizers import OPTIMIZERS

    assert set(DEFAULT_INITIAL_LR) == set(OPTIMIZERS)  # one default for every optimizer
    assert DEFAULT_INITIAL_LR["sgd"] == DEFAULT_INITIAL_LR["nesterov"] == (1e-4, 1.0)
    assert DEFAULT_INITIAL_LR["adam"] == DEFAULT_INITIAL_LR["rmsprop"] == (1e-5, 1e-1)
    space = SearchSpace(optimizers=list(OPTIMIZERS))
    assert space.initial_lr_ranges == DEFAULT_INITIAL_LR
    assert space.initial_lr == DEFAULT_INITIAL_LR  # ranges differ: the mapping
    assert space.to_dict()["initial_lr"]["adadelta"] == [1e-2, 10.0]
    # one optimizer: its own range, as a pair (SGD's is the range lrsearch always had)
    assert SearchSpace().initial_lr == (1e-4, 1.0)
    assert SearchSpace(optimizers=["adam"]).initial_lr == (1e-5, 1e-1)
    assert SearchSpace(optimizers=["adam"]).to_dict()["initial_lr"] == [1e-5, 1e-1]


def test_initial_lr_pair_applies_to_every_optimizer() -> None:
    space = SearchSpace(initial_lr=(1e-3, 0.5), optimizers=["sgd", "adam", "adadelta"])
    assert space.initial_lr == (1e-3, 0.5)
    assert set(space.initial_lr_ranges.values()) == {(1e-3, 0.5)}
    assert space.to_dict()["initial_lr"] == [1e-3, 0.5]


def test_initial_lr_mapping_overrides_some_optimizers() -> None:
    space = SearchSpace(
        optimizers=["sgd", "adam", "rmsprop"], initial_lr={"adam": (1e-4, 1e-2), "rmsprop": 3e-4}
    )
    assert space.initial_lr_ranges == {
        "sgd": (1e-4, 1.0),  # default kept
        "adam": (1e-4, 1e-2),
        "rmsprop": 3e-4,  # fixed
    }
    assert space.to_dict()["initial_lr"] == {
        "sgd": [1e-4, 1.0],
        "adam": [1e-4, 1e-2],
        "rmsprop": 3e-4,
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn: dict[str, list[float]] = {}
    for _ in range(60):
        trial = study.ask()
        spec = space.suggest(trial)
        drawn.setdefault(spec.optimizer, []).append(spec.initial_lr)
        assert ("initial_lr" in trial.params) == (spec.optimizer != "rmsprop")
        study.tell(trial, 0.0)
    assert set(drawn) == {"sgd", "adam", "rmsprop"}
    assert all(1e-4 <= v <= 1e-2 for v in drawn["adam"])
    assert set(drawn["rmsprop"]) == {3e-4}
    assert max(drawn["sgd"]) > 1e-2  # sgd keeps its wider default


def _tpe() -> optuna.samplers.BaseSampler:
    from lrsearch.runner import make_sampler

    return make_sampler(0, 0)  # lrsearch tune's sampler: TPE, multivariate, group, liar


def _adam_vs_sgd_objective(space: SearchSpace) -> Any:
    def objective(trial: optuna.trial.Trial) -> float:
        spec = space.suggest(trial)
        low, high = space.initial_lr_ranges[spec.optimizer]
        assert low <= spec.initial_lr <= high
        best = {"sgd": 0.1, "adam": 1e-3}[spec.optimizer]
        return abs(math.log10(spec.initial_lr / best))

    return objective


def test_tpe_draws_adam_initial_lr_in_its_own_range() -> None:
    """TPE (multivariate, group) with a range per optimizer: no errors, adam stays in 1e-5..1e-1,
    and a study begun with the old single range (1e-4..1 for every optimizer) goes on."""
    families = ["constant", "step"]
    old = SearchSpace(families=families, optimizers=["sgd", "adam"], initial_lr=(1e-4, 1.0))
    study = optuna.create_study(sampler=_tpe())
    study.optimize(_adam_vs_sgd_objective(old), n_trials=12)
    new = SearchSpace(families=families, optimizers=["sgd", "adam"])
    study.optimize(_adam_vs_sgd_objective(new), n_trials=40)
    trials = study.get_trials()
    assert [t.state for t in trials].count(optuna.trial.TrialState.COMPLETE) == 52
    adam = [t.params["initial_lr"] for t in trials[12:] if t.params["optimizer"] == "adam"]
    sgd = [t.params["initial_lr"] for t in trials[12:] if t.params["optimizer"] == "sgd"]
    assert len(adam) >= 5 and len(sgd) >= 5
    assert all(1e-5 <= v <= 1e-1 for v in adam)
    assert all(1e-4 <= v <= 1.0 for v in sgd)
    # the trials record each optimizer's own distribution under the one name
    dists = {t.distributions["initial_lr"] for t in trials[12:]}
    assert {(d.low, d.high) for d in dists} == {(1e-4, 1.0), (1e-5, 1e-1)}  # type: ignore[attr-defined]


def test_unknown_family_message_names_the_choices() -> None:
    with pytest.raises(ValueError) as exc:
        SearchSpace(families=["cosin"])
    assert "cosine" in str(exc.value) and "warmup_cosine" in str(exc.value)


def test_unknown_optimizer_message_names_the_choices() -> None:
    with pytest.raises(ValueError) as exc:
        SearchSpace(optimizers=["adamw2"])
    for name in ("sgd", "nesterov", "adam", "rmsprop", "adagrad", "adadelta"):
        assert name in str(exc.value)


def test_families_as_comma_string_and_all_by_default() -> None:
    assert SearchSpace(families="step, cosine").families == ("step", "cosine")
    assert SearchSpace().families == FAMILIES


# ---------------------------------------------------------------------------------------------
# Range overrides


def _draw_many(space: SearchSpace, n: int = 40) -> list[tuple[ScheduleSpec, dict[str, Any]]]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    out = []
    for _ in range(n):
        trial = study.ask()
        spec = space.suggest(trial)
        out.append((spec, dict(trial.params)))
        study.tell(trial, 0.0)
    return out


def test_range_override_is_honoured() -> None:
    space = SearchSpace(families=["exponential"], k=(0.2, 0.3), momentum=(0.5, 0.6))
    for spec, params in _draw_many(space):
        assert 0.2 <= spec.params["k"] <= 0.3
        assert params["k"] == spec.params["k"]
        assert 0.5 <= spec.momentum <= 0.6


def test_fixed_override_is_not_suggested() -> None:
    space = SearchSpace(families=["exponential", "step"], k=0.1, epochs_drop=3, momentum=0.0)
    for spec, params in _draw_many(space, 20):
        assert "k" not in params and "epochs_drop" not in params and "momentum" not in params
        if spec.family == "exponential":
            assert spec.params["k"] == 0.1
        else:
            assert spec.params["epochs_drop"] == 3
            assert "drop_rate" in params


def test_fixed_initial_lr_is_not_suggested() -> None:
    space = SearchSpace(families=["constant"], initial_lr=0.05)
    for spec, params in _draw_many(space, 5):
        assert spec.initial_lr == 0.05
        assert set(params) == {"family", "momentum"}


def test_categorical_override() -> None:
    space = SearchSpace(families=["cyclical"], mode=["triangular2", "exp_range"], epochs=8)
    modes = {spec.params["mode"] for spec, _ in _draw_many(space, 30)}
    assert modes == {"triangular2", "exp_range"}
    space = SearchSpace(families=["cyclical"], mode="triangular", epochs=8)
    for spec, params in _draw_many(space, 5):
        assert spec.params["mode"] == "triangular" and "mode" not in params


# ---------------------------------------------------------------------------------------------
# ScheduleSpec


def _specs() -> list[ScheduleSpec]:
    out = []
    for family in FAMILIES:
        params = {"initial_lr": 0.1, **REGISTRY[family].sample(RecordingDraw({}), 0.1, 10)}
        out.append(ScheduleSpec(family, params, optimizer="nesterov", momentum=0.9))
    return out


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.family)
def test_spec_round_trip(spec: ScheduleSpec) -> None:
    data = json.loads(json.dumps(spec.to_dict()))
    assert set(data) >= {"family", "params", "optimizer", "momentum"}
    rebuilt = ScheduleSpec.from_dict(data)
    assert rebuilt == spec
    assert rebuilt.params["initial_lr"] == spec.initial_lr
    if spec.family == "plateau":
        assert rebuilt.schedule is None
        assert rebuilt.learning_rates(3) is None
        assert isinstance(rebuilt.callbacks()[0], PlateauCallback)
        assert rebuilt.driver == "callback"
    else:
        schedule = spec.schedule
        assert schedule is not None and rebuilt.schedule == schedule
        assert rebuilt.learning_rates(5) == [schedule(t) for t in range(5)]
        (callback,) = rebuilt.callbacks()
        assert isinstance(callback, ScheduleCallback)
        graph = rebuilt.build_optimizer(steps_per_epoch=3)
        assert isinstance(graph._learning_rate, InGraphSchedule)


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="bogus"):
        ScheduleSpec("bogus", {"initial_lr": 0.1})
    with pytest.raises(ValueError, match="lion"):
        ScheduleSpec("constant", {"initial_lr": 0.1}, optimizer="lion")
    with pytest.raises(ValueError, match="momentum"):
        ScheduleSpec("constant", {"initial_lr": 0.1}, momentum=1.0)
    with pytest.raises(ValueError, match="drop_rate"):
        ScheduleSpec("step", {"initial_lr": 0.1, "drop_rate": 2.0, "epochs_drop": 1})
    with pytest.raises(ValueError, match="factor"):
        ScheduleSpec("plateau", {"initial_lr": 0.1, "factor": 2.0})
    with pytest.raises(ValueError, match="family"):
        ScheduleSpec.from_dict({"params": {}})


@pytest.mark.parametrize(
    ("name", "cls", "momentum", "nesterov"),
    [
        ("sgd", keras.optimizers.SGD, 0.9, False),
        ("nesterov", keras.optimizers.SGD, 0.8, True),
        ("adam", keras.optimizers.Adam, None, None),
        ("rmsprop", keras.optimizers.RMSprop, None, None),
        ("adagrad", keras.optimizers.Adagrad, None, None),
        ("adadelta", keras.optimizers.Adadelta, None, None),
    ],
)
def test_build_optimizer_classes(
    name: str, cls: type, momentum: float | None, nesterov: bool | None
) -> None:
    spec = ScheduleSpec(
        "step",
        {"initial_lr": 0.3, "drop_rate": 0.5, "epochs_drop": 2},
        optimizer=name,
        momentum=momentum or 0.0,
    )
    first = spec.build_optimizer()
    second = spec.build_optimizer()
    assert type(first) is cls
    assert first is not second
    assert float(keras.ops.convert_to_numpy(first.learning_rate)) == pytest.approx(0.3)
    if momentum is not None:
        assert first.momentum == pytest.approx(momentum)
        assert first.nesterov is nesterov
    graph = spec.build_optimizer(steps_per_epoch=5)
    assert type(graph) is cls
    assert isinstance(graph._learning_rate, InGraphSchedule)
    assert graph._learning_rate.steps_per_epoch == 5


def test_build_optimizer_starts_at_schedule_zero() -> None:
    spec = ScheduleSpec("one_cycle", {"initial_lr": 0.5, "total_epochs": 10})
    optimizer = spec.build_optimizer()
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.5 / 25)


def test_package_exports() -> None:
    assert lrsearch.SearchSpace is SearchSpace
    assert lrsearch.ScheduleSpec is ScheduleSpec
