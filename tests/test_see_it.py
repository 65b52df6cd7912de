"""Seeing it: progress inside a trial, each trial's picture in the dashboard (over HTTP and in
headless Chromium)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import cli_env
from conftest import run_cli
from test_dashboard import Dashboard

from lrsearch.dashboard import IMAGE_NAME
from lrsearch.dashboard import TrialViews
from lrsearch.dashboard import artifact_dir_for
from lrsearch.dashboard import trial_note
from lrsearch.report import trial_info
from lrsearch.report import trial_png
from lrsearch.report import trial_svg
from lrsearch.storage import open_storage

PNG = b"\x89PNG\r\n\x1a\n"
HISTORY = {
    "learning_rate": [0.1, 0.05, 0.025],
    "loss": [2.0, 1.0, 0.6],
    "val_loss": [2.1, 0.9, 1.2],
}


def _png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return img.size


def test_trial_info_marks_the_best_epoch_and_where_it_stopped() -> None:
    info = trial_info(HISTORY, pruned_reason="pruned at epoch 2: val_loss 1.2 worse")
    assert info.epochs == [1, 2, 3] and info.best_epoch == 2
    assert info.stopped == "pruned" and info.stopped_epoch == 3
    diverged = trial_info({"loss": [1.0, None]}, pruned_reason="diverged: loss became NaN")
    assert diverged.stopped == "diverged" and diverged.best_epoch is None
    assert trial_info(HISTORY).stopped is None
    assert _png_size(trial_png(info)) == (576, 230)


def _svg(data: bytes) -> Any:
    """The parsed SVG picture (it must be well-formed XML)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def test_trial_svg_draws_both_panels_the_best_epoch_and_the_stop() -> None:
    ns = "{http://www.w3.org/2000/svg}"
    info = trial_info(HISTORY, title="trial #3: step (sgd)", pruned_reason="pruned at epoch 3")
    root = _svg(trial_svg(info))
    assert (root.get("width"), root.get("height")) == ("800", "320")
    texts = [t.text or "" for t in root.iter(f"{ns}text")]
    assert "trial #3: step (sgd) (pruned after epoch 3)" in texts
    assert {"learning rate", "training vs validation loss", "loss", "val_loss", "best"} <= set(
        texts
    )
    assert "\u2605" in texts  # the star at the best epoch
    lines = [p for p in root.iter(f"{ns}polyline")]
    assert [p.get("stroke") for p in lines] == ["#1f77b4", "#7f7f7f", "#d62728"]
    assert all(len((p.get("points") or "").split()) == 3 for p in lines)
    red = [ln for ln in root.iter(f"{ns}line") if ln.get("stroke") == "#d62728"]
    stops = [ln for ln in red if ln.get("x1") == ln.get("x2") and ln.get("y1") != ln.get("y2")]
    assert len(stops) == 2  # the stopped epoch, a vertical line in both panels
    # rates over decades on a log axis; NaN breaks a line instead of drawing through it
    wide = trial_info({"learning_rate": [1.0, 0.1, 0.001], "loss": [1.0, None, 0.5]})
    root = _svg(trial_svg(wide))
    texts = [t.text or "" for t in root.iter(f"{ns}text")]
    assert "learning rate (log scale)" in texts
    assert len(list(root.iter(f"{ns}polyline"))) == 1  # the loss has no two points in a row


def test_trial_svg_costs_no_matplotlib() -> None:
    code = (
        "import sys; from lrsearch.report._svg import trial_svg; "
        "from lrsearch.report._trial import trial_info; "
        "trial_svg(trial_info({'loss': [1.0, 0.5]})); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_artifact_dir_beside_sqlite_env_or_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LRSEARCH_ARTIFACT_DIR", raising=False)
    db = tmp_path / "studies" / "x.db"
    assert artifact_dir_for(f"sqlite:///{db}") == tmp_path / "studies" / "x-artifacts"
    assert artifact_dir_for("postgresql://u:p@h/db") is None
    assert artifact_dir_for("postgresql://u:p@h/db", tmp_path / "a") == tmp_path / "a"
    monkeypatch.setenv("LRSEARCH_ARTIFACT_DIR", str(tmp_path / "env"))
    assert artifact_dir_for(f"sqlite:///{db}") == tmp_path / "env"


def test_trial_views_store_the_picture_as_an_optuna_artifact(tmp_path: Path) -> None:
    from optuna.artifacts import download_artifact
    from optuna.artifacts import get_all_artifact_meta

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    with TrialViews(tmp_path / "art") as views:
        views(trial, {"family": "step", "params": {"initial_lr": 0.1}}, HISTORY)
    study.tell(trial, 0.9)
    (meta,) = get_all_artifact_meta(study.trials[0], storage=storage)
    assert meta.filename == IMAGE_NAME and meta.mimetype == "image/svg+xml"
    out = tmp_path / "got.svg"
    download_artifact(
        artifact_store=optuna.artifacts.FileSystemArtifactStore(tmp_path / "art"),
        file_path=str(out),
        artifact_id=meta.artifact_id,
    )
    _svg(out.read_bytes())
    # a trial with a picture gets no note: the study's system attributes hold no per-trial key
    # (optuna-dashboard scans them all for each trial's note: quadratic in the trials)
    attrs = storage.get_study_system_attrs(study._study_id)
    assert not [k for k in attrs if k.startswith(f"dashboard:{trial._trial_id}:")], attrs


