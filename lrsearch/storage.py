"""Study storage: URL checks, SQLite made safe for several processes, heartbeats.

Optuna advises against SQLite for parallel work because writers block each other ("database
is locked"). lrsearch keeps SQLite as the zero-setup default and makes it safe for the workers
of one machine: the database runs in WAL mode (readers never block the writer, so an
optuna-dashboard reading the file does not stall tuning) and every connection waits up to
``SQLITE_TIMEOUT_S`` for a lock instead of failing. Across machines, point every worker at one
PostgreSQL URL (``postgresql://user:pass@host/db``).

Heartbeats: every running trial updates a heartbeat; a trial whose process was killed (even by
``kill -9``) is marked FAIL once its heartbeat is older than the grace period, and Optuna's
retry callback enqueues it again with the same parameters.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import StorageError
from lrsearch.errors import UsageError

if TYPE_CHECKING:
    import optuna

DEFAULT_STORAGE = "sqlite:///studies/lrsearch.db"
DEFAULT_STUDY_NAME = "lrsearch"
SQLITE_TIMEOUT_S = 120
SCHEMA_ATTEMPTS = 5  # opening a new database while another process creates its tables
CONNECT_TIMEOUT_S = 5  # a server that accepts TCP but never answers (PostgreSQL)
ENV_STORAGE = "LRSEARCH_STORAGE"
ENV_STUDY_NAME = "LRSEARCH_STUDY_NAME"


def heartbeat_interval() -> int:
    """Seconds between heartbeats (``LRSEARCH_HEARTBEAT_INTERVAL``, default 10)."""
    try:
        return max(1, int(os.environ.get("LRSEARCH_HEARTBEAT_INTERVAL", "10")))
    except ValueError:
        return 10


def default_storage() -> str:
    """``$LRSEARCH_STORAGE`` or ``sqlite:///studies/lrsearch.db``."""
    return os.environ.get(ENV_STORAGE) or DEFAULT_STORAGE


def default_study_name() -> str:
    """``$LRSEARCH_STUDY_NAME`` or ``lrsearch``."""
    return os.environ.get(ENV_STUDY_NAME) or DEFAULT_STUDY_NAME


