"""A storage that fails: read-only commands name the real cause quickly (exit 2); an archived
study on read-only media is readable; a PostgreSQL server stopped during a study either comes
back in time (the run carries on) or the run ends with one paragraph and exit 1, and the next
run fails and retries what was left RUNNING.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import cli_env
from conftest import run_cli
from test_cli_safety import FINISHED
from test_cli_safety import _start
from test_cli_safety import _stop

from lrsearch.storage import open_storage

PG_ENV = "LRSEARCH_TEST_POSTGRES_URL"
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def _one_paragraph(err: str) -> bool:
    return "Traceback" not in err and "\n\n" not in err.strip()


def _says(err: str, words: str) -> bool:
    """Whether the (wrapped) message says ``words``."""
    return words in " ".join(err.split())


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for s in [*accepted, server]:
        s.close()


def test_a_silent_port_is_named_in_seconds(workdir: Path, silent_port: int) -> None:
    start = time.monotonic()
    url = f"postgresql://me:pw@127.0.0.1:{silent_port}/db"
    result = run_cli(["best", "--storage", url], cwd=workdir, timeout=60)
    assert time.monotonic() - start < 15
    assert result.returncode == 2, result.stderr
    assert _one_paragraph(result.stderr), result.stderr
    assert _says(result.stderr, "did not answer in time")


def test_a_stopped_server_and_an_unknown_host_are_named(workdir: Path) -> None:
    with socket.socket() as s:  # a free port: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for url, cause in [
        (f"postgresql://me:pw@127.0.0.1:{port}/db", "nothing accepts connections"),
        ("postgresql://me:pw@no-such-host.invalid:5432/db", "host name is unknown"),
    ]:
        result = run_cli(["export", "--storage", url], cwd=workdir, timeout=60)
        assert result.returncode == 2, result.stderr
        assert _one_paragraph(result.stderr), result.stderr
        assert _says(result.stderr, cause), result.stderr


def test_a_damaged_sqlite_file_is_named(workdir: Path) -> None:
    damaged = workdir / "study.db"
    damaged.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))
    result = run_cli(["report", "--storage", f"sqlite:///{damaged}", "--out", "r"], cwd=workdir)
    assert result.returncode == 2, result.stderr
    assert _one_paragraph(result.stderr), result.stderr
    assert "damaged" in result.stderr


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"no PostgreSQL server: set {PG_ENV}")
def test_a_wrong_password_and_a_missing_database_are_named(workdir: Path) -> None:
    from sqlalchemy.engine import make_url

    base = make_url(os.environ[PG_ENV])
    for url, cause in [
        (base.set(password="wrong-" + uuid.uuid4().hex[:6]), "refused the user name or password"),
        (base.set(database="missing_" + uuid.uuid4().hex[:8]), "has no database of that name"),
    ]:
        start = time.monotonic()
        shown = url.render_as_string(hide_password=False)
        result = run_cli(["best", "--storage", shown], cwd=workdir, timeout=60)
        assert time.monotonic() - start < 15
        assert result.returncode == 2, result.stderr
        assert _one_paragraph(result.stderr), result.stderr
        assert _says(result.stderr, cause), result.stderr
        assert "wrong-" not in result.stderr  # the password stays masked


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(a writable folder, the same folder on read-only media: a read-only bind mount)."""
    src, ro = tmp_path / "archive", tmp_path / "mounted"
    src.mkdir()
    ro.mkdir()
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(src), str(ro)]).returncode
        if mounted != 0:
            pytest.skip("cannot mount a read-only folder here")
        try:
            yield src, ro
        finally:
            subprocess.run(["umount", str(ro)])
    else:
        ro.rmdir()
        yield src, src  # made read-only by the test itself (chmod)


@pytest.mark.slow
def test_a_study_on_read_only_media_is_readable(workdir: Path, read_only_dir) -> None:
    src, ro = read_only_dir
    made = run_cli(["tune", "--trials", "1", "--epochs", "1", "--progress", "off"], cwd=workdir)
    assert made.returncode == 0, made.stderr
    shutil.copy(workdir / "studies" / "lrsearch.db", src / "archived.db")
    if src == ro:
        src.chmod(0o555)
    try:
        for command in (["best", "--format", "json"], ["export"]):
            storage = f"sqlite:///{ro / 'archived.db'}"
            result = run_cli([*command, "--storage", storage], cwd=workdir)
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr
    finally:
        src.chmod(0o755)
    assert sorted(p.name for p in src.iterdir()) == ["archived.db"]  # nothing added


