"""Serving optuna-dashboard on a study database (read only) with the standard library.

:func:`serve` runs optuna-dashboard's WSGI app on ``host:port`` with ``wsgiref``, on a storage
opened without creating anything (:func:`open_dashboard_storage`). SQLite studies are in WAL
mode, so the dashboard reads while ``lrsearch tune`` writes, and neither waits for the other.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.dashboard._images import artifact_dir_for
from lrsearch.dashboard._images import open_artifact_store
from lrsearch.errors import UsageError
from lrsearch.storage import open_storage

if TYPE_CHECKING:
    import optuna


def open_dashboard_storage(url: str) -> optuna.storages.RDBStorage:
    """Open ``url`` for the dashboard: no file, table or study is ever created.

    :func:`lrsearch.storage.open_storage` with ``create=False``, the opener every reading
    command uses: SQLite connections wait for locks as ``lrsearch tune`` does (WAL mode lets
    readers and the writer work at once).

    Raises:
        UsageError: a bad URL, no database file there, or not an Optuna database.
    """
    return open_storage(url, create=False)


def check_port(port: Any) -> int:
    """``port`` as an int in 0..65535 (0: any free port), else :class:`UsageError`."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise UsageError(
            f"--port must be a whole number from 1 to 65535 (or 0 for any free port); "
            f"received {port!r}. Example: --port 8080."
        )
    return port


def quiet_optuna_warnings() -> None:
    """Silence Optuna's warnings in this process (the dashboard's importance computations
    warn on every page view of a small or one-parameter study)."""
    import logging
    import warnings

    import optuna

    warnings.filterwarnings("ignore", module=r"optuna(\..*)?$")
    warnings.filterwarnings("ignore", module=r"optuna_dashboard(\..*)?$")
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    optuna.logging.set_verbosity(logging.ERROR)


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the serve loop."""


@contextmanager
def _stop_on_signals(server: Any) -> Iterator[None]:
    """Ctrl-C and SIGTERM end ``server.serve_forever``, even in the middle of a request.

    The handler raises (``KeyboardInterrupt``, :class:`_Stop`), which leaves an idle serve loop
    at once; but ``wsgiref`` swallows whatever a request raises, so the handler also sets
    ``server.stop_requested``, which the loop checks after that request (``service_actions``).
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        server.stop_requested = True
        raise KeyboardInterrupt if signum == signal.SIGINT else _Stop

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _StderrUnlessStopping:
    """The error stream of a request: ``sys.stderr``, silent once the server is stopping.

    A signal that arrives while a request is answered raises inside it, and ``wsgiref`` prints
    that as a traceback (its ``log_exception``): a stop is not an error, so it says nothing.
    """

    def __init__(self, server: Any) -> None:
        self.server = server

    def write(self, text: str) -> int:
        if getattr(self.server, "stop_requested", False):
            return len(text)
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


#: optuna-dashboard's parameter-importance endpoint
IMPORTANCES_PATH = re.compile(r"^/api/studies/\d+/param_importances$")


def importances_never_fail(app: Any) -> Any:
    """``app`` whose parameter-importance endpoint answers "none yet" instead of HTTP 500.

    On a study that is still running, optuna-dashboard can compute importances from fresher
    trials than the trial list it then looks their distributions up in, and fails with
    ``assert False`` (HTTP 500, a broken panel). The panel then gets an empty list (what it
    shows before there are two finished trials) and the next poll, with the trial list caught
    up, shows the importances.
    """

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        if not IMPORTANCES_PATH.match(environ.get("PATH_INFO", "")):
            return app(environ, start_response)
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.update(status=status, headers=headers)
            return lambda data: None

        try:
            body = b"".join(app(environ, capture))
        except Exception:
            answer["status"] = "500 Internal Server Error"
        if answer.get("status", "500").startswith("500"):
            body = json.dumps({"param_importances": [[]]}).encode()
            answer["headers"] = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
            ]
            answer["status"] = "200 OK"
        start_response(answer["status"], answer["headers"])
        return [body]

    return wrapped


def make_server(
    storage: optuna.storages.BaseStorage, host: str, port: int, *, artifact_store: Any = None
) -> Any:
    """A ``wsgiref`` server of optuna-dashboard's app, bound (not yet serving).

    ``artifact_store`` (an Optuna artifact store) lets the trial pages show the artifacts.

    Raises:
        UsageError: the address cannot be bound (port in use, not allowed, unknown host).
    """
    from wsgiref.simple_server import WSGIRequestHandler
    from wsgiref.simple_server import WSGIServer
    from wsgiref.simple_server import make_server as wsgiref_server

    import optuna_dashboard

    class StoppableServer(WSGIServer):
        stop_requested = False

        def service_actions(self) -> None:  # serve_forever calls it after every request
            if self.stop_requested:
                raise _Stop

        def handle_error(self, request: Any, client_address: Any) -> None:
            # a stop raised while a request was read or its error handled: not an error
            if not self.stop_requested:
                super().handle_error(request, client_address)

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def get_stderr(self) -> Any:
            return _StderrUnlessStopping(self.server)

    app = importances_never_fail(optuna_dashboard.wsgi(storage, artifact_store=artifact_store))
    try:
        return wsgiref_server(
            host, check_port(port), app, server_class=StoppableServer, handler_class=QuietHandler
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(
            f"Cannot serve the dashboard on {host}:{port} ({reason}). Pass another --port "
            "(one that is free, above 1023), or a --host of this machine such as 127.0.0.1."
        ) from None


def serve(
    storage_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    artifact_dir: str | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve optuna-dashboard on ``storage_url`` until Ctrl-C or SIGTERM (then return).

    The trials' pictures are served from ``artifact_dir``, else the folder
    :func:`~lrsearch.dashboard.artifact_dir_for` names when it exists.
    ``on_ready(url)`` is called once the server listens (with the real port when ``port=0``).
    Optuna's warnings (the parameter importances' on small studies) are not printed.

    Raises:
        UsageError: see :func:`open_dashboard_storage` and :func:`make_server`; an
            ``artifact_dir`` that is not a folder.
    """
    check_port(port)
    storage = open_dashboard_storage(storage_url)
    folder = artifact_dir_for(storage_url, artifact_dir)
    if artifact_dir and folder is not None and not folder.is_dir():  # named, not there
        raise UsageError(
            f"--artifact-dir {artifact_dir} is not a folder. Pass the folder that `lrsearch "
            "tune --artifact-dir` wrote the trials' pictures into, or leave it out."
        )
    store = open_artifact_store(folder) if folder is not None and folder.is_dir() else None
    quiet_optuna_warnings()
    server = make_server(storage, host, port, artifact_store=store)
    try:
        real_port = server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        if on_ready is not None:
            on_ready(f"http://{shown}:{real_port}/")
        with _stop_on_signals(server):
            try:
                server.serve_forever(poll_interval=0.5)
            except (KeyboardInterrupt, _Stop):
                pass
    finally:
        server.server_close()
        storage.remove_session()
