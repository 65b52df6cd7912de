"""lrsearch.kerastuner across processes: a killed search loses no finished trial; two processes
on one PostgreSQL study share one search (runs when ``LRSEARCH_TEST_POSTGRES_URL`` is set).

Run as a script, this file is one search process:
``python tests/test_kerastuner_processes.py STORAGE STUDY_NAME DIRECTORY MAX_TRIALS EPOCHS``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ENV = "LRSEARCH_TEST_POSTGRES_URL"
HERE = Path(__file__)


def search(storage: str, study_name: str, directory: str, max_trials: int, epochs: int) -> None:
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    from lrsearch.kerastuner import OptunaSearch

    def build(hp):  # type: ignore[no-untyped-def]
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        lr = hp.Float("lr", 1e-3, 0.3, sampling="log")
        model.compile(
            keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    d = load_digits()
    x = (d.data / 16.0).astype("float32")
    y = d.target.astype("int64")
    idx = np.random.default_rng(0).permutation(len(x))[:400]
    tuner = OptunaSearch(
        build,
        objective="val_accuracy",
        max_trials=max_trials,
        storage=storage,
        study_name=study_name,
        directory=directory,
        project_name="shared",
        seed=os.getpid(),
    )
    tuner.search(
        x[idx[:300]],
        y[idx[:300]],
        epochs=epochs,
        validation_data=(x[idx[300:]], y[idx[300:]]),
        batch_size=32,
        verbose=0,
    )


def _start(storage: str, study: str, directory: Path, trials: int, epochs: int, **env: str):  # type: ignore[no-untyped-def]
    full = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1", **env}
    args = [sys.executable, str(HERE), storage, study, str(directory), str(trials), str(epochs)]
    return subprocess.Popen(args, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_a_killed_search_loses_no_finished_trial(tmp_path: Path) -> None:
    import optuna
    from optuna.trial import TrialState

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    proc = _start(storage, "k", tmp_path / "a", 4, 40, LRSEARCH_HEARTBEAT_INTERVAL="1")
    study = None
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            time.sleep(0.5)
            if study is None and (tmp_path / "study.db").exists():
                try:
                    study = optuna.load_study(study_name="k", storage=storage)
                except KeyError:
                    continue
            states = [t.state for t in study.get_trials()] if study else []
            if TrialState.COMPLETE in states and states[-1] == TrialState.RUNNING:
                break
            assert proc.poll() is None, proc.communicate()[0]
    finally:
        proc.kill()
        proc.wait()
    assert study is not None
    before = {t.number: t.value for t in study.get_trials() if t.state == TrialState.COMPLETE}
    killed = [t.number for t in study.get_trials() if t.state == TrialState.RUNNING]
    assert before and killed
    time.sleep(4)  # the heartbeat (1 s, grace 3 s) goes stale
    os.environ["LRSEARCH_HEARTBEAT_INTERVAL"] = "1"
    try:
        search(storage, "k", str(tmp_path / "b"), 4, 2)
    finally:
        del os.environ["LRSEARCH_HEARTBEAT_INTERVAL"]
    trials = study.get_trials()
    assert {t.number: t.value for t in trials if t.number in before} == before
    assert trials[killed[0]].state == TrialState.FAIL
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 4  # max_trials: the failed trial's retry counts instead of it
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == killed[0]]
    assert len(retry) == 1 and retry[0].params == trials[killed[0]].params
    assert retry[0].state in (TrialState.COMPLETE, TrialState.PRUNED)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get(ENV), reason=f"no PostgreSQL server: set {ENV}")
def test_two_processes_share_one_postgres_study(tmp_path: Path) -> None:
    import optuna
    from optuna.trial import TrialState

    from lrsearch.kerastuner import WORKER_ATTR
    from lrsearch.storage import open_storage

    url = os.environ[ENV]
    name = f"kt_{uuid.uuid4().hex[:12]}"
    procs = [_start(url, name, tmp_path / f"w{i}", 6, 3) for i in range(2)]
    outputs = [p.communicate(timeout=600)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    study = optuna.load_study(study_name=name, storage=open_storage(url, create=False))
    try:
        trials = study.get_trials()
        # no chief: both processes ran trials of the one study, up to max_trials in total
        assert 6 <= len(trials) <= 7
        assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
        assert len({t.user_attrs[WORKER_ATTR] for t in trials}) == 2
        assert len({t.number for t in trials}) == len(trials)
    finally:
        optuna.delete_study(study_name=name, storage=open_storage(url, create=False))


if __name__ == "__main__":
    storage, study_name, directory, trials, epochs = sys.argv[1:6]
    search(storage, study_name, directory, int(trials), int(epochs))
