"""Shared test helpers: run the installed ``lrsearch`` binary as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def lrsearch_binary() -> str:
    """The console script installed next to the running Python (the venv's ``lrsearch``)."""
    candidate = Path(sys.executable).parent / "lrsearch"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("lrsearch")
    if found is None:
        pytest.fail("the lrsearch console script is not installed: pip install -e '.[test]'")
    return found


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for CLI subprocesses: quiet TensorFlow, no inherited LRSEARCH_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LRSEARCH_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path,
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``lrsearch ARGS`` in ``cwd`` and return the completed process (text output)."""
    return subprocess.run(
        [lrsearch_binary(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or cli_env(),
    )


def group_gone(pgid: int, timeout: float = 15) -> bool:
    """Whether every process of a run's process group (workers, multiprocessing's helper)
    has exited within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory for a CLI run (the default storage lands in it)."""
    d = tmp_path / "work"
    d.mkdir()
    return d