def normalize_url(url: str) -> str:
    """Check a storage URL and return the one to give SQLAlchemy.

    ``postgresql://`` is mapped to the psycopg 3 driver (``postgresql+psycopg://``) when
    psycopg2 is not installed.

    Raises:
        UsageError: the URL cannot be parsed, or names a database driver that is not installed.
    """
    import sqlalchemy
    from sqlalchemy.engine import make_url

    hint = (
        "Use an SQLAlchemy database URL such as sqlite:///studies/lrsearch.db (a file) or "
        "postgresql://user:password@host:5432/dbname (a shared server)."
    )
    if not isinstance(url, str) or "://" not in url:
        raise UsageError(f"The storage URL {url!r} is not a database URL. {hint}")
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise UsageError(f"The storage URL {url!r} cannot be parsed ({exc}). {hint}") from None
    if parsed.drivername == "postgresql":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        parsed.get_dialect()
    except Exception as exc:  # NoSuchModuleError, ImportError of the driver
        extra = ""
        if parsed.get_backend_name() == "postgresql":
            extra = ' Install the driver with: pip install "lrsearch[postgres]".'
        raise UsageError(
            f"The storage URL {url!r} names a database lrsearch cannot open "
            f"({type(exc).__name__}: {exc}).{extra} {hint}"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise UsageError(
            f"The storage URL {url!r} is an in-memory SQLite database, which vanishes when the "
            f"command ends. {hint}"
        )
    return parsed.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """``url`` for messages, its password masked (``***``)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: nothing to mask
        return url


def sqlite_path(url: str) -> Path | None:
    """The file of an ``sqlite:///`` URL, ``None`` for other databases."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def open_storage(url: str, *, create: bool) -> optuna.storages.RDBStorage:
    """Open (or, with ``create=True``, create) the storage at ``url`` with heartbeats on.

    With ``create=False`` nothing is ever written: a missing SQLite file, or a database that
    holds no Optuna tables, is a :class:`UsageError`; a file on read-only media (an archived
    study) is opened immutable, without the WAL's shared-memory file. A server that does not
    answer fails after ``CONNECT_TIMEOUT_S``; the error names the cause (wrong password,
    server down, unknown host, missing database, damaged file). Once open, the storage rides
    out transient faults (:mod:`lrsearch.storage_faults`).
    """
    import optuna

    from lrsearch.storage_faults import resilient_storage_class
    from lrsearch.storage_faults import retry_budget_s

    url = normalize_url(url)
    shown = shown_url(url)
    path = sqlite_path(url)
    existed = path is not None and path.exists()
    engine_kwargs = _engine_kwargs(url)
    if path is not None:
        if not create and not existed:
            raise UsageError(
                f"There is no study database at {path} (storage {shown}). Run "
                "`lrsearch tune` "
                "first, or pass the --storage of an existing study."
            )
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(
                    f"Cannot create the folder {path.parent} for the study database ({exc}). "
                    "Pass a --storage in a writable place."
                ) from None
        elif not _writable(path):
            url = f"sqlite:///file:{path.resolve()}?mode=ro&immutable=1&uri=true"
    interval = heartbeat_interval()
    callback_kw = (
        "heartbeat_stale_trial_callback"
        if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback")
        else "failed_trial_callback"
    )
    retry: dict[str, Any] = {callback_kw: HeartbeatRetry()}
    storage_class = resilient_storage_class()
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental": used as documented
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = storage_class(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=interval,
                    grace_period=3 * interval,
                    skip_table_creation=not create,
                    **retry,
                )
            if not create:
                storage.get_all_studies()  # fails on a database without Optuna's tables
            break
        except Exception as exc:
            if attempt + 1 < SCHEMA_ATTEMPTS and _lost_schema_race(exc):
                time.sleep(0.2 * (attempt + 1))  # another process is creating the tables
                continue
            if create and path is not None and not existed:
                _remove_empty(path)  # a disk full from the start leaves no 0-byte file
            raise _open_error(shown, exc) from None
    storage.retry_s = retry_budget_s()
    if path is not None:
        from lrsearch.storage_faults import sqlite_lock_path

        storage.lock_path = sqlite_lock_path(str(path))  # one taker per WAITING trial
        _tune_sqlite(storage, wal=create)
    return storage


#: retries of one trial's parameters after its process died (Optuna's retry callback)
MAX_RETRY = 3


def retry_callback() -> Any:
    """Optuna's retry callback (``RetryHeartbeatStaleTrialCallback``, formerly
    ``RetryFailedTrialCallback``): called with a FAIL trial, it enqueues its parameters again,
    recording ``failed_trial`` and ``retry_history``, at most ``MAX_RETRY`` times."""
    import optuna

    cls = (
        getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
        or optuna.storages.RetryFailedTrialCallback
    )
    with warnings.catch_warnings():  # "experimental": used as documented, nothing to act on
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return cls(max_retry=MAX_RETRY)


def enqueue_retry(study: Any, trial: Any) -> None:
    """Enqueue a retry of the FAIL ``trial`` with Optuna's retry callback (:func:`retry_callback`),
    given a copy: the callback appends to the ``retry_history`` list of the trial it gets, which
    would otherwise be the study's cached trial."""
    retry_callback()(study, copy.deepcopy(trial))


def has_retry(study: Any, number: int) -> bool:
    """Whether a retry of trial ``number`` exists: a trial whose Optuna ``retry_history`` ends
    with ``number`` (enqueued by the heartbeat, by Ctrl-C or SIGTERM handling, by a start-up)."""
    return any(
        t.system_attrs.get("retry_history", [None])[-1] == number
        for t in study.get_trials(deepcopy=False)
    )


class HeartbeatRetry:
    """The heartbeat's retry callback: Optuna's (:func:`enqueue_retry`), called under the
    study lock (:func:`lrsearch.storage_faults.study_lock`) and only for a trial without a
    retry yet.

    Optuna's heartbeat marks a stale trial FAIL, then calls this. A run stopping or starting at
    that moment may fail the same trial and enqueue its retry too
    (:func:`lrsearch.runner.loop.retry_stopped_trial`, ``retry_interrupted_failures``, which
    take the same lock): whichever comes second finds the retry and leaves it at one. If the
    storage faults while taking the lock or looking, Optuna's callback runs without them.
    """

    def __call__(self, study: Any, trial: Any) -> None:
        from lrsearch.storage_faults import is_storage_fault
        from lrsearch.storage_faults import study_lock

        called = False
        try:
            with study_lock(study._storage, study.study_name):
                if has_retry(study, trial.number):
                    return
                called = True
                enqueue_retry(study, trial)
        except Exception as exc:
            if called or not is_storage_fault(exc):
                raise
            # the lock or the look-up met a storage fault: retry it as Optuna alone would (its
            # write rides out transient faults), rather than lose the retry
            enqueue_retry(study, trial)


def _engine_kwargs(url: str) -> dict[str, Any]:
    """Connections checked before use; SQLite waits for locks; PostgreSQL gives up connecting
    after ``CONNECT_TIMEOUT_S`` and notices a vanished server through TCP keep-alives."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
    elif parsed.get_backend_name() == "postgresql":
        given = parsed.query
        connect = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        kwargs["connect_args"] = {k: v for k, v in connect.items() if k not in given}
    return kwargs


def _writable(path: Path) -> bool:
    """Whether SQLite may write beside ``path`` (the WAL's -shm file): media not read-only."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return False
    except (OSError, AttributeError):  # no statvfs on this platform
        pass
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _remove_empty(path: Path) -> None:
    """Remove an empty database file this process just created (and its -wal/-shm)."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if p.exists() and p.stat().st_size == 0:
                p.unlink()
        except OSError:
            pass


def _open_error(shown: str, exc: BaseException) -> Exception:
    """The error to raise when the storage cannot be opened, naming the real cause.

    A full disk is not the user's input (:class:`StorageError`, exit 1); anything else
    (password, server, host, database, file) is theirs to fix (:class:`UsageError`, exit 2).
    """
    from lrsearch.storage_faults import known_cause
    from lrsearch.storage_faults import storage_cause

    cause = storage_cause(exc)
    if "disk holding the study is full" in cause:
        return StorageError(
            f"Cannot write the study storage {shown}: {cause}. Nothing was written; run the "
            "same command again once there is space."
        )
    hint = ""
    if known_cause(exc) is None:
        hint = (
            " Check that it is an Optuna study database (made by `lrsearch tune`), that its "
            "server is running, and that the URL, user and password are right."
        )
    return UsageError(f"Cannot open the study storage {shown}: {cause}.{hint}")


def _tune_sqlite(storage: optuna.storages.RDBStorage, *, wal: bool) -> None:
    """WAL journal (persistent in the file) and ``synchronous=NORMAL`` on every connection.

    In WAL mode ``NORMAL`` syncs at checkpoints instead of at every commit: a committed trial
    survives the process being killed at any moment (the WAL is in the OS's hands), only a
    power cut can lose the last commits. Per-commit fsyncs were the main cost of several
    workers reporting every epoch into one file.
    """
    import sqlalchemy

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sqlalchemy.event.listen(storage.engine, "connect", on_connect)
    storage.engine.dispose()  # connections opened before the listener existed
    if wal:  # a property of the file: set once, by whoever creates the study database
        with storage.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")


def _lost_schema_race(exc: Exception) -> bool:
    """Whether opening failed because another process created the same tables at once.

    Two first runs against a new database (two ``lrsearch tune`` commands, or machines sharing
    one PostgreSQL) both create Optuna's tables; the slower one sees "table ... already exists"
    or a duplicate schema-version row. Opening again then finds the tables in place.
    """
    text = str(exc).lower()
    return any(
        sign in text
        for sign in ("already exists", "unique constraint", "duplicate key", "alembic_version")
    )


def study_names(storage: optuna.storages.BaseStorage) -> list[str]:
    """Names of the studies in ``storage``."""
    return [s.study_name for s in storage.get_all_studies()]


def load_study(storage_url: str, study_name: str) -> optuna.Study:
    """Load an existing study, never creating a database or a study.

    Raises:
        UsageError: no database there, or no study of that name (the message lists the
            studies that exist).
    """
    import optuna

    storage = open_storage(storage_url, create=False)
    names = study_names(storage)
    if study_name not in names:
        listing = ", ".join(repr(n) for n in names) if names else "none"
        raise UsageError(
            f"There is no study named {study_name!r} in {shown_url(storage_url)} (studies there: "
            f"{listing}). Pass --study-name with one of them, or run `lrsearch tune` first."
        )
    return optuna.load_study(study_name=study_name, storage=storage)
