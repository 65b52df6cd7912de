"""``lrsearch report`` and :mod:`lrsearch.report`: data apart from drawing, real PNG files."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import run_cli
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

import lrsearch.report as report
from lrsearch.errors import UsageError
from lrsearch.storage import open_storage

PNGS = (
    "lr_curves.png",
    "val_loss.png",
    "val_accuracy.png",
    "train_vs_val.png",
    "optimization_history.png",
    "family_values.png",
)


def assert_real_png(path: Path, *, min_colors: int = 16) -> None:
    """A PNG with visible content: the header, a non-trivial size, many distinct colours."""
    from PIL import Image

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert len(data) > 10_000, (path, len(data))
    with Image.open(path) as img:
        img.load()
        assert img.width >= 400 and img.height >= 300
        colors = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > min_colors, (path, colors and len(colors))


# --------------------------------------------------------------------------- a synthetic study


def _history(lrs: list[float], final: float, *, acc: bool = True) -> dict[str, list[Any]]:
    n = len(lrs)
    val = [final + (n - 1 - i) * 0.3 for i in range(n)]
    h: dict[str, list[Any]] = {
        "loss": [v * 1.1 for v in val],
        "val_loss": val,
        "learning_rate": lrs,
    }
    if acc:
        h["accuracy"] = [min(0.99, 1 - v / 3) for v in val]
        h["val_accuracy"] = [min(0.99, 1 - v / 2.5) for v in val]
    return h


def add_trial(
    study: optuna.Study,
    family: str,
    params: dict[str, Any],
    lrs: list[float],
    final: float,
    *,
    state: TrialState = TrialState.COMPLETE,
    optimizer: str = "sgd",
    momentum: float = 0.5,
) -> None:
    """A trial as ``lrsearch tune`` records it (without training anything)."""
    hist = _history(lrs, final)
    dists: dict[str, Any] = {
        "family": CategoricalDistribution(["constant", "step", "exponential", "time_based"]),
        "initial_lr": FloatDistribution(1e-4, 1.0, log=True),
        "optimizer": CategoricalDistribution(["sgd", "adam"]),
    }
    trial_params: dict[str, Any] = {
        "family": family,
        "initial_lr": params["initial_lr"],
        "optimizer": optimizer,
    }
    if family == "exponential":
        dists["k"] = FloatDistribution(1e-3, 0.5, log=True)
        trial_params["k"] = params["k"]
    spec = {"family": family, "params": params, "optimizer": optimizer, "momentum": momentum}
    attrs: dict[str, Any] = {"family": family, "spec": spec, "history": hist, "epochs": len(lrs)}
    if state == TrialState.PRUNED:
        attrs["pruned_reason"] = "pruned at epoch 1"
    study.add_trial(
        optuna.trial.create_trial(
            params=trial_params,
            distributions=dists,
            value=min(hist["val_loss"]) if state == TrialState.COMPLETE else None,
            intermediate_values=dict(enumerate(hist["val_loss"])),
            user_attrs=attrs,
            state=state,
        )
    )


def make_study(path: Path, name: str = "synthetic") -> tuple[str, optuna.Study]:
    """An SQLite study with 4 families (one with Adam), pruned and failed trials."""
    url = f"sqlite:///{path}"
    study = optuna.create_study(
        storage=open_storage(url, create=True), study_name=name, direction="minimize"
    )
    study.set_user_attr("lrsearch_config", {"dataset": "digits", "model": "mlp", "epochs": 6})
    e = 6
    add_trial(study, "constant", {"initial_lr": 0.01}, [0.01] * e, 0.9)
    add_trial(study, "constant", {"initial_lr": 0.05}, [0.05] * e, 0.7)
    add_trial(
        study,
        "step",
        {"initial_lr": 0.5, "drop_rate": 0.5, "epochs_drop": 2},
        [0.5 * 0.5 ** (t // 2) for t in range(e)],
        0.4,
    )
    add_trial(
        study,
        "exponential",
        {"initial_lr": 0.5, "k": 0.5},
        [0.5 * math.exp(-0.5 * t) for t in range(e)],
        0.3,
    )
    add_trial(
        study,
        "exponential",
        {"initial_lr": 0.9, "k": 0.01},
        [0.9 * math.exp(-0.01 * t) for t in range(2)],
        2.0,
        state=TrialState.PRUNED,
    )
    add_trial(
        study,
        "constant",
        {"initial_lr": 0.001},
        [0.001] * e,
        0.5,
        optimizer="adam",
        momentum=0.0,
    )
    add_trial(
        study, "time_based", {"initial_lr": 0.1, "decay": 0.1}, [0.1], 5.0, state=TrialState.FAIL
    )
    return url, study


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[str, optuna.Study]:
    return make_study(tmp_path / "synthetic.db")


# --------------------------------------------------------------------------- data


def test_family_bests_group_by_family_and_optimizer(synthetic: tuple[str, optuna.Study]) -> None:
    _, study = synthetic
    bests = report.family_bests(study)
    labels = [b.label for b in bests]
    # two optimizers in the study: the label carries it; the best comes first
    assert labels[0] == "exponential (sgd)"
    assert set(labels) == {"exponential (sgd)", "step (sgd)", "constant (adam)", "constant (sgd)"}
    const = next(b for b in bests if b.label == "constant (sgd)")
    assert const.params["initial_lr"] == 0.05 and const.params["momentum"] == 0.5
    assert list(const.params)[0] == "initial_lr"


def test_family_summaries_count_and_share_pruned(synthetic: tuple[str, optuna.Study]) -> None:
    _, study = synthetic
    rows = {r.label: r for r in report.family_summaries(study)}
    exp = rows["exponential (sgd)"]
    assert (exp.trials, exp.complete, exp.pruned, exp.failed) == (2, 1, 1, 0)
    assert exp.share_pruned == pytest.approx(0.5)
    tb = rows["time_based (sgd)"]
    assert tb.best_value is None and tb.failed == 1 and tb.share_pruned == 0.0
    # ordered by best value, families without a finished trial last
    assert list(rows)[-1] == "time_based (sgd)"


def test_best_curves_use_the_recorded_rates(synthetic: tuple[str, optuna.Study]) -> None:
    _, study = synthetic
    curves = {c.family + c.optimizer: c for c in report.best_curves(study, "learning_rate")}
    step = curves["stepsgd"]
    assert step.epochs == [1, 2, 3, 4, 5, 6]
    assert step.mean == pytest.approx([0.5, 0.5, 0.25, 0.25, 0.125, 0.125])
    with pytest.raises(ValueError, match="metric"):
        report.best_curves(study, "lr")


def test_optimization_history_includes_pruned_trials(synthetic: tuple[str, optuna.Study]) -> None:
    _, study = synthetic
    info = report.optimization_history_info(study)
    pruned = [p for p in info.points if not p.complete]
    assert [p.number for p in pruned] == [4]
    assert info.best_values == sorted(info.best_values, reverse=True)
    assert info.best_values[-1] == pytest.approx(0.3)


def test_importances_with_too_few_trials_give_a_reason(tmp_path: Path) -> None:
    url, study = make_study(tmp_path / "few.db")
    small = optuna.create_study(storage=study._storage, study_name="few")
    for t in study.trials[:2]:
        small.add_trial(t)
    info = report.importance_info(small)
    assert info.importances == [] and "at least" in str(info.reason)
    ax = report.plot_param_importances(small)  # draws the reason, never raises
    assert "No importances" in ax.texts[0].get_text()


def test_importances_of_the_synthetic_study(synthetic: tuple[str, optuna.Study]) -> None:
    _, study = synthetic
    info = report.importance_info(study)
    names = [name for name, _ in info.importances]
    assert info.reason is None
    assert set(names) <= {"family", "initial_lr", "optimizer"}  # shared by all trials
    assert sum(v for _, v in info.importances) == pytest.approx(1.0)


# --------------------------------------------------------------------------- drawing


def test_plot_functions_take_and_return_an_axes(synthetic: tuple[str, optuna.Study]) -> None:
    import matplotlib

    _, study = synthetic
    for plot in (
        report.plot_lr_curves,
        report.plot_val_loss,
        report.plot_val_accuracy,
        report.plot_optimization_history,
        report.plot_family_values,
        report.plot_param_importances,
    ):
        ax = plot(study)
        assert ax.get_title()
        from matplotlib.figure import Figure

        fig = Figure()
        own = fig.subplots()
        assert plot(study, ax=own) is own
    assert matplotlib.get_backend().lower() == "agg"  # no window can open
    ax = report.plot_lr_curves(study)
    assert ax.get_yscale() == "log"  # 0.001 .. 0.5: log scale
    assert ax.get_xlabel() == "epoch" and "learning rate" in ax.get_ylabel()
    assert len(ax.get_lines()) == 4


def test_write_report_writes_real_pngs_and_tables(
    synthetic: tuple[str, optuna.Study], tmp_path: Path
) -> None:
    _, study = synthetic
    steps: list[report.ReportStep] = []
    result = report.write_report(study, tmp_path / "out" / "nested", on_step=steps.append)
    names = {p.name for p in result.files}
    assert set(PNGS) | {"param_importances.png", "summary.md", "summary.csv"} == names
    for name in (*PNGS, "param_importances.png"):
        assert_real_png(result.out / name)
    assert [s.index for s in steps] == list(range(1, 10)) and steps[-1].total == 9
    md = (result.out / "summary.md").read_text()
    assert "| exponential (sgd) | 0.3 | #3 |" in md
    assert "50%" in md  # share pruned of exponential
    assert "![" in md and "lr_curves.png" in md
    rows = list(csv.DictReader(io.StringIO((result.out / "summary.csv").read_text())))
    by = {(r["family"], r["optimizer"]): r for r in rows}
    assert by[("exponential", "sgd")]["share_pruned"] == "0.5"
    assert by[("constant", "adam")]["best_trial"] == "5"
    assert by[("time_based", "sgd")]["best_value"] == ""


def test_write_report_of_an_empty_study_is_a_usage_error(tmp_path: Path) -> None:
    study = optuna.create_study(
        storage=open_storage(f"sqlite:///{tmp_path / 'e.db'}", create=True), study_name="e"
    )
    with pytest.raises(UsageError, match="no trials"):
        report.write_report(study, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_report_skips_what_cannot_be_drawn(tmp_path: Path) -> None:
    url, study = make_study(tmp_path / "p.db")
    only_pruned = optuna.create_study(storage=study._storage, study_name="pruned-only")
    only_pruned.add_trial(study.trials[4])
    result = report.write_report(only_pruned, tmp_path / "out")
    assert "lr_curves.png" in result.skipped and "param_importances.png" in result.skipped
    assert (tmp_path / "out" / "optimization_history.png").exists()
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "## Skipped" in md and "parameter importances need at least" in md


# --------------------------------------------------------------------------- CLI


def test_cli_report_on_the_synthetic_study(
    synthetic: tuple[str, optuna.Study], tmp_path: Path
) -> None:
    url, _ = synthetic
    proc = run_cli(
        [
            "report",
            "--storage",
            url,
            "--study-name",
            "synthetic",
            "--out",
            "rep",
            "--progress",
            "on",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Wrote 9 files" in proc.stdout
    progress = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 9 and "wrote" in progress[0]
    for name in PNGS:
        assert_real_png(tmp_path / "rep" / name)


def test_the_report_command_imports_importances_without_sklearn() -> None:
    """``lrsearch report`` skips scikit-learn's 2 s import (Optuna's fANOVA evaluator tries it
    on import); the importances are still computed, and sklearn stays importable after."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from lrsearch.cli._report import import_importance_without_sklearn as f\n"
        "f()\n"
        "import optuna, optuna.importance\n"
        "assert 'sklearn' not in sys.modules, 'sklearn imported'\n"
        "s = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))\n"
        "s.optimize(lambda t: t.suggest_float('x', 0, 1) ** 2 + 0 * t.suggest_float('y', 0, 1),"
        " n_trials=100)\n"
        "imp = optuna.importance.get_param_importances(s)\n"
        "assert set(imp) == {'x', 'y'} and imp['x'] > imp['y'], imp\n"
        "import sklearn.ensemble\n"
        "assert sklearn.ensemble.RandomForestRegressor\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_cli_report_missing_database_exits_2(tmp_path: Path) -> None:
    proc = run_cli(["report", "--out", "rep"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "no study database" in proc.stderr.lower() and "Traceback" not in proc.stderr
    assert not (tmp_path / "studies").exists() and not (tmp_path / "rep").exists()


def test_cli_report_missing_study_exits_2(
    synthetic: tuple[str, optuna.Study], tmp_path: Path
) -> None:
    url, _ = synthetic
    proc = run_cli(
        ["report", "--storage", url, "--study-name", "nope", "--out", "r"], cwd=tmp_path
    )
    assert proc.returncode == 2 and "synthetic" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_report_out_is_a_file_exits_2(
    synthetic: tuple[str, optuna.Study], tmp_path: Path
) -> None:
    url, _ = synthetic
    (tmp_path / "afile").write_text("x")
    proc = run_cli(
        ["report", "--storage", url, "--study-name", "synthetic", "--out", "afile"], cwd=tmp_path
    )
    assert proc.returncode == 2 and "is a file" in proc.stderr


# --------------------------------------------------------------------------- a real study


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real study: ``lrsearch tune --trials 4 --epochs 3`` in a fresh working directory."""
    cwd = tmp_path_factory.mktemp("tuned")
    proc = run_cli(["tune", "--trials", "4", "--epochs", "3"], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd


@pytest.mark.slow
def test_report_of_a_real_study(tuned: Path) -> None:
    proc = run_cli(["report", "--out", "report"], cwd=tuned)
    assert proc.returncode == 0, proc.stderr
    out = tuned / "report"
    for name in PNGS:
        assert_real_png(out / name)
    md = (out / "summary.md").read_text()
    if (out / "param_importances.png").exists():
        assert_real_png(out / "param_importances.png")
    else:
        assert "param_importances.png" in md and "Skipped" in md
    rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text())))
    assert sum(int(r["trials"]) for r in rows) == 4
    study = optuna.load_study(
        study_name="lrsearch", storage="sqlite:///" + str(tuned / "studies" / "lrsearch.db")
    )
    families = {t.user_attrs["family"] for t in study.trials}
    assert {r["family"] for r in rows} == families


def test_train_vs_val_draws_training_and_validation_of_each_best(
    synthetic: tuple[str, optuna.Study],
) -> None:
    _, study = synthetic
    loss, metric = report.plot_train_vs_val(study)
    assert loss.get_xlabel() == "epoch" and loss.get_ylabel() == "loss"
    assert metric.get_ylabel() == "accuracy"
    styles = {line.get_linestyle() for line in loss.get_lines()}
    assert styles == {"--", "-"}  # training dashed, validation solid
    families = {b.family for b in report.family_bests(study) if b.history.get("val_loss")}
    assert len(loss.get_lines()) >= 2 * len(families) - 2
