"""What went wrong with a study's storage, in words, and riding out the faults that pass.

Optuna wraps every SQLAlchemy error of a commit in ``StorageInternalError("An exception is
raised during the commit...")``, so a wrong password, a stopped server, an unknown host, a
missing database and a damaged file all read alike. :func:`storage_cause` walks the exception's
chain down to the driver's error and names the cause, with what to do about it.

Transient faults (a server restarting, a connection dropped) are retried with backoff by
:func:`resilient_storage_class`'s storage for ``LRSEARCH_STORAGE_RETRY_S`` seconds (default
30); a storage that stays down raises, and ``lrsearch`` ends with one paragraph and exit 1.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from lrsearch.checks import one_line

RETRY_ENV = "LRSEARCH_STORAGE_RETRY_S"

# (signs in the driver's message, lower case; a tuple: all of its words) -> the cause and its
# fix; the first match wins
_CAUSES: tuple[tuple[tuple[str | tuple[str, ...], ...], str], ...] = (
    (
        ("password authentication failed", "authentication failed", "no password supplied"),
        "the server refused the user name or password: check them in the URL",
    ),
    (
        (("role", "does not exist"),),
        "the server has no such user (role): check the user name in the URL",
    ),
    (
        (("database", "does not exist"),),
        "the server has no database of that name: create it (createdb NAME) or fix the name "
        "in the URL",
    ),
    (
        (
            "could not translate host name",
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "no address associated",
        ),
        "the host name is unknown: check the host in the URL",
    ),
    (
        ("connection refused",),
        "nothing accepts connections at that host and port: the server is stopped, or the "
        "port is wrong",
    ),
    (
        ("timeout expired", "timed out", "connection timeout"),
        "the server did not answer in time: it is overloaded or hung, or a firewall swallows "
        "the connection",
    ),
    (
        (
            "server closed the connection",
            "terminating connection",
            "connection already closed",
            "connection is closed",
            "consuming input failed",
            "the connection is lost",
            "server conn crashed",
            "ssl syscall error",
        ),
        "the server closed the connection (it was stopped or restarted)",
    ),
    (
        (
            "database or disk is full",
            "no space left on device",
            "could not extend file",
            "disk full",
        ),
        "the disk holding the study is full: free some space",
    ),
    (
        ("file is not a database", "database disk image is malformed", "file is encrypted"),
        "the file is damaged or is not an SQLite database: restore it from a copy, or pass the "
        "--storage of an intact study",
    ),
    (
        ("attempt to write a readonly database", "read-only file system", "readonly database"),
        "the database is read-only here: tune needs a writable copy",
    ),
    (
        ("unable to open database file",),
        "SQLite cannot open the file (a folder that is missing or not readable)",
    ),
)

# faults worth waiting for: the storage may be back in a moment
_TRANSIENT = (
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "connection already closed",
    "connection is closed",
    "consuming input failed",
    "the connection is lost",
    "timeout expired",
    "database is locked",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "could not connect",
    "ssl syscall error",
)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, its causes and contexts, and a DBAPI error's ``orig``, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]


def _text(exc: BaseException) -> str:
    return " ".join(str(e).lower() for e in exception_chain(exc))


def is_storage_fault(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database (SQLAlchemy, its driver, Optuna's wrapper)."""
    for e in exception_chain(exc):
        module = type(e).__module__ or ""
        name = type(e).__name__
        if module.startswith(("sqlalchemy", "psycopg", "sqlite3", "pymysql", "MySQLdb")):
            return True
        if name == "StorageInternalError":
            return True
    return False


def is_transient(exc: BaseException) -> bool:
    """Whether a storage fault may pass (a restart, a dropped connection): worth a retry."""
    return is_storage_fault(exc) and any(sign in _text(exc) for sign in _TRANSIENT)


def known_cause(exc: BaseException) -> str | None:
    """The cause of a storage fault in words, with its fix; ``None`` when not recognised."""
    text = _text(exc)
    for signs, cause in _CAUSES:
        for sign in signs:
            words = (sign,) if isinstance(sign, str) else sign
            if all(w in text for w in words):
                return cause
    return None


def storage_cause(exc: BaseException) -> str:
    """:func:`known_cause`, else the driver's own message (its innermost error, one line)."""
    known = known_cause(exc)
    if known is not None:
        return known
    root = list(exception_chain(exc))[-1]
    return one_line(root, 300, with_type=True)


