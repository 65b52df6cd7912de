"""Small mistakes that used to pass silently: an empty study name, a study lrsearch did not
make, ``--initial-lr auto`` on a handful of examples. Each is exit 2 with the fix, nothing
written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import optuna
import pytest
from conftest import run_cli


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [["best"], ["tune", "--trials", "1"]])
def test_an_empty_study_name_is_refused(workdir: Path, command: list[str]) -> None:
    result = run_cli([*command, "--study-name", ""], cwd=workdir)
    assert result.returncode == 2, result.stderr
    assert "--study-name is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(workdir.iterdir()) == []


def test_tune_refuses_a_study_not_made_by_lrsearch(workdir: Path) -> None:
    db = workdir / "foreign.db"
    study = optuna.create_study(study_name="theirs", storage=f"sqlite:///{db}")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    before = _digest(db)
    result = run_cli(
        ["tune", "--trials", "1", "--epochs", "1", "--storage", f"sqlite:///{db}",
         "--study-name", "theirs"],
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "not made by `lrsearch tune`" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert _digest(db) == before


def test_auto_on_a_handful_of_examples_is_refused(workdir: Path) -> None:
    csv = workdir / "tiny.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(5)))
    result = run_cli(
        ["tune", "--dataset", str(csv), "--initial-lr", "auto", "--trials", "2", "--epochs", "1"],
        cwd=workdir,
    )
    assert result.returncode == 2, result.stderr
    assert "too few for a learning-rate range test" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not (workdir / "studies").exists()  # nothing written, so no WAITING trial either