def test_trial_views_without_pictures_write_the_note_once(tmp_path: Path) -> None:
    """No artifact folder: each trial gets its note (version 1, as optuna-dashboard reads it),
    written without reading the study's other notes."""
    from optuna_dashboard import get_note

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, study_name="s")
    long_history = {k: v * 40 for k, v in HISTORY.items()}  # a note over one 2045-char chunk
    with TrialViews(None) as views:
        for history in (HISTORY, long_history):
            trial = study.ask()
            views(trial, {"family": "step", "params": {"initial_lr": 0.1}}, history)
            assert get_note(trial) == trial_note(
                {"family": "step", "params": {"initial_lr": 0.1}}, history
            )
            study.tell(trial, 0.9)
    attrs = storage.get_study_system_attrs(study._study_id)
    assert attrs["dashboard:2:note_ver"] == 1
    assert len([k for k in attrs if k.startswith("dashboard:2:note_str:")]) > 1
    reads = []
    real = storage.get_study_system_attrs
    storage.get_study_system_attrs = lambda sid: reads.append(sid) or real(sid)  # type: ignore[method-assign]
    with TrialViews(None) as views:
        trial = study.ask()
        views(trial, {"family": "step", "params": {"initial_lr": 0.1}}, HISTORY)
    assert reads == []  # O(1) in the study's size


