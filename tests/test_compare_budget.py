"""``compare`` retrains each study family for the budget its trial ran."""

from __future__ import annotations

import math

import pytest

from lrsearch.compare import CompareEntry
from lrsearch.compare import compare
from lrsearch.space import ScheduleSpec


@pytest.mark.slow
def test_each_entry_trains_for_its_own_budget_unless_epochs_is_given() -> None:
    def entry(label: str, family: str, params: dict[str, float], epochs: int) -> CompareEntry:
        spec = ScheduleSpec(family, {"initial_lr": 0.05, **params}, "sgd", 0.9)
        return CompareEntry(label, spec, "test", epochs)

    entries = [
        entry("constant", "constant", {}, 2),
        entry("cosine", "cosine", {"decay_epochs": 3}, 3),
    ]
    result = compare(entries=entries, seeds=1, dataset="iris", batch_size=16)
    ran = {f.label: len(f.runs[0].history["loss"]) for f in result.families}
    assert ran == {"constant": 2, "cosine": 3}
    assert result.epochs == 3
    assert "2 / 3 epochs" in result.format_table()
    # the cosine anneals over its own budget: the last rate is near the end of the curve
    lrs = next(f for f in result.families if f.label == "cosine").runs[0].history["learning_rate"]
    assert lrs[-1] == pytest.approx(0.05 * 0.5 * (1 + math.cos(math.pi * 2 / 3)), rel=1e-4)

    same = compare(entries=entries, seeds=1, dataset="iris", batch_size=16, epochs=2)
    assert {len(f.runs[0].history["loss"]) for f in same.families} == {2}
    assert all(f.entry.epochs is None for f in same.families)
