"""Several processes on one default SQLite study: ``--workers 2``, and two ``tune`` commands."""

from __future__ import annotations

import multiprocessing
import subprocess
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import cli_env
from conftest import lrsearch_binary
from conftest import run_cli

pytestmark = pytest.mark.slow


def _trials(workdir: Path) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(
        study_name="lrsearch", storage=f"sqlite:///{workdir}/studies/lrsearch.db"
    )
    return study.get_trials()


def _check_all_recorded(
    trials: list[optuna.trial.FrozenTrial], expected: int, epochs: int
) -> None:
    assert len(trials) == expected
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(expected))  # each once, none lost
    states = {t.number: t.state for t in trials}
    assert all(
        s in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        for s in states.values()
    ), states  # none FAIL, none left RUNNING or WAITING
    for t in trials:
        assert t.user_attrs["family"] == t.params["family"]
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert len(t.user_attrs["history"]["val_loss"]) == epochs


def test_two_workers_run_exactly_the_trials_asked(workdir: Path) -> None:
    result = run_cli(
        ["tune", "--trials", "5", "--epochs", "3", "--workers", "2", "--progress", "off"],
        cwd=workdir,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Ran 5 trials" in result.stdout, result.stdout
    _check_all_recorded(_trials(workdir), expected=5, epochs=3)


def test_two_tune_commands_at_once_share_the_default_sqlite_study(workdir: Path) -> None:
    args = ["tune", "--trials", "3", "--epochs", "2", "--progress", "off"]
    procs = [
        subprocess.Popen(
            [lrsearch_binary(), *args, "--seed", str(seed)],
            cwd=workdir,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    outputs = [p.communicate(timeout=900) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err, err
        assert "Ran 3 trials" in out, out
    _check_all_recorded(_trials(workdir), expected=6, epochs=2)
    assert optuna.get_all_study_names(f"sqlite:///{workdir}/studies/lrsearch.db") == ["lrsearch"]


def _open_at_once(url: str, barrier: Any, results: Any) -> None:
    """A first run's storage step: open (creating the tables), then create or load the study."""
    import warnings

    warnings.simplefilter("ignore")
    from lrsearch.runner import TuneOptions
    from lrsearch.runner.study import create_study as _create_study

    barrier.wait()
    try:
        _create_study(TuneOptions(storage=url, study_name="lrsearch"))
        results.put("ok")
    except BaseException as exc:  # reported to the test
        results.put(f"{type(exc).__name__}: {exc}")


def test_first_runs_creating_one_new_database_at_once(tmp_path: Path) -> None:
    """Both processes create Optuna's tables in a new file at the same moment: both succeed."""
    ctx = multiprocessing.get_context("spawn")
    for attempt in range(4):
        url = f"sqlite:///{tmp_path}/round{attempt}/studies.db"
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_open_at_once, args=(url, barrier, results)) for _ in "ab"]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=300)
        assert [results.get(timeout=10) for _ in procs] == ["ok", "ok"]
        assert optuna.get_all_study_names(url) == ["lrsearch"]
