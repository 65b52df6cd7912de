"""The model zoo: the articles' ``mlp`` and ``cnn``, or a user's ``path/to/file.py:build``.

A model spec is one of :data:`MODELS` or ``"path/to/file.py:func"`` where
``func(input_shape, n_outputs)`` returns an *uncompiled* ``keras.Model``; ``n_outputs`` is the
number of classes, or 1 for regression (:mod:`lrsearch.tasks`). Models are built, never
compiled here: the trial compiles them with the optimizer of its schedule and the loss of
:func:`loss_and_metrics`. Seeding is the caller's business (``keras.utils.set_random_seed``).

Keras is imported inside the functions, so importing this module (and validating a built-in
name) stays cheap.
"""

from __future__ import annotations

import hashlib
import importlib.util
import operator
import os
import pathlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.checks import did_you_mean
from lrsearch.checks import first_line
from lrsearch.checks import one_line
from lrsearch.errors import UsageError
from lrsearch.tasks import check_task

if TYPE_CHECKING:
    import keras

MODELS: tuple[str, ...] = ("mlp", "cnn")
"""Names of the built-in models."""

_FORMS = (
    "Use mlp, cnn, or path/to/file.py:func where func(input_shape, n_outputs) returns a "
    "keras.Model."
)

#: output activations that cannot fit a standardised regression target (bounded or >= 0)
_NOT_FOR_REGRESSION = ("softmax", "sigmoid", "tanh", "relu")

# (resolved path, mtime_ns, size) -> module, so check_model and build_model run a file once.
_MODULE_CACHE: dict[tuple[str, int, int], ModuleType] = {}


def _split_spec(spec: Any) -> tuple[str, str | None, str | None]:
    """``(kind, path, func)``: kind is a built-in name, or ``"file"`` with path and func."""
    if not isinstance(spec, str) or not spec.strip():
        raise UsageError(
            f"The model must be a name or a file.py:func spec, got {spec!r}. {_FORMS}"
        )
    spec = spec.strip()
    if spec.lower() in MODELS:
        return spec.lower(), None, None
    if ":" in spec:
        path, _, func = spec.rpartition(":")
        if path and func and path.lower().endswith(".py"):
            if not func.isidentifier():
                raise UsageError(
                    f"Model spec '{spec}': '{func}' is not a Python function name. "
                    "Write path/to/file.py:func, e.g. models.py:build."
                )
            return "file", path, func
    if spec.lower().endswith(".py"):
        raise UsageError(
            f"Model spec '{spec}' names a file but not the function to call. Append it after a "
            f"colon, e.g. {spec}:build, where build(input_shape, n_outputs) returns a keras.Model."
        )
    raise UsageError(f"Unknown model '{spec}'.{did_you_mean(spec, MODELS)} {_FORMS}")


def _load_module(spec: str, path_text: str) -> ModuleType:
    """Import a user's model file once per content version under a unique module name."""
    path = pathlib.Path(path_text).expanduser()
    if not path.is_file():
        where = "is not a file" if path.exists() else "does not exist"
        raise UsageError(
            f"Model file '{path_text}' (from '{spec}') {where}. Check the path; it is relative "
            f"to the working directory {os.getcwd()}."
        )
    resolved = path.resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    if key in _MODULE_CACHE:
        return _MODULE_CACHE[key]
    digest = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:12]
    name = f"lrsearch_user_model_{resolved.stem}_{digest}"
    if not name.replace("_", "a").isalnum():
        name = f"lrsearch_user_model_{digest}"
    module_spec = importlib.util.spec_from_file_location(name, resolved)
    if module_spec is None or module_spec.loader is None:
        raise UsageError(f"Model file '{path_text}' cannot be imported as Python. Use a .py file.")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses, pickling and typing look the module up here
    folder = str(resolved.parent)
    sys.path.insert(0, folder)  # sibling imports work as with `python file.py`
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise UsageError(
            f"Model file '{path_text}' failed to import ({one_line(exc, with_type=True)}). Fix "
            f"the file so `python {path_text}` runs, then try again."
        ) from None
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:  # the file removed it itself
            pass
    _MODULE_CACHE[key] = module
    return module


def _user_builder(spec: str, path: str, func: str) -> Callable[..., Any]:
    module = _load_module(spec, path)
    builder = getattr(module, func, None)
    if builder is None:
        available = sorted(
            n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
        )
        hint = f" It defines: {', '.join(available[:10])}." if available else ""
        raise UsageError(
            f"Model file '{path}' has no function '{func}'.{hint} Define "
            f"def {func}(input_shape, n_outputs) returning a keras.Model, or name the right one "
            "after the colon."
        )
    if not callable(builder):
        raise UsageError(
            f"'{func}' in model file '{path}' is a {type(builder).__name__}, not a function. "
            f"Define def {func}(input_shape, n_outputs) returning a keras.Model."
        )
    return builder