# --- a PostgreSQL server of the test's own, stopped and started during a study ----------------


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, callable, callable]]:
    """A private PostgreSQL cluster (initdb) on a free port: (url, stop, start)."""
    if not PG_BIN or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL's binaries and root (to run them as user postgres)")
    bin_dir = PG_BIN[-1]
    data = Path(tempfile.mkdtemp(prefix="lrsearch-pg-"))
    shutil.chown(data, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def as_postgres(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, cwd="/", capture_output=True
        )

    as_postgres(str(bin_dir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "lrs")
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"

    def start() -> None:
        as_postgres(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data / "db"),
            "-o",
            opts,
            "-w",
            "-l",
            str(data / "log"),
            "start",
        )

    def stop() -> None:
        as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop")

    start()
    try:
        yield f"postgresql://lrs@127.0.0.1:{port}/postgres", stop, start
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data / "db"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            cwd="/",
        )
        shutil.rmtree(data, ignore_errors=True)


def _trials(url: str) -> dict[int, optuna.trial.FrozenTrial]:
    study = optuna.load_study(
        study_name="lrsearch", storage=url.replace("postgresql://", "postgresql+psycopg://")
    )
    return {t.number: t for t in study.get_trials()}


def _wait_finished(proc: subprocess.Popen, url: str, n: int, timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if sum(t.state in FINISHED for t in _trials(url).values()) >= n:
                return
        except Exception:  # the study is not created yet
            pass
        time.sleep(0.5)
    pytest.fail("no finished trial in time")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("down_s", [3, None], ids=["restarted", "stays-down"])
def test_postgres_stopped_during_a_study(workdir: Path, own_postgres, down_s) -> None:
    url, stop, start = own_postgres
    env = cli_env(LRSEARCH_HEARTBEAT_INTERVAL="1", LRSEARCH_STORAGE_RETRY_S="20")
    args = ["--storage", url, "--epochs", "4", "--progress", "off"]
    proc = _start(workdir, ["--trials", "6", *args], env)
    try:
        _wait_finished(proc, url, 1)
        before = {n: t for n, t in _trials(url).items() if t.state in FINISHED}
        stop()
        if down_s is not None:
            time.sleep(down_s)
            start()
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            _stop(proc)
    if down_s is None:
        assert proc.returncode == 1, (out, err)  # not 2: the input was fine
        assert _one_paragraph(err), err
        assert _says(err, "did not come back")
        start()
    else:
        assert proc.returncode == 0, (out, err)  # the run rode out the restart
        assert "Traceback" not in err, err
    time.sleep(4)  # a trial left RUNNING has a stale heartbeat now
    again = run_cli(["tune", "--trials", "1", *args], cwd=workdir, env=env)
    assert again.returncode == 0, again.stderr
    after = _trials(url)
    for number, old in before.items():  # no finished trial lost or changed
        assert (after[number].state, after[number].value) == (old.state, old.value)
    assert not [t for t in after.values() if t.state.name == "RUNNING"]
    for failed in (t for t in after.values() if t.state.name == "FAIL"):
        assert [t for t in after.values() if t.system_attrs.get("failed_trial") == failed.number]


# --- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on its own 600 KiB tmpfs (root only: ``mount``)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)])


@pytest.mark.slow
def test_a_full_disk_ends_the_run_with_one_paragraph(workdir: Path, small_disk: Path) -> None:
    url = f"sqlite:///{small_disk / 's.db'}"
    env = cli_env(LRSEARCH_HEARTBEAT_INTERVAL="1")
    base = ["tune", "--dataset", "iris", "--epochs", "3", "--progress", "off", "--storage", url]

    # full from the start: exit 1, one paragraph, and no empty database file left behind
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 4096)
    with filler.open("ab", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 4096)
    result = run_cli([*base, "--trials", "2"], cwd=workdir, env=env)
    assert result.returncode == 1, result.stderr
    assert _one_paragraph(result.stderr) and _says(result.stderr, "disk"), result.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]

    # full during the run (the study and its pictures fill it): exit 1, one paragraph, the
    # finished trials kept; with space again, the next run fails and retries the rest
    filler.unlink()
    result = run_cli([*base, "--trials", "40"], cwd=workdir, env=env)
    assert result.returncode == 1, result.stderr
    paragraph = result.stderr[result.stderr.index("lrsearch tune: error:") :]
    assert _one_paragraph(paragraph) and _says(paragraph, "disk"), result.stderr
    assert "Traceback" not in result.stderr
    trials = optuna.load_study(study_name="lrsearch", storage=url).get_trials()
    finished = {t.number: t.params for t in trials if t.state.is_finished()}
    assert finished
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    time.sleep(4)  # a trial left RUNNING has a stale heartbeat now
    again = run_cli([*base, "--trials", "1"], cwd=workdir, env=env)
    assert again.returncode == 0, again.stderr
    after = optuna.load_study(study_name="lrsearch", storage=url).get_trials()
    assert {t.number: t.params for t in after if t.number in finished} == finished
    assert not [t for t in after if t.state == optuna.trial.TrialState.RUNNING]
    for failed in (t for t in after if t.state == optuna.trial.TrialState.FAIL):
        assert [t for t in after if t.system_attrs.get("failed_trial") == failed.number], (
            failed.user_attrs,
            failed.system_attrs,
            result.stderr[-1500:],
        )


