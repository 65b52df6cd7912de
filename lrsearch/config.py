"""Study definitions: the options of ``lrsearch tune`` as a TOML file (``studies/*.toml``).

A study definition sets any ``tune`` option under its ``TuneOptions`` name (``study_name``,
``storage``, ``dataset``, ``model``, ``families``, ``optimizers``, ``initial_lr``, ``trials``,
``epochs``, ``batch_size``, ``pruner``, ``seed``, ``workers``, ``val_fraction``,
``subsample``, ``warmup``, ``granularity``, ``schedule_aware_pruning``, ``progress``), plus
a free-text ``description`` and a ``[ranges]`` table of per-parameter search ranges (see
:class:`lrsearch.SearchSpace`)::

    study_name = "warmup"
    storage = "sqlite:///studies/warmup.db"
    families = ["linear_warmup", "constant"]
    trials = 30

    [ranges]
    warmup_epochs = [1, 5]

``initial_lr`` is ``[low, high]`` (every optimizer), ``"auto"``, or a table of per-optimizer
ranges (the others keep their defaults, :data:`lrsearch.optimizers.DEFAULT_INITIAL_LR`)::

    optimizers = ["sgd", "adam"]
    initial_lr = {adam = [1e-5, 1e-2], sgd = [1e-3, 1.0]}

Precedence: a flag given on the command line > the file > the environment
(``LRSEARCH_STORAGE``, ``LRSEARCH_STUDY_NAME``) > the built-in default.

Relative paths in the file (a ``sqlite:///studies/x.db`` storage, a dataset or model file) are
relative to the working directory, exactly as on the command line -- not to the file -- so
``lrsearch tune --config studies/x.toml`` run from the repository root writes
``studies/x.db``.

The whole file is checked before anything runs: an unknown key (with the closest valid key),
a wrong type or a bad value raises :class:`~lrsearch.errors.UsageError` naming the file and the
key. The study records the definition (parsed content, raw text, path, and the flags that
overrode it) in its user attribute ``config_file``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from lrsearch.checks import did_you_mean
from lrsearch.checks import is_number
from lrsearch.data import DATASETS
from lrsearch.data import check_dataset
from lrsearch.errors import UsageError
from lrsearch.models import check_model
from lrsearch.pruners import PRUNERS
from lrsearch.runner import TuneOptions
from lrsearch.runner import check_options
from lrsearch.tasks import TASK_CHOICES

PROGRESS = {"auto": None, "on": True, "off": False}

#: key -> what it may be (shown in error messages and ``lrsearch tune --help``)
KEYS: dict[str, str] = {
    "description": "a string",
    "study_name": "a non-empty string",
    "storage": 'a database URL such as "sqlite:///studies/x.db"',
    "dataset": f"a dataset name ({', '.join(DATASETS)}) or the path of a .npz or .csv file",
    "model": 'a model name (mlp, cnn) or "path/to/file.py:build"',
    "task": "one of " + ", ".join(f'"{t}"' for t in TASK_CHOICES),
    "families": "a non-empty list of schedule families",
    "optimizers": "a non-empty list of optimizers (sgd, nesterov, adam, rmsprop, adagrad, "
    "adadelta)",
    "initial_lr": '[low, high] (two positive numbers, low < high) for every optimizer, "auto", '
    "or a table of optimizer = [low, high]",
    "trials": "a whole number >= 1",
    "epochs": "a whole number >= 1",
    "batch_size": "a whole number >= 1",
    "pruner": "one of " + ", ".join(f'"{p}"' for p in PRUNERS),
    "seed": "a whole number >= 0",
    "workers": "a whole number >= 1",
    "val_fraction": "a number between 0 and 1 (exclusive)",
    "subsample": "a whole number >= 2 (leave the key out to use all the data)",
    "warmup": "true or false (draw a warm-up on every family without one of its own)",
    "granularity": 'one of "epoch", "step"',
    "schedule_aware_pruning": "true or false",
    "progress": "one of " + ", ".join(f'"{p}"' for p in PROGRESS),
    "ranges": "a table of parameter = [low, high], a list of choices, or one fixed value",
}

#: file keys that are not ``TuneOptions`` fields
_NOT_OPTIONS = ("description",)


@dataclasses.dataclass(frozen=True)
class StudyFile:
    """A checked study definition.

    Attributes:
        path: the path as given (relative paths stay relative).
        text: the file's raw text.
        data: the parsed TOML, as written.
        options: ``TuneOptions`` field -> checked value (tuples for lists); only the keys
            present in the file.
    """

    path: str
    text: str
    data: dict[str, Any]
    options: dict[str, Any]

    def source(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What the study stores about its definition (JSON-serialisable)."""
        return {
            "path": self.path,
            "abspath": os.path.abspath(self.path),
            "config": self.data,
            "text": self.text,
            "overrides": {k: _jsonable(v) for k, v in (overrides or {}).items()},
        }


