"""Tests for workshop_utils.data: the shapes10 generator and cache, real datasets offline, sample_photo."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from workshop_utils import data
from workshop_utils.data import (
    DATASETS,
    SHAPES10_CLASSES,
    Dataset,
    DatasetUnavailableError,
    load_dataset,
    make_shapes10,
    sample_photo,
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test gets its own shapes10 cache and Keras home, and no WORKSHOP_DATASET."""
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("WORKSHOP_DATASET", raising=False)
    return tmp_path


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


def test_make_shapes10_shapes_dtypes_and_ranges() -> None:
    x, y = make_shapes10(40)
    assert x.shape == (40, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (40,) and y.dtype == np.int64
    assert set(y.tolist()) == set(range(len(SHAPES10_CLASSES)))  # every class present
    assert x.min() < 40 and x.max() > 215  # uses the range, not a washed-out band
    per_image_std = x.reshape(40, -1).std(axis=1)
    assert per_image_std.min() > 5  # no blank images
    assert len({image.tobytes() for image in x}) == 40  # all different


def test_make_shapes10_is_deterministic_per_seed() -> None:
    first, labels = make_shapes10(12, seed=3)
    again, labels_again = make_shapes10(12, seed=3)
    other, _ = make_shapes10(12, seed=4)
    assert first.tobytes() == again.tobytes() and np.array_equal(labels, labels_again)
    assert not np.array_equal(first, other)


def test_image_i_does_not_depend_on_n_start_or_chunking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x40, y40 = make_shapes10(40)
    x15, _ = make_shapes10(15)
    x_mid, y_mid = make_shapes10(10, start=20)
    assert np.array_equal(x40[:15], x15)
    assert np.array_equal(x40[20:30], x_mid) and np.array_equal(y40[20:30], y_mid)
    monkeypatch.setattr(data.shapes10, "_CHUNK", 7)  # images rendered in other groups must not change
    assert np.array_equal(make_shapes10(40)[0], x40)


def test_every_prefix_is_class_balanced() -> None:
    _, y = make_shapes10(57, start=3)
    for n in range(1, len(y) + 1):
        counts = np.bincount(y[:n], minlength=10)
        assert counts.max() - counts.min() <= 1, n


def test_train_and_test_images_differ() -> None:
    dataset = load_dataset("shapes10", train_size=30, test_size=30)
    train = {image.tobytes() for image in dataset.x_train}
    assert not train & {image.tobytes() for image in dataset.x_test}


def _colour_z_scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per class and channel: (class mean colour - overall mean) / its standard error."""
    colours = x.reshape(len(x), -1, 3).mean(axis=1)
    overall = colours.mean(axis=0)
    scores = []
    for label in np.unique(y):
        members = colours[y == label]
        scores.append((members.mean(axis=0) - overall) / (members.std(axis=0) / np.sqrt(len(members))))
    return np.abs(np.array(scores))


def test_colour_does_not_predict_the_class() -> None:
    x, y = make_shapes10(1500)
    assert _colour_z_scores(x, y).max() < 4.0
    # The check can fail: tint each class differently by 25 grey levels and it must flag it.
    tinted = np.clip(x.astype(np.int16) + ((y % 3 == 0) * 25)[:, None, None, None], 0, 255).astype(np.uint8)
    assert _colour_z_scores(tinted, y).max() > 4.0


def test_make_shapes10_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        make_shapes10(-1)
    with pytest.raises(TypeError, match="n must be an int"):
        make_shapes10(2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        make_shapes10(3, seed=-1)
    assert make_shapes10(0)[0].shape == (0, 32, 32, 3)


# --------------------------------------------------------------------------------------------
# load_dataset, Dataset, the cache
# --------------------------------------------------------------------------------------------


def test_load_shapes10_format_and_defaults_from_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = load_dataset(train_size=20, test_size=10)  # no name, no env var -> shapes10
    assert dataset.name == "shapes10" and dataset.class_names == SHAPES10_CLASSES
    assert dataset.x_train.shape == (20, 32, 32, 3) and dataset.x_test.shape == (
        10,
        32,
        32,
        3,
    )
    assert dataset.y_train.dtype == np.int64 and dataset.num_classes == 10
    assert dataset.input_shape == (32, 32, 3)
    assert np.array_equal(dataset.x_train, make_shapes10(20)[0])
    assert np.array_equal(dataset.x_test, make_shapes10(10, start=data.SHAPES10_TEST_START)[0])
    assert "train=20" in repr(dataset) and len(repr(dataset)) < 200
    monkeypatch.setenv("WORKSHOP_DATASET", "no_such_set")
    with pytest.raises(ValueError, match="WORKSHOP_DATASET"):
        load_dataset(train_size=5, test_size=5)


@pytest.mark.parametrize("name", ["imagenet", "", "cifar100"])
def test_unknown_name_lists_the_choices(name: str) -> None:
    with pytest.raises(ValueError) as info:
        load_dataset(name, train_size=5, test_size=5)
    assert all(choice in str(info.value) for choice in DATASETS)


@pytest.mark.parametrize(
    ("sizes", "error"),
    [
        ((0, 5), ValueError),
        ((5, -3), ValueError),
        ((2.5, 5), TypeError),
        ((True, 5), TypeError),
        (("10", 5), TypeError),
    ],
)
def test_bad_sizes_raise(sizes: tuple, error: type) -> None:
    with pytest.raises(error, match="size"):
        load_dataset("shapes10", *sizes)


def test_take_returns_balanced_prefixes() -> None:
    dataset = load_dataset("shapes10", train_size=40, test_size=20)
    small = dataset.take(train=25, test=10)
    assert small.x_train.shape == (25, 32, 32, 3) and small.y_test.shape == (10,)
    assert np.array_equal(small.x_train, dataset.x_train[:25])
    assert np.bincount(small.y_train, minlength=10).min() >= 2
    assert dataset.take(test=5).x_train.shape[0] == 40  # None keeps the split whole
    with pytest.raises(ValueError, match="more than the 40"):
        dataset.take(train=41)
    with pytest.raises(ValueError):
        dataset.take(train=0)


def test_downsampled_averages_blocks_and_keeps_labels() -> None:
    dataset = load_dataset("shapes10", train_size=20, test_size=10)
    small = dataset.downsampled(2)
    assert small.input_shape == (16, 16, 3) and small.name == "shapes10@16x16"
    assert np.array_equal(small.y_train, dataset.y_train) and small.x_test.shape == (10, 16, 16, 3)
    block = dataset.x_train[3, 4:6, 10:12, 1].astype(np.float64)  # output pixel (2, 5) of image 3, green
    assert small.x_train[3, 2, 5, 1] == np.rint(block.mean())
    assert small.x_train.dtype == np.uint8
    assert dataset.downsampled(1) is dataset
    with pytest.raises(ValueError, match="does not divide"):
        dataset.downsampled(3)
    with pytest.raises(ValueError, match="int >= 1"):
        dataset.downsampled(0)


def test_dataset_checks_its_arrays() -> None:
    x = np.zeros((4, 32, 32, 3), np.uint8)
    y = np.arange(4, dtype=np.int64)
    with pytest.raises(TypeError, match="uint8"):
        Dataset("bad", x.astype(np.float32), y, x, y, SHAPES10_CLASSES)
    with pytest.raises(TypeError, match="int64"):
        Dataset("bad", x, y.astype(np.int32), x, y, SHAPES10_CLASSES)
    with pytest.raises(ValueError, match="labels outside"):
        Dataset("bad", x, y, x, y, ("a", "b"))


def test_cache_writes_verifies_extends_and_regenerates(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    cache = _isolated / "cache"
    first = load_dataset("shapes10", train_size=30, test_size=10)
    npz_files = sorted(cache.glob("*.npz"))
    assert len(npz_files) == 2 and all(path.with_suffix(".json").is_file() for path in npz_files)
    train_npz = next(path for path in npz_files if "start0" in path.name)
    meta = json.loads(train_npz.with_suffix(".json").read_text())
    assert meta["sha256"] == data.cache._sha256(train_npz) and meta["n"] == 30

    # A second load reads the cache: the generator is not called.
    def must_not_generate(*args: object, **kwargs: object) -> None:
        raise AssertionError("regenerated although the cache was valid")

    with monkeypatch.context() as patch:
        patch.setattr(data.shapes10, "make_shapes10", must_not_generate)
        again = load_dataset("shapes10", train_size=20, test_size=10)
    assert np.array_equal(again.x_train, first.x_train[:20])

    # A larger size generates only the missing images, and caches the larger set.
    calls: list[tuple] = []
    real = data.shapes10.make_shapes10
    monkeypatch.setattr(
        data.shapes10,
        "make_shapes10",
        lambda n, seed=0, start=0: calls.append((n, start)) or real(n, seed, start),
    )
    bigger = load_dataset("shapes10", train_size=45, test_size=10)
    assert calls == [(15, 30)]
    assert np.array_equal(bigger.x_train, real(45)[0])
    assert json.loads(train_npz.with_suffix(".json").read_text())["n"] == 45

    # A valid .npz whose contents changed: only the checksum can tell; a warning says so, and
    # the arrays are regenerated.
    np.savez(train_npz, x=np.zeros((45, 32, 32, 3), np.uint8), y=np.zeros(45, np.int64))
    calls.clear()
    with pytest.warns(UserWarning, match="sha256.*regenerating"):
        repaired = load_dataset("shapes10", train_size=45, test_size=10)
    assert calls == [(45, 0)] and np.array_equal(repaired.x_train, bigger.x_train)
    assert json.loads(train_npz.with_suffix(".json").read_text())["sha256"] == data.cache._sha256(train_npz)

    # Damaged bytes are caught too.
    raw = bytearray(train_npz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    train_npz.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="regenerating"):
        assert np.array_equal(
            load_dataset("shapes10", train_size=45, test_size=10).x_train,
            bigger.x_train,
        )

    # A cache written by an older generator (here: one without noise) is not reused.
    calls.clear()
    with monkeypatch.context() as patch:
        patch.setattr(data.shapes10, "_NOISE_SIGMA_MAX", 0.0)
        with pytest.warns(UserWarning, match="different version of the generator"):
            changed = load_dataset("shapes10", train_size=45, test_size=10)
        assert (45, 0) in calls and not np.array_equal(changed.x_train, bigger.x_train)
        assert np.array_equal(changed.x_train, real(45)[0])

    # A broken sidecar is treated the same way.
    train_npz.with_suffix(".json").write_text("{not json")
    with pytest.warns(UserWarning, match="regenerating"):
        load_dataset("shapes10", train_size=5, test_size=5)


def test_cache_dir_setting_and_fallback(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    assert data.data_cache_dir() == _isolated / "cache"
    monkeypatch.delenv("WORKSHOP_DATA_DIR")
    repo = Path(data.__file__).resolve().parents[2]  # workshop_utils/data/__init__.py
    if os.access(repo, os.W_OK):
        assert data.data_cache_dir() == repo / "data" / "cache"
    monkeypatch.setattr(data.cache, "_writable_dir", lambda path: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(_isolated / "xdg"))
    assert data.data_cache_dir() == _isolated / "xdg" / "cnn-workshop"


# --------------------------------------------------------------------------------------------
# Real datasets, offline, from files in Keras' cache format
# --------------------------------------------------------------------------------------------


def _digits(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n random 28x28 images, labels in sorted (unbalanced-prefix) order like a raw dump could be."""
    return rng.integers(1, 256, size=(n, 28, 28), dtype=np.uint8), np.sort(rng.integers(0, 10, n)).astype(np.uint8)


def _check_gray_conversion(dataset: Dataset, x: np.ndarray, y: np.ndarray, split: str) -> None:
    images, labels = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
    assert images.shape == (len(x), 32, 32, 3) and images.dtype == np.uint8 and labels.dtype == np.int64
    assert not images[:, :2].any() and not images[:, -2:].any() and not images[:, :, :2].any()  # zero padding
    assert np.array_equal(images[..., 0], images[..., 2])  # grey tiled to three channels
    order = data._balanced_order(y)
    assert np.array_equal(images[:, 2:30, 2:30, 1], x[order]) and np.array_equal(labels, y[order])
    first = labels[: len(np.unique(y))]
    assert len(set(first.tolist())) == len(first)  # balanced order: one of each class first


def test_mnist_from_keras_cache(_isolated: Path) -> None:
    rng = np.random.default_rng(0)
    (x_train, y_train), (x_test, y_test) = _digits(40, rng), _digits(15, rng)
    folder = _isolated / "keras" / "datasets"
    folder.mkdir(parents=True)
    np.savez(
        folder / "mnist.npz",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
    )
    dataset = load_dataset("mnist")
    assert dataset.class_names == tuple("0123456789")
    _check_gray_conversion(dataset, x_train, y_train, "train")
    _check_gray_conversion(dataset, x_test, y_test, "test")
    assert load_dataset("MNIST", train_size=10, test_size=3).x_train.shape == (
        10,
        32,
        32,
        3,
    )
    with pytest.raises(ValueError, match="more than the 40"):
        load_dataset("mnist", train_size=41)


def test_fashion_mnist_from_keras_cache(_isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    (x_train, y_train), (x_test, y_test) = _digits(30, rng), _digits(12, rng)
    folder = _isolated / "keras" / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, x, y in (("train", x_train, y_train), ("t10k", x_test, y_test)):
        header = np.array([2049, len(y)], ">i4").tobytes()
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + y.tobytes()))
        header = np.array([2051, len(x), 28, 28], ">i4").tobytes()
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + x.tobytes()))
    monkeypatch.setenv("WORKSHOP_DATASET", "fashion_mnist")
    dataset = load_dataset()
    assert dataset.name == "fashion_mnist" and dataset.class_names[0] == "T-shirt/top"
    _check_gray_conversion(dataset, x_train, y_train, "train")
    _check_gray_conversion(dataset, x_test, y_test, "test")