def check_model(spec: str) -> None:
    """Validate a model spec cheaply, without building anything.

    A built-in name passes at once; for ``path/to/file.py:func`` the file must exist and import,
    and ``func`` must exist and be callable. Raises :class:`~lrsearch.errors.UsageError`.
    """
    kind, path, func = _split_spec(spec)
    if kind == "file":
        assert path is not None and func is not None
        _user_builder(spec, path, func)


def _check_build_args(
    input_shape: Any, n_classes: Any, task: str = "classification"
) -> tuple[tuple[int, ...], int]:
    try:
        shape = tuple(int(d) for d in input_shape)
        ok = len(shape) > 0 and all(d > 0 for d in shape)
        ok = ok and all(float(d) == int(d) for d in input_shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "Argument `input_shape` must be a non-empty tuple of positive integers. "
            f"Received: input_shape={input_shape!r}"
        )
    try:
        classes = operator.index(n_classes)
    except TypeError:
        classes = 0
    if task == "regression":
        if isinstance(n_classes, bool) or classes != 1:
            raise ValueError(
                f"Argument `n_outputs` must be 1 for regression. Received: n_outputs={n_classes!r}"
            )
    elif isinstance(n_classes, bool) or classes < 2:
        raise ValueError(
            f"Argument `n_classes` must be an integer >= 2. Received: n_classes={n_classes!r}"
        )
    return shape, classes


def _head(n_outputs: int, task: str) -> keras.layers.Layer:
    """The last layer: ``Dense(n, softmax)`` for classes, ``Dense(1)`` (linear) for regression."""
    import keras

    if task == "regression":
        return keras.layers.Dense(1)
    return keras.layers.Dense(n_outputs, activation="softmax")


def _mlp(input_shape: tuple[int, ...], n_classes: int, task: str) -> keras.Model:
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(200, activation="relu"),
            _head(n_classes, task),
        ],
        name="mlp",
    )


def _cnn(input_shape: tuple[int, ...], n_classes: int, task: str) -> keras.Model:
    import keras

    if len(input_shape) != 3:
        raise UsageError(
            f"The cnn model needs image data of shape (height, width, channels), but the "
            f"examples have shape {input_shape}. Use an image dataset (digits, mnist, "
            "fashion_mnist, or a .npz with images) or use the mlp model for tabular data."
        )
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same"),
            keras.layers.MaxPooling2D((2, 2), padding="same"),
            keras.layers.Conv2D(64, (3, 3), activation="relu", padding="same"),
            keras.layers.MaxPooling2D((2, 2), padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            _head(n_classes, task),
        ],
        name="cnn",
    )


def _output_units(model: keras.Model) -> int | None:
    """Last dimension of the (first) output, or ``None`` when the model does not know it yet."""
    try:
        outputs = model.outputs
        shape = outputs[0].shape if outputs else model.output_shape
    except (AttributeError, ValueError, TypeError, IndexError, RuntimeError):
        return None
    if isinstance(shape, list):  # several outputs: the first one decides
        shape = shape[0]
    try:
        last = shape[-1]
    except (TypeError, IndexError):
        return None
    return int(last) if last is not None else None


def _output_activation(model: keras.Model) -> str | None:
    """Name of the last layer's activation (``None`` when it has none or cannot be told)."""
    try:
        activation = model.layers[-1].activation
    except (AttributeError, IndexError):
        return None
    return getattr(activation, "__name__", None)


