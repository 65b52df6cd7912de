"""Bad input to the installed ``lrsearch`` binary: exit 2, one paragraph, no traceback, no writes.

Most cases fail before TensorFlow is imported (a second each); the data- and model-file cases
load data or import the user's file first (a few seconds each).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli

USER_FILES = {
    # a zip archive it is not
    "garbage.npz": b"this is not an npz archive\n",
    # an npz with the wrong keys
    "wrong_keys.npz": None,  # written by the fixture with numpy
    # a csv whose features are not numbers
    "text.csv": b"colour,shape,label\nred,round,a\nblue,square,b\ngreen,round,a\n",
    # a csv that is binary noise
    "noise.csv": bytes(range(256)) * 4,
    # a model file whose function returns something else than a keras.Model
    "not_a_model.py": b"def build(input_shape, n_classes):\n    return 42\n",
    # a model file that fails to import
    "broken.py": b"import this_module_does_not_exist_anywhere\n",
}


@pytest.fixture
def baddir(workdir: Path) -> Path:
    """The working directory with the bad user files of :data:`USER_FILES` in it."""
    import numpy as np

    for name, content in USER_FILES.items():
        if content is None:
            np.savez(workdir / name, features=np.zeros((10, 3)), labels=np.zeros(10))
        else:
            (workdir / name).write_bytes(content)
    return workdir


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")}


def _error_paragraph(stderr: str, command: str) -> str:
    """The ``lrsearch COMMAND: error: ...`` paragraph: all of stderr (no TensorFlow chatter,
    no usage block, no other line before it)."""
    marker = f"lrsearch {command}: error:"
    paragraph = stderr.strip()
    assert paragraph.startswith(marker), stderr
    assert "\n\n" not in paragraph, paragraph  # one paragraph
    return " ".join(paragraph.split())


@pytest.mark.parametrize(
    ("args", "command", "expected"),
    [
        (["tune", "--trials", "abc"], "tune", ("--trials", "'abc'", "lrsearch tune --help")),
        (["tune", "--bogus", "x"], "tune", ("unrecognized", "--bogus", "lrsearch tune --help")),
        (["best", "--format", "xml"], "best", ("--format", "'xml'", "json")),
        (["compare"], "compare", ("--out", "required")),
    ],
)
def test_argparse_errors_are_one_paragraph(
    workdir: Path, args: list[str], command: str, expected: tuple[str, ...]
) -> None:
    _check_rejected(workdir, args, command, expected)


def _check_rejected(
    workdir: Path, args: list[str], command: str, expected: tuple[str, ...]
) -> None:
    before = _files(workdir)
    result = run_cli(args, cwd=workdir, timeout=300)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    message = _error_paragraph(result.stderr, command)
    for word in expected:
        assert word.lower() in message.lower(), (word, message)
    assert not (workdir / "studies").exists()
    assert _files(workdir) == before  # nothing written, no database created


TUNE = ["tune", "--trials", "1", "--epochs", "1", "--progress", "off"]

TUNE_CASES = [
    ("family", ["--families", "step,nope"], ("family", "'nope'", "--families")),
    ("optimizer", ["--optimizers", "sgd,nadam2"], ("optimizer", "'nadam2'")),
    ("dataset", ["--dataset", "digts"], ("dataset", "digts", "digits")),
    ("model", ["--model", "resnet9000"], ("model", "resnet9000", "mlp")),
    ("pruner", ["--pruner", "sometimes"], ("pruner", "sometimes", "median")),
    ("trials-zero", ["--trials", "0"], ("--trials", ">= 1")),
    ("trials-negative", ["--trials", "-3"], ("--trials", "-3")),
    ("epochs-zero", ["--epochs", "0"], ("--epochs", ">= 1")),
    ("epochs-negative", ["--epochs", "-1"], ("--epochs", "-1")),
    ("workers-zero", ["--workers", "0"], ("--workers", ">= 1")),
    ("workers-negative", ["--workers", "-2"], ("--workers", "-2")),
    ("lr-reversed", ["--initial-lr", "1,0.1"], ("--initial-lr", "low < high")),
    ("lr-text", ["--initial-lr", "abc"], ("--initial-lr", "'abc'")),
    ("lr-negative", ["--initial-lr", "-1,1"], ("--initial-lr", "positive")),
    ("lr-negative-equals", ["--initial-lr=-1,1"], ("--initial-lr", "positive")),
    ("lr-one-number", ["--initial-lr", "0.1"], ("--initial-lr",)),
    ("lr-zero", ["--initial-lr", "0,1"], ("--initial-lr", "positive")),
    ("data-missing", ["--dataset", "missing.csv"], ("missing.csv", "does not exist")),
    ("data-missing-npz", ["--dataset", "nowhere/x.npz"], ("x.npz", "does not exist")),
    ("data-bad-npz", ["--dataset", "garbage.npz"], ("garbage.npz", ".npz")),
    ("data-npz-keys", ["--dataset", "wrong_keys.npz"], ("wrong_keys.npz", "'x'")),
    ("data-csv-text", ["--dataset", "text.csv"], ("text.csv", "numeric")),
    ("data-csv-noise", ["--dataset", "noise.csv"], ("noise.csv",)),
    ("data-type", ["--dataset", "data.parquet"], ("data.parquet", ".npz", ".csv")),
    ("model-file-missing", ["--model", "nowhere.py:build"], ("nowhere.py", "does not exist")),
    ("model-func-missing", ["--model", "not_a_model.py:make"], ("not_a_model.py", "'make'")),
    ("model-not-a-model", ["--model", "not_a_model.py:build"], ("keras.Model", "int")),
    ("model-import-fails", ["--model", "broken.py:build"], ("broken.py", "import")),
    ("model-no-func", ["--model", "not_a_model.py"], ("not_a_model.py", ":build")),
    ("storage-not-url", ["--storage", "notaurl"], ("notaurl", "url")),
    ("storage-unknown", ["--storage", "foo://bar"], ("foo://bar", "sqlite")),
    ("storage-memory", ["--storage", "sqlite://"], ("in-memory",)),
    ("study-name-empty", ["--study-name", " "], ("--study-name",)),
]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [pytest.param(extra, expected, id=name) for name, extra, expected in TUNE_CASES],
)
def test_tune_rejects_bad_input(baddir: Path, extra: list[str], expected: tuple[str, ...]) -> None:
    _check_rejected(baddir, [*TUNE, *extra], "tune", expected)


WORKER_CASES = [
    ("data-bad-npz", ["--dataset", "garbage.npz"], ("garbage.npz", ".npz")),
    ("model-not-a-model", ["--model", "not_a_model.py:build"], ("keras.Model", "int")),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "expected"),
    [pytest.param(extra, expected, id=name) for name, extra, expected in WORKER_CASES],
)
def test_tune_with_workers_rejects_what_the_workers_find(
    baddir: Path, extra: list[str], expected: tuple[str, ...]
) -> None:
    # with --workers 2 the data and the model are loaded by the workers, not the parent: the
    # error still comes once, as one paragraph, exit 2, before anything is written
    args = [*TUNE, "--workers", "2", *extra]
    _check_rejected(baddir, args, "tune", expected)
    result = run_cli(args, cwd=baddir, timeout=300)
    assert result.stderr.count("error:") == 1, result.stderr


@pytest.mark.parametrize("command", ["best", "export"])
def test_reading_commands_never_create_a_database(workdir: Path, command: str) -> None:
    # default storage: studies/lrsearch.db does not exist
    _check_rejected(workdir, [command], command, ("no study database", "lrsearch tune"))
    # an explicit one in a folder that does not exist either
    _check_rejected(
        workdir,
        [command, "--storage", "sqlite:///elsewhere/none.db"],
        command,
        ("no study database", "none.db"),
    )
    assert not (workdir / "elsewhere").exists()


@pytest.mark.parametrize("command", ["best", "export"])
def test_reading_commands_reject_an_unknown_study(workdir: Path, command: str) -> None:
    import optuna

    db = workdir / "studies" / "lrsearch.db"
    db.parent.mkdir()
    optuna.create_study(storage=f"sqlite:///{db}", study_name="digits-mlp")
    result = run_cli([command, "--study-name", "nope"], cwd=workdir, timeout=300)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    message = _error_paragraph(result.stderr, command)
    assert "'nope'" in message and "'digits-mlp'" in message  # names the studies there
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT study_name FROM studies")]
    assert names == ["digits-mlp"]  # no study created


def test_best_of_a_study_without_finished_trials(workdir: Path) -> None:
    import optuna

    db = workdir / "studies" / "lrsearch.db"
    db.parent.mkdir()
    study = optuna.create_study(storage=f"sqlite:///{db}", study_name="lrsearch")
    study.ask()  # one RUNNING trial, none finished
    result = run_cli(["best"], cwd=workdir, timeout=300)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "no finished trial" in _error_paragraph(result.stderr, "best")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--model", "not_a_model.py:build"], ("keras.Model", "int")),
        (["--model", "broken.py:build"], ("broken.py", "import")),
    ],
)
def test_find_lr_rejects_a_bad_model_file_without_tensorflow_chatter(
    baddir: Path, extra: list[str], expected: tuple[str, ...]
) -> None:
    args = ["find-lr", "--dataset", "iris", "--num-steps", "10", *extra]
    _check_rejected(baddir, args, "find-lr", expected)
