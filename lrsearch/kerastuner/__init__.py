"""KerasTuner on Optuna: ``OptunaSearch`` and ``OptunaOracle``.

KerasTuner's own oracles score a trial once, at its end, and keep their results in a folder of
JSON files. Here every KerasTuner trial is a trial of an Optuna study: Optuna's samplers draw
the hyperparameters, each epoch's objective is an intermediate value that Optuna's pruners act
on, the study database is the record (resumable, shared by several processes, readable by
optuna-dashboard and by ``lrsearch best/report/dashboard``)::

    from lrsearch.kerastuner import OptunaSearch        # was: from keras_tuner import RandomSearch

    tuner = OptunaSearch(build_model, objective="val_accuracy", max_trials=20)   # was RandomSearch
    tuner.search(x, y, epochs=10, validation_data=(x_val, y_val))
    tuner.get_best_hyperparameters()[0], tuner.study.best_trial

Hyperparameter kinds map to Optuna distributions as :func:`distribution_of` says; conditional
ones are drawn only when active.
"""

from __future__ import annotations

from lrsearch.kerastuner._callback import TrialCallback
from lrsearch.kerastuner._callback import attach_trial_callback
from lrsearch.kerastuner._distributions import distribution_of
from lrsearch.kerastuner._distributions import suggest_values
from lrsearch.kerastuner._oracle import BEST_STEP_ATTR
from lrsearch.kerastuner._oracle import TRIAL_ID_ATTR
from lrsearch.kerastuner._oracle import WORKER_ATTR
from lrsearch.kerastuner._oracle import OptunaOracle
from lrsearch.kerastuner._search import OptunaSearch

__all__ = [
    "BEST_STEP_ATTR",
    "TRIAL_ID_ATTR",
    "WORKER_ATTR",
    "OptunaOracle",
    "OptunaSearch",
    "TrialCallback",
    "attach_trial_callback",
    "distribution_of",
    "suggest_values",
]
