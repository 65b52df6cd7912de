"""The Optuna dashboard on a study database, with each trial's learning-rate curve in it.

Two halves:

* **Writing** (called by ``lrsearch tune``, cheap, never fatal): after each trial,
  :func:`write_trial_note` saves a trial note (optuna-dashboard's ``save_note``) with the
  schedule, a one-line sketch of the learning-rate curve and a Markdown table of epoch,
  learning rate, loss, val_loss and val_accuracy (val_mae for regression). At the end of
  each tune run,
  :func:`refresh_study_views` saves the study note (the per-family summary, kept below any
  text of your own) and two graphs (``save_plotly_graph_object``): the learning-rate curves
  and the validation loss of each family's best trial.
* **Serving**: :func:`serve` runs optuna-dashboard's WSGI app on ``host:port`` with the
  standard library's server, on a storage opened without creating anything
  (:func:`open_dashboard_storage`). SQLite studies are in WAL mode, so the dashboard reads
  while ``lrsearch tune`` writes, and neither waits for the other.

In the dashboard: a trial's page shows its note (the curve and the table); the study's page
shows the summary note and the graphs. Over HTTP, ``GET /api/studies/<study_id>`` returns
them: ``trials[i].note.body`` and ``plotly_graph_objects``.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import UsageError

if TYPE_CHECKING:
    import optuna

#: graph ids of :func:`refresh_study_views` (stable: each refresh replaces the last)
LR_GRAPH_ID = "lrsearch-learning-rate-curves"
LOSS_GRAPH_ID = "lrsearch-val-loss"
#: the study note's own section starts at this heading; text above it is the user's
SUMMARY_HEADING = "## lrsearch summary"
_SPARK = "▁▂▃▄▅▆▇█"
_warned = False


# --------------------------------------------------------------------------- notes


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def _fmt(x: Any, digits: int = 4) -> str:
    v = _num(x)
    return "-" if v is None else f"{v:.{digits}g}"


def sparkline(values: Sequence[float | None]) -> str:
    """``▇▇▆▄▂▁``: the shape of a positive series on a log scale (blank where missing)."""
    logs = [math.log(v) if v is not None and v > 0 else None for v in values]
    finite = [v for v in logs if v is not None]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for v in logs:
        if v is None:
            out.append(" ")
        elif span <= 1e-12:
            out.append(_SPARK[len(_SPARK) // 2])
        else:
            out.append(_SPARK[round((v - low) / span * (len(_SPARK) - 1))])
    return "".join(out)


def trial_note(spec: Mapping[str, Any], history: Mapping[str, Sequence[float | None]]) -> str:
    """The Markdown of a trial's note: schedule, learning-rate sketch, per-epoch table.

    ``spec`` is :meth:`ScheduleSpec.to_dict`; ``history`` the trial's ``history`` attribute.
    The learning rates are written with 6 significant digits.
    """
    family = spec.get("family", "?")
    optimizer = spec.get("optimizer", "sgd")
    raw = dict(spec.get("params") or {})
    params = {"initial_lr": raw.pop("initial_lr")} if "initial_lr" in raw else {}
    params.update(raw)
    head = f"`{family}` schedule, optimizer `{optimizer}`"
    if optimizer in ("sgd", "nesterov"):
        head += f" (momentum {_fmt(spec.get('momentum', 0.0), 3)})"
    shown = ", ".join(f"{k}={_fmt(v) if _num(v) is not None else v}" for k, v in params.items())
    lrs = [_num(v) for v in history.get("learning_rate", [])]
    lines = ["### Learning rate per epoch", "", head + (f": {shown}" if shown else "")]
    finite = [v for v in lrs if v is not None]
    if finite:
        lines += [
            "",
            f"Learning-rate curve (log scale): `{sparkline(lrs)}` from {finite[0]:.4g} to "
            f"{finite[-1]:.4g} (min {min(finite):.4g}, max {max(finite):.4g}).",
        ]
    columns = [
        k for k in ("learning_rate", "loss", "val_loss", "val_accuracy", "val_mae") if k in history
    ]
    n = max((len(history[k]) for k in columns), default=0)
    if n:
        lines += [
            "",
            "| epoch | " + " | ".join(columns) + " |",
            "| ---: | " + " | ".join("---:" for _ in columns) + " |",
        ]
        for i in range(n):
            cells = []
            for k in columns:
                series = history[k]
                v = series[i] if i < len(series) else None
                cells.append(_fmt(v, 6 if k == "learning_rate" else 4))
            lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    else:
        lines += ["", "No epoch finished."]
    return "\n".join(lines) + "\n"


def _warn_once(what: str, exc: BaseException) -> None:
    global _warned
    if not _warned:
        _warned = True
        print(
            f"lrsearch: warning: could not write the dashboard {what} ({type(exc).__name__}: "
            f"{exc}); tuning goes on.",
            file=sys.stderr,
        )


def write_trial_note(
    trial: optuna.trial.Trial,
    spec: Mapping[str, Any],
    history: Mapping[str, Sequence[float | None]],
) -> None:
    """Save :func:`trial_note` as the trial's dashboard note. Never raises (warns once)."""
    try:
        from optuna_dashboard import save_note

        save_note(trial, trial_note(spec, history))
    except Exception as exc:  # the note is a nicety: never fail a trial over it
        _warn_once("trial note", exc)


