"""Several machines on one PostgreSQL study: two ``lrsearch tune`` commands at once.

Needs a server: set ``LRSEARCH_TEST_POSTGRES_URL`` (``.ci/run`` starts one and sets it to
``postgresql://lrsearch:lrsearch@127.0.0.1:5432/lrsearch``). Each test works in a database of
its own, created for it and dropped afterwards when the user may create databases (so the
first runs also race to create Optuna's tables, as machines starting together do), else in a
study of its own (a fresh uuid) in the given database.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from conftest import cli_env
from conftest import lrsearch_binary
from conftest import run_cli

ENV = "LRSEARCH_TEST_POSTGRES_URL"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get(ENV),
        reason=f"no PostgreSQL server: set {ENV}=postgresql://user:password@host:5432/dbname "
        "(.ci/run starts one and sets it)",
    ),
]


def _driver_url(url: str) -> str:
    """The URL as lrsearch opens it (psycopg 3 when psycopg2 is missing)."""
    from lrsearch.storage import normalize_url

    return normalize_url(url)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL with no lrsearch tables yet, where possible."""
    import sqlalchemy
    from sqlalchemy.engine import make_url

    base = os.environ[ENV]
    name = f"lrsearch_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(_driver_url(base), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.DBAPIError:  # no CREATEDB right: share the given database
        admin.dispose()
        yield base
        return
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_two_machines_share_one_postgres_study(pg_url: str, tmp_path: Path) -> None:
    study_name = f"pg-{uuid.uuid4()}"
    where = ["--storage", pg_url, "--study-name", study_name]
    args = ["tune", *where, "--trials", "3", "--epochs", "2", "--progress", "off"]
    machines = []
    for seed in (1, 2):  # two "machines": separate working directories, one server
        cwd = tmp_path / f"machine{seed}"
        cwd.mkdir()
        machines.append(
            subprocess.Popen(
                [lrsearch_binary(), *args, "--seed", str(seed)],
                cwd=cwd,
                env=cli_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=900) for p in machines]
    for p, (out, err) in zip(machines, outputs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err, err
        assert "Ran 3 trials" in out, out
    for seed in (1, 2):  # nothing written locally: the study lives on the server
        assert not (tmp_path / f"machine{seed}" / "studies").exists()

    try:
        study = optuna.load_study(study_name=study_name, storage=_driver_url(pg_url))
        trials = study.get_trials()
        assert len(trials) == 6
        assert sorted(t.number for t in trials) == list(range(6))  # each counted once
        for t in trials:
            assert t.state in (
                optuna.trial.TrialState.COMPLETE,
                optuna.trial.TrialState.PRUNED,
            ), (t.number, t.state, t.user_attrs.get("error"))
            assert t.user_attrs["family"] == t.params["family"]

        result = run_cli(["best", "--format", "json", *where], cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr
        best = json.loads(result.stdout)
        assert best["trial"] == study.best_trial.number
        assert best["value"] == pytest.approx(study.best_value)
        assert best["family"] == study.best_trial.params["family"]

        result = run_cli(["export", "--format", "json", *where], cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr
        assert sorted(r["number"] for r in json.loads(result.stdout)) == list(range(6))
    finally:
        if study_name in optuna.get_all_study_names(_driver_url(pg_url)):
            optuna.delete_study(study_name=study_name, storage=_driver_url(pg_url))


def test_best_of_a_missing_postgres_study_is_a_usage_error(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    url = os.environ[ENV]
    missing = f"pg-missing-{uuid.uuid4()}"
    result = run_cli(["best", "--storage", url, "--study-name", missing], cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    message = " ".join(result.stderr.split())
    assert f"no study named '{missing}'" in message
    password = make_url(url).password
    if password:
        assert f":{password}@" not in message  # the password is masked in messages
    assert missing not in optuna.get_all_study_names(_driver_url(url))