def test_the_next_run_retries_failures_without_a_reason_of_their_own(tmp_path: Path) -> None:
    from optuna.trial import TrialState

    from lrsearch.runner.loop import retry_interrupted_failures
    from lrsearch.storage import retry_callback

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    for x in (1.0, 2.0, 3.0):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 5)})
        if x == 1.0:  # failed by its own exception: stays failed
            trial.set_user_attr("error", "ValueError: bad")
        study.tell(trial, state=TrialState.FAIL)
    retry_callback()(study, study.get_trials()[2])  # trial 2 was retried already
    assert retry_interrupted_failures(study) == 1
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert sorted(t.system_attrs["failed_trial"] for t in waiting) == [1, 2]
    (new,) = [t for t in waiting if t.system_attrs["failed_trial"] == 1]
    assert new.params == study.get_trials()[1].params  # the same parameters again
    assert retry_interrupted_failures(study) == 0  # once


def _two_starts_at_once(url: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Two ``tune`` start-ups retrying the same interrupted trial at the same moment: each
    reads the trials, then (slowly) enqueues; the numbers retried, one entry per retry."""
    from optuna.trial import TrialState

    import lrsearch.storage
    from lrsearch.runner.loop import retry_interrupted_failures

    name = f"retry-{uuid.uuid4().hex[:8]}"
    study = optuna.create_study(storage=open_storage(url, create=True), study_name=name)
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 5)})
    study.tell(trial, state=TrialState.FAIL)  # stopped from outside: no `error` of its own
    real = lrsearch.storage.retry_callback

    def slow_retry_callback() -> Any:
        callback = real()

        def call(study: Any, trial: Any) -> None:
            time.sleep(1.0)  # the other start-up reads the trials meanwhile
            callback(study, trial)

        return call

    monkeypatch.setattr(lrsearch.storage, "retry_callback", slow_retry_callback)
    starts = [
        optuna.load_study(study_name=name, storage=open_storage(url, create=False))
        for _ in range(2)
    ]
    counts: list[int] = []
    errors: list[BaseException] = []

    def start_up(study: optuna.Study) -> None:
        try:
            counts.append(retry_interrupted_failures(study))
        except BaseException as exc:  # reported below: a thread's exception is only a warning
            errors.append(exc)

    threads = [threading.Thread(target=start_up, args=(s,)) for s in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a start-up never got the lock"
    assert not errors, errors
    assert sorted(counts) == [0, 1]  # one of them enqueued the retry, the other saw it
    trials = optuna.load_study(study_name=name, storage=url).get_trials()
    return [t.system_attrs["failed_trial"] for t in trials if "failed_trial" in t.system_attrs]


def test_two_runs_starting_together_retry_a_trial_once_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _two_starts_at_once(f"sqlite:///{tmp_path / 's.db'}", monkeypatch) == [0]


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"no PostgreSQL server: set {PG_ENV}")
def test_two_runs_starting_together_retry_a_trial_once_on_postgres(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _two_starts_at_once(os.environ[PG_ENV], monkeypatch) == [0]


def _heartbeat_retry(storage: Any) -> Any:
    """The callback Optuna's heartbeat calls for a stale trial it has just marked FAIL."""
    getter = getattr(storage, "get_heartbeat_stale_trial_callback", None)
    return getter() if getter is not None else storage.get_failed_trial_callback()


def _heartbeat_and_stop_at_once(url: str) -> list[int]:
    """Optuna's heartbeat marks a stale trial FAIL, then calls its retry callback; a run that
    stops in between (retry_stopped_trial) fails and retries the same trial. The numbers
    retried, one entry per retry (a second trial, failed by the heartbeat alone, is retried)."""
    from optuna.trial import TrialState

    from lrsearch.runner.loop import retry_stopped_trial
    from lrsearch.storage import HeartbeatRetry

    storage = open_storage(url, create=True)
    assert isinstance(_heartbeat_retry(storage), HeartbeatRetry)
    name = f"race-{uuid.uuid4().hex[:8]}"
    study = optuna.create_study(storage=storage, study_name=name)
    for _ in range(2):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 5)})
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # the heartbeat
    first, second = study.get_trials()
    assert retry_stopped_trial(study, first._trial_id)  # the stopping run, in between
    _heartbeat_retry(storage)(study, storage.get_trial(first._trial_id))  # the heartbeat, on
    _heartbeat_retry(storage)(study, storage.get_trial(second._trial_id))  # (no race)
    waiting = study.get_trials(states=(TrialState.WAITING,))
    return sorted(t.system_attrs["failed_trial"] for t in waiting)


