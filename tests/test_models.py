"""Model zoo: mlp, cnn, user model files, and the loss chosen for a model's output."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pathlib
import textwrap

import keras
import numpy as np
import pytest

from lrsearch.data import load_dataset
from lrsearch.errors import UsageError
from lrsearch.models import MODELS
from lrsearch.models import build_model
from lrsearch.models import check_model
from lrsearch.models import loss_and_metrics


def _write(tmp_path: pathlib.Path, name: str, source: str) -> pathlib.Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _last_activation(model: keras.Model) -> str:
    return str(keras.activations.serialize(model.layers[-1].activation))


def test_names() -> None:
    assert MODELS == ("mlp", "cnn")
    for name in MODELS:
        check_model(name)


def test_mlp_architecture() -> None:
    model = build_model("mlp", (8, 8, 1), 10)
    assert isinstance(model, keras.Model)
    assert model.input_shape == (None, 8, 8, 1)
    assert model.output_shape == (None, 10)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [512, 200, 10]
    assert isinstance(model.layers[0], keras.layers.Flatten)
    assert _last_activation(model) == "softmax"
    assert not model.compiled
    assert build_model("mlp", (30,), 2).output_shape == (None, 2)


@pytest.mark.parametrize(
    ("shape", "n_classes"), [((8, 8, 1), 10), ((28, 28, 1), 10), ((5, 7, 3), 4)]
)
def test_cnn_architecture(shape: tuple[int, ...], n_classes: int) -> None:
    model = build_model("cnn", shape, n_classes)
    assert model.output_shape == (None, n_classes)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in convs] == [32, 64]
    assert _last_activation(model) == "softmax"
    out = model(np.zeros((2, *shape), dtype="float32"))
    np.testing.assert_allclose(np.asarray(out).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("shape", [(64,), (28, 28)])
def test_cnn_needs_images(shape: tuple[int, ...]) -> None:
    with pytest.raises(UsageError, match="cnn model needs image data") as info:
        build_model("cnn", shape, 3)
    assert "mlp" in str(info.value)


@pytest.mark.parametrize("spec", ["resnet", "", "models.py", "mlp2"])
def test_unknown_spec(spec: str) -> None:
    with pytest.raises(UsageError) as info:
        check_model(spec)
    message = str(info.value)
    assert "\n" not in message
    if spec.endswith(".py"):
        assert "models.py:build" in message
    else:
        assert "mlp" in message and "cnn" in message and "file.py:func" in message


def test_bad_build_arguments() -> None:
    with pytest.raises(ValueError, match="n_classes"):
        build_model("mlp", (4,), 1)
    with pytest.raises(ValueError, match="input_shape"):
        build_model("mlp", (), 3)


USER_MODEL = """
    import keras

    def build(input_shape, n_classes):
        inputs = keras.Input(shape=input_shape)
        x = keras.layers.Flatten()(inputs)
        x = keras.layers.Dense(16, activation="relu")(x)
        outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs, name="user")

    def binary(input_shape, n_classes):
        return keras.Sequential(
            [keras.Input(shape=input_shape), keras.layers.Dense(1, activation="sigmoid")]
        )

    def not_a_model(input_shape, n_classes):
        return {"layers": 3}

    def raises(input_shape, n_classes):
        raise RuntimeError("no GPU found\\nsecond line")

    def wrong_units(input_shape, n_classes):
        return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Dense(7)])

    NOT_CALLABLE = 3
"""


def test_user_file_model(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "my_model.py", USER_MODEL)
    spec = f"{path}:build"
    check_model(spec)
    model = build_model(spec, (4,), 3)
    assert model.name == "user"
    assert model.output_shape == (None, 3)
    assert loss_and_metrics(model) == ("sparse_categorical_crossentropy", ["accuracy"])
    binary = build_model(f"{path}:binary", (4,), 2)
    assert loss_and_metrics(binary) == ("binary_crossentropy", ["accuracy"])


def test_user_file_missing(tmp_path: pathlib.Path) -> None:
    spec = f"{tmp_path / 'nope.py'}:build"
    with pytest.raises(UsageError, match=r"nope\.py' .*does not exist"):
        check_model(spec)
    with pytest.raises(UsageError, match="does not exist"):
        build_model(spec, (4,), 3)


def test_user_file_missing_function(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "m1.py", USER_MODEL)
    with pytest.raises(UsageError, match=r"m1\.py' has no function 'buld'") as info:
        check_model(f"{path}:buld")
    assert "build" in str(info.value)  # lists what the file defines
    with pytest.raises(UsageError, match="not a function"):
        check_model(f"{path}:NOT_CALLABLE")


def test_user_file_fails_to_import(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "broken.py", "import keras\nraise ImportError('needs torchvision')\n")
    with pytest.raises(UsageError, match="ImportError: needs torchvision") as info:
        check_model(f"{path}:build")
    assert "Traceback" not in str(info.value)
    path = _write(tmp_path, "syntax.py", "def build(:\n")
    with pytest.raises(UsageError, match=r"syntax\.py' failed to import \(SyntaxError"):
        check_model(f"{path}:build")


def test_user_function_raises_or_returns_junk(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "m2.py", USER_MODEL)
    with pytest.raises(UsageError, match="raised RuntimeError: no GPU found second line") as info:
        build_model(f"{path}:raises", (4,), 3)
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="returned builtins.dict, not a keras.Model"):
        build_model(f"{path}:not_a_model", (4,), 3)
    with pytest.raises(UsageError, match="7 output units, but the dataset has 3 classes"):
        build_model(f"{path}:wrong_units", (4,), 3)
    with pytest.raises(UsageError, match="1 output units"):
        build_model(f"{path}:binary", (4,), 3)  # 1 unit only works for 2 classes


def test_loss_and_metrics() -> None:
    sigmoid = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    assert loss_and_metrics(sigmoid) == ("binary_crossentropy", ["accuracy"])
    softmax = build_model("mlp", (3,), 4)
    assert loss_and_metrics(softmax) == ("sparse_categorical_crossentropy", ["accuracy"])


def test_mlp_trains_on_digits() -> None:
    keras.utils.set_random_seed(0)
    ds = load_dataset("digits", seed=0)
    model = build_model("mlp", ds.input_shape, ds.n_classes)
    loss, metrics = loss_and_metrics(model)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=loss, metrics=metrics)
    history = model.fit(
        ds.x_train,
        ds.y_train,
        validation_data=(ds.x_val, ds.y_val),
        epochs=3,
        batch_size=64,
        verbose=0,
    ).history
    losses = history["loss"]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert losses[2] < losses[1] < losses[0]
    assert history["val_accuracy"][-1] > 0.5