def _write_cifar_batches(folder: Path, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, list[int]]]:
    folder.mkdir(parents=True)
    batches = {}
    for batch in data.keras_files._CIFAR_BATCHES:
        pixels = rng.integers(0, 256, size=(6, 3072), dtype=np.uint8)  # rows: R plane, G plane, B plane
        labels = rng.integers(0, 10, 6).tolist()
        content = {
            b"batch_label": b"fake",
            b"labels": labels,
            b"data": pixels,
            b"filenames": [b"x.png"] * 6,
        }
        (folder / batch).write_bytes(pickle.dumps(content, protocol=4))
        batches[batch] = (pixels, labels)
    return batches


@pytest.mark.parametrize("layout", ["extracted", "archive"])
def test_cifar10_from_keras_cache(_isolated: Path, layout: str) -> None:
    datasets = _isolated / "keras" / "datasets"
    source = datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    if layout == "archive":  # the file a person downloads by hand, copied into the folder
        source = _isolated / "download" / "cifar-10-batches-py"
    batches = _write_cifar_batches(source, np.random.default_rng(2))
    if layout == "archive":
        datasets.mkdir(parents=True)
        with tarfile.open(datasets / "cifar-10-python.tar.gz", "w:gz") as tar:
            tar.add(source, arcname="cifar-10-batches-py")
    dataset = load_dataset("cifar10")
    assert dataset.class_names[:2] == ("airplane", "automobile")
    x_test = batches["test_batch"][0].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    y_test = np.array(batches["test_batch"][1])
    order = data._balanced_order(y_test)
    assert np.array_equal(dataset.x_test, x_test[order]) and np.array_equal(dataset.y_test, y_test[order])
    assert dataset.x_train.shape == (30, 32, 32, 3) and dataset.y_train.dtype == np.int64
    assert dataset.x_test[0, 0, 0, 1] == x_test[order[0]].reshape(-1, 3)[0, 1]  # channels last, G second


