"""``compare(epochs=E)`` carries each spec to E epochs with ``for_epochs`` (tune short, train
long) instead of training the short budget's spec for longer."""

from __future__ import annotations

import math

import pytest

from lrsearch.compare import CompareEntry
from lrsearch.compare import compare
from lrsearch.space import ScheduleSpec


def test_compare_with_epochs_carries_each_spec_to_the_budget() -> None:
    cosine = ScheduleSpec("cosine", {"initial_lr": 0.05, "decay_epochs": 3}, "sgd", 0.9)
    step = ScheduleSpec("step", {"initial_lr": 0.05, "drop_rate": 0.5, "epochs_drop": 1},
                        epochs=2)  # fmt: skip
    entries = [
        CompareEntry("cosine", cosine, "study trial #0", 3),  # budget from the trial
        CompareEntry("step", step, "mine"),  # budget from the spec
        CompareEntry("constant", ScheduleSpec("constant", {"initial_lr": 0.05}), "mine"),
    ]
    result = compare(entries=entries, seeds=1, dataset="iris", batch_size=32, epochs=6)
    by_label = {f.label: f for f in result.families}
    assert {len(f.runs[0].history["loss"]) for f in result.families} == {6}
    carried = by_label["cosine"].entry
    assert carried.spec.params["decay_epochs"] == 6 and carried.spec.epochs == 6
    assert "carried from 3 to 6 epochs" in carried.source
    lrs = by_label["cosine"].runs[0].history["learning_rate"]
    want = [0.05 * 0.5 * (1 + math.cos(math.pi * t / 6)) for t in range(6)]
    assert lrs == pytest.approx(want, rel=1e-4)
    assert by_label["step"].entry.spec.params["epochs_drop"] == 3
    assert by_label["constant"].entry.spec == entries[2].spec  # no budget known: unchanged
