"""``compare``: schedule families trained on the same seeds at the same budget.

The articles compare schedules with one training run each; one run says little when two
families are close. Here every family is trained ``seeds`` times, on the same seeds
(``seed, seed + 1, ...``: the same initial weights and batch order for every family), for the
same number of epochs on the same data split, and the result gives the mean and the spread
(standard deviation, min, max) of each family's best validation loss and best accuracy (lowest
mean absolute error for regression), plus per-epoch mean +- std curves for the articles'
comparison plots::

    from lrsearch.compare import compare, write_compare

    result = compare(families=["constant", "time_based", "step", "exponential"], seeds=3,
                     epochs=20)
    print(result.format_table())
    write_compare(result, "compare/")   # PNG plots + compare.json + compare.md

What each family trains with:

* ``families=[...]``: the articles' settings, ``REGISTRY[f].article_defaults(epochs)`` with
  plain SGD (lr0 0.5, k 0.1, drop 0.8 every 10 epochs, decay lr0 / epochs, ...). A name may
  carry an optimizer, ``"constant:adam"``: an adaptive optimizer starts from its Keras default
  rate (0.001; the other rates of the schedule scaled alike), as the Neptune article's Adam run.
* ``storage=..., study_name=...``: the spec of each family's best finished trial of the study,
  and by default the study's own dataset, model, task and batch size; each family trains for
  as many epochs as its trial ran (its ``epochs`` user attribute) unless ``epochs`` is given.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import statistics
import time
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.space import ScheduleSpec
from lrsearch.tasks import HIGHER_IS_BETTER
from lrsearch.tasks import HISTORY_METRICS
from lrsearch.tasks import history_metric

if TYPE_CHECKING:
    import optuna
    from matplotlib.axes import Axes

    from lrsearch.report import Curve

#: Keras' default learning rate of the adaptive optimizers (the article's ``Adam()``)
ADAPTIVE_DEFAULT_LR = {"adam": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-3, "adadelta": 1e-3}
#: schedule parameters that are learning rates (scaled with ``initial_lr``)
_RATE_PARAMS = ("initial_lr", "max_lr", "start_lr", "end_lr", "min_lr")
#: per-epoch series compared (``val_mae`` instead of ``val_accuracy`` for regression)
CURVE_METRICS = ("learning_rate", "val_loss", "val_accuracy", "val_mae")
DEFAULT_EPOCHS = 20


@dataclasses.dataclass(frozen=True)
class CompareEntry:
    """One contender: a label, the spec it trains with, and where the spec came from."""

    label: str
    spec: ScheduleSpec
    source: str
    epochs: int | None = None
    """the budget the spec ran for in its study (``None``: the comparison's own)"""


@dataclasses.dataclass(frozen=True)
class Spread:
    """Mean, standard deviation (sample, ``n - 1``; 0 for one run), min and max of ``n`` runs."""

    n: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Spread:
        vals = [float(v) for v in values if v is not None and math.isfinite(v)]
        if not vals:
            return cls(0, None, None, None, None)
        std = statistics.stdev(vals) if len(vals) > 1 else 0.0
        return cls(len(vals), statistics.fmean(vals), std, min(vals), max(vals))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One training run of one family on one seed."""

    label: str
    seed: int
    history: dict[str, list[float | None]]
    seconds: float

    @property
    def best_val_loss(self) -> float | None:
        vals = [v for v in self.history.get("val_loss", []) if v is not None]
        return min(vals) if vals else None

    @property
    def metric(self) -> str:
        """``accuracy`` or ``mae`` (regression), as recorded."""
        return history_metric(self.history)

    def best_val(self, metric: str) -> float | None:
        """The best ``val_<metric>`` of the run: highest accuracy, lowest error."""
        vals = [v for v in self.history.get(f"val_{metric}", []) if v is not None]
        if not vals:
            return None
        return max(vals) if HIGHER_IS_BETTER[metric] else min(vals)

    @property
    def best_val_metric(self) -> float | None:
        """The best validation accuracy, or the lowest validation MAE for regression."""
        return self.best_val(self.metric)

    @property
    def best_val_accuracy(self) -> float | None:
        return self.best_val("accuracy")

    @property
    def diverged(self) -> bool:
        """The loss turned NaN or infinite (training was stopped at that epoch)."""
        return any(v is None for key in ("loss", "val_loss") for v in self.history.get(key, []))

    def to_dict(self, *, history: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "seed": self.seed,
            "best_val_loss": self.best_val_loss,
            f"best_val_{self.metric}": self.best_val_metric,
            "diverged": self.diverged,
            "epochs_run": len(self.history.get("loss", [])),
            "seconds": round(self.seconds, 3),
        }
        if history:
            d["history"] = self.history
        return d


@dataclasses.dataclass
class FamilyResult:
    """All runs of one contender, and their spread."""

    entry: CompareEntry
    runs: list[RunResult]

    @property
    def label(self) -> str:
        return self.entry.label

    @property
    def val_loss(self) -> Spread:
        """Spread of the runs' best validation loss."""
        return Spread.of([r.best_val_loss for r in self.runs])

    @property
    def metric(self) -> str:
        """``accuracy`` or ``mae`` (regression)."""
        return self.runs[0].metric if self.runs else "accuracy"

    @property
    def val_metric(self) -> Spread:
        """Spread of the runs' best validation accuracy (lowest MAE for regression)."""
        return Spread.of([r.best_val_metric for r in self.runs])

    @property
    def val_accuracy(self) -> Spread:
        """Spread of the runs' best validation accuracy."""
        return Spread.of([r.best_val_accuracy for r in self.runs])

    @property
    def diverged(self) -> int:
        return sum(r.diverged for r in self.runs)

    def to_dict(self, *, history: bool = True) -> dict[str, Any]:
        return {
            "label": self.label,
            "family": self.entry.spec.family,
            "optimizer": self.entry.spec.optimizer,
            "source": self.entry.source,
            "spec": self.entry.spec.to_dict(),
            "runs": len(self.runs),
            "diverged": self.diverged,
            "epochs": self.entry.epochs,
            "best_val_loss": self.val_loss.to_dict(),
            f"best_val_{self.metric}": self.val_metric.to_dict(),
            "per_seed": [r.to_dict(history=history) for r in self.runs],
        }


@dataclasses.dataclass
class CompareResult:
    """What :func:`compare` measured: one :class:`FamilyResult` per contender."""

    families: list[FamilyResult]
    seeds: list[int]
    epochs: int
    dataset: str
    model: str
    batch_size: int
    study_name: str | None = None
    task: str = "classification"

    @property
    def metric(self) -> str:
        """``accuracy`` or ``mae`` (regression)."""
        return "mae" if self.task == "regression" else "accuracy"

    def ranked(self) -> list[FamilyResult]:
        """Families by mean best validation loss (families with no finite value last)."""
        return sorted(
            self.families,
            key=lambda f: (f.val_loss.mean is None, f.val_loss.mean or 0.0),
        )

    def to_dict(self, *, history: bool = True) -> dict[str, Any]:
        """JSON-ready; ``history=False`` leaves out the per-epoch series of every run."""
        return {
            "epochs": self.epochs,
            "seeds": list(self.seeds),
            "dataset": self.dataset,
            "model": self.model,
            "batch_size": self.batch_size,
            "study_name": self.study_name,
            "task": self.task,
            "families": [f.to_dict(history=history) for f in self.ranked()],
        }

    def curves(self, metric: str) -> list[Curve]:
        """Per-epoch mean and std over the seeds of ``metric``, one curve per family.

        Epochs a run did not reach (it diverged) or measured as NaN count as missing.
        """
        from lrsearch.report import Curve
        from lrsearch.report import label_order

        by_label = {f.label: f for f in self.families}
        out: list[Curve] = []
        for label in label_order(list(by_label)):
            f = by_label[label]
            per_epoch: list[list[float]] = [[] for _ in range(self.epochs)]
            for run in f.runs:
                for i, v in enumerate(run.history.get(metric, [])[: self.epochs]):
                    if v is not None and math.isfinite(v):
                        per_epoch[i].append(float(v))
            if not any(per_epoch):
                continue
            mean = [statistics.fmean(v) if v else math.nan for v in per_epoch]
            std = [
                (statistics.stdev(v) if len(v) > 1 else 0.0) if v else math.nan for v in per_epoch
            ]
            out.append(
                Curve(
                    label=f"{label} (n={len(f.runs)})",
                    family=f.entry.spec.family,
                    optimizer=f.entry.spec.optimizer,
                    epochs=list(range(1, self.epochs + 1)),
                    mean=mean,
                    std=std,
                    runs=len(f.runs),
                )
            )
        return out

    def _budget(self) -> str:
        budgets = sorted({f.entry.epochs or self.epochs for f in self.families})
        return " / ".join(str(b) for b in budgets)

    def format_table(self) -> str:
        """Mean +- std [min, max] of best val_loss and best val_accuracy (val_mae) per family."""

        def cell(s: Spread) -> str:
            if s.mean is None:
                return "-"
            spread = f" ± {s.std:.4f}" if s.n > 1 else " (1 run)"
            return f"{s.mean:.4f}{spread} [{s.min:.4f}, {s.max:.4f}]"

        rows = [
            (
                "family",
                "runs",
                "epochs",
                "best val_loss: mean ± std [min, max]",
                f"best val_{self.metric}: mean ± std [min, max]",
                "source",
            )
        ]
        for f in self.ranked():
            runs = f"{len(f.runs)}" + (f" ({f.diverged} diverged)" if f.diverged else "")
            budget = str(f.entry.epochs or self.epochs)
            rows.append(
                (f.label, runs, budget, cell(f.val_loss), cell(f.val_metric), f.entry.source)
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        seeds = ", ".join(str(s) for s in self.seeds)
        head = (
            f"{len(self.families)} families x {len(self.seeds)} seeds ({seeds}), "
            f"{self._budget()} epochs each, {self.dataset} / {self.model} ({self.task}), batch "
            f"size {self.batch_size}; std is the sample standard deviation over seeds."
        )
        return head + "\n\n" + "\n".join(lines)

    def format_markdown(self) -> str:
        """The table as Markdown (for ``compare.md``)."""

        def cell(s: Spread) -> str:
            if s.mean is None:
                return "-"
            return f"{s.mean:.4f} ± {s.std:.4f}" if s.n > 1 else f"{s.mean:.4f} (1 run)"

        def rng(s: Spread) -> str:
            return "-" if s.min is None else f"{s.min:.4f} – {s.max:.4f}"

        lines = [
            "| family | runs | epochs | best val_loss (mean ± std) | range | "
            f"best val_{self.metric} (mean ± std) | range | parameters |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        from lrsearch.report import format_params

        for f in self.ranked():
            params = format_params(f.entry.spec.params)
            lines.append(
                f"| {f.label} | {len(f.runs)} | {f.entry.epochs or self.epochs} | "
                f"{cell(f.val_loss)} | {rng(f.val_loss)} | "
                f"{cell(f.val_metric)} | {rng(f.val_metric)} | {params} |"
            )
        return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class RunProgress:
    """Passed to ``on_run`` after each training run."""

    index: int
    total: int
    run: RunResult


# --------------------------------------------------------------------------- contenders


def _scaled_to(params: dict[str, Any], lr0: float) -> dict[str, Any]:
    factor = lr0 / float(params["initial_lr"])
    return {k: (v * factor if k in _RATE_PARAMS and v else v) for k, v in params.items()}


def article_entry(name: str, epochs: int) -> CompareEntry:
    """The articles' setting of ``name`` (``"family"`` or ``"family:optimizer"``).

    Raises:
        UsageError: unknown family or optimizer.
    """
    from lrsearch.optimizers import check_optimizer
    from lrsearch.schedules import REGISTRY
    from lrsearch.schedules import check_family

    family, _, optimizer = name.partition(":")
    family, optimizer = family.strip(), (optimizer.strip() or "sgd")
    try:
        check_family(family)
        check_optimizer(optimizer)
    except ValueError as exc:
        raise UsageError(
            f"{exc} Pass --families as a comma-separated list such as "
            "constant,step,exponential (optionally family:optimizer, e.g. "
            "constant:adam)."
        ) from None
    params = dict(REGISTRY[family].article_defaults(epochs))
    if optimizer in ADAPTIVE_DEFAULT_LR:
        params = _scaled_to(params, ADAPTIVE_DEFAULT_LR[optimizer])
    label = family if optimizer == "sgd" else f"{family} ({optimizer})"
    try:
        spec = ScheduleSpec(family=family, params=params, optimizer=optimizer, momentum=0.0)
    except ValueError as exc:
        raise UsageError(
            f"The articles' setting of {name!r} is invalid for {epochs} epochs: {exc}"
        ) from None
    return CompareEntry(label, spec, "article defaults")


def article_entries(names: Sequence[str], epochs: int) -> list[CompareEntry]:
    """:func:`article_entry` for each name; a name listed twice is a :class:`UsageError`."""
    if not names:
        raise UsageError(
            "Nothing to compare: --families is empty. Pass e.g. "
            "--families constant,step,exponential."
        )
    entries = [article_entry(n, epochs) for n in names]
    labels = [e.label for e in entries]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise UsageError(
            f"--families lists {', '.join(twice)} more than once. List each family once."
        )
    return entries


def study_entries(study: optuna.Study) -> list[CompareEntry]:
    """The spec of each family's best finished trial of ``study``.

    Raises:
        UsageError: the study has no finished lrsearch trial (nothing to compare).
    """
    from lrsearch.report import family_bests

    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    entries = []
    for b in family_bests(study):
        data = by_number[b.trial].user_attrs.get("spec")
        if data is None:
            continue
        budget = by_number[b.trial].user_attrs.get("epochs")
        entries.append(
            CompareEntry(
                b.label,
                ScheduleSpec.from_dict(data),
                f"study trial #{b.trial}",
                int(budget) if isinstance(budget, int) and budget >= 1 else None,
            )
        )
    if not entries:
        raise UsageError(
            f"Nothing to compare: study {study.study_name!r} has no finished trial recorded by "
            "lrsearch. Run `lrsearch tune` first, or pass --families to compare the articles' "
            "settings."
        )
    return entries


# --------------------------------------------------------------------------- training


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(
            f"--{name} must be a whole number >= 1 (received {value!r}). Pass e.g. --{name} 3."
        )
    return value


def _stop_on_nan() -> Any:
    import keras

    class StopOnNaN(keras.callbacks.Callback):
        """Stops at the end of an epoch whose loss is NaN or infinite (a diverged run)."""

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            for key in ("loss", "val_loss"):
                value = (logs or {}).get(key)
                if value is not None and not math.isfinite(float(value)):
                    self.model.stop_training = True

    return StopOnNaN()


def _clean(history: dict[str, list[Any]]) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {}
    for key in ("learning_rate", "loss", "val_loss", *HISTORY_METRICS):
        if key not in history:
            continue
        vals: list[float | None] = []
        for v in history[key]:
            try:
                f = float(v)
            except (TypeError, ValueError):
                vals.append(None)
                continue
            vals.append(f if math.isfinite(f) else None)
        out[key] = vals
    return out


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
    for every family; by default each study family trains for as many epochs as its trial ran
    (20 for the articles' settings). The data split is drawn once with ``seed``; run ``i`` of
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
        contenders = [dataclasses.replace(e, epochs=None) for e in contenders]
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


# --------------------------------------------------------------------------- output


_PLOTS = (
    ("compare_lr_curves.png", "learning_rate", "Learning-rate curves"),
    ("compare_val_loss.png", "val_loss", "Validation loss"),
    ("compare_val_accuracy.png", "val_accuracy", "Validation accuracy"),
    ("compare_val_mae.png", "val_mae", "Validation mean absolute error"),
)


def plot_compare(result: CompareResult, metric: str, ax: Axes | None = None) -> Axes:
    """Mean +- std over the seeds of ``metric`` per epoch, one line and band per family."""
    from lrsearch.report import plot_curves

    what = {
        "learning_rate": "Learning rate",
        "val_loss": "Validation loss",
        "val_accuracy": "Validation accuracy",
        "val_mae": "Validation mean absolute error",
        "loss": "Training loss",
        "accuracy": "Training accuracy",
        "mae": "Training mean absolute error",
    }.get(metric, metric)
    n = len(result.seeds)
    title = f"{what} per epoch: mean ± std over {n} seed{'s' if n > 1 else ''}"
    return plot_curves(result.curves(metric), metric=metric, ax=ax, title=title)


def _draw(result: CompareResult, metric: str, ax: Axes) -> Axes:
    return plot_compare(result, metric, ax=ax)


def write_compare(
    result: CompareResult,
    out: str | Path,
    *,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write ``compare_lr_curves.png``, ``compare_val_loss.png``, ``compare_val_accuracy.png``
    (``compare_val_mae.png`` for regression; mean +- std bands per family), ``compare.json``
    (everything, with every run's history) and ``compare.md`` (the table) into ``out``;
    returns the paths written.
    """
    import json

    from lrsearch.report import prepare_out_dir
    from lrsearch.report import save_axes_png

    out_dir = prepare_out_dir(out)
    files: list[Path] = []

    def done(path: Path) -> None:
        files.append(path)
        if on_file is not None:
            on_file(path)

    for name, metric, _ in _PLOTS:
        if not result.curves(metric):
            continue
        path = out_dir / name
        save_axes_png(functools.partial(_draw, result, metric), path, figsize=(9.0, 5.0))
        done(path)
    path = out_dir / "compare.json"
    path.write_text(
        json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    done(path)
    path = out_dir / "compare.md"
    seeds = ", ".join(str(s) for s in result.seeds)
    text = (
        f"# Equal-budget comparison\n\n{len(result.families)} families, each trained on seeds "
        f"{seeds} for {result._budget()} epochs ({result.dataset}, {result.model}, "
        f"{result.task}, batch size {result.batch_size}). Best value of each run, then mean ± "
        "sample std over the seeds.\n\n" + result.format_markdown()
    )
    for name, _, what in _PLOTS:
        if (out_dir / name).exists() and out_dir / name in files:
            text += f"\n## {what}\n\n![{what}]({name})\n"
    path.write_text(text, encoding="utf-8")
    done(path)
    return files
