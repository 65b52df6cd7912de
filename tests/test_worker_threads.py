"""``--workers N``: each worker process runs TensorFlow with its share of the cores."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import pytest

from lrsearch.runner.workers import THREAD_VARIABLES
from lrsearch.runner.workers import cores_per_worker
from lrsearch.runner.workers import share_cores
from lrsearch.runner.workers import thread_environment


def _report(workers: int, queue: Any) -> None:
    """In a spawned worker: start TensorFlow as a worker does, report what it got."""
    share_cores(workers)
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # the runtime and its thread pools are up
    env = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    queue.put((env, len(os.listdir("/proc/self/task"))))


def _spawn_and_report(workers: int) -> tuple[dict[str, str | None], int]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_report, args=(workers, queue))
    with thread_environment(workers):
        proc.start()
    result = queue.get(timeout=180)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    return result


def test_cores_per_worker_shares_the_machine() -> None:
    cores = os.cpu_count() or 1
    assert cores_per_worker(1) == cores
    assert cores_per_worker(cores) == 1
    assert cores_per_worker(cores * 4) == 1  # never zero threads


def test_thread_environment_sets_only_unset_variables_and_restores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # the user's own choice wins
    with thread_environment(2):
        assert os.environ["TF_NUM_INTRAOP_THREADS"] == str(cores_per_worker(2))
        assert os.environ["MKL_NUM_THREADS"] == str(cores_per_worker(2))
        assert os.environ["OMP_NUM_THREADS"] == "7"
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ  # the parent is left as it was
    assert "MKL_NUM_THREADS" not in os.environ
    assert os.environ["OMP_NUM_THREADS"] == "7"


@pytest.mark.skipif(
    not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2,
    reason="needs Linux /proc and at least 2 cores",
)
def test_two_workers_each_start_fewer_tensorflow_threads_than_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    alone_env, alone_threads = _spawn_and_report(1)
    shared_env, shared_threads = _spawn_and_report(2)
    assert shared_env["TF_NUM_INTRAOP_THREADS"] == str(cores_per_worker(2))
    assert shared_env["TF_NUM_INTEROP_THREADS"] == str(cores_per_worker(2))
    assert alone_env["TF_NUM_INTRAOP_THREADS"] == str(cores_per_worker(1))
    # TensorFlow read the variables when its runtime started: its pools are smaller
    assert shared_threads < alone_threads, (shared_threads, alone_threads)
