"""KerasTuner's getting-started search run by Optuna: ``OptunaSearch`` for ``RandomSearch``.

The workflow of KerasTuner's "Getting started" guide on bundled data (scikit-learn's digits, no
network): ``build_model(hp)`` tunes the layer width, the activation, dropout (and its rate, only
when dropout is on) and, through lrsearch, the learning-rate schedule and its parameters. The
two lines that change from a ``RandomSearch`` script are marked ``# was: ...``. What you get on
top: Optuna's TPE sampler, trials pruned epoch by epoch, and a study database that resumes,
that several processes can share, and that ``lrsearch best/report/dashboard`` (and
optuna-dashboard) read.

Run it::

    python examples/kerastuner_plugin.py --trials 12 --epochs 8
    python examples/kerastuner_plugin.py --trials 20 --epochs 8    # resumes: 8 more trials
    lrsearch best --storage sqlite:///kerastuner_plugin/digits/optuna_study.db --study-name digits
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json

import keras
import keras_tuner
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import lrsearch
from lrsearch.kerastuner import OptunaSearch  # was: from keras_tuner import RandomSearch

EPOCHS = 8


def schedule_space(epochs: int) -> lrsearch.SearchSpace:
    """The schedules searched, for a budget of ``epochs`` (decay lengths follow it)."""
    families = ["constant", "step", "cosine", "one_cycle"]
    return lrsearch.SearchSpace(families=families, initial_lr=(1e-3, 0.5), epochs=epochs)


SPACE = schedule_space(EPOCHS)


def load_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Digits (8x8 images, 10 classes) scaled to [0, 1]: x_train, x_val, y_train, y_val."""
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    return tuple(train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y))


def build_model(hp: keras_tuner.HyperParameters) -> keras.Model:
    spec = SPACE.from_hp(hp)  # the schedule family and its parameters, in the same search
    model = keras.Sequential([keras.Input((64,))])
    model.add(
        keras.layers.Dense(
            units=hp.Int("units", min_value=32, max_value=256, step=32),
            activation=hp.Choice("activation", ["relu", "tanh"]),
        )
    )
    dropout = hp.Boolean("dropout")
    with hp.conditional_scope("dropout", [True]):  # `rate` exists only with dropout on
        if dropout:
            model.add(keras.layers.Dropout(rate=hp.Float("rate", 0.05, 0.5, sampling="log")))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=spec.build_optimizer(),  # the tuner applies the schedule's callbacks
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12, help="max_trials (the study's total)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs per trial")
    parser.add_argument("--directory", default="kerastuner_plugin", help="KerasTuner directory")
    parser.add_argument("--overwrite", action="store_true", help="start the study afresh")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    global SPACE
    SPACE = schedule_space(args.epochs)

    x_train, x_val, y_train, y_val = load_data(args.seed)
    tuner = OptunaSearch(  # was: keras_tuner.RandomSearch(
        build_model,
        objective="val_accuracy",
        max_trials=args.trials,
        seed=args.seed,
        directory=args.directory,
        project_name="digits",
        overwrite=args.overwrite,
    )
    tuner.search_space_summary()
    tuner.search(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=64,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    tuner.results_summary(num_trials=3)

    study = tuner.study
    states = [t.state.name for t in study.trials]
    best_hp = tuner.get_best_hyperparameters()[0]
    model = tuner.get_best_models()[0]
    accuracy = float(np.mean(model.predict(x_val, verbose=0).argmax(axis=1) == y_val))
    print(
        f"trials: {len(states)} ({states.count('COMPLETE')} complete, "
        f"{states.count('PRUNED')} pruned)"
    )
    print(f"best val_accuracy: {study.best_value:.4f}")
    print(f"best model's accuracy on the validation data: {accuracy:.4f}")
    print(f"best hyperparameters: {json.dumps(best_hp.values, sort_keys=True)}")
    print(f"best family: {study.best_trial.user_attrs['family']}")
    print(f"storage: sqlite:///{args.directory}/digits/optuna_study.db (study 'digits')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