def test_the_heartbeat_and_a_stopping_run_failing_one_trial_at_once_retry_it_once(
    tmp_path: Path,
) -> None:
    assert _heartbeat_and_stop_at_once(f"sqlite:///{tmp_path / 's.db'}") == [0, 1]


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"no PostgreSQL server: set {PG_ENV}")
def test_the_heartbeat_and_a_stopping_run_retry_a_trial_once_on_postgres() -> None:
    assert _heartbeat_and_stop_at_once(os.environ[PG_ENV]) == [0, 1]


def test_the_heartbeats_retry_waits_for_the_study_lock(tmp_path: Path) -> None:
    """A start-up holding the study lock while it retries a trial: the heartbeat's callback for
    the same trial waits for the lock, then finds the retry."""
    from optuna.trial import TrialState

    from lrsearch.storage import retry_callback
    from lrsearch.storage_faults import study_lock

    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", create=True)
    study = optuna.create_study(storage=storage, study_name="held")
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 5)})
    storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    frozen = storage.get_trial(trial._trial_id)
    heartbeat = threading.Thread(target=_heartbeat_retry(storage), args=(study, frozen))
    with study_lock(storage, "held"):
        heartbeat.start()
        heartbeat.join(timeout=0.5)
        assert heartbeat.is_alive()  # waiting for the lock
        retry_callback()(study, frozen)  # the start-up's retry, under the lock
    heartbeat.join(timeout=30)
    assert not heartbeat.is_alive()
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 1


def test_the_heartbeats_retry_survives_a_storage_fault_in_its_look_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up for an existing retry meets a database error: the trial is retried all the
    same (as Optuna's callback alone would); an error of another kind is raised."""
    import sqlalchemy
    from optuna.trial import TrialState

    import lrsearch.storage

    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", create=True)
    study = optuna.create_study(storage=storage, study_name="fault")
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 5)})
    storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    frozen = storage.get_trial(trial._trial_id)

    def down(study: Any, number: int) -> bool:
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("server closed"))

    monkeypatch.setattr(lrsearch.storage, "has_retry", down)
    _heartbeat_retry(storage)(study, frozen)
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 1

    def bug(study: Any, number: int) -> bool:
        raise ZeroDivisionError

    monkeypatch.setattr(lrsearch.storage, "has_retry", bug)
    with pytest.raises(ZeroDivisionError):
        _heartbeat_retry(storage)(study, frozen)


def test_a_retry_leaves_the_cached_trials_retry_history_as_stored(tmp_path: Path) -> None:
    """Optuna's retry callback appends to the ``retry_history`` of the trial it is given; the
    trial retried by a stopping run or a start-up is a copy, not the study's cached trial."""
    from optuna.trial import TrialState

    from lrsearch.runner.loop import retry_interrupted_failures
    from lrsearch.runner.loop import retry_stopped_trial
    from lrsearch.storage import retry_callback

    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", create=True)
    study = optuna.create_study(storage=storage, study_name="cache")
    for _ in range(2):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 5)})
        study.tell(trial, state=TrialState.FAIL)
    for number in (0, 1):
        retry_callback()(study, study.get_trials()[number])  # trials 2, 3: their retries
    for number in (2, 3):
        retry = study.ask()  # trials 2 and 3 run, and fail from outside (the heartbeat)
        assert retry.number == number
        storage.set_trial_state_values(retry._trial_id, TrialState.FAIL)
    study.get_trials(deepcopy=False)  # both now cached as finished
    assert retry_stopped_trial(study, study.get_trials()[2]._trial_id)  # a stopping run: 4
    assert retry_interrupted_failures(study) == 1  # a start-up: trial 5, a retry of 3
    cached = study.get_trials(deepcopy=False)
    assert [t.system_attrs["retry_history"] for t in cached[2:]] == [[0], [1], [0, 2], [1, 3]]
