"""A one-line-per-trial progress display on a terminal; silent otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import optuna


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


class TrialProgress:
    """Prints ``[ i/N] #number family state val_loss | best ...`` after each trial.

    Enabled only when ``stream`` is a terminal (or ``enabled=True``).
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.start = time.monotonic()

    def trial_done(self, done: int, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if not self.enabled:
            return
        family = trial.user_attrs.get("family", "?")
        state = trial.state.name.lower()
        value = trial.value if trial.state == optuna.trial.TrialState.COMPLETE else None
        try:
            best = study.best_trial
            best_txt = f"best {_fmt(best.value)} (#{best.number} {best.user_attrs.get('family')})"
        except ValueError:
            best_txt = "best -"
        elapsed = time.monotonic() - self.start
        width = len(str(self.total))
        reason = trial.user_attrs.get("pruned_reason", "")
        note = " diverged" if str(reason).startswith("diverged") else ""
        print(
            f"[{done:>{width}}/{self.total}] trial #{trial.number:<4} {family:<16} "
            f"{state:<8}{note} val_loss {_fmt(value):<8} | {best_txt}  {elapsed:6.1f}s",
            file=self.stream,
            flush=True,
        )
