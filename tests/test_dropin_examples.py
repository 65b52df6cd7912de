"""The drop-in examples run: in-process on a minimal budget, and as scripts a user would run."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from lrsearch.schedules import FAMILIES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _line(output: str, label: str) -> str:
    """The text after ``label: `` on its own line of ``output``."""
    match = re.search(rf"^{re.escape(label)}: (.*)$", output, flags=re.MULTILINE)
    assert match is not None, output
    return match.group(1).strip()


def _best_family(output: str) -> str:
    return _line(output, "best family")


def _run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_optuna_dropin_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("optuna_dropin").main(["--trials", "1", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert _best_family(out) in FAMILIES
    assert "trials: 1 (1 complete, 0 pruned)" in out
    params = json.loads(_line(out, "best params"))
    assert "initial_lr" in params


def test_kerastuner_dropin_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    module = _load("kerastuner_dropin")
    assert module.main(["--trials", "1", "--epochs", "1", "--directory", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert _best_family(out) in FAMILIES
    hp = json.loads(_line(out, "best hyperparameters"))
    assert hp["family"] == _best_family(out)
    assert (tmp_path / "lrsearch_dropin").is_dir()


def test_examples_mark_the_lrsearch_lines() -> None:
    # the code after the module docstring
    optuna_src = (EXAMPLES / "optuna_dropin.py").read_text().split('"""', 2)[2]
    assert "lrsearch.SearchSpace(" in optuna_src
    for needle in ("space.suggest(trial)", "spec.build_optimizer()", "spec.callbacks()"):
        line = next(ln for ln in optuna_src.splitlines() if needle in ln and "=" in ln)
        assert line.rstrip().endswith("# lrsearch"), line
    kt_src = (EXAMPLES / "kerastuner_dropin.py").read_text().split('"""', 2)[2]
    assert "space.from_hp(hp)  # lrsearch" in kt_src


@pytest.mark.slow
def test_optuna_dropin_script(tmp_path: Path) -> None:
    proc = _run_script("optuna_dropin", "--trials", "3", "--epochs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _best_family(proc.stdout) in FAMILIES
    assert re.search(r"^trials: 3 \(", proc.stdout, re.MULTILINE), proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_kerastuner_dropin_script(tmp_path: Path) -> None:
    directory = tmp_path / "tuner"
    proc = _run_script(
        "kerastuner_dropin",
        "--trials",
        "3",
        "--epochs",
        "2",
        "--directory",
        str(directory),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _best_family(proc.stdout) in FAMILIES
    assert "trials: 3" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert directory.is_dir()


@pytest.mark.slow
def test_kerastuner_dropin_default_directory_leaves_nothing_behind(tmp_path: Path) -> None:
    proc = _run_script("kerastuner_dropin", "--trials", "1", "--epochs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _best_family(proc.stdout) in FAMILIES
    assert list(tmp_path.iterdir()) == []
