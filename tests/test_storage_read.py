"""The bulk trial read (:mod:`lrsearch.storage_read`) gives exactly what Optuna's ORM read gives.

Each case compares :func:`bulk_get_trials` with Optuna's own ``RDBStorage._get_trials`` on a
real study (SQLite here, PostgreSQL too when ``LRSEARCH_TEST_POSTGRES_URL`` is set) holding
every kind of trial: complete, pruned with NaN and infinite reports, failed, running, waiting,
float / int / categorical parameters, user and system attributes, and a second study beside it.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from lrsearch.storage import open_storage
from lrsearch.storage_read import bulk_get_trials
from lrsearch.storage_read import compatible

PG_ENV = "LRSEARCH_TEST_POSTGRES_URL"


def _fill(storage: optuna.storages.RDBStorage, name: str) -> int:
    """A study with one trial of each kind, and a neighbour study; the study's id."""
    study = optuna.create_study(storage=storage, study_name=name)
    other = optuna.create_study(
        storage=storage, study_name=name + "-other", directions=["minimize", "maximize"]
    )
    other.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        trial.suggest_categorical("family", ["step", "cosine", None])
        trial.suggest_int("epochs", 1, 29, step=2)
        trial.set_user_attr("history", {"loss": [1.0, float("nan")], "spec": {"lr": lr}})
        trial.storage.set_trial_system_attr(trial._trial_id, "artifacts:abc", '{"x": 1}')
        if trial.number == 1:
            trial.report(float("nan"), 0)
            trial.report(float("inf"), 1)
            trial.report(-float("inf"), 2)
            raise optuna.TrialPruned()
        if trial.number == 2:
            raise RuntimeError("a failed trial")
        for step in range(5):
            trial.report(lr * (5 - step), step)
        return float("inf") if trial.number == 3 else lr

    study.optimize(objective, n_trials=6, catch=(RuntimeError,))
    running = study.ask()
    running.suggest_float("lr", 1e-4, 1.0, log=True)
    running.report(0.5, 0)
    study.enqueue_trial({"lr": 0.01, "family": "step", "epochs": 3})  # WAITING
    return study._study_id