def describe_storage_fault(exc: BaseException, where: str = "the study's storage") -> str | None:
    """One paragraph for a storage fault met while a command ran (``None``: not one)."""
    if not is_storage_fault(exc):
        return None
    return (
        f"The study's storage failed and did not come back: {where}: {storage_cause(exc)}. "
        "Every finished trial is kept; the next run fails the trials that were running (if "
        "still RUNNING) and retries their parameters. Run the same command again once the "
        "storage is back."
    )


def retry_budget_s() -> float:
    """Seconds to keep retrying a transient fault (``LRSEARCH_STORAGE_RETRY_S``, default 30)."""
    try:
        return max(0.0, float(os.environ.get(RETRY_ENV, "30")))
    except ValueError:
        return 30.0


def retrying(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of a storage, called again after transient faults, with backoff.

    Waits 0.5, 1, 2, 4, 8, 8, ... seconds between tries while the instance's ``retry_s``
    (seconds, 0 = no retries) allows; a fault that is not transient is raised at once.
    """

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + getattr(self, "retry_s", 0.0)
        delay = 0.5
        while True:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                if not is_transient(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(8.0, delay * 2)

    return call


def serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` run under the instance's ``lock_path`` (an exclusive ``flock``), if it has one.

    SQLite's driver reads before it begins a write transaction, so two processes can both see
    a WAITING trial and both take it (Optuna's ``set_trial_state_values``): the chaos run saw
    two workers train one retry, the second failing with "Cannot tell a COMPLETE trial".
    """

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with file_lock(getattr(self, "lock_path", None)):
            return method(self, *args, **kwargs)

    return call


@contextlib.contextmanager
def file_lock(path: str | None) -> Iterator[None]:
    """An exclusive ``flock`` on the file ``path`` while the block runs (none if ``path`` is
    ``None`` or the platform has no ``fcntl``)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        path = None
    if path is None:
        yield
        return
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def sqlite_lock_path(database: str) -> str:
    """A lock file for one SQLite database, in the temporary folder (nothing beside the study)."""
    import hashlib
    import tempfile

    digest = hashlib.sha1(os.path.abspath(database).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"lrsearch-{digest}.lock")


@contextlib.contextmanager
def study_lock(storage: Any, study_name: str) -> Iterator[None]:
    """Hold a lock on ``study_name`` that other processes taking it wait for.

    For a check-then-write that two ``lrsearch tune`` starting together must not both do (the
    retries of interrupted trials): on SQLite an exclusive ``flock`` on a lock file beside the
    storage's ``lock_path``; on PostgreSQL a session advisory lock (``pg_advisory_lock``) on
    a connection of its own, keyed by the study's name. Other databases: no lock.
    ``storage`` is an ``RDBStorage`` (or Optuna's cache around one).
    """
    import hashlib

    backend = getattr(storage, "_backend", storage)
    lock_path = getattr(backend, "lock_path", None)
    engine = getattr(backend, "engine", None)
    digest = hashlib.sha1(study_name.encode()).digest()
    if lock_path is not None:
        with file_lock(f"{lock_path}.{digest.hex()[:12]}"):
            yield
    elif engine is not None and engine.dialect.name == "postgresql":
        import sqlalchemy

        key = int.from_bytes(digest[:8], "big", signed=True)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()  # the lock is the session's: no transaction left idle while held
            try:
                yield
            finally:
                try:
                    conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
                except Exception:  # the connection broke: the server dropped the lock with it
                    pass
    else:
        yield


@functools.cache
def resilient_storage_class() -> type:
    """``optuna.storages.RDBStorage`` whose every storage call rides out transient faults.

    Connections are checked before use (``pool_pre_ping``, set by the opener), so a pooled
    connection to a restarted server is replaced instead of failing the call. Its bulk read of
    trials is :func:`lrsearch.storage_read.bulk_get_trials`.
    """
    import optuna

    base = optuna.storages.RDBStorage
    names = [n for n in dir(optuna.storages.BaseStorage) if not n.startswith("_")]
    names += ["record_heartbeat", "_get_stale_trial_ids"]
    methods = {n: retrying(getattr(base, n)) for n in names if callable(getattr(base, n, None))}
    methods["set_trial_state_values"] = serialized(methods["set_trial_state_values"])
    attrs = {**methods, "retry_s": 0.0, "lock_path": None}
    from lrsearch.storage_read import bulk_get_trials
    from lrsearch.storage_read import compatible

    if compatible():  # reading all trials: Core rows instead of ORM objects, 9x faster
        attrs["_get_trials"] = bulk_get_trials
    cls = type("ResilientRDBStorage", (base,), attrs)
    cls.__module__ = __name__
    globals()["ResilientRDBStorage"] = cls  # picklable by name
    return cls
