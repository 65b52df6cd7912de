"""Drop lrsearch into an Optuna objective you already have.

This is an ordinary Optuna + Keras script (a digits MLP, validation loss, a MedianPruner
fed by optuna-integration's KerasPruningCallback). Three lines, marked ``# lrsearch``,
turn it into a search over learning-rate schedules:

    space = lrsearch.SearchSpace(...)                       # once
    spec = space.suggest(trial)                             # in the objective
    optimizer=spec.build_optimizer(), callbacks=spec.callbacks()

Run it::

    python examples/optuna_dropin.py --trials 30 --epochs 10

The winner prints as its family and parameters; ``spec.to_dict()`` of the best trial is in its
user attributes, ready for ``lrsearch.ScheduleSpec.from_dict`` in your own training code.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json

import keras
import numpy as np
import optuna
from optuna_integration import KerasPruningCallback
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import lrsearch


def load_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    """scikit-learn's bundled digits (8x8 images, 10 classes), scaled to [0, 1]; no network."""
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    return tuple(train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y))


def build_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="number of Optuna trials")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x_train, x_val, y_train, y_val = load_data(args.seed)
    space = lrsearch.SearchSpace(initial_lr=(1e-3, 0.5), epochs=args.epochs)  # lrsearch

    def objective(trial: optuna.trial.Trial) -> float:
        keras.utils.set_random_seed(args.seed + trial.number)
        spec = space.suggest(trial)  # lrsearch
        model = build_model()
        model.compile(
            optimizer=spec.build_optimizer(),  # lrsearch
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        trial.set_user_attr("spec", spec.to_dict())
        history = model.fit(
            x_train,
            y_train,
            batch_size=args.batch_size,
            epochs=args.epochs,
            validation_data=(x_val, y_val),
            callbacks=[*spec.callbacks(), KerasPruningCallback(trial, "val_loss")],  # lrsearch
            verbose=0,
        )
        return float(min(history.history["val_loss"]))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=args.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
    )
    study.optimize(objective, n_trials=args.trials)

    states = [t.state for t in study.trials]
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    pruned = states.count(optuna.trial.TrialState.PRUNED)
    print(f"trials: {len(study.trials)} ({complete} complete, {pruned} pruned)")
    best = study.best_trial
    spec = lrsearch.ScheduleSpec.from_dict(best.user_attrs["spec"])
    print(f"best trial: #{best.number}, val_loss {best.value:.4f}")
    print(f"best family: {spec.family}")
    print(f"best optimizer: {spec.optimizer} (momentum {spec.momentum:.3g})")
    print(f"best params: {json.dumps(spec.params, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