# --------------------------------------------------------------------------- study views


class _PlotlyJSON:
    """A plotly figure as plain JSON (``save_plotly_graph_object`` only calls ``to_json``)."""

    def __init__(self, figure: dict[str, Any]) -> None:
        self.figure = figure

    def to_json(self) -> str:
        return json.dumps(self.figure, allow_nan=False)


def curves_figure(study: optuna.Study, metric: str) -> dict[str, Any] | None:
    """A plotly figure (as a dict) of ``metric`` per epoch of each family's best trial."""
    from lrsearch.report import best_curves
    from lrsearch.report import family_color
    from lrsearch.report._plots import wants_log

    curves = best_curves(study, metric)
    if not curves:
        return None
    dash = {"sgd": "solid", "nesterov": "dashdot", "adam": "dash", "rmsprop": "dot"}
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": c.label,
            "x": c.epochs,
            "y": [v if math.isfinite(v) else None for v in c.mean],
            "line": {"color": family_color(c.family), "dash": dash.get(c.optimizer, "solid")},
        }
        for c in curves
    ]
    values = [v for c in curves for v in c.mean]
    title = {
        "learning_rate": "Learning-rate curves of each family's best trial",
        "val_loss": "Validation loss of each family's best trial",
    }.get(metric, metric)
    ytitle = {"learning_rate": "learning rate", "val_loss": "val_loss"}.get(metric, metric)
    yaxis: dict[str, Any] = {"title": {"text": ytitle}}
    xaxis: dict[str, Any] = {"title": {"text": "epoch"}}
    if len(curves[0].epochs) <= 20:
        xaxis["dtick"] = 1
    if metric == "learning_rate" and wants_log(values):
        yaxis["type"] = "log"
    return {
        "data": data,
        "layout": {
            "title": {"text": title},
            "xaxis": xaxis,
            "yaxis": yaxis,
            "legend": {"orientation": "v"},
        },
    }


def study_note(study: optuna.Study, previous: str = "") -> str:
    """The study note: ``previous`` text above :data:`SUMMARY_HEADING` kept, then the summary."""
    from lrsearch.report import family_summaries
    from lrsearch.report import summary_markdown

    own = previous.split(SUMMARY_HEADING, 1)[0].rstrip()
    rows = family_summaries(study)
    lines = [own, ""] if own else []
    lines += [SUMMARY_HEADING, ""]
    try:
        best = study.best_trial
    except ValueError:
        lines += ["No trial has finished yet.", ""]
    else:
        lines += [
            f"Best: trial #{best.number} ({best.user_attrs.get('family', '?')}), val_loss "
            f"{best.value:.4g}. Each trial's learning-rate curve is in its own note.",
            "",
        ]
    lines += [summary_markdown(rows).rstrip(), ""]
    lines += [
        "*Written by `lrsearch tune` after each run; text above the “lrsearch summary” "
        "heading is yours and is kept.*"
    ]
    return "\n".join(lines) + "\n"


