"""Datasets: bundled loaders, splits, standardisation, .npz/.csv files and their errors."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pathlib
from typing import Any

import numpy as np
import pytest

from lrsearch import data
from lrsearch.data import DATASETS
from lrsearch.data import Dataset
from lrsearch.data import check_dataset
from lrsearch.data import load_dataset
from lrsearch.errors import UsageError

BUNDLED = {
    # name: (input_shape, n_classes, n_examples)
    "digits": ((8, 8, 1), 10, 1797),
    "breast_cancer": ((30,), 2, 569),
    "wine": ((13,), 3, 178),
    "iris": ((4,), 3, 150),
}


def _assert_well_formed(ds: Dataset) -> None:
    assert ds.x_train.dtype == np.float32 and ds.x_val.dtype == np.float32
    assert ds.y_train.dtype == np.int32 and ds.y_val.dtype == np.int32
    assert ds.x_train.shape[1:] == ds.x_val.shape[1:] == ds.input_shape
    assert len(ds.x_train) == len(ds.y_train) and len(ds.x_val) == len(ds.y_val)
    labels = np.concatenate([ds.y_train, ds.y_val])
    assert labels.min() == 0 and labels.max() == ds.n_classes - 1
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()


def test_names() -> None:
    assert DATASETS == (
        "digits",
        "breast_cancer",
        "wine",
        "iris",
        "diabetes",
        "mnist",
        "fashion_mnist",
    )


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_dataset_loads(name: str) -> None:
    shape, n_classes, n = BUNDLED[name]
    ds = load_dataset(name)
    _assert_well_formed(ds)
    assert ds.name == name
    assert ds.input_shape == shape
    assert ds.n_classes == n_classes
    assert len(ds.y_train) + len(ds.y_val) == n
    assert len(ds.y_val) == pytest.approx(0.2 * n, abs=1)
    # stratified: every class on both sides
    assert set(np.unique(ds.y_val)) == set(range(n_classes))


def test_digits_images_scaled_to_unit_interval() -> None:
    ds = load_dataset("digits")
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "iris"])
def test_tabular_standardised_with_train_statistics(name: str) -> None:
    from sklearn import datasets as skdatasets

    ds = load_dataset(name, seed=3)
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1.0, atol=1e-4)
    # the validation split is scaled with the training split's statistics, not its own
    assert np.abs(ds.x_val.mean(axis=0)).max() > 1e-3
    raw = getattr(skdatasets, f"load_{name}")().data
    scaled = np.concatenate([ds.x_train, ds.x_val])
    for col in range(raw.shape[1]):
        # one increasing affine map (x - mean) / std sends every raw value to its scaled value
        slope, intercept = np.polyfit(np.sort(raw[:, col]), np.sort(scaled[:, col]), 1)
        fitted = slope * np.sort(raw[:, col]) + intercept
        np.testing.assert_allclose(fitted, np.sort(scaled[:, col]), atol=1e-3)
        mean, std = -intercept / slope, 1.0 / slope
        # ... and its statistics are not those of the whole dataset
        assert (mean, std) != pytest.approx((raw[:, col].mean(), raw[:, col].std()), rel=1e-6)


def test_split_is_seeded() -> None:
    a = load_dataset("iris", seed=1)
    b = load_dataset("iris", seed=1)
    c = load_dataset("iris", seed=2)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert a.fingerprint() == b.fingerprint()
    assert not np.array_equal(a.x_val, c.x_val)
    assert a.fingerprint() != c.fingerprint()


def test_val_fraction_and_subsample() -> None:
    ds = load_dataset("digits", val_fraction=0.5, subsample=200, seed=4)
    assert len(ds.y_train) + len(ds.y_val) == 200
    assert len(ds.y_val) == 100
    again = load_dataset("digits", val_fraction=0.5, subsample=200, seed=4)
    assert again.fingerprint() == ds.fingerprint()
    other = load_dataset("digits", val_fraction=0.5, subsample=200, seed=5)
    assert other.fingerprint() != ds.fingerprint()


def test_fingerprint_short_and_stable() -> None:
    fp = load_dataset("wine").fingerprint()
    assert isinstance(fp, str) and 8 <= len(fp) <= 32
    assert fp == load_dataset("wine").fingerprint()


@pytest.mark.parametrize("bad", [0, 0.0, 1, 1.0, 1.5, -0.2, "0.2", None, True])
def test_bad_val_fraction(bad: Any) -> None:
    with pytest.raises(UsageError, match=r"`val_fraction` must be in \(0, 1\)\. Received"):
        load_dataset("iris", val_fraction=bad)


@pytest.mark.parametrize("bad", [0, 1, -5, 2.5, "100"])
def test_bad_subsample(bad: Any) -> None:
    with pytest.raises(UsageError, match="subsample"):
        load_dataset("iris", subsample=bad)


def test_unknown_name_suggests() -> None:
    with pytest.raises(UsageError, match="Unknown dataset 'digts'") as info:
        load_dataset("digts")
    message = str(info.value)
    assert "digits" in message and ".npz" in message and ".csv" in message
    assert "\n" not in message
    with pytest.raises(UsageError, match="Unknown dataset 'imagenet'"):
        check_dataset("imagenet")


def test_check_dataset_is_cheap_and_accepts_names_and_files(tmp_path: pathlib.Path) -> None:
    for name in DATASETS:
        check_dataset(name)
    check_dataset("Fashion-MNIST")
    path = tmp_path / "d.npz"
    path.write_bytes(b"not even a zip")  # check only looks at the path, not the content
    check_dataset(str(path))
    with pytest.raises(UsageError, match="does not exist"):
        check_dataset(str(tmp_path / "missing.csv"))
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(UsageError, match=r"unsupported type '\.txt'"):
        check_dataset(str(tmp_path / "d.txt"))
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    with pytest.raises(UsageError, match="not a file"):
        check_dataset(str(folder))


# --------------------------------------------------------------------------- .npz


def _blobs(n: int = 120, n_features: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(size=(n, n_features)) + y[:, None] * 2.0
    return x, y


def test_npz_x_y_is_split(tmp_path: pathlib.Path) -> None:
    x, y = _blobs()
    path = tmp_path / "blobs.npz"
    np.savez(path, x=x, y=y + 7)  # labels 7, 8, 9 -> 0, 1, 2
    ds = load_dataset(str(path), val_fraction=0.25, seed=0)
    _assert_well_formed(ds)
    assert ds.name == str(path)
    assert ds.n_classes == 3 and ds.input_shape == (5,)
    assert len(ds.y_val) == 30 and len(ds.y_train) == 90
    # values used as stored (no standardisation of .npz features)
    stored = {tuple(np.round(r, 4)) for r in x.astype(np.float32)}
    assert all(tuple(np.round(r, 4)) in stored for r in ds.x_val)


def test_npz_fixed_split_used_as_is(tmp_path: pathlib.Path) -> None:
    x, y = _blobs()
    path = tmp_path / "fixed.npz"
    np.savez(path, x_train=x[:100], y_train=y[:100], x_val=x[100:], y_val=y[100:])
    ds = load_dataset(str(path), val_fraction=0.5, seed=9)
    _assert_well_formed(ds)
    np.testing.assert_allclose(ds.x_train, x[:100].astype(np.float32))
    np.testing.assert_array_equal(ds.y_val, y[100:])
    assert ds.n_classes == 3


def test_npz_uint8_images_get_scaled_and_a_channel(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 6, 6), dtype=np.uint8)
    x[0, 0, 0] = 255
    y = np.arange(40) % 2
    path = tmp_path / "images.npz"
    np.savez_compressed(path, x=x, y=y)
    ds = load_dataset(str(path))
    assert ds.input_shape == (6, 6, 1)
    assert 0.0 <= ds.x_train.min() and max(ds.x_train.max(), ds.x_val.max()) == 1.0


def test_npz_string_and_one_hot_labels(tmp_path: pathlib.Path) -> None:
    x, y = _blobs()
    path = tmp_path / "str.npz"
    np.savez(path, x=x, y=np.array(["cat", "dog", "emu"])[y])
    assert load_dataset(str(path)).n_classes == 3
    path = tmp_path / "onehot.npz"
    np.savez(path, x=x, y=np.eye(3)[y])
    ds = load_dataset(str(path))
    assert ds.n_classes == 3


def test_npz_missing_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nowhere.npz"
    with pytest.raises(UsageError, match=r"'.*nowhere\.npz' does not exist"):
        load_dataset(str(path))


def test_npz_corrupt(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "corrupt.npz"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(UsageError, match=r"corrupt\.npz' could not be read as \.npz") as info:
        load_dataset(str(path))
    assert "numpy.savez" in str(info.value)


def test_npz_single_array(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "single.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros((3, 2)))
    with pytest.raises(UsageError, match=r"single\.npz' holds a single array"):
        load_dataset(str(path))


def test_npz_wrong_keys(tmp_path: pathlib.Path) -> None:
    x, y = _blobs()
    path = tmp_path / "keys.npz"
    np.savez(path, features=x, labels=y)
    with pytest.raises(UsageError, match=r"keys\.npz' has the keys features, labels") as info:
        load_dataset(str(path))
    assert "x_train" in str(info.value)
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=x, y_train=y, x_val=x)
    with pytest.raises(UsageError, match="partial.npz"):
        load_dataset(str(path))


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"x": np.zeros((10, 2)), "y": np.zeros(10)}, "at least 2 classes"),
        ({"x": np.zeros((10, 2)), "y": np.arange(9) % 2}, "one label per example"),
        ({"x": np.array(["a"] * 10), "y": np.arange(10) % 2}, "not numbers"),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, "empty"),
        ({"x": np.full((10, 2), np.nan), "y": np.arange(10) % 2}, "NaN"),
        (
            {
                "x_train": np.zeros((10, 2)),
                "y_train": np.arange(10) % 2,
                "x_val": np.zeros((4, 3)),
                "y_val": np.arange(4) % 2,
            },
            "same shape",
        ),
    ],
)
def test_npz_bad_contents(
    tmp_path: pathlib.Path, arrays: dict[str, np.ndarray], match: str
) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UsageError, match=match) as info:
        load_dataset(str(path))
    assert "bad.npz" in str(info.value)


# --------------------------------------------------------------------------- .csv


def _write_csv(path: pathlib.Path, n: int = 60) -> None:
    x, y = _blobs(n=n, n_features=3)
    x[:, 0] = x[:, 0] * 100 + 500  # a column far from unit scale
    species = np.array(["setosa", "versicolor", "virginica"])[y]
    lines = ["a,b,c,species"] + [
        f"{r[0]:.5f},{r[1]:.5f},{r[2]:.5f},{s}" for r, s in zip(x, species, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_csv_with_string_labels(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "flowers.csv"
    _write_csv(path)
    ds = load_dataset(str(path), seed=1)
    _assert_well_formed(ds)
    assert ds.n_classes == 3 and ds.input_shape == (3,)
    assert len(ds.y_train) + len(ds.y_val) == 60
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1.0, atol=1e-4)
    # sorted string labels: setosa -> 0, versicolor -> 1, virginica -> 2; the third class sits
    # far along the features, so its standardised first feature is the largest on average
    means = [ds.x_train[ds.y_train == k, 1].mean() for k in range(3)]
    assert means[0] < means[1] < means[2]


def test_csv_numeric_labels(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "numeric.csv"
    path.write_text("f1,f2,label\n" + "".join(f"{i},{i % 5},{(i % 2) * 10}\n" for i in range(40)))
    ds = load_dataset(str(path))
    assert ds.n_classes == 2
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_val]))) == {0, 1}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b,label\n1,x,0\n2,y,1\n3,z,0\n4,w,1\n5,v,0\n", r"column\(s\) 'b' are not numeric"),
        ("a,b,label\n1,2,0\n2,3,0\n3,4,0\n4,5,0\n5,6,0\n", "at least 2 classes"),
        ("", "is empty"),
        ("a,b,label\n", "no rows"),
        ("label\n0\n1\n", "at least one feature"),
        ("a,b,label\n1,,0\n2,3,1\n3,4,0\n4,5,1\n5,6,0\n", "missing or infinite"),
        ("a,b,label\n1,2,0\n2,3,\n3,4,0\n4,5,1\n5,6,0\n", "label column 'label' has missing"),
    ],
)
def test_csv_bad_contents(tmp_path: pathlib.Path, text: str, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(UsageError, match=match) as info:
        load_dataset(str(path))
    assert "bad.csv" in str(info.value)


def test_csv_unreadable(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"a,b,label\n\xff\xfe\x00\x81,1,2\n")
    with pytest.raises(UsageError, match="binary.csv"):
        load_dataset(str(path))


# --------------------------------------------------------------------------- Keras loaders


def test_keras_loader_is_wrapped_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real loader is replaced: these tests never touch the network."""
    import keras

    def offline() -> None:
        raise OSError("URL fetch failure on https://storage.googleapis.com/...: no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(UsageError, match="Dataset 'mnist' could not be loaded") as info:
        load_dataset("mnist")
    message = str(info.value)
    assert "network" in message and "digits" in message and ".npz" in message


def test_keras_loader_shapes_scaling_and_subsample(monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    y = (np.arange(300) % 10).astype(np.uint8)

    def fake() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        return (x, y), (x[:10], y[:10])

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake)
    ds = load_dataset("fashion_mnist", subsample=200, seed=0)
    _assert_well_formed(ds)
    assert ds.input_shape == (28, 28, 1) and ds.n_classes == 10
    assert len(ds.y_train) + len(ds.y_val) == 200
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0


def test_module_import_is_light() -> None:
    assert not hasattr(data, "keras")
    assert not hasattr(data, "pd")


def test_download_lock_lets_one_process_at_a_time_into_the_keras_cache(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tune --workers W: W processes load mnist at once; only one may download it
    import threading
    import time

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    spans: list[tuple[float, float]] = []

    def hold() -> None:
        with data.download_lock():
            start = time.monotonic()
            time.sleep(0.3)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(spans) == 3
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end  # never two inside at once
    assert (tmp_path / "keras-home" / "lrsearch-download.lock").exists()