def _comparable(trial: FrozenTrial) -> dict[str, Any]:
    """A trial's fields with NaN made comparable (NaN != NaN)."""

    def fix(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return {key: fix(value) for key, value in vars(trial).items()}


def _same(storage: optuna.storages.RDBStorage, study_id: int) -> None:
    base = optuna.storages.RDBStorage._get_trials
    ids = [t._trial_id for t in base(storage, study_id, None, set(), -1)]
    assert len(ids) == 8
    cases: list[tuple[Any, set[int], int]] = [
        (None, set(), -1),
        ((TrialState.COMPLETE,), set(), -1),
        ((TrialState.PRUNED, TrialState.FAIL, TrialState.WAITING), set(), -1),
        ((TrialState.RUNNING,), set(), -1),
        (None, set(), ids[4]),  # what Optuna's cache asks: the trials after the last finished
        (None, {ids[1], ids[2], ids[6] + 1000}, ids[3]),  # and the unfinished ones before it
        ((TrialState.COMPLETE,), {ids[0]}, ids[5]),
    ]
    for states, included, after in cases:
        want = base(storage, study_id, states, included, after)
        got = bulk_get_trials(storage, study_id, states, included, after)
        assert [t.number for t in got] == [t.number for t in want], (states, included, after)
        assert [_comparable(t) for t in got] == [_comparable(t) for t in want]
    assert {t.state for t in bulk_get_trials(storage, study_id, None, set(), -1)} == {
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.FAIL,
        TrialState.WAITING,
        TrialState.RUNNING,
    }
    for read in (base, bulk_get_trials):
        with pytest.raises(KeyError):
            read(storage, 10**6, None, set(), -1)


@pytest.fixture
def local_time_zone() -> Iterator[None]:
    """A time zone far from UTC: Optuna 5 stores UTC and gives trials local times."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_optuna_reads_trials_as_this_module_expects(tmp_path: Path) -> None:
    assert compatible()  # else the storage would quietly keep Optuna's slower read
    storage_class = type(open_storage(f"sqlite:///{tmp_path / 'study.db'}", create=True))
    assert storage_class._get_trials is bulk_get_trials


def test_bulk_read_equals_optunas_on_sqlite(tmp_path: Path, local_time_zone: None) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", create=True)
    study_id = _fill(storage, "read")
    _same(storage, study_id)
    other = optuna.load_study(study_name="read-other", storage=storage)._study_id
    two = bulk_get_trials(storage, other, None, set(), -1)  # two objectives: values in order
    want = optuna.storages.RDBStorage._get_trials(storage, other, None, set(), -1)
    assert [t.values for t in two] == [t.values for t in want] and two[0].values[1] == 1.0
    # through Optuna's public reads too (its cache asks for the unfinished trials again)
    study = optuna.load_study(study_name="read", storage=storage)
    plain = optuna.load_study(
        study_name="read", storage=optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}")
    )
    assert [_comparable(t) for t in study.trials] == [_comparable(t) for t in plain.trials]
    assert study.trials_dataframe().to_json() == plain.trials_dataframe().to_json()


def test_too_many_ids_for_one_query_fall_back_to_optunas_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", create=True)
    study_id = _fill(storage, "many")
    base = optuna.storages.RDBStorage._get_trials
    want = base(storage, study_id, None, set(), -1)
    optunas_reads = []

    def spy(*args: Any) -> list[FrozenTrial]:
        optunas_reads.append(args[1:])
        return base(*args)

    monkeypatch.setattr(optuna.storages.RDBStorage, "_get_trials", spy)
    # more ids than SQLite takes in one statement (Debian's build: 250,000)
    included = set(range(1, 300_000))
    got = bulk_get_trials(storage, study_id, None, included, 300_000)
    assert len(optunas_reads) == 1
    assert [_comparable(t) for t in got] == [_comparable(t) for t in want]


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"no PostgreSQL server: set {PG_ENV}")
def test_bulk_read_equals_optunas_on_postgres(local_time_zone: None) -> None:
    storage = open_storage(os.environ[PG_ENV], create=True)
    name = f"read-{uuid.uuid4().hex[:8]}"
    study_id = _fill(storage, name)
    try:
        _same(storage, study_id)
    finally:
        optuna.delete_study(study_name=name, storage=storage)
        optuna.delete_study(study_name=name + "-other", storage=storage)


def test_a_trial_finishing_during_the_read_keeps_its_params(tmp_path: Path) -> None:
    """Read with ``states=(RUNNING,)``; the trial finishes between the trials query and the
    params query (another process's write): it comes back RUNNING, as first read, with its
    params and attributes, not empty."""
    import sqlalchemy

    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = open_storage(url, create=True)
    study = optuna.create_study(storage=storage, study_name="live")
    trial = study.ask()
    trial.suggest_float("lr", 1e-4, 1.0, log=True)
    trial.set_user_attr("family", "step")
    other = optuna.storages.RDBStorage(url)
    finished: list[str] = []

    def finish_it(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM trial_params" in statement and not finished:
            finished.append(statement)
            other.set_trial_state_values(trial._trial_id, TrialState.COMPLETE, [0.5])

    sqlalchemy.event.listen(storage.engine, "before_cursor_execute", finish_it)
    try:
        (got,) = bulk_get_trials(storage, study._study_id, (TrialState.RUNNING,), set(), -1)
    finally:
        sqlalchemy.event.remove(storage.engine, "before_cursor_execute", finish_it)
    assert finished  # the trial did finish in the middle of the read
    assert got.state == TrialState.RUNNING
    assert set(got.params) == {"lr"} and got.user_attrs == {"family": "step"}
    assert storage.get_trial(trial._trial_id).state == TrialState.COMPLETE


def test_no_two_trials_share_a_list_or_dict_attribute(tmp_path: Path) -> None:
    """The decoder caches decoded distributions and scalar attributes, never a list or a dict:
    changing one trial's attribute leaves the other trials' as stored."""
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", create=True)
    study = optuna.create_study(storage=storage, study_name="shared")

    def objective(trial: optuna.Trial) -> float:
        trial.suggest_float("lr", 1e-4, 1.0, log=True)
        trial.set_user_attr("family", "step")
        trial.set_user_attr("tags", ["a", {"b": [1]}])
        return 0.5

    study.optimize(objective, n_trials=3)
    first, second, third = bulk_get_trials(storage, study._study_id, None, set(), -1)
    assert first.distributions["lr"] == third.distributions["lr"]
    first.user_attrs["tags"][1]["b"].append(2)
    first.user_attrs["tags"].append("c")
    assert second.user_attrs == third.user_attrs == {"family": "step", "tags": ["a", {"b": [1]}]}
    assert first.user_attrs["family"] == "step"


def test_the_collector_is_off_while_trials_are_built_and_as_it_was_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read pauses Python's cyclic collector while it builds the trials; on again
    afterwards, also after an error, and left off when it was off."""
    import gc

    from lrsearch import storage_read

    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", create=True)
    study_id = _fill(storage, "gc")
    seen = []
    build = storage_read._Decoder.trial

    def spy(self: Any, *args: Any) -> FrozenTrial:
        seen.append(gc.isenabled())
        return build(self, *args)

    monkeypatch.setattr(storage_read._Decoder, "trial", spy)
    assert gc.isenabled()
    assert len(bulk_get_trials(storage, study_id, None, set(), -1)) == 8
    assert seen == [False] * 8
    assert gc.isenabled()
    with pytest.raises(KeyError):
        bulk_get_trials(storage, 10**6, None, set(), -1)
    assert gc.isenabled()
    gc.disable()
    try:
        assert len(bulk_get_trials(storage, study_id, None, set(), -1)) == 8
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_reads_share_one_pause() -> None:
    """Two threads' reads overlap: the first to leave does not switch the collector back on
    under the second, and the second, which came in with it off, does not leave it off."""
    import gc

    from lrsearch.storage_read import collector_paused

    first, second = collector_paused(), collector_paused()
    assert gc.isenabled()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second read is still building
    second.__exit__(None, None, None)
    assert gc.isenabled()