def build_model(
    spec: str, input_shape: tuple[int, ...], n_classes: int, task: str = "classification"
) -> keras.Model:
    """Build a fresh, uncompiled model for examples of ``input_shape``.

    ``n_classes`` is the number of output units the task needs (``n_outputs``): the number of
    classes for ``task="classification"``, 1 for ``"regression"``.

    - ``mlp``: Input -> Flatten -> Dense(512, relu) -> Dense(200, relu) -> Dense(n, softmax)
      (regression: Dense(1), linear).
    - ``cnn``: the LR range-test article's ConvNet, Conv2D(32, 3x3) -> MaxPool(2x2) ->
      Conv2D(64, 3x3) -> MaxPool(2x2) -> Flatten -> Dense(256) -> Dense(128) -> Dense(n,
      softmax) (regression: Dense(1)), ReLU throughout, ``padding="same"`` so 8x8 digits fit
      as well as 28x28 MNIST.
    - ``path/to/file.py:func``: ``func(input_shape, n_outputs)``; it must return a
      ``keras.Model`` whose output has ``n_outputs`` units (or 1 sigmoid unit for 2 classes;
      for regression one unit without a bounded activation).

    Raises :class:`~lrsearch.errors.UsageError` on a bad spec, a cnn for non-image data, or a user
    function that fails, returns something else, or whose output does not fit the task.
    """
    task = check_task(task, allow_auto=False)
    kind, path, func = _split_spec(spec)
    shape, n_classes = _check_build_args(input_shape, n_classes, task)
    if kind == "mlp":
        return _mlp(shape, n_classes, task)
    if kind == "cnn":
        return _cnn(shape, n_classes, task)
    assert path is not None and func is not None
    builder = _user_builder(spec, path, func)
    import keras

    try:
        model = builder(shape, n_classes)
    except (Exception, SystemExit) as exc:
        raise UsageError(
            f"Model function '{spec}' raised {one_line(exc, with_type=True)} when called with "
            f"input_shape={shape}, n_outputs={n_classes}. Fix the function so it builds a model "
            "for that input."
        ) from None
    if not isinstance(model, keras.Model):
        raise UsageError(
            f"Model function '{spec}' returned {type(model).__module__}."
            f"{type(model).__qualname__}, not a keras.Model. Return the model, uncompiled, e.g. "
            "keras.Sequential([...]) or keras.Model(inputs, outputs)."
        )
    units = _output_units(model)
    if task == "regression":
        _check_regression_output(spec, model, units)
        return model
    allowed = {n_classes, 1} if n_classes == 2 else {n_classes}
    if units is not None and units not in allowed:
        raise UsageError(
            f"Model function '{spec}' returned a model with {units} output units, but the "
            f"dataset has {n_classes} classes. End the model with Dense({n_classes}, "
            "activation='softmax')"
            + (" or, for 2 classes, Dense(1, activation='sigmoid')." if n_classes == 2 else ".")
            + " If the target is a continuous value, pass --task regression."
        )
    return model


def build_for(spec: str, data: Any) -> keras.Model:
    """:func:`build_model` for a :class:`~lrsearch.data.Dataset`: its shape, outputs and task."""
    return build_model(spec, data.input_shape, data.n_outputs, data.task)


def check_fits(spec: str, data: Any, seed: int = 0) -> None:
    """Build the model for ``data`` and run it on two examples; then free it.

    Raises :class:`~lrsearch.errors.UsageError` when the model does not fit the task or cannot
    process the data (with the data's shape and the first line of Keras' error).
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = build_for(spec, data)
    try:
        model(data.x_train[:2])
    except Exception as exc:  # noqa: BLE001 - any failure here is a model/data mismatch
        first = first_line(exc)
        raise UsageError(
            f"The model {spec!r} cannot process the {data.name!r} data of shape "
            f"{data.input_shape}: {type(exc).__name__}: {first}. Make the model's input match "
            "the data."
        ) from None
    del model
    keras.backend.clear_session()


def _check_regression_output(spec: str, model: keras.Model, units: int | None) -> None:
    """A regression model ends in one unit whose activation can reach any standardised value."""
    fix = "End the model with keras.layers.Dense(1) (linear) for a regression target."
    if units is not None and units != 1:
        raise UsageError(
            f"Model function '{spec}' returned a model with {units} output units, but the task "
            f"is regression (one target value per example). {fix} If the target holds class "
            "labels, pass --task classification."
        )
    activation = _output_activation(model)
    if activation in _NOT_FOR_REGRESSION:
        raise UsageError(
            f"Model function '{spec}' ends in a '{activation}' activation, which cannot reach "
            "every value of the regression target (lrsearch standardises it to mean 0, std 1). "
            + fix
        )


def loss_and_metrics(model: keras.Model, task: str = "classification") -> tuple[str, list[str]]:
    """The loss and metrics to compile ``model`` with (:func:`lrsearch.tasks.loss_and_metrics`).

    Regression: ``("mean_squared_error", ["mae"])``. Classification with one output unit (a
    sigmoid binary classifier, labels 0/1): ``("binary_crossentropy", ["accuracy"])``;
    otherwise one unit per class: ``("sparse_categorical_crossentropy", ["accuracy"])``.
    """
    from lrsearch import tasks

    return tasks.loss_and_metrics(task, _output_units(model))