# --------------------------------------------------------------------------- reading


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:  # pragma: no cover - Python 3.10
        import tomli
    except ImportError:  # pragma: no cover - Python 3.10 without tomli
        raise UsageError(
            "Reading a study definition on Python 3.10 needs the tomli package: pip install tomli "
            "(or use Python 3.11 or newer)."
        ) from None
    return tomli  # pragma: no cover


def load_config(path: str | os.PathLike[str], *, check_files: bool = True) -> StudyFile:
    """Read and check the study definition at ``path``.

    Args:
        path: a TOML file.
        check_files: also check that the dataset and model files named in it exist and import
            (``tune`` needs them; ``best`` and ``export`` only need the storage and name).

    Raises:
        UsageError: the file is missing or unreadable, is not TOML (the message has the line
            and column), or has an unknown key, a wrong type or a bad value (named).
    """
    shown = os.fspath(path)
    try:
        with open(shown, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise UsageError(
            f"The study definition {shown} does not exist (paths are relative to the working "
            f"directory {os.getcwd()}). Pass the path of a TOML file, e.g. --config "
            "studies/neptune_fashion_mnist.toml."
        ) from None
    except OSError as exc:
        raise UsageError(
            f"Cannot read the study definition {shown}: {exc.strerror or exc}. Pass a readable "
            "TOML file."
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{shown} is not UTF-8 text (byte {exc.start}). Save the study definition as UTF-8."
        ) from None
    return parse_config(text, shown, check_files=check_files)


def parse_config(text: str, path: str = "<config>", *, check_files: bool = True) -> StudyFile:
    """Check the TOML ``text`` of a study definition (``path`` names it in messages).

    Raises:
        UsageError: as :func:`load_config`.
    """
    toml = _toml()
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise UsageError(
            f"{path} is not valid TOML: {exc}. Fix that line (strings need double quotes, "
            'lists are written [a, b], e.g. families = ["step", "cosine"]).'
        ) from None
    options: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            raise UsageError(_unknown_key(path, key, data))
        checked = _CHECKS[key](path, key, value, check_files)
        if key not in _NOT_OPTIONS:
            options[key] = checked
    _check_space(path, options)
    return StudyFile(path=path, text=text, data=data, options=options)


# --------------------------------------------------------------------------- merging


def merge(config: StudyFile | None, cli: Mapping[str, Any]) -> TuneOptions:
    """``TuneOptions`` from the file's values overridden by the command line's.

    Args:
        config: the study definition, or ``None``.
        cli: ``TuneOptions`` field -> value given on the command line; ``None`` means "not
            given" (the file's value, else the default, applies). ``progress`` is one of
            ``auto``, ``on``, ``off``.

    Raises:
        UsageError: the merged options are invalid (the message names the file when one was
            given).
    """
    fields = {f.name for f in dataclasses.fields(TuneOptions)}
    unknown = sorted(set(cli) - fields)
    if unknown:
        raise TypeError(f"merge() got unknown option names: {', '.join(unknown)}")
    overrides = {k: v for k, v in cli.items() if v is not None}
    values: dict[str, Any] = dict(config.options) if config is not None else {}
    values.update(overrides)
    if "progress" in values:
        values["progress"] = PROGRESS[values["progress"]]
    if config is not None:
        recorded = {k: v for k, v in overrides.items() if k != "progress"}
        values["config_source"] = config.source(recorded)
    options = TuneOptions(**values)
    if config is not None:
        try:
            check_options(options)
        except UsageError as exc:
            given = ", ".join(f"--{k.replace('_', '-')}" for k in overrides)
            where = f", overridden on the command line by {given}" if given else ""
            raise UsageError(f"{exc} (Options from {config.path}{where}.)") from None
    return options


# --------------------------------------------------------------------------- checks


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _bad(path: str, key: str, allowed: str, value: Any, hint: str = "") -> UsageError:
    return UsageError(f"{path}: key `{key}` must be {allowed}, got {_show(value)}.{hint}")


_EXAMPLES = {"trials": 30, "epochs": 20, "batch_size": 64, "seed": 0, "workers": 1}


def _suggest(word: str, choices: Any) -> str:
    return did_you_mean(word, choices, quote="`")


def _unknown_key(path: str, key: str, data: Mapping[str, Any]) -> str:
    valid = ", ".join(KEYS)
    hint = _suggest(key, KEYS)
    if isinstance(data.get(key), dict) and not hint:
        hint = " Only [ranges] and [initial_lr] may be tables."
    return f"{path}: unknown key `{key}`.{hint} Valid keys: {valid}."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(minimum: int) -> Callable[[str, str, Any, bool], int]:
    def check(path: str, key: str, value: Any, check_files: bool) -> int:
        if not _is_int(value) or value < minimum:
            example = _EXAMPLES.get(key, 20000)
            raise _bad(path, key, KEYS[key], value, f" Example: `{key} = {example}`.")
        return int(value)

    return check


def _text(path: str, key: str, value: Any, check_files: bool) -> str:
    if not isinstance(value, str) or (key != "description" and not value.strip()):
        raise _bad(path, key, KEYS[key], value, f' Example: `{key} = "my-study"`.')
    return value


def _choice(choices: Any) -> Callable[[str, str, Any, bool], str]:
    def check(path: str, key: str, value: Any, check_files: bool) -> str:
        if not isinstance(value, str) or value not in choices:
            hint = _suggest(value, choices) if isinstance(value, str) else ""
            raise _bad(path, key, KEYS[key], value, hint)
        return value

    return check


def _boolean(path: str, key: str, value: Any, check_files: bool) -> bool:
    if not isinstance(value, bool):
        raise _bad(path, key, KEYS[key], value, " Write true or false without quotes.")
    return value


def _fraction(path: str, key: str, value: Any, check_files: bool) -> float:
    if not is_number(value) or not 0.0 < float(value) < 1.0:
        raise _bad(path, key, KEYS[key], value, f" Example: `{key} = 0.2`.")
    return float(value)


def _names(valid: Callable[[], tuple[str, ...]], what: str) -> Callable[..., tuple[str, ...]]:
    def check(path: str, key: str, value: Any, check_files: bool) -> tuple[str, ...]:
        choices = valid()
        allowed = f"a non-empty list of {what} among {', '.join(choices)}"
        example = f' Example: `{key} = ["{choices[0]}", "{choices[1]}"]`.'
        if isinstance(value, str) or not isinstance(value, list) or not value:
            raise _bad(path, key, allowed, value, example)
        for name in value:
            if not isinstance(name, str) or name not in choices:
                hint = _suggest(name, choices) if isinstance(name, str) else ""
                raise UsageError(
                    f"{path}: key `{key}` must be {allowed}, got {_show(value)}: "
                    f"{_show(name)} is not one of them.{hint}"
                )
        return tuple(dict.fromkeys(value))

    return check


def _families() -> tuple[str, ...]:
    from lrsearch.schedules import FAMILIES

    return tuple(FAMILIES)


def _optimizers() -> tuple[str, ...]:
    from lrsearch.optimizers import OPTIMIZERS

    return tuple(OPTIMIZERS)


def _lr_pair(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(is_number(v) and v > 0 for v in value)
        and value[0] < value[1]
    )


def _initial_lr(path: str, key: str, value: Any, check_files: bool) -> Any:
    if value == "auto":
        return "auto"
    if isinstance(value, dict):
        return _initial_lr_table(path, key, value)
    if not _lr_pair(value):
        raise _bad(
            path,
            key,
            KEYS[key],
            value,
            " Example: `initial_lr = [0.001, 0.5]`, or per optimizer "
            "`initial_lr = {adam = [1e-5, 1e-2], sgd = [1e-3, 1.0]}`.",
        )
    return (float(value[0]), float(value[1]))


def _unknown_in_table(
    path: str, table: str, name: str, names: Any, what: str, valid: str
) -> UsageError:
    """``key `ranges.kk`: unknown parameter `kk`. Did you mean `k`? ...`` (or a misplaced key)."""
    hint = _suggest(name, names)
    if name in KEYS:
        hint = (
            f" `{name}` is a top-level key: move it above the [{table}] table (in TOML every "
            "line after a [table] header belongs to that table)."
        )
    return UsageError(
        f"{path}: key `{table}.{name}`: unknown {what} `{name}`.{hint} {valid}: "
        f"{', '.join(names)}."
    )


def _initial_lr_table(path: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
    names = _optimizers()
    if not value:
        raise _bad(path, key, KEYS[key], value, " Example: `initial_lr = {adam = [1e-5, 1e-2]}`.")
    checked: dict[str, tuple[float, float]] = {}
    for name, spec in value.items():
        if name not in names:
            raise _unknown_in_table(
                path, key, name, names, "optimizer", "The table gives ranges by optimizer"
            )
        if not _lr_pair(spec):
            raise _bad(
                path,
                f"{key}.{name}",
                "[low, high] (two positive numbers, low < high)",
                spec,
                f" Example: `{name} = {list(_default_lr(name))}`.",
            )
        checked[name] = (float(spec[0]), float(spec[1]))
    return checked


def _default_lr(name: str) -> tuple[float, float]:
    from lrsearch.optimizers import default_initial_lr

    return default_initial_lr(name)


def _storage(path: str, key: str, value: Any, check_files: bool) -> str:
    from lrsearch.storage import normalize_url

    if not isinstance(value, str) or not value.strip():
        raise _bad(path, key, KEYS[key], value)
    try:
        normalize_url(value)
    except UsageError as exc:
        raise UsageError(f"{path}: key `{key}`: {exc}") from None
    return value


def _named_or_file(check: Callable[[str], None]) -> Callable[[str, str, Any, bool], str]:
    """A non-empty string, checked by ``check`` (a dataset or model name, or its file)."""

    def checked(path: str, key: str, value: Any, check_files: bool) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _bad(path, key, KEYS[key], value)
        if check_files:
            try:
                check(value)
            except UsageError as exc:
                raise UsageError(f"{path}: key `{key}`: {exc}") from None
        return value

    return checked


def _range_names() -> tuple[str, ...]:
    from lrsearch.space import SearchSpace

    return SearchSpace(families=["constant"]).param_names


def _ranges(path: str, key: str, value: Any, check_files: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(path, key, "a table ([ranges] with lines such as k = [0.01, 0.5])", value)
    names = _range_names()
    checked: dict[str, Any] = {}
    for name, spec in value.items():
        if name not in names:
            raise _unknown_in_table(path, key, name, names, "parameter", "Parameters with a range")
        checked[name] = _range(path, f"ranges.{name}", spec)
    return checked


def _range(path: str, key: str, spec: Any) -> Any:
    allowed = "[low, high] (two numbers, low < high), a list of choices, or one fixed value"
    if isinstance(spec, bool) or isinstance(spec, dict):
        raise _bad(path, key, allowed, spec)
    if isinstance(spec, str):
        return spec
    if not isinstance(spec, list):
        if not is_number(spec):
            raise _bad(path, key, allowed, spec)
        return spec
    if spec and all(isinstance(s, str) for s in spec):
        return list(spec)
    if len(spec) != 2 or not all(is_number(s) for s in spec):
        raise _bad(path, key, allowed, spec, f" Example: `{key[7:]} = [0.01, 0.5]`.")
    if not spec[0] < spec[1]:
        raise _bad(
            path, key, "[low, high] with low < high", spec, " Write a single number to fix it."
        )
    return (spec[0], spec[1])


def _check_space(path: str, options: Mapping[str, Any]) -> None:
    """Build the search space the file describes: catches ranges that break a family."""
    ranges: dict[str, Any] = options.get("ranges", {})
    lr = options.get("initial_lr")
    optimizers = options.get("optimizers", ("sgd",))
    if isinstance(lr, dict):
        # a table may name optimizers that --optimizers adds: checked again after the merge
        optimizers = tuple(dict.fromkeys([*optimizers, *lr]))
    try:
        partial = TuneOptions(
            families=options.get("families"),
            optimizers=optimizers,
            epochs=options.get("epochs", 20),
            ranges=ranges,
            warmup=options.get("warmup", False),
        )
        partial.search_space(None if lr == "auto" else lr)
    except ValueError as exc:
        msg = str(exc)
        key = next((f"ranges.{n}" for n in ranges if f"`{n}`" in msg), "ranges")
        if msg.startswith("Argument `initial_lr"):
            key = "initial_lr"
        raise UsageError(f"{path}: key `{key}`: {msg}") from None


_CHECKS: dict[str, Callable[[str, str, Any, bool], Any]] = {
    "description": _text,
    "study_name": _text,
    "storage": _storage,
    "dataset": _named_or_file(check_dataset),
    "model": _named_or_file(check_model),
    "task": _choice(TASK_CHOICES),
    "families": _names(_families, "schedule families"),
    "optimizers": _names(_optimizers, "optimizers"),
    "initial_lr": _initial_lr,
    "trials": _whole(1),
    "epochs": _whole(1),
    "batch_size": _whole(1),
    "pruner": _choice(PRUNERS),
    "seed": _whole(0),
    "workers": _whole(1),
    "val_fraction": _fraction,
    "subsample": _whole(2),
    "warmup": _boolean,
    "granularity": _choice(("epoch", "step")),
    "schedule_aware_pruning": _boolean,
    "progress": _choice(tuple(PROGRESS)),
    "ranges": _ranges,
}

__all__ = ["KEYS", "StudyFile", "load_config", "merge", "parse_config"]
