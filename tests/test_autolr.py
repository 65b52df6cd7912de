"""``lrsearch tune --initial-lr auto``: range test stored in the study, reused, first trials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    assert info["optimizer"] == "sgd"
    assert info["optimizers"]["sgd"]["band"] == info["band"]  # the per-optimizer form too
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
    assert "from the study's stored range test" in second.stderr
    trials = study.get_trials()
    assert len(trials) == 6
    for t in trials:
        assert low <= t.params["initial_lr"] <= high


def _ran(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials run (enqueued readings not run yet wait, without parameters)."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return study.get_trials(states=states)


def _readings(info: dict[str, Any]) -> list[float]:
    low, high = info["band"]
    values = [info["suggested_lr"], *info["suggestions"].values()]
    return [v for v in values if v and low <= v <= high]


def test_auto_with_two_optimizers_stores_a_band_each(workdir: Path) -> None:
    args = ["tune", "--trials", "2", "--epochs", "1", "--initial-lr", "auto", "--seed", "2"]
    args += ["--optimizers", "sgd,adam", "--families", "constant", "--progress", "off"]
    first = run_cli(args, cwd=workdir)
    assert first.returncode == 0, first.stderr
    study = _study(workdir)
    info = study.user_attrs["lr_range_test"]
    tests = info["optimizers"]
    assert set(tests) == {"sgd", "adam"}
    assert info["band"] == tests["sgd"]["band"]  # the top level: the first optimizer's test
    assert tests["adam"]["optimizer"] == "adam"
    bands = {name: tuple(t["band"]) for name, t in tests.items()}
    assert bands["sgd"] != bands["adam"]
    for name, (low, high) in bands.items():  # the bands found are printed
        shown = f"{name} initial_lr searched in [{low:.3g}, {high:.3g}] (from the range test)"
        assert shown in first.stderr, first.stderr
    trials = _ran(study)
    assert len(trials) == 2
    # the first trials: each optimizer's suggestion, with the optimizer
    assert trials[0].params["optimizer"] == "sgd"
    assert trials[0].params["initial_lr"] == pytest.approx(_readings(tests["sgd"])[0])
    assert trials[1].params["optimizer"] == "adam"
    assert trials[1].params["initial_lr"] == pytest.approx(_readings(tests["adam"])[0])
    for t in trials:
        low, high = bands[t.params["optimizer"]]
        assert low <= t.params["initial_lr"] <= high
        dist = t.distributions["initial_lr"]
        assert (dist.low, dist.high) == pytest.approx((low, high))  # type: ignore[attr-defined]

    again = run_cli([*args[:2], "1", *args[3:]], cwd=workdir)
    assert again.returncode == 0, again.stderr
    study = _study(workdir)
    assert study.user_attrs["lr_range_test"] == info  # reused, not measured again
    t = _ran(study)[-1]
    low, high = bands[t.params["optimizer"]]
    assert low <= t.params["initial_lr"] <= high


def test_auto_reads_the_single_band_form_and_tests_only_new_optimizers(workdir: Path) -> None:
    # a study written before per-optimizer bands: one test, of sgd, at the top level
    (workdir / "studies").mkdir()
    old = {
        "band": [0.01, 0.2],
        "optimizer": "sgd",
        "suggested_lr": 0.05,
        "suggestions": {"steepest": 0.05},
        "lrs": [1e-6, 1.0],
        "losses": [2.3, 2.0],
    }
    study = optuna.create_study(
        study_name="lrsearch", storage=f"sqlite:///{workdir}/studies/lrsearch.db"
    )
    study.set_user_attr("lr_range_test", old)
    args = ["tune", "--trials", "3", "--epochs", "1", "--initial-lr", "auto", "--seed", "3"]
    args += ["--families", "constant", "--progress", "off"]
    same = run_cli(args, cwd=workdir)  # sgd alone: the stored band, no new test
    assert same.returncode == 0, same.stderr
    study = _study(workdir)
    assert study.user_attrs["lr_range_test"] == old
    assert len(_ran(study)) == 3
    for t in _ran(study):
        assert 0.01 <= t.params["initial_lr"] <= 0.2

    more = run_cli([*args, "--optimizers", "sgd,adam"], cwd=workdir)  # adam is tested now
    assert more.returncode == 0, more.stderr
    study = _study(workdir)
    info = study.user_attrs["lr_range_test"]
    assert {k: v for k, v in info.items() if k != "optimizers"} == old  # top level kept
    assert info["optimizers"]["sgd"] == old
    adam = info["optimizers"]["adam"]
    assert adam["optimizer"] == "adam"
    trials = _ran(study)[3:]
    assert len(trials) == 3
    assert trials[0].params["optimizer"] == "adam"  # adam's reading enqueued first
    assert trials[0].params["initial_lr"] == pytest.approx(_readings(adam)[0])
    for t in trials:
        low, high = old["band"] if t.params["optimizer"] == "sgd" else adam["band"]
        assert low <= t.params["initial_lr"] <= high
