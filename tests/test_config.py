"""Study definitions (``--config FILE``): parsing and checks, merging, and the shipped files."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import optuna
import pytest
import tomllib
from conftest import run_cli

from lrsearch.cli import build_parser
from lrsearch.config import load_config
from lrsearch.config import merge
from lrsearch.config import parse_config
from lrsearch.errors import UsageError
from lrsearch.runner import TuneOptions

STUDIES = Path(__file__).resolve().parent.parent / "studies"
SHIPPED = sorted(p.name for p in STUDIES.glob("*.toml"))

GOOD = """\
study_name = "tiny"
storage = "sqlite:///studies/tiny.db"
dataset = "digits"
families = ["constant", "step"]
trials = 30
epochs = 20
pruner = "median"

[ranges]
drop_rate = [0.3, 0.7]
"""


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cli(**given: Any) -> dict[str, Any]:
    """Command-line values as ``lrsearch tune`` passes them to ``merge`` (None: not given)."""
    names = [f.name for f in dataclasses.fields(TuneOptions)]
    values: dict[str, Any] = {n: None for n in names if n not in ("ranges", "config_source")}
    values.update(given)
    return values


# --------------------------------------------------------------------------- parsing


def test_the_four_definitions_are_shipped() -> None:
    assert SHIPPED == [
        "ionosphere_momentum.toml",
        "modern.toml",
        "neptune_fashion_mnist.toml",
        "warmup.toml",
    ]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_definitions_are_valid_and_self_contained(name: str) -> None:
    config = load_config(STUDIES / name)
    opts = config.options
    assert opts["storage"].startswith("sqlite:///studies/")
    assert opts["dataset"] in ("digits", "breast_cancer", "wine", "iris")  # bundled: offline
    assert opts["study_name"]
    assert config.data == tomllib.loads((STUDIES / name).read_text())


def test_shipped_definitions_have_their_own_study_and_storage() -> None:
    configs = [load_config(STUDIES / n).options for n in SHIPPED]
    assert len({c["study_name"] for c in configs}) == len(configs)
    assert len({c["storage"] for c in configs}) == len(configs)


def test_values_are_converted_to_options() -> None:
    config = parse_config(GOOD + 'mode = ["triangular"]\n', "x.toml")
    assert config.options["families"] == ("constant", "step")
    assert config.options["ranges"] == {"drop_rate": (0.3, 0.7), "mode": ["triangular"]}
    config = parse_config('initial_lr = "auto"\nfamilies = ["step", "step"]', "x.toml")
    assert config.options == {"initial_lr": "auto", "families": ("step",)}
    config = parse_config("initial_lr = [0.001, 0.5]\n[ranges]\nk = 0.1", "x.toml")
    assert config.options == {"initial_lr": (0.001, 0.5), "ranges": {"k": 0.1}}
    # per optimizer: an inline table or an [initial_lr] table
    text = 'optimizers = ["sgd", "adam"]\ninitial_lr = {adam = [1e-5, 1e-2], sgd = [0.001, 1]}'
    config = parse_config(text, "x.toml")
    assert config.options["initial_lr"] == {"adam": (1e-5, 1e-2), "sgd": (0.001, 1.0)}
    config = parse_config('optimizers = ["adam"]\n[initial_lr]\nadam = [1e-4, 0.01]', "x.toml")
    assert config.options["initial_lr"] == {"adam": (1e-4, 0.01)}


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("epoch = 3", ["unknown key `epoch`", "Did you mean `epochs`?"]),
        ("batch-size = 3", ["unknown key `batch-size`", "Did you mean `batch_size`?"]),
        ("[optimizer]\na = 1", ["unknown key `optimizer`", "Did you mean `optimizers`?"]),
        ('epochs = "ten"', ['key `epochs` must be a whole number >= 1, got "ten"']),
        ("epochs = 0", ["key `epochs` must be a whole number >= 1, got 0"]),
        ("trials = 2.5", ["key `trials` must be a whole number >= 1"]),
        ("trials = true", ["key `trials` must be a whole number >= 1, got true"]),
        ("seed = -1", ["key `seed` must be a whole number >= 0"]),
        ('pruner = "foo"', ['key `pruner` must be one of "median"', '"halving", "none"', '"foo"']),
        ('families = ["nope"]', ["key `families`", '"nope" is not one of them', "time_based"]),
        ('families = ["stpe"]', ["key `families`", "Did you mean `step`?"]),
        ('families = "step"', ["key `families` must be a non-empty list"]),
        ("families = []", ["key `families` must be a non-empty list"]),
        ('optimizers = ["sgdd"]', ["key `optimizers`", "Did you mean `sgd`?"]),
        ("initial_lr = [1.0, 0.1]", ["key `initial_lr` must be [low, high]", '"auto"']),
        ('initial_lr = "best"', ["key `initial_lr`"]),
        ("initial_lr = [0, 0.1]", ["key `initial_lr`"]),
        ("val_fraction = 1.5", ["key `val_fraction` must be a number between 0 and 1"]),
        ("subsample = 1", ["key `subsample` must be a whole number >= 2"]),
        ('schedule_aware_pruning = "yes"', ["key `schedule_aware_pruning` must be true or false"]),
        ('progress = "loud"', ["key `progress`"]),
        ('study_name = ""', ["key `study_name` must be a non-empty string"]),
        ('storage = "studies/x.db"', ["key `storage`", "not a database URL"]),
        ('dataset = "digts"', ["key `dataset`", "Did you mean 'digits'?"]),
        ('model = "nope.py:build"', ["key `model`"]),
        ("ranges = [1, 2]", ["key `ranges` must be a table"]),
        ("[ranges]\nkk = [0.1, 0.5]", ["key `ranges.kk`", "Did you mean `k`?", "momentum"]),
        ("[ranges]\nk = [0.5, 0.1]", ["key `ranges.k` must be [low, high] with low < high"]),
        ("[ranges]\nk = [0.1, 0.1]", ["key `ranges.k` must be [low, high] with low < high"]),
        ("[ranges]\nk = [0.1, 0.2, 0.3]", ["key `ranges.k` must be [low, high]"]),
        ("[ranges]\nk = true", ["key `ranges.k`"]),
        ('[ranges]\nk = ["fast"]', ["key `ranges.k`"]),
        ("[ranges]\nepochs_drop = [1.5, 3]", ["key `ranges.epochs_drop`", "integers"]),
        ("[ranges]\nmomentum = [0.5, 1.5]", ["key `ranges.momentum`", "[0, 1)"]),
        ('[ranges]\nmode = ["triangular", "sine"]', ["key `ranges.mode`", "triangular2"]),
        ("[ranges]\ntrials = 3", ["key `ranges.trials`", "move it above the [ranges] table"]),
        ("initial_lr = 0.01", ["key `initial_lr`", "table of optimizer = [low, high]"]),
        ("initial_lr = {}", ["key `initial_lr`", "adam = [1e-5, 1e-2]"]),
        ("[initial_lr]\nadm = [1e-5, 1e-2]", ["key `initial_lr.adm`", "Did you mean `adam`?"]),
        ("[initial_lr]\nadam = [1e-2, 1e-5]", ["key `initial_lr.adam` must be [low, high]"]),
        ("[initial_lr]\nadam = [0, 1e-2]", ["key `initial_lr.adam`", "[1e-05, 0.1]"]),
        ("[initial_lr]\nadam = 0.001", ["key `initial_lr.adam` must be [low, high]"]),
        ("[initial_lr]\nadam = [1e-5, 1e-2]\ntrials = 3", ["move it above the [initial_lr]"]),
    ],
)
def test_bad_definitions_name_the_file_and_key(text: str, fragments: list[str]) -> None:
    with pytest.raises(UsageError) as info:
        parse_config(text, "studies/x.toml")
    message = str(info.value)
    assert message.startswith("studies/x.toml: ")
    for fragment in fragments:
        assert fragment in message


def test_unparsable_toml_gives_line_and_column() -> None:
    with pytest.raises(UsageError, match=r"studies/x.toml is not valid TOML: .*line 2, column"):
        parse_config("trials = 3\nepochs = ten\n", "studies/x.toml")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_files_are_not_checked_when_only_locating_the_study(tmp_path: Path) -> None:
    text = 'dataset = "gone.csv"\nmodel = "gone.py:build"\nstudy_name = "s"'
    with pytest.raises(UsageError, match="key `dataset`"):
        parse_config(text, "x.toml")
    assert parse_config(text, "x.toml", check_files=False).options["study_name"] == "s"


# --------------------------------------------------------------------------- merging


def test_merge_without_a_file_gives_the_defaults() -> None:
    options = merge(None, _cli())
    assert options == TuneOptions()
    assert options.config_source is None


def test_merge_flags_override_the_file_and_defaults_fill_the_rest() -> None:
    config = parse_config(GOOD, "studies/tiny.toml")
    options = merge(config, _cli(trials=2, families=("cosine",), progress="off"))
    assert options.trials == 2  # the flag
    assert options.families == ("cosine",)
    assert options.epochs == 20  # the file
    assert options.study_name == "tiny"
    assert options.ranges == {"drop_rate": (0.3, 0.7)}
    assert options.batch_size == 64  # the default
    assert options.progress is False
    source = options.config_source
    assert source is not None
    assert source["path"] == "studies/tiny.toml"
    assert source["text"] == GOOD
    assert source["config"] == tomllib.loads(GOOD)
    assert source["overrides"] == {"trials": 2, "families": ["cosine"]}
    json.dumps(source)  # storable as an Optuna user attribute


def test_file_storage_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRSEARCH_STORAGE", "sqlite:///env.db")
    monkeypatch.setenv("LRSEARCH_STUDY_NAME", "env")
    config = parse_config(GOOD, "x.toml")
    assert merge(config, _cli()).storage == "sqlite:///studies/tiny.db"
    assert merge(config, _cli(storage="sqlite:///cli.db")).storage == "sqlite:///cli.db"
    assert merge(parse_config("trials = 1", "x.toml"), _cli()).storage == "sqlite:///env.db"
    assert merge(parse_config("trials = 1", "x.toml"), _cli()).study_name == "env"


def test_merge_names_the_file_when_the_flags_break_it() -> None:
    config = parse_config(GOOD, "studies/tiny.toml")
    pattern = r"Unknown pruner.*\(Options from studies/tiny.toml, overridden .* by --pruner\.\)"
    with pytest.raises(UsageError, match=pattern):
        merge(config, _cli(pruner="foo"))


def test_initial_lr_table_is_checked_against_the_optimizers_after_the_merge() -> None:
    # the file alone names adam without searching it: a flag may still add it
    config = parse_config("[initial_lr]\nadam = [1e-5, 1e-2]", "x.toml")
    options = merge(config, _cli(optimizers=("sgd", "adam")))
    assert options.initial_lr == {"adam": (1e-5, 1e-2)}
    with pytest.raises(UsageError, match=r"'adam', which is not searched.*--optimizers sgd,adam"):
        merge(config, _cli())
    # a flag replaces the file's table as a whole
    config = parse_config(
        'optimizers = ["sgd", "adam"]\ninitial_lr = {adam = [1e-5, 1e-2]}', "x.toml"
    )
    assert merge(config, _cli(initial_lr=(0.001, 0.1))).initial_lr == (0.001, 0.1)
    assert merge(config, _cli(initial_lr={"sgd": (0.01, 1.0)})).initial_lr == {"sgd": (0.01, 1.0)}
    source = merge(config, _cli(initial_lr={"sgd": (0.01, 1.0)})).config_source
    assert source is not None and source["overrides"] == {"initial_lr": {"sgd": [0.01, 1.0]}}


def test_initial_lr_flag_forms() -> None:
    from lrsearch.cli._tune import parse_initial_lr

    def parse(*argv: str) -> Any:
        return parse_initial_lr(_tune_args(*argv).initial_lr)

    assert parse() is None  # not given: the file's value, else each optimizer's default
    assert parse("--initial-lr", "0.001,0.5") == (0.001, 0.5)
    assert parse("--initial-lr", "0.1,1", "--initial-lr", "0.001,0.5") == (0.001, 0.5)  # last
    assert parse("--initial-lr", "AUTO") == "auto"
    assert parse("--initial-lr", "adam=1e-5,1e-2", "--initial-lr", "SGD=1e-3,1") == {
        "adam": (1e-5, 1e-2),
        "sgd": (1e-3, 1.0),
    }
    assert parse("--initial-lr=adam=1e-5,1e-2", "--initial-lr=adam=1e-4,1e-3") == {
        "adam": (1e-4, 1e-3)
    }
    bad = [
        (["adm=1e-5,1e-2"], "unknown optimizer 'adm'"),
        (["adam=1e-2,1e-5"], "low < high"),
        (["adam=0,1e-2"], "positive"),
        (["adam=-1,1e-2"], "positive"),
        (["adam=0.01"], "LOW,HIGH"),
        (["adam=auto"], "--initial-lr auto alone"),
        (["adam=1e-5,1e-2", "0.1,1"], "not both"),
        (["auto", "adam=1e-5,1e-2"], "not both"),
    ]
    for argv, fragment in bad:
        with pytest.raises(UsageError, match=re.escape(fragment)):
            parse(*[f"--initial-lr={a}" for a in argv])


def _tune_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["tune", *argv])


def test_tune_flags_default_to_none_so_the_file_can_set_them() -> None:
    args = vars(_tune_args())
    for name in (
        "trials",
        "epochs",
        "dataset",
        "model",
        "families",
        "optimizers",
        "initial_lr",
        "batch_size",
        "storage",
        "study_name",
        "pruner",
        "seed",
        "workers",
        "val_fraction",
        "subsample",
        "schedule_aware_pruning",
        "progress",
        "config",
    ):
        assert args[name] is None, name
    assert _tune_args("--no-schedule-aware-pruning").schedule_aware_pruning is False


def test_tune_help_still_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _tune_args("--help")
    out = _flat(capsys.readouterr().out)
    for text in (
        "--config FILE",
        "trials to run (20)",
        "batch size (64)",
        "(sgd, nesterov 0.0001,1;",
    ):
        assert text in out


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("epoch = 3", "unknown key `epoch`. Did you mean `epochs`?"),
        ('epochs = "ten"', 'key `epochs` must be a whole number >= 1, got "ten"'),
        ('pruner = "foo"', "key `pruner`"),
        ('families = ["nope"]', "key `families`"),
        ("[ranges]\nkk = [0.1, 0.5]", "key `ranges.kk`"),
        ("[ranges]\nk = [0.5, 0.1]", "key `ranges.k`"),
        ("epochs = = 3", "is not valid TOML"),
        ("[initial_lr]\nadm = [1e-5, 1e-2]", "key `initial_lr.adm`"),
    ],
)
def test_cli_rejects_a_bad_file_before_writing_anything(
    workdir: Path, text: str, key: str
) -> None:
    (workdir / "bad.toml").write_text(f'storage = "sqlite:///studies/bad.db"\n{text}\n')
    proc = run_cli(["tune", "--config", "bad.toml"], cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    message = _flat(proc.stderr)
    assert message.startswith("lrsearch tune: error: bad.toml")
    assert key in message
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.toml"]


def test_cli_missing_file(workdir: Path) -> None:
    for command in ("tune", "best", "export"):
        proc = run_cli([command, "--config", "nope.toml"], cwd=workdir)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "nope.toml does not exist" in _flat(proc.stderr)
    assert list(workdir.iterdir()) == []


def test_cli_bad_flag_on_top_of_a_good_file(workdir: Path) -> None:
    (workdir / "tiny.toml").write_text(GOOD)
    proc = run_cli(["tune", "--config", "tiny.toml", "--families", "nope"], cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "tiny.toml" in _flat(proc.stderr)
    assert sorted(p.name for p in workdir.iterdir()) == ["tiny.toml"]


def _study(workdir: Path, config: dict[str, Any]) -> optuna.Study:
    storage = config["storage"].replace("sqlite:///", f"sqlite:///{workdir}/")
    return optuna.load_study(study_name=config["study_name"], storage=storage)


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_definition_runs_offline_and_records_itself(workdir: Path, name: str) -> None:
    path = STUDIES / name
    text = path.read_text()
    config = tomllib.loads(text)
    args = ["tune", "--config", str(path), "--trials", "2", "--epochs", "2", "--progress", "off"]
    proc = run_cli(args, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # relative storage: under the working directory, as the file says
    assert (workdir / config["storage"].removeprefix("sqlite:///")).exists()

    study = _study(workdir, config)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 2 != config["trials"]  # --trials overrides the file's
    for t in trials:
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert len(t.user_attrs["history"]["val_loss"]) == 2 != config["epochs"]
        assert t.user_attrs["family"] in config["families"]
    recorded = study.user_attrs["config_file"]
    assert recorded["config"] == config
    assert recorded["text"] == text
    assert recorded["path"] == str(path)
    assert recorded["overrides"] == {"trials": 2, "epochs": 2}
    assert study.user_attrs["lrsearch_config"]["dataset"] == config["dataset"]

    best = run_cli(["best", "--config", str(path), "--format", "json"], cwd=workdir)
    assert best.returncode == 0, best.stderr
    summary = json.loads(best.stdout)
    assert summary["family"] in config["families"]
    assert summary["study_name"] == config["study_name"]


@pytest.mark.slow
def test_flags_override_the_file_and_the_study_resumes(workdir: Path) -> None:
    (workdir / "tiny.toml").write_text(
        'study_name = "tiny"\nstorage = "sqlite:///studies/tiny.db"\nfamilies = ["constant"]\n'
        'trials = 30\nepochs = 3\nprogress = "off"\npruner = "none"\n'
    )
    first = run_cli(["tune", "--config", "tiny.toml", "--trials", "1"], cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert "lrsearch best --config tiny.toml" in first.stdout
    second = run_cli(["tune", "--config", "tiny.toml", "--trials", "1"], cwd=workdir)
    assert second.returncode == 0, second.stderr
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{workdir}/studies/tiny.db")
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 2  # the flag's 1 trial per run, not the file's 30; resumed
    for t in trials:
        assert len(t.user_attrs["history"]["val_loss"]) == 3  # the file's epochs

    # best/export find the study through the file; explicit flags still win
    best = run_cli(["best", "--config", "tiny.toml", "--format", "json"], cwd=workdir)
    assert best.returncode == 0, best.stderr
    assert json.loads(best.stdout)["study_name"] == "tiny"
    export = run_cli(["export", "--config", "tiny.toml", "--format", "json"], cwd=workdir)
    assert export.returncode == 0, export.stderr
    assert len(json.loads(export.stdout)) == 2
    other = run_cli(["best", "--config", "tiny.toml", "--study-name", "other"], cwd=workdir)
    assert other.returncode == 2
    assert "There is no study named 'other'" in _flat(other.stderr)
