"""examples/kerastuner_plugin.py runs, resumes, and its study is one ``lrsearch best`` reads."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest
from conftest import run_cli

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kerastuner_plugin.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_example_kerastuner_plugin", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_kerastuner_plugin_example_runs_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = _load()
    directory = str(tmp_path / "kt")
    assert example.main(["--trials", "2", "--epochs", "2", "--directory", directory]) == 0
    assert "trials: 2 (" in capsys.readouterr().out
    assert example.main(["--trials", "3", "--epochs", "2", "--directory", directory]) == 0
    out = capsys.readouterr().out
    assert "trials: 3 (" in out
    hps = json.loads(re.search(r"^best hyperparameters: (.*)$", out, re.M).group(1))  # type: ignore[union-attr]
    assert {"units", "activation", "dropout", "family", "initial_lr"} <= set(hps)
    storage = f"sqlite:///{tmp_path / 'kt' / 'digits' / 'optuna_study.db'}"
    done = run_cli(
        ["best", "--storage", storage, "--study-name", "digits", "--format", "json"], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    best = json.loads(done.stdout)
    assert best["family"] == hps["family"]
    # the value is the search's objective, and lrsearch did not prepare this data
    assert best["objective"] == "val_accuracy" and best["data"] is None
    table = run_cli(["best", "--storage", storage, "--study-name", "digits"], cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "val_accuracy " in table.stdout and "\nval_loss " not in table.stdout

    # `lrsearch report` and `lrsearch dashboard` read it too
    out = tmp_path / "report"
    report = run_cli(
        ["report", "--storage", storage, "--study-name", "digits", "--out", str(out)], cwd=tmp_path
    )
    assert report.returncode == 0, report.stderr
    assert (out / "lr_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert hps["family"] in (out / "summary.md").read_text()

    from test_dashboard import Dashboard

    server = Dashboard(storage, tmp_path)
    try:
        (summary,) = server.get("/api/studies")["study_summaries"]
        detail = server.get(f"/api/studies/{summary['study_id']}?after=0")
        assert len(detail["trials"]) == 3
        # each trial's lrsearch picture (its learning-rate and loss curves) is listed
        names = [[a["filename"] for a in t["artifacts"]] for t in detail["trials"]]
        assert names == [["lr_and_loss.svg"]] * 3, names
    finally:
        server.stop()