def test_refuses_code_in_a_cifar_pickle(_isolated: Path) -> None:
    _write_cifar_batches(
        _isolated / "keras" / "datasets" / "cifar-10-batches-py",
        np.random.default_rng(3),
    )
    (_isolated / "keras" / "datasets" / "cifar-10-batches-py" / "test_batch").write_bytes(
        pickle.dumps({b"data": os.getcwd, b"labels": []}, protocol=4)
    )
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_dataset("cifar10")


@pytest.mark.parametrize(
    ("name", "file_name"),
    [
        ("mnist", "mnist.npz"),
        ("fashion_mnist", "train-labels-idx1-ubyte.gz"),
        ("cifar10", "cifar-10-python.tar.gz"),
    ],
)
def test_not_cached_and_offline_gives_a_clear_error_after_one_try(
    name: str, file_name: str, _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keras = pytest.importorskip("keras")
    calls: list[dict] = []

    def offline_get_file(fname: str, origin: str, **kwargs: object) -> str:
        calls.append({"fname": fname, "origin": origin, **kwargs})
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")  # noqa: TRY002 - what Keras raises

    monkeypatch.setattr(keras.utils, "get_file", offline_get_file)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset(name)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert message.startswith(f"Dataset '{name}' is not in Keras' cache")
    assert "shapes10" in message and file_name in message
    assert str(_isolated / "keras" / "datasets") in message
    assert "Temporary failure in name resolution" in message  # the reason, in one line
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained URL traceback
    assert len(calls) == 1  # one try, no retries (how long it takes is not asserted: see benchmarks/)
    assert calls[0]["cache_dir"] == str(_isolated / "keras")  # downloads go where we look


# --------------------------------------------------------------------------------------------
# sample_photo
# --------------------------------------------------------------------------------------------


def test_sample_photo_rgb_gray_and_size() -> None:
    rgb = sample_photo()
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and min(rgb.shape[:2]) >= 256
    assert rgb.std() > 20  # a photograph, not a blank
    gray = sample_photo(gray=True)
    assert gray.shape == rgb.shape[:2] and gray.dtype == np.uint8
    expected = rgb.astype(np.float64) @ np.array(data.LUMA_WEIGHTS)
    assert np.abs(gray - expected).max() <= 0.51
    small = sample_photo(size=48)
    assert small.shape == (48, 48, 3) and sample_photo(gray=True, size=48).shape == (
        48,
        48,
    )
    side = min(rgb.shape[:2])
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    assert np.array_equal(sample_photo(size=side), rgb[top : top + side, left : left + side])  # centre crop
    with pytest.raises(ValueError):
        sample_photo(size=0)
    with pytest.raises(TypeError):
        sample_photo(size=32.0)  # type: ignore[arg-type]


def test_data_readme_describes_the_cache_this_module_writes() -> None:
    from workshop_utils import data as data_module

    readme = (Path(__file__).resolve().parent.parent / "data" / "README.md").read_text()
    npz, sidecar = data_module.cache._cache_paths(data_module.SHAPES10_SEED, data_module.SHAPES10_TEST_START)
    assert npz.name in readme and "sha256" in readme and "fingerprint" in readme
    assert data_module.ENV_DATA_DIR in readme and "KERAS_HOME" in readme and "~/.keras/datasets" in readme
    assert "data/cache/" in (Path(__file__).resolve().parent.parent / ".gitignore").read_text()
