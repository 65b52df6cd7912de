"""Chaos run: ``lrsearch tune`` stopped at random, again and again, on SQLite and PostgreSQL.

Each try starts ``lrsearch tune`` (one or two workers) on one study and, after a random delay,
does one of: Ctrl-C to the process group, SIGTERM to the parent (``timeout``, Kubernetes),
SIGTERM to the group (Slurm), ``kill -9`` of the parent, ``kill -9`` of a worker, or nothing.
After every try it checks: an exit status as documented (0, 1, 2, 130, 143; -9 for the parent
killed outright), no traceback on stderr, no process of the run left, and no finished trial
changed or vanished. A final run then must leave no trial RUNNING, and every trial a kill
failed has exactly one retry with its parameters (``failed_trial`` / ``retry_history``).

    python tests/chaos.py --seconds 90 [--postgres postgresql://user:pw@host/db]

Prints its counts (tries, kills, retried, lost) and exits 1 on any violation. ``.ci/run``
runs it against a SQLite file and the PostgreSQL server it starts.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import group_gone  # tests/ is on the path: run as python tests/chaos.py

EXPECTED = {  # action -> exit statuses it may end with (0: the run finished first)
    "ctrl-c": {130, 0},
    "sigterm-parent": {143, 0},
    "sigterm-group": {143, 0},
    "kill-parent": {-9, 0},
    "kill-worker": {1, 0},
    "none": {0},
}


def _lrsearch() -> str:
    candidate = Path(sys.executable).parent / "lrsearch"
    return str(candidate) if candidate.exists() else "lrsearch"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LRSEARCH_")}
    env.update(
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONUNBUFFERED="1",
        LRSEARCH_HEARTBEAT_INTERVAL="1",  # a killed trial is stale after 3 s
    )
    return env


def _workers(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spawn_main" in cmd:
                pids.append(int(entry.name))
    return pids


def _trials(storage: str, name: str) -> list[Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    from lrsearch.storage import open_storage

    try:
        return optuna.load_study(
            study_name=name, storage=open_storage(storage, create=False)
        ).get_trials()
    except Exception:  # not created yet
        return []


def _finished(trials: list[Any]) -> dict[int, tuple[Any, ...]]:
    return {
        t.number: (t.state.name, t.value, sorted(t.params.items()), t.intermediate_values)
        for t in trials
        if t.state.name in ("COMPLETE", "PRUNED")
    }


class Chaos:
    def __init__(self, storage: str, rng: random.Random) -> None:
        self.storage, self.rng = storage, rng
        self.name = f"chaos-{uuid.uuid4().hex[:8]}"
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []
        self.snapshot: dict[int, tuple[Any, ...]] = {}

    def _args(self, trials: int, workers: int) -> list[str]:
        return [
            _lrsearch(), "tune", "--storage", self.storage, "--study-name", self.name,
            "--trials", str(trials), "--epochs", "3", "--workers", str(workers),
            "--families", "constant,step,exponential", "--progress", "off",
        ]  # fmt: skip

    def _check(self, label: str, code: int, err: str, allowed: set[int]) -> None:
        if code not in allowed:
            self.problems.append(f"{label}: exit {code}, expected {sorted(allowed)}: {err[-600:]}")
        if "Traceback" in err:
            self.problems.append(f"{label}: traceback on stderr: {err[-1500:]}")
        now = _finished(_trials(self.storage, self.name))
        for number, old in self.snapshot.items():
            if now.get(number) != old:
                self.counts["lost"] += 1
                self.problems.append(f"{label}: finished trial {number} changed or vanished")
        self.snapshot.update(now)
        if os.environ.get("CHAOS_DEBUG"):
            for t in _trials(self.storage, self.name):
                print(label, t.number, t.state.name, sorted(t.user_attrs), t.system_attrs)

    def _wait_running(self, proc: subprocess.Popen[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if any(t.state.name == "RUNNING" for t in _trials(self.storage, self.name)):
                return
            time.sleep(0.5)

    def one_try(self, cwd: Path) -> None:
        workers = self.rng.choice([1, 2])
        actions = ["ctrl-c", "sigterm-parent", "sigterm-group", "kill-parent", "none"]
        action = self.rng.choice(actions + (["kill-worker"] * 2 if workers == 2 else []))
        proc = subprocess.Popen(
            self._args(2, workers), cwd=cwd, env=_env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        if self.rng.random() < 0.2:
            time.sleep(self.rng.uniform(0.5, 6.0))  # while it starts (imports TensorFlow)
        else:
            self._wait_running(proc)
            time.sleep(self.rng.uniform(0.0, 3.0))  # while a trial trains
        if proc.poll() is None and action != "none":
            self.counts["kills"] += 1
            if action == "ctrl-c":
                os.killpg(proc.pid, signal.SIGINT)
            elif action == "sigterm-parent":
                proc.send_signal(signal.SIGTERM)
            elif action == "sigterm-group":
                os.killpg(proc.pid, signal.SIGTERM)
            elif action == "kill-parent":
                proc.kill()
            elif action == "kill-worker":
                pids = _workers(proc.pid)
                if pids:
                    os.kill(self.rng.choice(pids), signal.SIGKILL)
        try:
            _, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
            self.problems.append(f"{action}: still running after 300 s")
        self.counts["tries"] += 1
        self.counts[action] += 1
        if not group_gone(proc.pid, timeout=30):
            self.problems.append(f"{action}: processes of the run were left behind")
            os.killpg(proc.pid, signal.SIGKILL)
        self._check(f"try {self.counts['tries']} ({action}, {workers} worker(s))",
                    proc.returncode, err, EXPECTED[action])  # fmt: skip

    def final(self, cwd: Path) -> None:
        time.sleep(4)  # heartbeats of trials killed outright go stale (grace 3 s)
        waiting = sum(t.state.name == "WAITING" for t in _trials(self.storage, self.name))
        run = subprocess.run(
            self._args(waiting + 1, 1), cwd=cwd, env=_env(), capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip
        self._check("final run", run.returncode, run.stderr, {0})
        trials = _trials(self.storage, self.name)
        running = [t.number for t in trials if t.state.name == "RUNNING"]
        if running:
            self.problems.append(f"trials left RUNNING after the final run: {running}")
        by_parent: Counter[int] = Counter(
            t.system_attrs["retry_history"][-1]
            for t in trials
            if "retry_history" in t.system_attrs
        )
        params = {t.number: t.params for t in trials}
        for t in trials:
            if t.state.name != "FAIL":
                continue
            if len(t.system_attrs.get("retry_history", [])) >= 3:
                continue  # retried as often as allowed (max_retry=3)
            if by_parent[t.number] != 1:
                self.problems.append(f"failed trial {t.number} retried {by_parent[t.number]}x")
            else:
                self.counts["retried"] += 1
        for t in trials:
            parent = t.system_attrs.get("retry_history", [None])[-1]
            drawn = params.get(parent, {})  # a trial killed while drawing has fewer
            if parent is not None and any(t.params.get(k) != v for k, v in drawn.items()):
                self.problems.append(f"retry {t.number} has other parameters than {parent}")


def main() -> int:
    import warnings

    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90, help="chaos time per storage")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL to run on as well")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    failed = False
    with tempfile.TemporaryDirectory(prefix="lrsearch-chaos-") as tmp:
        storages = [f"sqlite:///{tmp}/chaos.db"] + ([args.postgres] if args.postgres else [])
        for storage in storages:
            chaos = Chaos(storage, rng)
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                chaos.one_try(Path(tmp))
            chaos.final(Path(tmp))
            c = chaos.counts
            kinds = ", ".join(f"{k} {c[k]}" for k in EXPECTED if c[k])
            backend = storage.split(":", 1)[0]
            print(
                f"chaos ({backend}, seed {seed}): tries {c['tries']} ({kinds}), kills "
                f"{c['kills']}, retried {c['retried']}, lost {c['lost']}, "
                f"problems {len(chaos.problems)}"
            )
            for problem in chaos.problems:
                print(f"  - {problem}")
            failed = failed or bool(chaos.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
