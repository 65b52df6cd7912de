"""Per-optimizer ``initial_lr`` ranges from the command line and study files (issue 14, part 4).

The defaults and the Python API are in ``test_space.py``, the file checks in ``test_config.py``
and ``--initial-lr auto`` in ``test_autolr.py``.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from conftest import run_cli

from lrsearch.optimizers import DEFAULT_INITIAL_LR

TUNE = ["tune", "--trials", "1", "--epochs", "1", "--progress", "off"]


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")}


def _ranges(workdir: Path) -> list[tuple[str, tuple[float, float]]]:
    study = optuna.load_study(
        study_name="lrsearch", storage=f"sqlite:///{workdir}/studies/lrsearch.db"
    )
    out = []
    for t in study.get_trials():
        assert t.state == optuna.trial.TrialState.COMPLETE, t
        dist = t.distributions["initial_lr"]
        assert isinstance(dist, optuna.distributions.FloatDistribution) and dist.log
        assert dist.low <= t.params["initial_lr"] <= dist.high
        out.append((str(t.params["optimizer"]), (dist.low, dist.high)))
    return out


@pytest.mark.slow  # ~20 s: a real run
def test_flags_set_one_optimizer_and_the_others_keep_their_defaults(workdir: Path) -> None:
    args = ["tune", "--trials", "6", "--epochs", "1", "--families", "constant"]
    args += ["--optimizers", "sgd,adam,rmsprop", "--initial-lr", "adam=1e-4,1e-3"]
    proc = run_cli([*args, "--progress", "off", "--seed", "1"], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    expected = {
        "sgd": DEFAULT_INITIAL_LR["sgd"],
        "adam": (1e-4, 1e-3),
        "rmsprop": DEFAULT_INITIAL_LR["rmsprop"],  # 1e-5..1e-1, not SGD's 1e-4..1
    }
    drawn = _ranges(workdir)
    assert len(drawn) == 6 and len({o for o, _ in drawn}) >= 2
    for optimizer, rng in drawn:
        assert rng == pytest.approx(expected[optimizer]), optimizer


@pytest.mark.slow  # ~20 s: a real run
def test_study_file_table_sets_one_optimizer(workdir: Path) -> None:
    (workdir / "s.toml").write_text(
        'families = ["constant"]\noptimizers = ["sgd", "adam"]\ntrials = 4\nepochs = 1\n'
        "seed = 4\n"
        "[initial_lr]\nsgd = [0.01, 0.1]\n"
    )
    proc = run_cli(["tune", "--config", "s.toml", "--progress", "off"], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    expected = {"sgd": (0.01, 0.1), "adam": (1e-5, 1e-1)}  # adam: its default
    drawn = _ranges(workdir)
    assert len(drawn) == 4
    for optimizer, rng in drawn:
        assert rng == pytest.approx(expected[optimizer]), optimizer


BAD = [
    ("unknown", ["--initial-lr", "adm=1e-5,1e-2"], ("unknown optimizer 'adm'", "adam")),
    ("reversed", ["--initial-lr", "adam=1e-2,1e-5"], ("low < high",)),
    ("zero", ["--initial-lr=adam=0,1e-2"], ("positive",)),
    ("negative", ["--initial-lr=adam=-1e-3,1e-2"], ("positive",)),
    ("one-number", ["--initial-lr", "adam=1e-3"], ("LOW,HIGH",)),
    (
        "not-searched",
        ["--initial-lr", "adam=1e-5,1e-2"],
        ("not searched", "--optimizers sgd,adam"),
    ),
    (
        "mixed",
        ["--optimizers", "sgd,adam", "--initial-lr", "adam=1e-5,1e-2", "--initial-lr", "0.1,1"],
        ("not both",),
    ),
    ("auto-per-optimizer", ["--initial-lr", "adam=auto"], ("--initial-lr auto alone",)),
]


@pytest.mark.parametrize(
    ("extra", "expected"), [pytest.param(extra, exp, id=name) for name, extra, exp in BAD]
)
def test_bad_initial_lr_flags_exit_2_and_write_nothing(
    workdir: Path, extra: list[str], expected: tuple[str, ...]
) -> None:
    before = _files(workdir)
    proc = run_cli([*TUNE, *extra], cwd=workdir)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    marker = "lrsearch tune: error:"
    assert marker in proc.stderr, proc.stderr
    paragraph = proc.stderr[proc.stderr.index(marker) :].strip()
    assert "\n\n" not in paragraph  # one paragraph
    flat = " ".join(paragraph.split())
    for word in expected:
        assert word in flat, (word, flat)
    assert "e.g." in flat or "Example" in flat  # the fix
    assert _files(workdir) == before  # no database, nothing written


def test_bad_study_file_table_exits_2_and_writes_nothing(workdir: Path) -> None:
    (workdir / "s.toml").write_text('optimizers = ["sgd"]\n[initial_lr]\nadam = [1e-5, 1e-2]\n')
    before = _files(workdir)
    proc = run_cli(["tune", "--config", "s.toml"], cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    flat = " ".join(proc.stderr.split())
    assert "not searched" in flat and "s.toml" in flat
    assert _files(workdir) == before
    # fixed by a flag: --optimizers adds adam
    ok = run_cli(
        [*TUNE, "--config", "s.toml", "--optimizers", "sgd,adam", "--families", "constant"],
        cwd=workdir,
    )
    assert ok.returncode == 0, ok.stderr
