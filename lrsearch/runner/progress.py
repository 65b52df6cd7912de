"""Progress on stderr: each epoch of the running trial, then one line per trial.

On a terminal the running trial is one live tqdm line (``trial #3 step  epoch 2/3 ...``),
replaced by the trial's line when it ends; elsewhere (``--progress on`` into a file or a
pipe) every epoch is a plain line. Silent when stderr is not a terminal unless enabled.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any
from typing import TextIO

import optuna


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _logs_text(logs: dict[str, Any]) -> str:
    parts = [f"loss {_fmt(_num(logs.get('loss')))}"]
    if "val_loss" in logs:
        parts.append(f"val_loss {_fmt(_num(logs.get('val_loss')))}")
    if "learning_rate" in logs:
        parts.append(f"lr {_fmt(_num(logs.get('learning_rate')))}")
    return "  ".join(parts)


def _ended_text(trial: optuna.trial.FrozenTrial) -> str:
    """How a trial ended: its value, or the epoch and value at which it stopped."""
    history = trial.user_attrs.get("history") or {}
    if trial.state == optuna.trial.TrialState.COMPLETE:
        return f"val_loss {_fmt(trial.value):<8}"
    reason = str(trial.user_attrs.get("pruned_reason", ""))
    epochs = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
    if reason.startswith("diverged"):
        lr = _num(trial.user_attrs.get("diverged_lr"))
        return f"diverged at epoch {epochs} (lr {_fmt(lr)})"
    if trial.state == optuna.trial.TrialState.PRUNED:
        vals = [v for v in history.get("val_loss", []) if _num(v) is not None]
        last = vals[-1] if vals else None
        return f"at epoch {epochs} val_loss {_fmt(last)}"
    return f"after epoch {epochs}" if epochs else ""


class TrialProgress:
    """Prints ``[ i/N] #number family state val_loss | best ...`` after each trial, and each
    epoch of the running trial (:meth:`epoch_callback`).

    Enabled only when ``stream`` is a terminal (or ``enabled=True``). ``epochs`` is the
    trials' budget (the ``N`` of ``epoch i/N``); ``position`` the tqdm line of this process
    (one per worker).
    """

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        epochs: int = 0,
        position: int = 0,
    ):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.enabled = self.live if enabled is None else enabled
        self.total = total
        self.epochs = epochs
        self.position = position
        self.start = time.monotonic()
        self._label = ""
        self._bar: Any = None

    def trial_started(self, trial: optuna.trial.Trial, spec: Any) -> None:
        """``Objective(on_spec=...)``: a trial begins (its number and family label the line)."""
        self._close_bar()
        self._label = f"trial #{trial.number} {getattr(spec, 'family', '?')}"
        if self.enabled and self.live:  # the live line shows the trial from its start
            self._open_bar()

    def epoch_callback(self) -> Any:
        """A Keras callback showing each epoch (``epoch 2/3``, loss, val_loss, rate)."""
        import keras

        return keras.callbacks.LambdaCallback(on_epoch_end=self.epoch_ended)

    def epoch_ended(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self.enabled:
            return
        text = _logs_text(logs or {})
        if not self.live:
            print(
                f"  {self._label}  epoch {epoch + 1}/{self.epochs}  {text}",
                file=self.stream,
                flush=True,
            )
            return
        if self._bar is None:
            self._open_bar()
        self._bar.stats = text
        self._bar.update(1)

    def _open_bar(self) -> None:
        from tqdm.auto import tqdm

        class EpochBar(tqdm):
            """tqdm with the epoch's logs as ``{stats}`` (its ``{postfix}`` starts with ", ")."""

            stats = ""

            @property
            def format_dict(self) -> dict[str, Any]:
                return {**super().format_dict, "stats": self.stats}

        self._bar = EpochBar(
            total=self.epochs,
            desc=self._label,
            unit="epoch",
            file=self.stream,
            leave=False,
            mininterval=0,  # every epoch is shown (epochs are far apart)
            position=self.position,
            bar_format="{desc}  epoch {n_fmt}/{total_fmt} {bar:12} {stats}  {elapsed}",
        )

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def trial_done(self, done: int, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._close_bar()
        if not self.enabled:
            return
        family = trial.user_attrs.get("family", "?")
        state = trial.state.name.lower()
        try:
            best = study.best_trial
            best_txt = f"best {_fmt(best.value)} (#{best.number} {best.user_attrs.get('family')})"
        except ValueError:
            best_txt = "best -"
        elapsed = time.monotonic() - self.start
        width = len(str(self.total))
        print(
            f"[{done:>{width}}/{self.total}] trial #{trial.number:<4} {family:<16} "
            f"{state:<8} {_ended_text(trial)} | {best_txt}  {elapsed:6.1f}s",
            file=self.stream,
            flush=True,
        )