# --------------------------------------------------------------------------- a real study


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``lrsearch tune`` (4 trials of 3 epochs, ``--progress on``) in a fresh folder."""
    work = tmp_path_factory.mktemp("seeit")
    proc = run_cli(
        [
            "tune",
            "--trials",
            "4",
            "--epochs",
            "3",
            "--families",
            "step,exponential",
            "--progress",
            "on",
        ],
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr
    return {"work": work, "proc": proc, "storage": f"sqlite:///{work / 'studies/lrsearch.db'}"}


@pytest.mark.slow
def test_tune_progress_on_shows_each_epoch(tuned: dict[str, Any]) -> None:
    err = tuned["proc"].stderr
    assert "epoch 2/3" in err, err
    assert re.search(r"trial #0 \w+\s+epoch 3/3\s+loss [\d.]+\s+val_loss [\d.]+\s+lr ", err), err
    assert (tuned["work"] / "studies" / "lrsearch-artifacts").is_dir()


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.headers["Content-Type"], resp.read()


@pytest.mark.slow
def test_dashboard_serves_every_trials_picture(tuned: dict[str, Any]) -> None:
    server = Dashboard(tuned["storage"], tuned["work"])
    try:
        (summary,) = server.get("/api/studies")["study_summaries"]
        study_id = summary["study_id"]
        trials = server.get(f"/api/studies/{study_id}")["trials"]
        assert len(trials) == 4
        for trial in trials:
            (artifact,) = trial["artifacts"]
            assert artifact["filename"] == IMAGE_NAME
            kind, body = _get(
                f"{server.url}artifacts/{study_id}/{trial['trial_id']}/{artifact['artifact_id']}"
            )
            assert kind == "image/svg+xml"
            assert _svg(body).get("width") == "800"
        # the importance view computes importances: Optuna's warnings stay out of the terminal
        server.get(f"/api/studies/{study_id}/param_importances")
    finally:
        code, err = server.stop()
    assert code == 0
    assert "Warning" not in err and "warn" not in err.lower(), err


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(
    _chromium() is None,
    reason="Debian's `chromium` package is not installed (apt-get install chromium; .ci/run "
    "installs it)",
)
def test_trial_page_in_headless_chromium_shows_the_picture(
    tuned: dict[str, Any], tmp_path: Path
) -> None:
    browser = _chromium()
    assert browser is not None
    server = Dashboard(tuned["storage"], tuned["work"])
    try:
        (summary,) = server.get("/api/studies")["study_summaries"]
        page = f"{server.url}dashboard/studies/{summary['study_id']}/trials?numbers=1"
        flags = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,1600",
            "--virtual-time-budget=20000",
        ]
        shot = tmp_path / "trial.png"
        dom = subprocess.run(
            [*flags, "--dump-dom", page], capture_output=True, text=True, timeout=180
        ).stdout
        subprocess.run([*flags, f"--screenshot={shot}", page], capture_output=True, timeout=180)
        images = re.findall(r"<img [^>]*>", dom)
        ours = [i for i in images if f'alt="{IMAGE_NAME}"' in i]
        assert ours, f"no <img alt={IMAGE_NAME}> on the trial page; images: {images}"
        src = re.search(r'src="([^"]+)"', ours[0])
        assert src is not None and src.group(1).startswith("/artifacts/")
        kind, body = _get(server.url + src.group(1).lstrip("/"))  # what the browser loaded
        assert kind == "image/svg+xml"
        _svg(body)
        assert shot.read_bytes().startswith(PNG) and _png_size(shot.read_bytes()) == (1400, 1600)
    finally:
        server.stop()


def test_dashboard_missing_artifact_dir_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    optuna.create_study(storage=open_storage(url, create=True), study_name="d")
    proc = run_cli(
        ["dashboard", "--storage", url, "--artifact-dir", str(tmp_path / "nope")], cwd=tmp_path
    )
    assert proc.returncode == 2 and "--artifact-dir" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- the small fixes


def test_a_band_on_a_log_axis_never_crosses_below_it() -> None:
    from lrsearch.report import Curve
    from lrsearch.report import plot_curves

    # plateau over seeds: the rate drops at different epochs, std larger than the mean
    mean = [0.1, 0.1, 0.01, 0.002]
    plateau = Curve("plateau", "plateau", "sgd", [1, 2, 3, 4], mean, [0.0, 0.05, 0.04, 0.01], 3)
    ax = plot_curves([plateau], metric="learning_rate")
    assert ax.get_yscale() == "log"
    low, _ = ax.get_ylim()
    assert low > 1e-4  # the band mirrored in log space: its floor near the smallest mean
    (band,) = ax.collections
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() > 0


@pytest.mark.parametrize(
    ("flag", "wrong", "meant"),
    [
        ("--families", "stepp", "step"),
        ("--optimizers", "adm", "adam"),
        ("--pruner", "medain", "median"),
        ("--model", "mpl", "mlp"),
    ],
)
def test_unknown_names_get_did_you_mean(workdir: Path, flag: str, wrong: str, meant: str) -> None:
    proc = run_cli(["tune", "--trials", "1", "--epochs", "1", flag, wrong], cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    assert f"Did you mean '{meant}'?" in proc.stderr and "Traceback" not in proc.stderr
    assert not (workdir / "studies").exists()


@pytest.mark.slow
def test_compare_prints_no_tensorflow_chatter(workdir: Path) -> None:
    env = cli_env()
    env.pop("TF_CPP_MIN_LOG_LEVEL")  # as a user's shell: unset
    proc = run_cli(
        ["compare", "--families", "step,plateau", "--epochs", "1", "--seeds", "1"]
        + ["--out", "cmp", "--progress", "on"],
        cwd=workdir,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    for chatter in ("oneDNN", "absl::InitializeLog", "cuda", "I0000", "W0000", "E0000"):
        assert chatter not in proc.stderr, proc.stderr
    wrote = [line for line in proc.stderr.splitlines() if line.startswith("wrote ")]
    assert len(wrote) == len(set(wrote)) == 5  # one line per file
    assert "(1 run)" in proc.stdout and "± 0.0000" not in proc.stdout


def test_kerastuner_trials_get_the_picture_too(tmp_path: Path) -> None:
    from optuna.artifacts import get_all_artifact_meta
    from test_kerastuner import _search
    from test_kerastuner import build_model
    from test_kerastuner import digits

    from lrsearch.kerastuner import OptunaSearch

    tuner = OptunaSearch(
        build_model,
        objective="val_loss",
        max_trials=2,
        seed=0,
        directory=tmp_path,
        project_name="kt",
    )
    _search(tuner, digits.__wrapped__())  # type: ignore[attr-defined]
    folder = tmp_path / "kt" / "optuna_study-artifacts"
    import lrsearch.dashboard._images as images

    for views in images._VIEWS.values():
        views.close()
    study = tuner.study
    for trial in study.get_trials():
        (meta,) = get_all_artifact_meta(trial, storage=study._storage)
        assert meta.filename == IMAGE_NAME
        _svg((folder / meta.artifact_id).read_bytes())


def test_progress_is_one_live_line_on_a_terminal() -> None:
    import fcntl
    import os
    import struct
    import termios
    from types import SimpleNamespace

    from lrsearch.runner.progress import TrialProgress

    master, slave = os.openpty()  # a real terminal, 120 columns
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with os.fdopen(slave, "w") as stream:
        progress = TrialProgress(1, stream=stream, epochs=3)
        assert progress.enabled  # auto: stderr is a terminal
        progress.trial_started(SimpleNamespace(number=7), SimpleNamespace(family="step"))
        for epoch in range(3):
            progress.epoch_ended(epoch, {"loss": 1.0, "val_loss": 0.9, "learning_rate": 0.1})
        progress._close_bar()
        stream.flush()
        out = os.read(master, 65536).decode(errors="replace")
    os.close(master)
    assert "trial #7 step  epoch 2/3" in out and "val_loss 0.9" in out
    assert "\r" in out and "\n" not in out.replace("\r\n", "")  # redrawn in place
