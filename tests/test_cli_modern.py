"""``lrsearch tune --granularity step --warmup``, ``best --epochs`` through the installed binary
(issue 17), and the study identity's granularity."""

from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
import pytest
from conftest import run_cli

from lrsearch import ScheduleSpec
from lrsearch import UsageError
from lrsearch.runner import TuneOptions
from lrsearch.runner.identity import identity_differences

QUIET = ["--progress", "off"]
STUDY = ["--study-name", "modern"]


def test_a_study_without_granularity_reads_as_per_epoch() -> None:
    stored = {"dataset": "digits", "epochs": 3}
    assert identity_differences(stored, {"granularity": "epoch"}) == []
    assert identity_differences(stored, {"granularity": "step"}) == [
        "--granularity epoch stored, step given"
    ]
    assert TuneOptions(granularity="step").identity()["granularity"] == "step"


@pytest.mark.slow
def test_tune_per_step_with_warmup_records_it_and_best_pastes_it(workdir: Path) -> None:
    args = ["--trials", "3", "--epochs", "3", "--families", "step,cosine,plateau",
            "--subsample", "300", "--seed", "3",
            "--granularity", "step", "--warmup", "--pruner", "none"]  # fmt: skip
    result = run_cli(["tune", *QUIET, *STUDY, *args], cwd=workdir, timeout=900)
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(
        study_name="modern", storage=f"sqlite:///{workdir}/studies/lrsearch.db"
    )
    assert study.user_attrs["lrsearch_config"]["granularity"] == "step"
    n = math.ceil(240 / 64)  # 300 examples, 20% held out, batch 64
    for t in study.get_trials():
        assert t.state == optuna.trial.TrialState.COMPLETE, t
        spec = ScheduleSpec.from_dict(t.user_attrs["spec"])
        assert spec.granularity == "step" and spec.epochs == 3
        lrs = t.user_attrs["history"]["learning_rate"]
        schedule = spec.schedule
        if schedule is None:
            continue
        assert "warmup_epochs" in spec.params  # --warmup: step and cosine draw one
        assert lrs == pytest.approx([schedule(e + (n - 1) / n) for e in range(3)], rel=1e-5)

    best = run_cli(["best", *STUDY, "--format", "json"], cwd=workdir)
    assert best.returncode == 0, best.stderr
    summary = json.loads(best.stdout)
    assert summary["granularity"] == "step" and summary["spec"]["granularity"] == "step"
    table = run_cli(["best", *STUDY], cwd=workdir)
    assert table.returncode == 0, table.stderr
    assert '"granularity": "step"' in table.stdout
    assert "build_optimizer(steps_per_epoch=steps_per_epoch)" in table.stdout

    long = run_cli(["best", *STUDY, "--epochs", "9", "--format", "json"], cwd=workdir)
    assert long.returncode == 0, long.stderr
    carried = json.loads(long.stdout)
    assert carried["epochs"] == 9 and carried["tuned_epochs"] == 3
    spec = ScheduleSpec.from_dict(summary["spec"])
    assert ScheduleSpec.from_dict(carried["spec"]) == spec.for_epochs(9)
    pasted = run_cli(["best", *STUDY, "--epochs", "9"], cwd=workdir)
    assert "epochs=9," in pasted.stdout and "tuned for 3" in pasted.stdout
    bad = run_cli(["best", *STUDY, "--epochs", "0"], cwd=workdir)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr

    # the study keeps its granularity
    again = run_cli(["tune", *QUIET, *STUDY, *args[:-5], "--granularity", "epoch"], cwd=workdir)
    assert again.returncode == 2, again.stderr
    assert "--granularity step stored, epoch given" in again.stderr


def test_study_file_switches_warmup_and_granularity_on() -> None:
    from lrsearch.config import merge
    from lrsearch.config import parse_config

    text = 'families = ["step", "cosine"]\nwarmup = true\ngranularity = "step"\n'
    options = merge(parse_config(text, check_files=False), {})
    assert options.warmup is True and options.granularity == "step"
    space = options.search_space(None)
    assert space.warmup is True and space.granularity == "step"
    with pytest.raises(UsageError, match="granularity"):
        parse_config('granularity = "batch"\n', check_files=False)
    with pytest.raises(UsageError, match="warmup"):
        parse_config('warmup = "yes"\n', check_files=False)


def test_load_best_sets_the_budget_its_trial_ran(tmp_path: Path) -> None:
    import lrsearch

    url = f"sqlite:///{tmp_path}/s.db"
    study = optuna.create_study(storage=url, study_name="old")
    old_spec = {"family": "step", "params": {"initial_lr": 0.1, "drop_rate": 0.5,
                                             "epochs_drop": 3}}  # fmt: skip
    study.add_trial(
        optuna.trial.create_trial(
            params={"family": "step"},
            distributions={"family": optuna.distributions.CategoricalDistribution(["step"])},
            value=0.3,
            user_attrs={"family": "step", "spec": old_spec, "epochs": 10},
        )
    )
    spec = lrsearch.load_best(url, "old")
    assert spec.epochs == 10 and spec.granularity == "epoch"
    assert spec.for_epochs(30).params["epochs_drop"] == 9
