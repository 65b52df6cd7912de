"""``lrsearch tune`` is safe to kill: ``kill -9`` then resume, and Ctrl-C (one or two workers).

The tests watch the study database from outside (SQLite, read-only queries) to act while a
trial is training, as a user pressing Ctrl-C or a machine dying would.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from conftest import cli_env
from conftest import group_gone
from conftest import lrsearch_binary
from conftest import run_cli

pytestmark = pytest.mark.slow

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)

# RUNNING trials that have drawn their whole spec (so they are training) and have a heartbeat
TRAINING = """
SELECT t.number FROM trials t
WHERE t.state = 'RUNNING'
  AND EXISTS (SELECT 1 FROM trial_user_attributes a WHERE a.trial_id = t.trial_id
              AND a.key = 'spec')
  AND EXISTS (SELECT 1 FROM trial_heartbeats h WHERE h.trial_id = t.trial_id)
ORDER BY t.number
"""
FINISHED_COUNT = "SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED')"


def _db(workdir: Path) -> Path:
    return workdir / "studies" / "lrsearch.db"


def _query(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.Error:  # tables not created yet, or locked for a moment
        return []


def _study(workdir: Path) -> optuna.Study:
    return optuna.load_study(study_name="lrsearch", storage=f"sqlite:///{_db(workdir)}")


def _start(workdir: Path, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [lrsearch_binary(), "tune", *args],
        cwd=workdir,
        env=env or cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a terminal's Ctrl-C goes to all of it
    )


def _wait_training(
    proc: subprocess.Popen,
    db: Path,
    *,
    running: int = 1,
    finished: int = 0,
    timeout: float = 400,
) -> list[int]:
    """Wait until ``running`` trials train and ``finished`` are done; their numbers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"lrsearch tune ended early ({proc.returncode}):\n{out}\n{err}")
        numbers = [r[0] for r in _query(db, TRAINING)]
        done = _query(db, FINISHED_COUNT)
        if len(numbers) >= running and done and done[0][0] >= finished:
            return numbers
        time.sleep(0.1)
    _stop(proc)
    pytest.fail(f"no {running} training trial(s) after {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    """Kill what is left of a run's process group (cleanup after a failed assertion)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def test_kill_9_then_resume_retries_the_stale_trial(workdir: Path) -> None:
    env = cli_env(LRSEARCH_HEARTBEAT_INTERVAL="1")  # grace period 3 s
    args = ["--epochs", "6", "--seed", "3", "--progress", "off"]
    proc = _start(workdir, ["--trials", "6", *args], env)
    try:
        killed = _wait_training(proc, _db(workdir), running=1, finished=1)[0]
    finally:
        proc.kill()  # kill -9: no cleanup at all
        proc.communicate()
    study = _study(workdir)
    before = {t.number: t for t in study.get_trials()}
    assert before[killed].state == optuna.trial.TrialState.RUNNING
    finished = {n: t for n, t in before.items() if t.state in FINISHED}
    assert finished
    killed_params = before[killed].params
    assert "family" in killed_params and "initial_lr" in killed_params

    time.sleep(5)  # the killed trial's heartbeat goes stale (grace period 3 s)
    result = run_cli(["tune", "--trials", "2", *args], cwd=workdir, env=env, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr

    after = {t.number: t for t in _study(workdir).get_trials()}
    assert len(after) == len(before) + 2  # the retry is one of the 2 trials asked for
    assert not [t for t in after.values() if t.state == optuna.trial.TrialState.RUNNING]
    for number, old in finished.items():  # earlier results untouched
        new = after[number]
        assert (new.state, new.params, new.value, new.intermediate_values) == (
            old.state,
            old.params,
            old.value,
            old.intermediate_values,
        )
    assert after[killed].state == optuna.trial.TrialState.FAIL  # failed by the heartbeat
    retries = [t for t in after.values() if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1, [t.system_attrs for t in after.values()]
    retry = retries[0]
    assert retry.params == killed_params  # the same schedule trained again
    assert retry.state in FINISHED
    assert retry.user_attrs["spec"]["params"]["initial_lr"] == killed_params["initial_lr"]
    new = [t for n, t in after.items() if n not in before]
    assert all(t.state in FINISHED for t in new)


def signal_training(
    workdir: Path, args: list[str], sig: int, *, running: int, to_group: bool
) -> tuple[int, str, list[int]]:
    """Start ``tune args``, send ``sig`` once ``running`` trials train (to the whole process
    group when ``to_group``: a terminal's Ctrl-C, Slurm), and check it stopped cleanly: no
    traceback, within 45 s, no process of its group left. Returns the exit status, stderr and
    the numbers of the trials that were training."""
    proc = _start(workdir, args)
    try:
        training = _wait_training(proc, _db(workdir), running=running)
        time.sleep(1.0)  # inside fit
        start = time.monotonic()
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            _stop(proc)
    assert "Traceback" not in err, (proc.returncode, err)
    # a few seconds, most of it TensorFlow's own shutdown (generous for a loaded machine)
    assert elapsed < 45, elapsed
    assert group_gone(proc.pid)  # no worker left behind
    return proc.returncode, err, training


def _interrupt(workdir: Path, args: list[str], *, running: int, to_group: bool) -> None:
    code, err, training = signal_training(
        workdir, args, signal.SIGINT, running=running, to_group=to_group
    )
    assert code == 130, err
    assert "interrupted" in err
    trials = {t.number: t for t in _study(workdir).get_trials()}
    left = [(t.number, sorted(t.user_attrs)) for t in trials.values() if t.state.name == "RUNNING"]
    assert not left, (left, err)
    for number in training:
        assert trials[number].state == optuna.trial.TrialState.FAIL, trials[number]
    # the interrupted trials are the only failures
    assert {n for n, t in trials.items() if t.state == optuna.trial.TrialState.FAIL} == set(
        training
    )


#: trials long enough to be stopped in the middle, and never pruned before the signal
LONG_TRIALS = ["--epochs", "200", "--pruner", "none"]
TWO_WORKERS = [*LONG_TRIALS, "--workers", "2", "--progress", "off"]


def test_ctrl_c_stops_a_trial_cleanly(workdir: Path) -> None:
    args = ["--trials", "3", *LONG_TRIALS, "--progress", "on"]
    _interrupt(workdir, args, running=1, to_group=False)


@pytest.mark.parametrize("to_group", [False, True], ids=["parent", "terminal"])
def test_ctrl_c_stops_two_workers_cleanly(workdir: Path, to_group: bool) -> None:
    _interrupt(workdir, ["--trials", "4", *TWO_WORKERS], running=2, to_group=to_group)


def test_workers_end_when_tune_is_killed_while_they_start(workdir: Path) -> None:
    # the workers import TensorFlow while `tune` waits for them; killed then (kill -9, out of
    # memory), `tune` cannot tell them to stop: they notice and end on their own
    proc = _start(workdir, ["--trials", "4", "--epochs", "2", "--workers", "2"])
    time.sleep(2.0)  # spawned, still importing TensorFlow
    assert proc.poll() is None, proc.communicate()
    proc.kill()  # the parent alone
    proc.communicate()
    try:
        assert group_gone(proc.pid, timeout=120), "orphaned workers kept running"
    finally:
        _stop(proc)
    assert not _db(workdir).exists()  # the study was never created: nothing written
