"""``lrsearch dashboard`` and :mod:`lrsearch.dashboard`: serving while tuning, LR curves in it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import cli_env
from conftest import lrsearch_binary
from conftest import run_cli

from lrsearch import dashboard
from lrsearch.errors import UsageError
from lrsearch.storage import open_storage

HISTORY = {
    "loss": [1.5, 0.9, 0.6],
    "val_loss": [1.2, 0.8, 0.7],
    "learning_rate": [0.5, 0.25, 0.125],
    "val_accuracy": [0.6, 0.8, None],
}
SPEC = {
    "family": "step",
    "params": {"drop_rate": 0.5, "epochs_drop": 1, "initial_lr": 0.5},
    "optimizer": "sgd",
    "momentum": 0.9,
}


# --------------------------------------------------------------------------- notes


def note_rates(body: str) -> list[float]:
    """The learning_rate column of a trial note's table."""
    rows = [line for line in body.splitlines() if re.match(r"\| \d+ \|", line)]
    return [float(row.split("|")[2]) for row in rows]


def test_trial_note_has_the_curve_and_the_table() -> None:
    body = dashboard.trial_note(SPEC, HISTORY)
    assert "`step` schedule, optimizer `sgd` (momentum 0.9): initial_lr=0.5" in body
    assert "| epoch | learning_rate | loss | val_loss | val_accuracy |" in body
    assert note_rates(body) == [0.5, 0.25, 0.125]
    assert "| 3 | 0.125 | 0.6 | 0.7 | - |" in body
    assert "█" in body and "▁" in body  # the sketch spans the whole range


def test_sparkline_is_log_scaled_and_tolerates_gaps() -> None:
    assert dashboard.sparkline([1.0, 0.1, 0.01]) == "█▅▁"
    assert dashboard.sparkline([0.1, None, 0.1]) == "▅ ▅"
    assert dashboard.sparkline([]) == ""


def _study(tmp_path: Path) -> tuple[str, optuna.Study]:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    study = optuna.create_study(storage=url, study_name="d")
    return url, study


def test_notes_and_graphs_reach_the_storage(tmp_path: Path) -> None:
    from optuna_dashboard import get_note

    _, study = _study(tmp_path)
    trial = study.ask()
    trial.set_user_attr("family", "step")
    trial.set_user_attr("spec", SPEC)
    trial.set_user_attr("history", HISTORY)
    dashboard.write_trial_note(trial, SPEC, HISTORY)
    study.tell(trial, 0.7)
    assert note_rates(get_note(trial)) == [0.5, 0.25, 0.125]
    from optuna_dashboard import save_note

    save_note(study, "My own notes.\n\n## lrsearch summary\n\nold")
    dashboard.refresh_study_views(study)
    text = get_note(study)
    assert text.startswith("My own notes.") and "old" not in text
    assert "| step | 0.7 | #0 |" in text
    attrs = study._storage.get_study_system_attrs(study._study_id)
    keys = [k for k in attrs if dashboard.LR_GRAPH_ID in k]
    assert keys
    figure = dashboard.curves_figure(study, "learning_rate")
    assert figure is not None and figure["data"][0]["y"] == [0.5, 0.25, 0.125]
    assert figure["layout"]["yaxis"].get("type") is None  # 4x: linear is fine


def test_study_graphs_use_a_log_axis_where_values_span_decades(tmp_path: Path) -> None:
    _, study = _study(tmp_path)
    for family, rates, losses in (
        ("step", [0.5, 0.05, 0.005], [2.0, 0.3, 0.08]),  # decades of rate, 25x of loss
        ("constant", [0.1, 0.1, 0.1], [1.0, 0.9, 0.85]),
    ):
        trial = study.ask()
        spec = {**SPEC, "family": family}
        trial.set_user_attr("family", family)
        trial.set_user_attr("spec", spec)
        trial.set_user_attr("history", {"learning_rate": rates, "val_loss": losses})
        study.tell(trial, losses[-1])
    for metric in ("learning_rate", "val_loss"):
        figure = dashboard.curves_figure(study, metric)
        assert figure is not None and len(figure["data"]) == 2
        assert figure["layout"]["yaxis"]["type"] == "log", metric
        assert "(log scale)" in figure["layout"]["yaxis"]["title"]["text"]


