"""``compare()``: every contender trained on the same seeds, data split and budget."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from lrsearch.checks import check_whole
from lrsearch.checks import diverged_key
from lrsearch.checks import finite_or_none
from lrsearch.compare._contenders import CompareEntry
from lrsearch.compare._contenders import article_entries
from lrsearch.compare._contenders import study_entries
from lrsearch.compare._results import CompareResult
from lrsearch.compare._results import FamilyResult
from lrsearch.compare._results import RunResult
from lrsearch.errors import UsageError
from lrsearch.tasks import HISTORY_METRICS

#: epochs per run of the articles' settings when neither ``epochs`` nor a study says
DEFAULT_EPOCHS = 20


@dataclasses.dataclass(frozen=True)
class RunProgress:
    """Passed to ``on_run`` after each training run."""

    index: int
    total: int
    run: RunResult


def _positive(name: str, value: Any) -> int:
    return check_whole(name, value, minimum=1, example=3)


def _stop_on_nan() -> Any:
    import keras

    class StopOnNaN(keras.callbacks.Callback):
        """Stops at the end of an epoch whose loss is NaN or infinite (a diverged run)."""

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if diverged_key(logs) is not None:
                self.model.stop_training = True

    return StopOnNaN()


def _clean(history: dict[str, list[Any]]) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {}
    for key in ("learning_rate", "loss", "val_loss", *HISTORY_METRICS):
        if key not in history:
            continue
        out[key] = [finite_or_none(v) for v in history[key]]
    return out


def _carried(entry: CompareEntry, epochs: int) -> CompareEntry:
    """``entry`` for a budget of ``epochs``: its spec carried there with
    :meth:`ScheduleSpec.for_epochs` when its own budget is known (the spec's ``epochs``, else
    the epochs its trial ran), else unchanged."""
    spec = entry.spec
    if spec.epochs is None and entry.epochs is not None:
        spec = dataclasses.replace(spec, epochs=entry.epochs)
    if spec.epochs is None or spec.epochs == epochs:
        return dataclasses.replace(entry, epochs=None)
    source = f"{entry.source}, carried from {spec.epochs} to {epochs} epochs"
    return dataclasses.replace(entry, spec=spec.for_epochs(epochs), source=source, epochs=None)


def compare(
    families: Sequence[str] | None = None,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    entries: Sequence[CompareEntry] | None = None,
    seeds: int = 3,
    epochs: int | None = None,
    dataset: str | None = None,
    model: str | None = None,
    batch_size: int | None = None,
    subsample: int | None = None,
    val_fraction: float | None = None,
    task: str | None = None,
    seed: int = 0,
    on_run: Callable[[RunProgress], None] | None = None,
) -> CompareResult:
    """Train every contender ``seeds`` times on the same seeds and budget (module docstring).

    Exactly one of ``families`` (the articles' settings), ``storage`` + ``study_name`` (each
    family's best trial) or ``entries`` (your own specs) says what to compare. ``dataset``,
    ``model``, ``task``, ``batch_size``, ``subsample`` and ``val_fraction`` default to the
    study's (``digits``, ``mlp``, ``auto``, 64 without a study). ``epochs``: the same budget
    for every family, each spec whose own budget is known (a study's trials, a spec with
    ``epochs``) carried to it first (:meth:`ScheduleSpec.for_epochs`: tune short, train long);
    by default each study family trains for as many epochs as its trial ran (20 for the
    articles' settings). The data split is drawn once with ``seed``; run ``i`` of
    every family uses model seed ``seed + i``.

    Raises:
        UsageError: both or neither of a study and families, an unknown family, ``seeds`` or
            ``epochs`` < 1, a study with nothing finished, a bad dataset or model.
    """
    given = [
        families is not None,
        storage is not None or study_name is not None,
        entries is not None,
    ]
    if sum(given) > 1:
        raise UsageError(
            "Compare either the best trials of a study (--storage/--study-name) "
            "or the articles' settings (--families), not both."
        )
    if sum(given) == 0:
        raise UsageError(
            "Nothing to compare: pass --families (the articles' settings of those "
            "families) or a study (--storage and --study-name)."
        )
    _positive("seeds", seeds)
    config: dict[str, Any] = {}
    name: str | None = None
    contenders: list[CompareEntry] = list(entries or [])
    if storage is not None or study_name is not None:
        from lrsearch.storage import default_storage
        from lrsearch.storage import default_study_name
        from lrsearch.storage import load_study

        study = load_study(storage or default_storage(), study_name or default_study_name())
        name = study.study_name
        stored = study.user_attrs.get("lrsearch_config")
        config = stored if isinstance(stored, dict) else {}
        contenders = study_entries(study)
    if epochs is not None:
        _positive("epochs", epochs)
        contenders = [_carried(e, epochs) for e in contenders]
    else:
        budgets = [e.epochs for e in contenders if e.epochs is not None]
        epochs = max(budgets) if budgets else int(config.get("epochs") or DEFAULT_EPOCHS)
    epochs = _positive("epochs", epochs)
    batch_size = _positive(
        "batch-size", batch_size if batch_size is not None else int(config.get("batch_size") or 64)
    )
    if families is not None:
        contenders = article_entries(list(families), epochs)
    if not contenders:
        raise UsageError("Nothing to compare: `entries` is empty.")
    dataset = dataset or str(config.get("dataset") or "digits")
    model = model or str(config.get("model") or "mlp")
    if subsample is None:
        subsample = config.get("subsample")
    if val_fraction is None:
        val_fraction = float(config.get("val_fraction") or 0.2)

    if task is None:
        task = str(config.get("task") or "auto")
    from lrsearch.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()  # before the model check imports it (start-up chatter)
    from lrsearch.data import load_dataset
    from lrsearch.models import check_fits
    from lrsearch.training import Trainer

    data = load_dataset(
        dataset, val_fraction=val_fraction, seed=seed, subsample=subsample, task=task
    )
    import keras

    check_fits(model, data, seed)
    trainer = Trainer(data, model, batch_size=batch_size)
    seed_list = [seed + i for i in range(seeds)]
    total = len(contenders) * len(seed_list)
    results: list[FamilyResult] = []
    index = 0
    for entry in contenders:
        runs: list[RunResult] = []
        for s in seed_list:
            start = time.monotonic()
            history = trainer.fit(entry.spec, entry.epochs or epochs, s, [_stop_on_nan()])
            run = RunResult(entry.label, s, _clean(history), time.monotonic() - start)
            runs.append(run)
            index += 1
            if on_run is not None:
                on_run(RunProgress(index, total, run))
        results.append(FamilyResult(entry, runs))
    keras.backend.clear_session()
    return CompareResult(
        results, seed_list, epochs, dataset, model, batch_size, name, task=data.task
    )
