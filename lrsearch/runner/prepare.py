"""Loading what a trial process needs: the task decided, the data loaded, the model checked."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from lrsearch.runner.options import TuneOptions
from lrsearch.runner.options import check_options


@dataclasses.dataclass
class Prepared:
    """Checked options with the data loaded: what a process needs to run trials."""

    options: TuneOptions
    space: Any
    data: Any


def prepare(o: TuneOptions) -> Prepared:
    """Check the options, load the data and build the model once (to check it) -- no writes."""
    space = check_options(o)
    from lrsearch.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from lrsearch.data import load_dataset
    from lrsearch.models import check_fits

    data = load_dataset(
        o.dataset, val_fraction=o.val_fraction, seed=o.seed, subsample=o.subsample, task=o.task
    )
    check_fits(o.model, data, o.seed)
    return Prepared(o, space, data)


def resolve_task(o: TuneOptions) -> TuneOptions:
    """``o`` with ``task`` decided (never ``auto``); says what ``auto`` decided on stderr.

    Named datasets have their own task; a file's target is read (no TensorFlow) and
    :func:`lrsearch.tasks.detect_task` decides. The decision is one line with the flag that
    overrides it; a named dataset's task is its own and goes unsaid.
    """
    from lrsearch.data import check_task_for
    from lrsearch.data import load_dataset

    task = check_task_for(o.dataset, o.task)
    if task != "auto":  # a named dataset's own task: nothing was guessed, nothing to say
        return dataclasses.replace(o, task=task)
    data = load_dataset(o.dataset, val_fraction=o.val_fraction, seed=o.seed, subsample=o.subsample)
    other = "regression" if data.task == "classification" else "classification"
    print(
        f"lrsearch tune: task: {data.task} ({data.task_reason}); pass --task {other} to override.",
        file=sys.stderr,
    )
    return dataclasses.replace(o, task=data.task)
