"""Tasks without the CLI: detection, regression data, models that fit (or not) the task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.datasets import load_wine

from lrsearch.data import check_task_for
from lrsearch.data import load_dataset
from lrsearch.errors import UsageError
from lrsearch.models import build_model
from lrsearch.models import loss_and_metrics
from lrsearch.tasks import detect_task
from lrsearch.tasks import history_metric


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.array(["cat", "dog"] * 10), "classification"),
        (np.array([0, 1, 2] * 20), "classification"),
        (np.array([0.0, 1.0] * 20), "classification"),  # whole-number floats: labels
        (np.array([True, False] * 10), "classification"),
        (np.linspace(0.0, 1.0, 100), "regression"),  # fractional values
        (load_diabetes().target, "regression"),  # 214 distinct whole numbers in 442 rows
        (np.arange(1000) % 150, "regression"),  # more than 100 distinct values
        (np.arange(40) % 20, "regression"),  # 2 examples per value
    ],
)
def test_detect_task(y: np.ndarray, task: str) -> None:
    decided, why = detect_task(y)
    assert decided == task
    assert why


def test_diabetes_is_a_standardised_regression_dataset() -> None:
    data = load_dataset("diabetes", seed=0)
    assert data.task == "regression"
    assert data.n_outputs == 1
    assert data.y_train.dtype == np.float32
    # standardised with the training split: mean 0, std 1 there
    assert float(data.y_train.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(data.y_train.std()) == pytest.approx(1.0, abs=1e-4)
    raw = load_diabetes().target
    assert data.target_mean == pytest.approx(raw.mean(), rel=0.05)
    assert data.target_std == pytest.approx(raw.std(), rel=0.1)
    restored = data.y_val * data.target_std + data.target_mean
    assert set(np.round(restored).astype(int)) <= set(raw.astype(int))


def test_csv_task_auto_explicit_and_refused(tmp_path: Path) -> None:
    diabetes = tmp_path / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(diabetes, index=False)
    wine = tmp_path / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(wine, index=False)

    reg = load_dataset(str(diabetes))
    assert reg.task == "regression"
    assert "214 distinct values" in reg.task_reason
    cls = load_dataset(str(wine))
    assert (cls.task, cls.n_classes, cls.n_outputs) == ("classification", 3, 3)
    as_reg = load_dataset(str(wine), task="regression")
    assert as_reg.task == "regression"
    assert as_reg.y_train.dtype == np.float32
    # named datasets have their task
    assert check_task_for("digits", "auto") == "classification"
    assert check_task_for("diabetes", "auto") == "regression"
    with pytest.raises(UsageError, match="classification dataset"):
        check_task_for("digits", "regression")
    with pytest.raises(UsageError, match="Unknown task"):
        check_task_for("digits", "ranking")
    # text labels cannot be a regression target
    text = tmp_path / "text.csv"
    pd.DataFrame({"a": range(20), "label": ["x", "y"] * 10}).to_csv(text, index=False)
    with pytest.raises(UsageError, match="regression needs numbers"):
        load_dataset(str(text), task="regression")


def test_npz_one_hot_is_classification_and_one_column_target_is_regression(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    one_hot = np.eye(3)[rng.integers(0, 3, size=60)]
    np.savez(tmp_path / "onehot.npz", x=x, y=one_hot)
    assert load_dataset(str(tmp_path / "onehot.npz")).task == "classification"
    np.savez(tmp_path / "target.npz", x=x, y=x.sum(axis=1, keepdims=True) * 1.5)
    data = load_dataset(str(tmp_path / "target.npz"))
    assert data.task == "regression"
    assert data.y_train.shape == (len(data.x_train),)
    with pytest.raises(UsageError, match="one target value per example"):
        load_dataset(str(tmp_path / "onehot.npz"), task="regression")


def test_built_in_models_end_in_one_linear_unit_for_regression() -> None:
    for name, shape in (("mlp", (10,)), ("cnn", (8, 8, 1))):
        model = build_model(name, shape, 1, "regression")
        assert model.output_shape == (None, 1)
        assert model.layers[-1].activation.__name__ == "linear"
        assert loss_and_metrics(model, "regression") == ("mean_squared_error", ["mae"])
    with pytest.raises(ValueError, match="`n_outputs` must be 1"):
        build_model("mlp", (10,), 3, "regression")


USER_MODELS = """
import keras

def linear(input_shape, n_outputs):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(n_outputs)])

def three(input_shape, n_outputs):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(3)])

def bounded(input_shape, n_outputs):
    return keras.Sequential([keras.Input(input_shape),
                             keras.layers.Dense(n_outputs, activation="sigmoid")])
"""


def test_user_models_must_fit_the_regression_task(tmp_path: Path) -> None:
    path = tmp_path / "models.py"
    path.write_text(USER_MODELS)
    model = build_model(f"{path}:linear", (10,), 1, "regression")
    assert model.output_shape == (None, 1)
    with pytest.raises(UsageError, match=r"3 output units.*Dense\(1\)"):
        build_model(f"{path}:three", (10,), 1, "regression")
    with pytest.raises(UsageError, match=r"'sigmoid' activation.*Dense\(1\)"):
        build_model(f"{path}:bounded", (10,), 1, "regression")
    # a model whose output does not fit the classes is told about --task regression too
    with pytest.raises(UsageError, match="--task regression"):
        build_model(f"{path}:three", (10,), 5, "classification")


def test_history_metric() -> None:
    assert history_metric({"loss": [1.0], "val_mae": [0.5]}) == "mae"
    assert history_metric({"loss": [1.0], "val_accuracy": [0.5]}) == "accuracy"
