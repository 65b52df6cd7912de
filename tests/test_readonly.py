"""Commands that only read a study never write to a database they were pointed at."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [["best"], ["export"], ["best", "--format", "json"]])
def test_reading_a_foreign_sqlite_file_changes_nothing(workdir: Path, command: list[str]) -> None:
    other = workdir / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    before = _digest(other)
    result = run_cli([*command, "--storage", f"sqlite:///{other}"], cwd=workdir)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Optuna study database" in result.stderr
    assert _digest(other) == before
    assert sorted(p.name for p in workdir.iterdir()) == ["other.db"]


def test_password_is_masked_in_errors(workdir: Path) -> None:
    result = run_cli(["best", "--storage", "postgresql://me:s3cret@127.0.0.1:1/none"], cwd=workdir)
    assert result.returncode == 2
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr
