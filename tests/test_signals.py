"""What clusters do to a run: SIGTERM (``timeout``, Slurm, Kubernetes), a parent killed outright,
a worker killed mid-trial. Each stopped trial ends FAIL and is enqueued again with the same
parameters (Optuna's ``RetryFailedTrialCallback`` semantics: ``failed_trial``, ``retry_history``).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import optuna
import pytest
from conftest import group_gone
from test_cli_safety import FINISHED
from test_cli_safety import LONG_TRIALS
from test_cli_safety import TWO_WORKERS
from test_cli_safety import _db
from test_cli_safety import _start
from test_cli_safety import _stop
from test_cli_safety import _study
from test_cli_safety import _wait_training
from test_cli_safety import signal_training

pytestmark = pytest.mark.slow

FAIL = optuna.trial.TrialState.FAIL
WAITING = optuna.trial.TrialState.WAITING


def _retries_of(trials: dict[int, optuna.trial.FrozenTrial], number: int) -> list:
    return [
        t for t in trials.values() if t.system_attrs.get("retry_history", [None])[-1] == number
    ]


def _assert_stopped_and_enqueued(workdir: Path, training: list[int]) -> None:
    trials = {t.number: t for t in _study(workdir).get_trials()}
    assert not [t.number for t in trials.values() if t.state.name == "RUNNING"]
    for number in training:
        assert trials[number].state == FAIL
        retries = _retries_of(trials, number)
        assert len(retries) == 1, [t.system_attrs for t in trials.values()]
        assert retries[0].state == WAITING  # the next run trains it first
        assert retries[0].params == trials[number].params
        assert retries[0].system_attrs["failed_trial"] == number


def _sigterm(workdir: Path, args: list[str], *, running: int, to_group: bool) -> None:
    # to the group: Slurm, every process of the job; else timeout, Kubernetes: the main one
    code, err, training = signal_training(
        workdir, args, signal.SIGTERM, running=running, to_group=to_group
    )
    assert code == 143, err
    assert err.strip().splitlines()[-1] == "lrsearch tune: terminated (SIGTERM).", err
    _assert_stopped_and_enqueued(workdir, training)


def test_sigterm_stops_one_worker_like_ctrl_c(workdir: Path) -> None:
    args = ["--trials", "3", *LONG_TRIALS, "--progress", "off"]
    _sigterm(workdir, args, running=1, to_group=False)


@pytest.mark.parametrize("to_group", [False, True], ids=["parent", "group"])
def test_sigterm_stops_two_workers(workdir: Path, to_group: bool) -> None:
    _sigterm(workdir, ["--trials", "6", *TWO_WORKERS], running=2, to_group=to_group)


def _worker_pids(parent: int) -> list[int]:
    """The spawned worker processes of ``parent`` (not multiprocessing's resource tracker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return sorted(pids)


def test_workers_stop_within_seconds_when_the_parent_is_killed(workdir: Path) -> None:
    proc = _start(
        workdir, ["--trials", "8", "--epochs", "200", "--pruner", "none", "--workers", "2"]
    )
    try:
        training = _wait_training(proc, _db(workdir), running=2)
        workers = _worker_pids(proc.pid)
        assert len(workers) == 2
        proc.kill()  # kill -9 of the parent alone: it cannot tell the workers anything
        proc.communicate()
        start = time.monotonic()
        assert group_gone(proc.pid, timeout=60), "orphaned workers kept running"
        assert time.monotonic() - start < 45
    finally:
        _stop(proc)
    trials = {t.number: t for t in _study(workdir).get_trials()}
    assert len([t for t in trials.values() if t.state != WAITING]) == 2  # no budget run alone
    _assert_stopped_and_enqueued(workdir, training)


def test_a_killed_workers_trial_is_retried_in_the_same_run(workdir: Path) -> None:
    proc = _start(
        workdir, ["--trials", "4", "--epochs", "12", "--workers", "2", "--progress", "off"]
    )
    try:
        _wait_training(proc, _db(workdir), running=2)
        time.sleep(0.5)
        victim = _worker_pids(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)  # out of memory, a node agent, a user's kill -9
        out, err = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            _stop(proc)
    assert proc.returncode == 1, (out, err)  # a worker died: said, in one paragraph
    assert "Traceback" not in err, err
    assert "enqueued again" in err
    trials = {t.number: t for t in _study(workdir).get_trials()}
    failed = [t for t in trials.values() if t.state == FAIL]
    assert len(failed) == 1, [(t.number, t.state) for t in trials.values()]
    killed = failed[0]
    assert killed.user_attrs["error"] == "its worker process ended during the trial"
    retries = _retries_of(trials, killed.number)
    assert len(retries) == 1
    retry = retries[0]
    assert retry.state in FINISHED  # trained by the surviving worker, in this run
    assert retry.params == killed.params
    assert retry.system_attrs["failed_trial"] == killed.number
    assert retry.system_attrs["retry_history"] == [killed.number]
    assert sum(t.state in FINISHED for t in trials.values()) == 4  # the 4 trials asked for


@pytest.mark.parametrize("delay", [0.4, 1.5])
def test_sigterm_while_starting_up_exits_143_with_one_line(workdir: Path, delay: float) -> None:
    """SIGTERM before any trial (interpreter up, TensorFlow still importing): 143, one line."""
    proc = _start(workdir, ["--trials", "2", "--epochs", "2", "--progress", "off"])
    try:
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            _stop(proc)
    assert proc.returncode == 143, (proc.returncode, err)
    assert "Traceback" not in err and "terminated" in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_sigterm_after_the_command_finished_keeps_its_status(workdir: Path) -> None:
    """The console script ignores a SIGTERM that comes while the process shuts down (the work
    is recorded): the status stays the command's (here 2: an unknown study), never -15."""
    import subprocess
    import sys

    from conftest import cli_env

    code = (
        "import os, signal, sys; from lrsearch.cli import main; "
        "status = main(['best', '--storage', 'sqlite:///nothing.db'], exiting=True); "
        "os.kill(os.getpid(), signal.SIGTERM); sys.exit(status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, env=cli_env(), capture_output=True, text=True
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
