"""What a comparison measured: the spread of each contender's runs, and the tables of it."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.tasks import HIGHER_IS_BETTER
from lrsearch.tasks import history_metric

if TYPE_CHECKING:
    from lrsearch.compare._contenders import CompareEntry
    from lrsearch.report import Curve

#: per-epoch series compared (``val_mae`` instead of ``val_accuracy`` for regression)
CURVE_METRICS = ("learning_rate", "val_loss", "val_accuracy", "val_mae")


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

    def budget_text(self) -> str:
        """The epochs each family trained for: ``20``, or ``10 / 20`` when the budgets differ."""
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
            f"{self.budget_text()} epochs each, {self.dataset} / {self.model} ({self.task}), "
            f"batch size {self.batch_size}; std is the sample standard deviation over seeds."
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
