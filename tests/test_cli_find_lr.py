"""``lrsearch find-lr``, run as a user runs it: the installed console script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli


def find_lr_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(["find-lr", *args], cwd=cwd)


@pytest.mark.slow
def test_json_and_plot_on_digits(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    proc = find_lr_cli("--format", "json", "--plot", "tmp/x.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    for key in ("suggested_lr", "lrs", "losses", "suggestions", "confident", "reason", "band"):
        assert key in data
    assert len(data["lrs"]) == len(data["losses"]) >= 20
    assert all(a < b for a, b in zip(data["lrs"][:-1], data["lrs"][1:], strict=True))
    assert data["suggested_lr"] is not None
    assert 1e-6 <= data["suggested_lr"] <= 10.0
    png = (tmp_path / "tmp" / "x.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    assert len(png) > 5_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start-lr", "1", "--end-lr", "0.1"], "--end-lr must be larger than --start-lr"),
        (["--start-lr", "0"], "--start-lr must be a positive number"),
        (["--start-lr=-1e-3"], "--start-lr must be a positive number"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--plot", "/nonexistent/dir/x.png"], "does not exist"),
        (["--plot", "curve.xyz"], "image format"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = find_lr_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert message in " ".join(proc.stderr.split()).replace("- ", "-")
    assert proc.stderr.startswith("lrsearch find-lr: error:")
    assert list(tmp_path.iterdir()) == []


def test_unknown_dataset_and_optimizer_exit_2(tmp_path: Path) -> None:
    for args in (["--dataset", "digts"], ["--optimizer", "lion", "--num-steps", "20"]):
        proc = find_lr_cli(*args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr


def test_table_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """The quick path through the command (no subprocess): a short test, table output."""
    from lrsearch.cli import main

    code = main(["find-lr", "--num-steps", "60", "--optimizer", "adam", "--end-lr", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "learning rate" in out and "loss (smoothed)" in out
    assert "suggested learning rate" in out or "no suggestion" in out


def test_small_data_gets_the_floor_of_steps(capsys: pytest.CaptureFixture[str]) -> None:
    """iris: 120 training examples, 2 batches of 64 per pass; the test still runs 200 steps.

    The floor is find_lr's own (``lrsearch.rangetest.MIN_AUTO_STEPS``), the same from Python.
    """
    from lrsearch.cli import main
    from lrsearch.rangetest import MIN_AUTO_STEPS

    code = main(["find-lr", "--dataset", "iris", "--end-lr", "0.01", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["num_steps"] == len(data["lrs"]) == MIN_AUTO_STEPS == 200
    assert data["lrs"][-1] == pytest.approx(0.01)

    code = main(["find-lr", "--dataset", "iris", "--end-lr", "0.01", "--format", "json",
                 "--epochs", "150"])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["num_steps"] == 300  # 150 passes x 2 batches: above the floor

    code = main(["find-lr", "--dataset", "iris", "--end-lr", "0.01", "--format", "json",
                 "--num-steps", "30"])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["num_steps"] == 30  # given: used as is
