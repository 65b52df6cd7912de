"""``lrsearch compare`` and :mod:`lrsearch.compare`: the same seeds and budget per family."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import run_cli
from test_report import add_trial
from test_report import assert_real_png

from lrsearch.compare import CompareEntry
from lrsearch.compare import CompareResult
from lrsearch.compare import FamilyResult
from lrsearch.compare import RunResult
from lrsearch.compare import Spread
from lrsearch.compare import article_entries
from lrsearch.compare import article_entry
from lrsearch.compare import compare
from lrsearch.compare import write_compare
from lrsearch.errors import UsageError
from lrsearch.space import ScheduleSpec
from lrsearch.storage import open_storage

PLOTS = ("compare_lr_curves.png", "compare_val_loss.png", "compare_val_accuracy.png")


# --------------------------------------------------------------------------- contenders


def test_article_defaults_are_the_articles() -> None:
    step = article_entry("step", 20).spec
    assert step.params == {"initial_lr": 0.5, "drop_rate": 0.8, "epochs_drop": 10}
    assert step.optimizer == "sgd" and step.momentum == 0.0
    exp = article_entry("exponential", 20).spec
    assert exp.params == {"initial_lr": 0.5, "k": 0.1}
    tb = article_entry("time_based", 20).spec
    assert tb.params["decay"] == pytest.approx(0.5 / 20)
    assert article_entry("constant", 20).spec.params == {"initial_lr": 0.01}


def test_family_with_an_adaptive_optimizer_starts_at_keras_default() -> None:
    entry = article_entry("constant:adam", 20)
    assert entry.label == "constant (adam)"
    assert entry.spec.optimizer == "adam" and entry.spec.params["initial_lr"] == pytest.approx(
        1e-3
    )
    cyc = article_entry("cyclical:adam", 20).spec.params  # every rate scaled alike
    assert cyc["max_lr"] / cyc["initial_lr"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("names", "match"),
    [
        (["stepp"], "Unknown schedule family"),
        (["step:sgdd"], "Unknown optimizer"),
        (["step", "step"], "more than once"),
        ([], "Nothing to compare"),
    ],
)
def test_bad_families_are_usage_errors(names: list[str], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        article_entries(names, 10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"families": ["step"], "storage": "sqlite:///x.db"}, "not both"),
        ({}, "Nothing to compare"),
        ({"families": ["step"], "seeds": 0}, "--seeds"),
        ({"families": ["step"], "epochs": 0}, "--epochs"),
        ({"families": ["step"], "seeds": 2.5}, "--seeds"),
    ],
)
def test_bad_arguments_fail_before_training(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        compare(**kwargs)


# --------------------------------------------------------------------------- statistics


def test_spread_is_mean_sample_std_min_max() -> None:
    s = Spread.of([1.0, 2.0, 3.0, None, math.nan])
    assert (s.n, s.mean, s.min, s.max) == (3, 2.0, 1.0, 3.0)
    assert s.std == pytest.approx(1.0)
    assert Spread.of([0.5]).std == 0.0
    assert Spread.of([None]).mean is None


def _run(label: str, seed: int, val: list[float | None], lr: float) -> RunResult:
    n = len(val)
    hist: dict[str, list[float | None]] = {
        "loss": list(val),
        "val_loss": list(val),
        "learning_rate": [lr] * n,
        "val_accuracy": [None if v is None else 1 - v / 3 for v in val],
    }
    return RunResult(label, seed, hist, 0.1)


def fake_result() -> CompareResult:
    step = CompareEntry("step", article_entry("step", 3).spec, "article defaults")
    const = CompareEntry("constant", article_entry("constant", 3).spec, "article defaults")
    return CompareResult(
        [
            FamilyResult(
                const,
                [
                    _run("constant", 0, [2.0, 1.9, 1.8], 0.01),
                    _run("constant", 1, [2.1, 2.0, 1.6], 0.01),
                ],
            ),
            FamilyResult(
                step,
                [_run("step", 0, [1.0, 0.5, 0.4], 0.5), _run("step", 1, [1.2, None, None], 0.5)],
            ),
        ],
        seeds=[0, 1],
        epochs=3,
        dataset="digits",
        model="mlp",
        batch_size=64,
    )


def test_result_ranks_tabulates_and_curves() -> None:
    result = fake_result()
    assert [f.label for f in result.ranked()] == ["step", "constant"]
    step = result.ranked()[0]
    assert step.diverged == 1 and step.val_loss.mean == pytest.approx(0.8)
    table = result.format_table()
    assert "step" in table and "constant" in table and "±" in table and "(1 diverged)" in table
    curves = {c.family: c for c in result.curves("val_loss")}
    assert curves["step"].mean[0] == pytest.approx(1.1)
    assert curves["step"].mean[2] == pytest.approx(0.4) and curves["step"].std[2] == 0.0
    assert curves["constant"].runs == 2
    d = result.to_dict(history=False)
    assert "history" not in d["families"][0]["per_seed"][0]
    json.dumps(result.to_dict(), allow_nan=False)


def test_write_compare_writes_plots_with_bands(tmp_path: Path) -> None:
    files = write_compare(fake_result(), tmp_path / "out")
    assert {f.name for f in files} == {*PLOTS, "compare.json", "compare.md"}
    for name in PLOTS:
        assert_real_png(tmp_path / "out" / name)
    data = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert data["families"][0]["per_seed"][0]["history"]["val_loss"] == [1.0, 0.5, 0.4]
    assert "| step | 2 |" in (tmp_path / "out" / "compare.md").read_text()


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--families", "stepp"], "Unknown schedule family"),
        (["--families", "step", "--seeds", "0"], "--seeds"),
        (["--families", "step", "--study-name", "x"], "not both"),
        (["--families", " , "], "empty"),
        ([], "no study database"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path: Path, args: list[str], match: str) -> None:
    proc = run_cli(["compare", *args, "--out", "cmp"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert match.lower() in proc.stderr.lower() and "Traceback" not in proc.stderr
    assert not (tmp_path / "studies").exists() and not (tmp_path / "cmp").exists()


def test_cli_out_that_is_a_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    proc = run_cli(["compare", "--families", "step", "--out", "f/sub"], cwd=tmp_path)
    assert proc.returncode == 2 and "not a writable folder" in proc.stderr


def test_cli_study_with_nothing_finished_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=open_storage(url, create=True), study_name="s")
    add_trial(
        study,
        "step",
        {"initial_lr": 0.5, "drop_rate": 0.5, "epochs_drop": 2},
        [0.5],
        2.0,
        state=optuna.trial.TrialState.PRUNED,
    )
    proc = run_cli(["compare", "--storage", url, "--study-name", "s", "--out", "c"], cwd=tmp_path)
    assert proc.returncode == 2 and "Nothing to compare" in proc.stderr


@pytest.mark.slow
def test_cli_compare_families_json(tmp_path: Path) -> None:
    families = ["constant", "exponential", "step", "constant:adam"]
    proc = run_cli(
        [
            "compare",
            "--families",
            ",".join(families),
            "--seeds",
            "2",
            "--epochs",
            "3",
            "--out",
            "cmp",
            "--format",
            "json",
            "--progress",
            "on",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["seeds"] == [0, 1] and data["epochs"] == 3
    rows = {f["label"]: f for f in data["families"]}
    assert set(rows) == {"constant", "exponential", "step", "constant (adam)"}
    for row in rows.values():
        assert row["runs"] == 2 and [r["seed"] for r in row["per_seed"]] == [0, 1]
        for key in ("best_val_loss", "best_val_accuracy"):
            spread = row[key]
            assert spread["n"] == 2
            assert spread["min"] <= spread["mean"] <= spread["max"]
            assert spread["std"] >= 0
    # same seeds, same budget: every run trained 3 epochs
    assert all(r["epochs_run"] == 3 for f in rows.values() for r in f["per_seed"])
    progress = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 8
    for name in PLOTS:
        assert_real_png(tmp_path / "cmp" / name)
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    lrs = saved["families"][0]["per_seed"][0]["history"]["learning_rate"]
    assert len(lrs) == 3


@pytest.mark.slow
def test_cli_compare_best_trials_of_a_study_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=open_storage(url, create=True), study_name="s")
    study.set_user_attr(
        "lrsearch_config", {"dataset": "digits", "model": "mlp", "epochs": 2, "batch_size": 128}
    )
    add_trial(study, "exponential", {"initial_lr": 0.3, "k": 0.2}, [0.3, 0.25], 0.3)
    add_trial(study, "exponential", {"initial_lr": 0.05, "k": 0.2}, [0.05, 0.04], 0.9)
    add_trial(study, "constant", {"initial_lr": 0.1}, [0.1, 0.1], 0.5)
    proc = run_cli(
        ["compare", "--storage", url, "--study-name", "s", "--seeds", "1", "--out", "c"],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "study trial #0" in proc.stdout and "study trial #2" in proc.stdout
    assert "2 epochs each" in proc.stdout and "batch size 128" in proc.stdout
    for name in PLOTS:
        assert_real_png(tmp_path / "c" / name)
    data = json.loads((tmp_path / "c" / "compare.json").read_text())
    spec = {f["label"]: ScheduleSpec.from_dict(f["spec"]) for f in data["families"]}
    assert spec["exponential"].params == {"initial_lr": 0.3, "k": 0.2}