def refresh_study_views(study: optuna.Study) -> None:
    """Save the study note and the two graphs of the study. Never raises (warns once)."""
    try:
        from optuna_dashboard import get_note
        from optuna_dashboard import save_note
        from optuna_dashboard import save_plotly_graph_object

        save_note(study, study_note(study, get_note(study)))
        for metric, graph_id in (("learning_rate", LR_GRAPH_ID), ("val_loss", LOSS_GRAPH_ID)):
            figure = curves_figure(study, metric)
            if figure is not None:
                graph: Any = _PlotlyJSON(figure)
                save_plotly_graph_object(study, graph, graph_object_id=graph_id)
    except Exception as exc:
        _warn_once("study summary", exc)


# --------------------------------------------------------------------------- serving


def open_dashboard_storage(url: str) -> optuna.storages.RDBStorage:
    """Open ``url`` for the dashboard: no file, table or study is ever created.

    SQLite connections wait for locks as ``lrsearch tune`` does (WAL mode lets readers and
    the writer work at once).

    Raises:
        UsageError: a bad URL, no database file there, or not an Optuna database.
    """
    import optuna

    from lrsearch.storage import SQLITE_TIMEOUT_S
    from lrsearch.storage import normalize_url
    from lrsearch.storage import shown_url
    from lrsearch.storage import sqlite_path

    url = normalize_url(url)
    path = sqlite_path(url)
    engine_kwargs: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise UsageError(
                f"There is no study database at {path} (storage {shown_url(url)}). Run "
                "`lrsearch tune` "
                "first, or pass the --storage of an existing study."
            )
        engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    try:
        storage = optuna.storages.RDBStorage(
            url, engine_kwargs=engine_kwargs, skip_table_creation=True
        )
        storage.get_all_studies()
    except Exception as exc:
        first = (str(exc).splitlines() or [""])[0][:300]
        raise UsageError(
            f"Cannot read the study storage {shown_url(url)} ({type(exc).__name__}: {first}). "
            "Check that "
            "it is an Optuna study database (made by `lrsearch tune`) and that its server runs."
        ) from None
    return storage


def check_port(port: Any) -> int:
    """``port`` as an int in 0..65535 (0: any free port), else :class:`UsageError`."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise UsageError(
            f"--port must be a whole number from 1 to 65535 (or 0 for any free port); "
            f"received {port!r}. Example: --port 8080."
        )
    return port


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the serve loop."""


@contextmanager
def _terminate_as_stop() -> Iterator[None]:
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def make_server(storage: optuna.storages.BaseStorage, host: str, port: int) -> Any:
    """A ``wsgiref`` server of optuna-dashboard's app, bound (not yet serving).

    Raises:
        UsageError: the address cannot be bound (port in use, not allowed, unknown host).
    """
    from wsgiref.simple_server import WSGIRequestHandler
    from wsgiref.simple_server import make_server as wsgiref_server

    import optuna_dashboard

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    app = optuna_dashboard.wsgi(storage)
    try:
        return wsgiref_server(host, check_port(port), app, handler_class=QuietHandler)
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
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve optuna-dashboard on ``storage_url`` until Ctrl-C or SIGTERM (then return).

    ``on_ready(url)`` is called once the server listens (with the real port when ``port=0``).

    Raises:
        UsageError: see :func:`open_dashboard_storage` and :func:`make_server`.
    """
    check_port(port)
    storage = open_dashboard_storage(storage_url)
    server = make_server(storage, host, port)
    try:
        real_port = server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        if on_ready is not None:
            on_ready(f"http://{shown}:{real_port}/")
        with _terminate_as_stop():
            try:
                server.serve_forever(poll_interval=0.5)
            except (KeyboardInterrupt, _Stop):
                pass
    finally:
        server.server_close()
        storage.remove_session()
