"""The options of ``lrsearch tune`` and their checks (nothing here needs data or writes).

:class:`TuneOptions` is everything ``lrsearch tune`` takes; :func:`check_options` validates all
that can be validated without loading data and returns the :class:`~lrsearch.SearchSpace`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lrsearch.checks import check_whole
from lrsearch.checks import did_you_mean
from lrsearch.errors import UsageError
from lrsearch.pruners import PRUNERS
from lrsearch.storage import default_storage
from lrsearch.storage import default_study_name
from lrsearch.storage import normalize_url


@dataclasses.dataclass
class TuneOptions:
    """Everything ``lrsearch tune`` takes (see ``lrsearch tune --help``)."""

    trials: int = 20
    epochs: int = 20
    dataset: str = "digits"
    model: str = "mlp"
    task: str = "auto"
    families: tuple[str, ...] | None = None
    optimizers: tuple[str, ...] = ("sgd",)
    #: None: each optimizer's default range; (low, high): every optimizer; {optimizer: (low,
    #: high)}: those optimizers (the others keep their defaults); "auto": the range test's bands
    initial_lr: tuple[float, float] | str | dict[str, Any] | None = None
    batch_size: int = 64
    storage: str = dataclasses.field(default_factory=default_storage)
    study_name: str = dataclasses.field(default_factory=default_study_name)
    #: successive halving: by bench_search.py, as good a best val_loss as the median pruner
    #: for about half the epochs
    pruner: str = "halving"
    seed: int = 0
    workers: int = 1
    val_fraction: float = 0.2
    subsample: int | None = None
    ranges: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: draw a linear warm-up on every family without one of its own (SearchSpace(warmup=...))
    warmup: bool = False
    #: "epoch": the rate changes once per epoch; "step": every step, at the fractional epoch
    granularity: str = "epoch"
    schedule_aware_pruning: bool = True
    progress: bool | None = None
    #: the folder of the trials' pictures (None: $LRSEARCH_ARTIFACT_DIR, else beside a
    #: SQLite study file; see :func:`lrsearch.dashboard.artifact_dir_for`)
    artifact_dir: str | None = None
    config_source: dict[str, Any] | None = None

    def search_space(self, initial_lr: Any) -> Any:
        """The :class:`~lrsearch.SearchSpace` of these options with ``initial_lr`` (unchecked:
        ``ValueError`` as the space raises it)."""
        from lrsearch.space import SearchSpace

        return SearchSpace(
            families=self.families,
            initial_lr=initial_lr,
            optimizers=self.optimizers,
            epochs=self.epochs,
            warmup=self.warmup,
            granularity=self.granularity,
            **self.ranges,
        )

    def identity(self) -> dict[str, Any]:
        """What defines the study's experiment (stored in the study, compared on resume).

        ``task`` is the decided one (:func:`lrsearch.runner.prepare.resolve_task`), never
        ``auto``. ``granularity``: per-epoch and per-step trials are not comparable.
        """
        return {
            "dataset": self.dataset,
            "model": self.model,
            "task": self.task,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "val_fraction": self.val_fraction,
            "subsample": self.subsample,
            "granularity": self.granularity,
        }


@dataclasses.dataclass
class TuneResult:
    """What a ``tune`` run did."""

    storage: str
    study_name: str
    trials_run: int
    states: dict[str, int]
    best: dict[str, Any] | None


def check_options(o: TuneOptions) -> Any:
    """Validate every option that needs no data; return the :class:`SearchSpace`.

    Raises:
        UsageError: the first problem found, in one paragraph with its fix.
    """

    for flag, value in (
        ("trials", o.trials),
        ("epochs", o.epochs),
        ("batch-size", o.batch_size),
        ("workers", o.workers),
    ):
        check_whole(flag, value, minimum=1)
    from lrsearch.data import MAX_SEED

    if isinstance(o.seed, bool) or not isinstance(o.seed, int) or not 0 <= o.seed <= MAX_SEED:
        raise UsageError(
            f"--seed must be a whole number from 0 to {MAX_SEED} (received {o.seed!r})."
        )
    if o.granularity not in ("epoch", "step"):
        raise UsageError(
            f"--granularity must be epoch or step (received {o.granularity!r}): epoch changes "
            "the learning rate once per epoch, step every step at the fractional epoch."
        )
    if not isinstance(o.warmup, bool):
        raise UsageError(f"warmup must be true or false (received {o.warmup!r}).")
    if o.pruner not in PRUNERS:
        hint = did_you_mean(str(o.pruner), PRUNERS)
        raise UsageError(
            f"Unknown pruner {o.pruner!r}.{hint} Use one of {', '.join(PRUNERS)} (--pruner median "
            "stops trials whose val_loss is worse than the median of earlier trials at the same "
            "epoch)."
        )
    if isinstance(o.initial_lr, str):
        if o.initial_lr != "auto":
            raise UsageError(
                f"--initial-lr must be LOW,HIGH (two positive numbers, low < high), "
                f"OPTIMIZER=LOW,HIGH or 'auto'; received {o.initial_lr!r}."
            )
        lr_range: Any = None  # checked with the defaults; the range test sets the bands
    else:
        lr_range = o.initial_lr
    try:
        space = o.search_space(lr_range)
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith("Argument `initial_lr") and "not searched" in msg:
            named = list(lr_range) if isinstance(lr_range, dict) else []
            wanted = ",".join(dict.fromkeys([*o.optimizers, *named]))
            msg = (
                msg.split(" Add ")[0] + f" Add it to --optimizers (e.g. --optimizers {wanted}), "
                "or drop its --initial-lr OPTIMIZER=LOW,HIGH."
            )
        elif msg.startswith("Argument `initial_lr"):
            msg += (
                " Pass --initial-lr as LOW,HIGH (every optimizer) or OPTIMIZER=LOW,HIGH (repeat "
                "it per optimizer), e.g. --initial-lr adam=1e-5,1e-2 --initial-lr sgd=1e-3,1."
            )
        elif "family" in msg:
            msg += " Pass --families as a comma-separated list of those names."
        elif "optimizer" in msg:
            msg += " Pass --optimizers as a comma-separated list of those names."
        raise UsageError(msg) from None
    normalize_url(o.storage)
    if not isinstance(o.study_name, str) or not o.study_name.strip():
        raise UsageError("--study-name must not be empty. Pass e.g. --study-name digits-mlp.")
    # Cheap name/path checks now, so a typo fails before TensorFlow loads (a FILE.py:FUNC
    # model is checked when built: importing the file loads Keras).
    from lrsearch.data import check_dataset
    from lrsearch.models import check_model

    check_dataset(o.dataset)
    from lrsearch.data import check_task_for

    check_task_for(o.dataset, o.task)
    if not (isinstance(o.model, str) and ".py:" in o.model.lower()):
        check_model(o.model)
    return space
