"""The summary table of a study, per family: Markdown and CSV text (no plotting)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from lrsearch.report._info import FamilySummary
from lrsearch.report._info import format_params

CSV_COLUMNS = (
    "family",
    "optimizer",
    "best_value",
    "best_trial",
    "trials",
    "complete",
    "pruned",
    "failed",
    "running",
    "share_pruned",
    "params",
)


def _fmt(value: float | None, spec: str = ".4g") -> str:
    return "-" if value is None else format(value, spec)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(rows: Sequence[FamilySummary]) -> str:
    """A Markdown table: family, best val_loss, trial, parameters, trials, pruned share."""
    lines = [
        "| family | best val_loss | trial | parameters | trials run | complete | pruned "
        "| share pruned | failed |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        trial = "-" if r.best_trial is None else f"#{r.best_trial}"
        params = format_params(r.best_params) if r.best_params else "(no finished trial)"
        lines.append(
            f"| {_cell(r.label)} | {_fmt(r.best_value)} | {trial} | {_cell(params)} | "
            f"{r.finished} | {r.complete} | {r.pruned} | {_pct(r.share_pruned)} | {r.failed} |"
        )
    return "\n".join(lines) + "\n"


def summary_records(rows: Sequence[FamilySummary]) -> list[dict[str, Any]]:
    """The summary as JSON-ready dicts (the CSV's rows; ``params`` a dict)."""
    return [
        {
            "family": r.family,
            "optimizer": r.optimizer,
            "best_value": r.best_value,
            "best_trial": r.best_trial,
            "trials": r.finished,
            "complete": r.complete,
            "pruned": r.pruned,
            "failed": r.failed,
            "running": r.running,
            "share_pruned": r.share_pruned,
            "params": dict(r.best_params),
        }
        for r in rows
    ]


def summary_csv(rows: Sequence[FamilySummary]) -> str:
    """The summary as CSV (header row; ``params`` a JSON object; empty cells for none)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in summary_records(rows):
        record["params"] = json.dumps(record["params"], sort_keys=False)
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return buffer.getvalue()
