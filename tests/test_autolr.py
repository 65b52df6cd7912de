"""``lrsearch tune --initial-lr auto``: range test stored in the study, reused, first trials."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from conftest import run_cli

pytestmark = pytest.mark.slow


def _study(workdir: Path) -> optuna.Study:
    return optuna.load_study(
        study_name="lrsearch", storage=f"sqlite:///{workdir}/studies/lrsearch.db"
    )


def test_auto_band_is_stored_reused_and_seeds_first_trials(workdir: Path) -> None:
    args = ["tune", "--trials", "3", "--epochs", "2", "--initial-lr", "auto", "--seed", "1"]
    first = run_cli([*args, "--families", "constant,step"], cwd=workdir)
    assert first.returncode == 0, first.stderr
    study = _study(workdir)
    info = study.user_attrs["lr_range_test"]
    low, high = info["band"]
    assert 1e-6 <= low < high <= 10.0
    assert len(info["lrs"]) >= 20 and len(info["losses"]) == len(info["lrs"])
    trials = study.get_trials()
    assert len(trials) == 3
    # the curve's readings inside the band are the first trials' initial_lr
    readings = [v for v in [info["suggested_lr"], *info["suggestions"].values()] if v]
    inside = [v for v in readings if low <= v <= high]
    assert inside, info
    assert trials[0].params["initial_lr"] == pytest.approx(inside[0])
    for t in trials:
        assert low <= t.params["initial_lr"] <= high

    second = run_cli([*args, "--families", "constant,step"], cwd=workdir)
    assert second.returncode == 0, second.stderr
    study = _study(workdir)
    assert study.user_attrs["lr_range_test"] == info  # reused, not measured again
    trials = study.get_trials()
    assert len(trials) == 6
    for t in trials:
        assert low <= t.params["initial_lr"] <= high