def test_dashboard_storage_never_creates_a_database(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no study database"):
        dashboard.open_dashboard_storage(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="Cannot open"):
        dashboard.open_dashboard_storage(f"sqlite:///{tmp_path / 'junk.db'}")


# --------------------------------------------------------------------------- CLI


def test_cli_missing_database_exits_2(tmp_path: Path) -> None:
    proc = run_cli(["dashboard", "--port", "0"], cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "no study database" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr and not (tmp_path / "studies").exists()


@pytest.mark.parametrize("port", ["-1", "70000", "eighty"])
def test_cli_bad_port_exits_2(tmp_path: Path, port: str) -> None:
    url, _ = _study(tmp_path)
    proc = run_cli(["dashboard", "--storage", url, "--port", port], cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "--port" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_port_in_use_exits_2(tmp_path: Path) -> None:
    url, _ = _study(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_cli(
            ["dashboard", "--storage", url, "--port", str(port)], cwd=tmp_path, timeout=120
        )
    assert proc.returncode == 2 and "Cannot serve the dashboard" in proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- serving


class Dashboard:
    """``lrsearch dashboard --port 0`` in the background; ``get(path)`` its JSON API."""

    def __init__(self, storage: str, cwd: Path) -> None:
        self.out = cwd / "dashboard.out"
        self.err = cwd / "dashboard.err"
        self.proc = subprocess.Popen(
            [lrsearch_binary(), "dashboard", "--storage", storage, "--port", "0"],
            cwd=cwd,
            stdout=self.out.open("w"),
            stderr=self.err.open("w"),
            env=cli_env(),
        )
        self.url = self._wait_url()

    def _wait_url(self, timeout: float = 120) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            match = re.search(r"http://\S+/", self.out.read_text())
            if match:
                return match.group(0)
            if self.proc.poll() is not None:
                pytest.fail(f"dashboard exited {self.proc.returncode}: {self.err.read_text()}")
            time.sleep(0.2)
        pytest.fail("the dashboard did not start")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return code, self.err.read_text()


@pytest.mark.slow
def test_ctrl_c_stops_the_dashboard_cleanly(tmp_path: Path) -> None:
    url, _ = _study(tmp_path)
    server = Dashboard(url, tmp_path)
    try:
        assert [s["study_name"] for s in server.get("/api/studies")["study_summaries"]] == ["d"]
    finally:
        code, err = server.stop(signal.SIGINT)
    assert code == 0 and "Traceback" not in err and "stopped" in err


@pytest.mark.slow
def test_dashboard_serves_while_tune_runs(tmp_path: Path) -> None:
    """The dashboard answers during a running tune on the same SQLite file; tune is unharmed."""
    storage = f"sqlite:///{tmp_path / 'studies' / 'live.db'}"
    # the database exists before the dashboard starts (it never creates one)
    optuna.create_study(storage=open_storage(storage, create=True), study_name="live")
    server = Dashboard(storage, tmp_path)
    trials = 6
    tune = subprocess.Popen(
        [
            lrsearch_binary(),
            "tune",
            "--trials",
            str(trials),
            "--epochs",
            "3",
            "--storage",
            storage,
            "--study-name",
            "live",
            "--progress",
            "off",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    answers_while_running = 0
    trials_seen_while_running = 0
    try:
        while tune.poll() is None:
            studies = server.get("/api/studies")["study_summaries"]
            assert [s["study_name"] for s in studies] == ["live"]
            detail = server.get(f"/api/studies/{studies[0]['study_id']}")
            if tune.poll() is None:
                answers_while_running += 1
                trials_seen_while_running = max(trials_seen_while_running, len(detail["trials"]))
            time.sleep(0.3)
        out, err = tune.communicate(timeout=600)
        assert tune.returncode == 0, err
        assert answers_while_running >= 3
        assert trials_seen_while_running >= 1  # read trials as they were being written

        study = optuna.load_study(study_name="live", storage=storage)
        states = [t.state for t in study.trials]
        assert len(states) == trials
        assert optuna.trial.TrialState.FAIL not in states
        assert optuna.trial.TrialState.RUNNING not in states

        # optuna-dashboard caches a study's trials for 2 s: the last answer read while tune
        # ran may still show its last trial running, before its picture was registered
        deadline = time.monotonic() + 30
        while True:
            detail = server.get(f"/api/studies/{studies[0]['study_id']}")
            if all(t["state"] != "Running" for t in detail["trials"]):
                break
            assert time.monotonic() < deadline, [t["state"] for t in detail["trials"]]
            time.sleep(0.5)
        assert detail["objective_names"] == ["val_loss"]
        by_number = {t["number"]: t for t in detail["trials"]}
        assert len(by_number) == trials
        for trial in study.trials:  # each trial's picture, no per-trial note
            (artifact,) = by_number[trial.number]["artifacts"]
            assert artifact["filename"] == "lr_and_loss.svg", artifact
            assert by_number[trial.number]["note"]["body"] == ""
        graphs = {g["id"]: json.loads(g["graph_object"]) for g in detail["plotly_graph_objects"]}
        lr_graph = graphs[dashboard.LR_GRAPH_ID]
        best = study.best_trial
        assert best.user_attrs["history"]["learning_rate"] in [d["y"] for d in lr_graph["data"]]
        assert "lrsearch summary" in detail["note"]["body"]
    finally:
        if tune.poll() is None:
            tune.send_signal(signal.SIGINT)
            tune.wait(timeout=120)
        code, err = server.stop()
    assert code == 0, err
    assert "Traceback" not in err
    assert os.path.exists(tmp_path / "studies" / "live.db")


def test_importances_endpoint_never_answers_500(tmp_path: Path) -> None:
    """optuna-dashboard's importance endpoint failing (its ``assert False`` on a live study)
    becomes "no importances yet"; every other path and a working endpoint pass through."""
    from wsgiref.util import setup_testing_defaults

    import optuna_dashboard

    from lrsearch.dashboard import importances_never_fail
    from lrsearch.dashboard import open_dashboard_storage

    def call(app: Any, path: str) -> tuple[str, Any]:
        environ: dict[str, Any] = {}
        setup_testing_defaults(environ)
        environ["PATH_INFO"] = path
        got: dict[str, str] = {}

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            got["status"] = status
            return lambda data: None

        body = b"".join(app(environ, start_response))
        return got["status"], json.loads(body) if body.startswith(b"{") else body

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].endswith("/param_importances"):
            raise AssertionError("Must not reach here.")
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"other failure"]

    guarded = importances_never_fail(broken)
    assert call(guarded, "/api/studies/3/param_importances") == (
        "200 OK",
        {"param_importances": [[]]},
    )
    assert call(guarded, "/api/studies/3")[0].startswith("500")  # only that endpoint

    url, study = _study(tmp_path)
    study.optimize(
        lambda t: (
            t.suggest_float("initial_lr", 1e-3, 1, log=True)
            + len(t.suggest_categorical("family", ["step", "cosine"]))
        ),
        n_trials=4,
    )
    real = importances_never_fail(optuna_dashboard.wsgi(open_dashboard_storage(url)))
    status, body = call(real, f"/api/studies/{study._study_id}/param_importances")
    assert status == "200 OK" and {p["name"] for p in body["param_importances"][0]} >= {"family"}


@pytest.mark.parametrize("stopping", [True, False])
def test_a_stop_in_the_middle_of_a_request_prints_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stopping: bool
) -> None:
    """A signal landing while a page is being answered raises inside the request (as the
    dashboard's SIGTERM handler does): that stop prints nothing, while a real error in a
    request still reaches stderr."""
    import threading

    from lrsearch.dashboard._server import _Stop
    from lrsearch.dashboard._server import make_server

    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", create=True)
    server = make_server(storage, "127.0.0.1", 0)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        if stopping:
            server.stop_requested = True  # what the signal handler does before raising
            raise _Stop
        raise RuntimeError("a broken page")

    server.set_app(app)
    serving = threading.Thread(target=server.handle_request)
    serving.start()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/", timeout=30).read()
    except (urllib.error.URLError, ConnectionError):
        pass  # the answer was cut short
    serving.join(timeout=30)
    server.server_close()
    err = capsys.readouterr().err
    if stopping:
        assert "Traceback" not in err, err
    else:
        assert "RuntimeError: a broken page" in err, err


def test_a_stop_while_a_request_is_read_prints_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stop raised outside the app (reading the request line, handling an error) reaches
    the server's own error handler: silent when stopping, socketserver's report otherwise."""
    from lrsearch.dashboard._server import _Stop
    from lrsearch.dashboard._server import make_server

    server = make_server(
        open_storage(f"sqlite:///{tmp_path / 's.db'}", create=True), "127.0.0.1", 0
    )
    try:
        for stopping in (True, False):
            server.stop_requested = stopping
            try:
                raise _Stop
            except _Stop:
                server.handle_error(None, ("127.0.0.1", 1))
            err = capsys.readouterr().err
            assert ("Traceback" in err) is not stopping, (stopping, err)
    finally:
        server.server_close()
