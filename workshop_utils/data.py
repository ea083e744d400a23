"""Workshop datasets that need no network: the generated ``shapes10`` set, real ones through Keras' cache.

Every dataset comes back in one format, so a notebook can swap datasets with one setting:
``x`` is ``uint8`` of shape ``(N, 32, 32, 3)`` and ``y`` is ``int64`` of shape ``(N,)``.
MNIST and Fashion-MNIST are zero-padded from 28x28 to 32x32 and tiled to three channels.

Datasets (see :data:`DATASETS`):

- ``"shapes10"`` (the default): ten shapes a person names at a glance, drawn with numpy in
  seconds, with random position, scale, rotation, colours, textured backgrounds, clutter,
  noise and occasional occlusion, so that a CNN clearly beats a linear model or an MLP.
  Colour carries no class information. Generated arrays are cached as ``.npz`` files.
- ``"cifar10"``, ``"fashion_mnist"``, ``"mnist"``: read from Keras' dataset cache
  (``$KERAS_HOME/datasets``, else ``~/.keras/datasets``), downloaded once if a network is
  there; otherwise :class:`DatasetUnavailableError` says what to do.

Settings (environment variables):

- ``WORKSHOP_DATASET``: the dataset :func:`load_dataset` loads when no name is given.
- ``WORKSHOP_DATA_DIR``: where ``shapes10`` caches its arrays. Without it: ``data/cache/``
  in the repository, or ``~/.cache/cnn-workshop`` when that is not writable.
- ``KERAS_HOME``: Keras' own setting, where the real datasets are cached.

Every split is in class-balanced order: labels are interleaved, so the first ``n``
examples hold (nearly) ``n / num_classes`` of each class, and ``take`` or a small
``train_size`` keeps the classes balanced.

This module does no plotting (plots live in their own module).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import math
import numbers
import os
import pickle
import tarfile
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "LUMA_WEIGHTS",
    "SHAPES10_CLASSES",
    "Dataset",
    "DatasetUnavailableError",
    "data_cache_dir",
    "keras_datasets_dirs",
    "load_dataset",
    "make_shapes10",
    "sample_photo",
]

DATASETS: tuple[str, ...] = ("shapes10", "cifar10", "fashion_mnist", "mnist")
"""Names :func:`load_dataset` accepts; ``"shapes10"`` needs no network."""

SHAPES10_CLASSES: tuple[str, ...] = (
    "circle",
    "ring",
    "square",
    "triangle",
    "star",
    "plus",
    "crescent",
    "heart",
    "arrow",
    "lightning",
)
"""Class names of ``shapes10``, in label order (label ``k`` is ``SHAPES10_CLASSES[k]``)."""

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
MNIST_CLASSES: tuple[str, ...] = tuple(str(digit) for digit in range(10))

DEFAULT_DATASET = "shapes10"
SHAPES10_TRAIN_SIZE = 10_000
SHAPES10_TEST_SIZE = 2_000
SHAPES10_TEST_START = 1_000_000_000
"""Index of the first ``shapes10`` test image: test images never share an index with training ones."""
SHAPES10_SEED = 0
SHAPES10_VERSION = 1
"""Part of the cache file name. Cache files also record a fingerprint of the generator's output
(a hash of two freshly drawn images), so files from an older generator are regenerated anyway."""

ENV_DATASET = "WORKSHOP_DATASET"
ENV_DATA_DIR = "WORKSHOP_DATA_DIR"

IMAGE_SIZE = 32
_NUM_SHAPES = len(SHAPES10_CLASSES)


class DatasetUnavailableError(RuntimeError):
    """A real dataset is neither in Keras' cache nor downloadable; the message says what to do."""


# --------------------------------------------------------------------------------------------
# The common container
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train and test splits in the workshop's common format.

    ``x_*`` are ``uint8`` arrays of shape ``(N, 32, 32, 3)``; ``y_*`` are ``int64`` labels of
    shape ``(N,)`` indexing ``class_names``. Scale inputs yourself (``x / 255``).

    Example: ``data = load_dataset("shapes10", train_size=1000); data.x_train.shape  # (1000, 32, 32, 3)``
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_names", tuple(self.class_names))
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
                raise TypeError(
                    f"Dataset.x_{split} must be a uint8 array of shape (N, H, W, 3), got "
                    f"{type(x).__name__} {getattr(x, 'dtype', '')} {getattr(x, 'shape', '')}"
                )
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (len(x),):
                raise TypeError(
                    f"Dataset.y_{split} must be an int64 array of shape ({len(x)},), got "
                    f"{type(y).__name__} {getattr(y, 'dtype', '')} {getattr(y, 'shape', '')}"
                )
            if y.size and (y.min() < 0 or y.max() >= len(self.class_names)):
                raise ValueError(f"Dataset.y_{split} holds labels outside 0..{len(self.class_names) - 1}")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(
                f"train and test images differ in shape: {self.x_train.shape[1:]} vs {self.x_test.shape[1:]}"
            )

    @property
    def num_classes(self) -> int:
        """Number of classes. Example: ``load_dataset("shapes10", 100, 100).num_classes  # 10``"""
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one image, ``(32, 32, 3)``. Example: ``keras.Input(shape=data.input_shape)``"""
        return tuple(int(d) for d in self.x_train.shape[1:])

    def take(self, train: int | None = None, test: int | None = None) -> Dataset:
        """The first ``train`` training and ``test`` test examples (``None`` keeps a split whole).

        Splits are in class-balanced order, so a prefix keeps the classes balanced.

        Example: ``small = data.take(train=500, test=200)``
        """
        n_train = _check_size("train", train, available=len(self.x_train))
        n_test = _check_size("test", test, available=len(self.x_test))
        return dataclasses.replace(
            self,
            x_train=self.x_train[:n_train],
            y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=self.y_test[:n_test],
        )

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
            f"num_classes={self.num_classes}, input_shape={self.input_shape})"
        )


def _check_size(what: str, size: object, available: int | None = None) -> int | None:
    """Validate a split size: ``None`` or a positive int (at most ``available`` when given)."""
    if size is None:
        return available
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"{what} size must be a positive int or None, got {size!r} ({type(size).__name__})")
    size = int(size)
    if size < 1:
        raise ValueError(f"{what} size must be a positive int or None, got {size}")
    if available is not None and size > available:
        raise ValueError(f"{what} size {size} is more than the {available} examples available")
    return size


def _balanced_order(labels: np.ndarray) -> np.ndarray:
    """Indices that interleave classes: 1st of each class, then 2nd of each class, and so on.

    Within a class the original order is kept; a prefix of length ``k * num_classes`` holds
    ``k`` examples of every class (as long as every class has ``k``).
    """
    labels = np.asarray(labels)
    rank = np.empty(len(labels), dtype=np.int64)
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        rank[members] = np.arange(len(members))
    return np.lexsort((labels, rank))


# --------------------------------------------------------------------------------------------
# Loading by name
# --------------------------------------------------------------------------------------------


def load_dataset(name: str | None = None, train_size: int | None = None, test_size: int | None = None) -> Dataset:
    """Load a dataset by name in the common format (uint8 ``(N, 32, 32, 3)``, int64 labels).

    ``name`` defaults to the ``WORKSHOP_DATASET`` environment variable, else ``"shapes10"``.
    Sizes default to 10,000 / 2,000 images for ``shapes10`` and to the whole splits for the
    real datasets; both splits are in class-balanced order.

    Raises ``ValueError`` for an unknown name or a bad size, and :class:`DatasetUnavailableError`
    when a real dataset is not cached and cannot be downloaded.

    Example: ``data = load_dataset("shapes10", train_size=2000, test_size=500)``
    """
    if name is None:
        name = os.environ.get(ENV_DATASET) or DEFAULT_DATASET
        source = f"the {ENV_DATASET} environment variable"
    else:
        source = "the name"
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a str, one of {DATASETS}; got {name!r}")
    key = name.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r} (from {source}); choose one of {DATASETS}")
    _check_size("train", train_size)
    _check_size("test", test_size)

    if key == "shapes10":
        n_train = SHAPES10_TRAIN_SIZE if train_size is None else int(train_size)
        n_test = SHAPES10_TEST_SIZE if test_size is None else int(test_size)
        x_train, y_train = _shapes10_cached(n_train, SHAPES10_SEED, 0)
        x_test, y_test = _shapes10_cached(n_test, SHAPES10_SEED, SHAPES10_TEST_START)
        return Dataset("shapes10", x_train, y_train, x_test, y_test, SHAPES10_CLASSES)

    loader, class_names = _REAL_LOADERS[key]
    (x_train, y_train), (x_test, y_test) = loader()
    splits = []
    for what, x, y, size in (
        ("train", x_train, y_train, train_size),
        ("test", x_test, y_test, test_size),
    ):
        y = np.asarray(y).reshape(-1).astype(np.int64)
        n = _check_size(f"{key} {what}", size, available=len(y))
        order = _balanced_order(y)[:n]
        splits.append((_to_rgb32(np.asarray(x)[order]), y[order]))
    (x_train, y_train), (x_test, y_test) = splits
    return Dataset(key, x_train, y_train, x_test, y_test, class_names)


def _to_rgb32(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) grey -> zero-padded, channel-tiled (N, 32, 32, 3); (N, 32, 32, 3) unchanged."""
    images = np.asarray(images, dtype=np.uint8)
    if images.ndim == 4 and images.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE, 3):
        return np.ascontiguousarray(images)
    if images.ndim == 3 and images.shape[1] <= IMAGE_SIZE and images.shape[2] <= IMAGE_SIZE:
        out = np.zeros((len(images), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        top = (IMAGE_SIZE - images.shape[1]) // 2
        left = (IMAGE_SIZE - images.shape[2]) // 2
        out[:, top : top + images.shape[1], left : left + images.shape[2], :] = images[..., None]
        return out
    raise ValueError(f"cannot convert images of shape {images.shape} to (N, 32, 32, 3)")


# --------------------------------------------------------------------------------------------
# Real datasets through Keras' cache
# --------------------------------------------------------------------------------------------

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_MNIST_FILE = "mnist.npz"
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_FASHION_SUBDIR = "fashion-mnist"
_FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
_CIFAR_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_CIFAR_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_CIFAR_TARGET = "cifar-10-batches-py-target"  # Keras 3's extraction folder under datasets/
_CIFAR_INNER = "cifar-10-batches-py"  # the folder inside the archive
_CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def keras_datasets_dirs() -> list[Path]:
    """Folders where Keras caches datasets, in the order Keras itself uses them.

    ``$KERAS_HOME/datasets`` (else ``~/.keras/datasets``), then ``/tmp/.keras/datasets``,
    where Keras falls back when the first is not writable.

    Example: ``keras_datasets_dirs()[0]  # PosixPath('/home/me/.keras/datasets')``
    """
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    dirs = [Path(home).expanduser() / "datasets"]
    fallback = Path(tempfile.gettempdir()) / ".keras" / "datasets"
    if fallback not in dirs:
        dirs.append(fallback)
    return dirs


def _find_cached(relative: str) -> Path | None:
    for folder in keras_datasets_dirs():
        if (folder / relative).exists():
            return folder / relative
    return None


def _download(
    dataset: str,
    fname: str,
    origin: str,
    copy_hint: str,
    subdir: str = "",
    **kwargs: object,
) -> Path:
    """Fetch one file with ``keras.utils.get_file`` into Keras' cache, or explain what to do.

    ``copy_hint`` names what a person would copy by hand into ``datasets/<subdir>``.
    """
    keras_home = keras_datasets_dirs()[0].parent
    if subdir:
        kwargs["cache_subdir"] = f"datasets/{subdir}"
    destination = keras_datasets_dirs()[0] / subdir if subdir else keras_datasets_dirs()[0]
    try:
        import keras

        path = keras.utils.get_file(fname, origin=origin, cache_dir=str(keras_home), **kwargs)
    except Exception as error:  # noqa: BLE001 - any failure means: not available here
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatasetUnavailableError(
            f"Dataset {dataset!r} is not in Keras' cache and could not be downloaded "
            f"({type(error).__name__}: {reason[:200]}).\n"
            "Do one of these:\n"
            f"  1. use the offline dataset: load_dataset('shapes10'), or set {ENV_DATASET}=shapes10;\n"
            f"  2. copy {copy_hint} into {destination} (KERAS_HOME sets the folder above datasets/);\n"
            f"  3. run load_dataset({dataset!r}) once on a machine with a network, which caches it there."
        ) from None
    return Path(path)


def _load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    path = _find_cached(_MNIST_FILE)
    if path is None:
        path = _download(
            "mnist",
            _MNIST_FILE,
            _KERAS_ORIGIN + _MNIST_FILE,
            f"the file {_MNIST_FILE} (from {_KERAS_ORIGIN}{_MNIST_FILE})",
            file_hash=_MNIST_SHA256,
        )
    with np.load(path, allow_pickle=False) as archive:
        return (archive["x_train"], archive["y_train"]), (
            archive["x_test"],
            archive["y_test"],
        )


def _load_fashion_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    paths = []
    for fname in _FASHION_FILES:
        path = _find_cached(f"{_FASHION_SUBDIR}/{fname}")
        if path is None:
            path = _download(
                "fashion_mnist",
                fname,
                _KERAS_ORIGIN + fname,
                f"the four files {', '.join(_FASHION_FILES)} (from {_KERAS_ORIGIN})",
                subdir=_FASHION_SUBDIR,
            )
        paths.append(path)

    def read(path: Path, offset: int) -> np.ndarray:
        with gzip.open(path, "rb") as stream:
            return np.frombuffer(stream.read(), np.uint8, offset=offset)

    y_train, y_test = read(paths[0], 8), read(paths[2], 8)
    x_train = read(paths[1], 16).reshape(len(y_train), 28, 28)
    x_test = read(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles CIFAR batches: plain containers and numpy arrays only, nothing executable."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        }
    )

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch file")


def _cifar_folder() -> Path | None:
    """The folder holding CIFAR-10's batch files, extracting a cached archive if needed."""
    candidates = (
        f"{_CIFAR_TARGET}/{_CIFAR_INNER}",
        _CIFAR_INNER,
    )  # Keras 3 layout, Keras 2 layout
    for relative in candidates:
        path = _find_cached(relative)
        if path is not None and all((path / batch).is_file() for batch in _CIFAR_BATCHES):
            return path
    for archive_name in (
        f"{_CIFAR_TARGET}_archive",
        "cifar-10-python.tar.gz",
        f"{_CIFAR_INNER}.tar.gz",
    ):
        archive = _find_cached(archive_name)
        if archive is not None and tarfile.is_tarfile(archive):
            target = archive.parent / _CIFAR_TARGET
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")
            if all((target / _CIFAR_INNER / batch).is_file() for batch in _CIFAR_BATCHES):
                return target / _CIFAR_INNER
    return None


def _load_cifar10() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    folder = _cifar_folder()
    if folder is None:
        extracted = _download(
            "cifar10",
            _CIFAR_TARGET,
            _CIFAR_ORIGIN,
            f"the archive cifar-10-python.tar.gz (from {_CIFAR_ORIGIN})",
            extract=True,
            file_hash=_CIFAR_SHA256,
        )
        folder = extracted / _CIFAR_INNER

    def read(batch: str) -> tuple[np.ndarray, np.ndarray]:
        with open(folder / batch, "rb") as stream:
            content = _NumpyOnlyUnpickler(stream, encoding="bytes").load()
        content = {(k.decode() if isinstance(k, bytes) else k): v for k, v in content.items()}
        images = np.asarray(content["data"], dtype=np.uint8).reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE)
        return images.transpose(0, 2, 3, 1), np.asarray(content["labels"], dtype=np.int64)

    train = [read(batch) for batch in _CIFAR_BATCHES[:-1]]
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    return (x_train, y_train), read(_CIFAR_BATCHES[-1])


_REAL_LOADERS = {
    "cifar10": (_load_cifar10, CIFAR10_CLASSES),
    "fashion_mnist": (_load_fashion_mnist, FASHION_MNIST_CLASSES),
    "mnist": (_load_mnist, MNIST_CLASSES),
}


# --------------------------------------------------------------------------------------------
# shapes10: the cache
# --------------------------------------------------------------------------------------------


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def data_cache_dir() -> Path:
    """Folder where ``shapes10`` arrays are cached.

    ``$WORKSHOP_DATA_DIR`` if set; else ``data/cache/`` in the repository (found from this
    package's location) when writable; else ``~/.cache/cnn-workshop``.

    Example: ``data_cache_dir()  # PosixPath('/work/main/data/cache')``
    """
    configured = os.environ.get(ENV_DATA_DIR)
    if configured:
        return Path(configured).expanduser()
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file() and _writable_dir(repo / "data" / "cache"):
        return repo / "data" / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "cnn-workshop"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fingerprint(seed: int, start: int) -> str:
    """Hash of two freshly generated images: changes whenever the generator's output does."""
    return hashlib.sha256(_render(seed, np.arange(start, start + 2, dtype=np.int64)).tobytes()).hexdigest()


def _cache_paths(seed: int, start: int) -> tuple[Path, Path]:
    stem = f"shapes10-v{SHAPES10_VERSION}-seed{seed}-start{start}"
    folder = data_cache_dir()
    return folder / f"{stem}.npz", folder / f"{stem}.json"


def _read_cache(npz: Path, sidecar: Path, seed: int, start: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays if present and their checksum matches; ``None`` (with a warning) otherwise."""
    if not npz.exists() and not sidecar.exists():
        return None
    try:
        meta = json.loads(sidecar.read_text())
        if meta.get("sha256") != _sha256(npz):
            raise ValueError("its sha256 checksum does not match the one in its .json sidecar")
        if (meta.get("version"), meta.get("seed"), meta.get("start")) != (SHAPES10_VERSION, seed, start):
            raise ValueError("it was written for another version, seed or split")
        if meta.get("fingerprint") != _fingerprint(seed, start):
            raise ValueError("it was made by a different version of the generator")
        with np.load(npz, allow_pickle=False) as archive:
            x, y = archive["x"], archive["y"]
        if x.dtype != np.uint8 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3) or y.shape != (len(x),):
            raise ValueError(f"unexpected arrays {x.dtype}{x.shape}, {y.dtype}{y.shape}")
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        EOFError,
        zipfile.BadZipFile,
    ) as error:
        warnings.warn(f"shapes10 cache {npz} is unusable ({error}); regenerating it", stacklevel=3)
        return None
    return x, y.astype(np.int64, copy=False)


def _write_cache(npz: Path, sidecar: Path, x: np.ndarray, y: np.ndarray, seed: int, start: int) -> None:
    """Write arrays then their sidecar atomically (temp file + rename); warn instead of failing."""
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=npz.parent, suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, x=x, y=y)
        meta = {
            "dataset": "shapes10",
            "version": SHAPES10_VERSION,
            "seed": seed,
            "start": start,
            "n": len(x),
            "sha256": _sha256(Path(tmp)),
            "fingerprint": _fingerprint(seed, start),
            "file": npz.name,
        }
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a cache may be shared
        os.replace(tmp, npz)
        handle, tmp_meta = tempfile.mkstemp(dir=npz.parent, suffix=".json.tmp")
        with os.fdopen(handle, "w") as stream:
            json.dump(meta, stream, indent=1)
        os.chmod(tmp_meta, 0o644)
        os.replace(tmp_meta, sidecar)
    except OSError as error:
        warnings.warn(
            f"could not cache shapes10 in {npz.parent} ({error}); set {ENV_DATA_DIR}",
            stacklevel=3,
        )


def _shapes10_cached(n: int, seed: int, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``start .. start + n - 1`` from the cache, generating (and caching) what is missing."""
    npz, sidecar = _cache_paths(seed, start)
    cached = _read_cache(npz, sidecar, seed, start)
    have = 0 if cached is None else len(cached[0])
    if have >= n:
        return cached[0][:n].copy(), cached[1][:n].copy()
    x_extra, y_extra = make_shapes10(n - have, seed=seed, start=start + have)
    if cached is not None:
        x_extra = np.concatenate([cached[0], x_extra])
        y_extra = np.concatenate([cached[1], y_extra])
    _write_cache(npz, sidecar, x_extra, y_extra, seed, start)
    return x_extra, y_extra


# --------------------------------------------------------------------------------------------
# shapes10: the generator
# --------------------------------------------------------------------------------------------

_SUPERSAMPLE = 2  # the main shape is drawn at 2x resolution with soft edges, then averaged down
_CHUNK = 500  # images rendered together (a few tens of MB of temporaries)
_NOISE_GRID = 6  # low-frequency background texture: a 6x6 random grid, bilinearly upsampled
_BACK_CLUTTER = 4  # clutter strokes/dots behind the shape (each present with some probability)
_FRONT_CLUTTER = 1  # thin strokes in front of the shape

# Difficulty knobs (tuned so that a small CNN lands well between chance and 100%; see benchmarks/).
_SCALE_RANGE = (6.5, 13.0)  # shape "radius" in pixels
_ROTATION = 30.0  # rotation drawn uniformly in +-_ROTATION degrees (full turns make it much harder)
_NOISE_SIGMA_MAX = 0.07  # per-pixel Gaussian noise, standard deviation on a 0..1 scale
_CONTRAST_RANGE = (0.22, 0.48)  # minimum luminance gap between shape and background
_P_BACK_CLUTTER = 0.45
_P_FRONT_CLUTTER = 0.25
_P_OCCLUSION = 0.2
_TEXTURE_AMPLITUDE = 0.35


class _Columns:
    """Hands out consecutive columns of the per-image uniform random numbers by name."""

    def __init__(self) -> None:
        self.size = 0
        self.slices: dict[str, slice] = {}

    def add(self, name: str, width: int = 1) -> None:
        self.slices[name] = slice(self.size, self.size + width)
        self.size += width


_COLS = _Columns()
for _name, _width in (
    ("bg", 3), ("bg2", 3), ("grad_angle", 1), ("texture_kind", 1), ("texture_amp", 1),
    ("texture_color", 3), ("stripe_freq", 1), ("stripe_angle", 1), ("stripe_phase", 1),
    ("texture_grid", _NOISE_GRID * _NOISE_GRID), ("fg", 3), ("contrast", 1), ("shade_amp", 1),
    ("shade_angle", 1), ("scale", 1), ("cx", 1), ("cy", 1), ("angle", 1), ("aspect", 1),
    ("shape_a", 1), ("shape_b", 1), ("occlude", 1), ("occ_offset", 1), ("occ_side", 1),
    ("occ_width", 1), ("occ_color", 3), ("occ_use_bg", 1), ("noise", 1),
):  # fmt: skip
    _COLS.add(_name, _width)
for _k in range(_BACK_CLUTTER + _FRONT_CLUTTER):
    _COLS.add(f"clutter{_k}", 9)  # present, x0, y0, x1, y1, width, r, g, b
del _name, _width, _k


def make_shapes10(n: int, seed: int = 0, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``shapes10`` images ``start .. start + n - 1``: ``(x uint8 (n,32,32,3), y int64 (n,))``.

    Image ``i`` depends only on ``(seed, i)``, so it is the same whatever ``n`` is; its label is
    ``i % 10`` (names in :data:`SHAPES10_CLASSES`), so every prefix is class-balanced.

    Example: ``x, y = make_shapes10(100, seed=0)``
    """
    for what, value, low in (("n", n, 0), ("seed", seed, 0), ("start", start, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"make_shapes10: {what} must be an int, got {value!r}")
        if value < low:
            raise ValueError(f"make_shapes10: {what} must be >= {low}, got {value}")
    n, seed, start = int(n), int(seed), int(start)
    x = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    indices = np.arange(start, start + n, dtype=np.int64)
    for begin in range(0, n, _CHUNK):
        chunk = indices[begin : begin + _CHUNK]
        x[begin : begin + len(chunk)] = _render(seed, chunk)
    return x, indices % _NUM_SHAPES


def _render(seed: int, indices: np.ndarray) -> np.ndarray:
    """Render the images with these indices (one RNG per image, the drawing vectorised)."""
    count = len(indices)
    uniforms = np.empty((count, _COLS.size), dtype=np.float32)
    noise = np.empty((count, IMAGE_SIZE * IMAGE_SIZE * 3), dtype=np.float32)
    for row, index in enumerate(indices.tolist()):
        rng = np.random.default_rng([seed, index])
        uniforms[row] = rng.random(_COLS.size, dtype=np.float32)
        noise[row] = rng.standard_normal(IMAGE_SIZE * IMAGE_SIZE * 3, dtype=np.float32)
    labels = indices % _NUM_SHAPES

    def col(name: str) -> np.ndarray:
        """Column(s) as (count, 1, 1[, k]) arrays that broadcast against (count, H, W[, 3])."""
        values = uniforms[:, _COLS.slices[name]]
        return values[:, None, None, :] if values.shape[1] > 1 else values[:, :, None]

    grid = (np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5)[None, :]
    xs, ys = grid[:, None, :], grid[:, :, None]  # (1, 1, W), (1, H, 1) in pixel units
    centre = IMAGE_SIZE / 2

    # Background: a two-colour gradient plus a texture (smooth blotches or stripes) in a third colour.
    bg = col("bg")
    bg2 = np.clip(bg + (col("bg2") - 0.5) * 0.7, 0, 1)
    angle = col("grad_angle") * 2 * np.pi
    ramp = ((xs - centre) * np.cos(angle) + (ys - centre) * np.sin(angle)) / IMAGE_SIZE + 0.5
    image = bg + (bg2 - bg) * np.clip(ramp, 0, 1)[..., None]
    kind = col("texture_kind")
    blotches = _upsample(uniforms[:, _COLS.slices["texture_grid"]].reshape(count, _NOISE_GRID, _NOISE_GRID))
    stripe_angle = col("stripe_angle") * np.pi
    stripe_freq = 0.35 + col("stripe_freq") * 0.9
    stripes = 0.5 + 0.5 * np.sin(
        stripe_freq * (xs * np.cos(stripe_angle) + ys * np.sin(stripe_angle)) + col("stripe_phase") * 2 * np.pi
    )
    texture = np.where(kind < 1 / 3, 0.0, np.where(kind < 2 / 3, blotches, stripes))
    texture_weight = (texture * col("texture_amp") * _TEXTURE_AMPLITUDE)[..., None]
    image += (col("texture_color") - image) * texture_weight

    # Clutter behind the shape: strokes and dots in random colours.
    for k in range(_BACK_CLUTTER):
        image = _draw_clutter(
            image,
            uniforms[:, _COLS.slices[f"clutter{k}"]],
            _P_BACK_CLUTTER,
            xs,
            ys,
            1.6,
        )

    # The shape: a colour independent of the class, with at least some contrast to the background.
    fg = _with_contrast(col("fg")[:, 0, 0], ((bg + bg2) / 2)[:, 0, 0], col("contrast")[:, 0, 0])
    shade_angle = col("shade_angle") * 2 * np.pi
    shade = ((xs - centre) * np.cos(shade_angle) + (ys - centre) * np.sin(shade_angle)) / IMAGE_SIZE
    fg_image = np.clip(fg[:, None, None, :] + (col("shade_amp") * 0.5 * shade)[..., None], 0, 1)
    coverage = _shape_coverage(uniforms, labels)
    image += (fg_image - image) * coverage[..., None]

    # In front: thin strokes, and sometimes a bar that hides part of the shape.
    for k in range(_BACK_CLUTTER, _BACK_CLUTTER + _FRONT_CLUTTER):
        image = _draw_clutter(
            image,
            uniforms[:, _COLS.slices[f"clutter{k}"]],
            _P_FRONT_CLUTTER,
            xs,
            ys,
            0.9,
        )
    image = _draw_occluder(image, uniforms, (bg + bg2) / 2, xs, ys)

    sigma = col("noise")[..., None] * _NOISE_SIGMA_MAX
    image += sigma * noise.reshape(count, IMAGE_SIZE, IMAGE_SIZE, 3)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def _upsample(grid: np.ndarray) -> np.ndarray:
    """Bilinear upsampling of (count, g, g) grids to (count, 32, 32)."""
    g = grid.shape[-1]
    positions = (np.arange(IMAGE_SIZE) + 0.5) * (g - 1) / IMAGE_SIZE
    low = np.floor(positions).astype(int)
    frac = (positions - low).astype(np.float32)
    weights = np.zeros((IMAGE_SIZE, g), dtype=np.float32)
    weights[np.arange(IMAGE_SIZE), low] = 1 - frac
    weights[np.arange(IMAGE_SIZE), np.minimum(low + 1, g - 1)] += frac
    return np.einsum("hi,nij,wj->nhw", weights, grid, weights, optimize=True)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _with_contrast(fg: np.ndarray, bg: np.ndarray, contrast: np.ndarray) -> np.ndarray:
    """Move each foreground colour towards white or black until its luma differs enough from bg's."""
    gap = _CONTRAST_RANGE[0] + contrast * (_CONTRAST_RANGE[1] - _CONTRAST_RANGE[0])
    lf, lb = _luma(fg), _luma(bg)
    lighten = lf >= lb  # move away from the background's luma, in the direction fg already is
    lighten = np.where(lb + gap > 1, False, np.where(lb - gap < 0, True, lighten))
    to_white = np.clip((lb + gap - lf) / np.maximum(1 - lf, 1e-3), 0, 1)
    to_black = np.clip(1 - (lb - gap) / np.maximum(lf, 1e-3), 0, 1)
    return np.where(
        lighten[:, None],
        fg + (1 - fg) * to_white[:, None],
        fg * (1 - to_black[:, None]),
    ).astype(np.float32)


def _capsule_distance(xs, ys, x0, y0, x1, y1):  # type: ignore[no-untyped-def]
    """Distance from each pixel to the segment (x0, y0)-(x1, y1); arguments broadcast."""
    ex, ey = x1 - x0, y1 - y0
    wx, wy = xs - x0, ys - y0
    t = np.clip((wx * ex + wy * ey) / np.maximum(ex * ex + ey * ey, 1e-6), 0, 1)
    return np.sqrt((wx - ex * t) ** 2 + (wy - ey * t) ** 2)


def _draw_clutter(image, params, probability, xs, ys, max_width):  # type: ignore[no-untyped-def]
    """Composite one stroke (or dot, when short) per image, present with ``probability``."""
    rows = np.flatnonzero(params[:, 0] < probability)  # draw only where present
    p = params[rows][:, :, None, None]
    x0, y0 = p[:, 1] * IMAGE_SIZE, p[:, 2] * IMAGE_SIZE
    length = 3 + p[:, 3] * 14
    direction = p[:, 4] * 2 * np.pi
    x1, y1 = x0 + length * np.cos(direction), y0 + length * np.sin(direction)
    dot = p[:, 3] < 0.2  # a fifth of the clutter are round dots
    x1, y1 = np.where(dot, x0, x1), np.where(dot, y0, y1)
    radius = np.where(dot, 1.0 + p[:, 5] * 1.5, 0.35 + p[:, 5] * max_width / 2)
    distance = _capsule_distance(xs, ys, x0, y0, x1, y1) - radius
    _composite(image, rows, p[:, 6:9, 0, 0][:, None, None, :], np.clip(0.5 - distance, 0, 1))
    return image


def _composite(image, rows, color, alpha):  # type: ignore[no-untyped-def]
    """In place: ``image[rows] = image[rows] * (1 - alpha) + color * alpha``."""
    part = image[rows]
    part += (color - part) * alpha[..., None]
    image[rows] = part


def _draw_occluder(image, uniforms, bg_color, xs, ys):  # type: ignore[no-untyped-def]
    """Sometimes lay a bar across part of the shape, off its centre, in the background colour or another."""
    rows = np.flatnonzero(uniforms[:, _COLS.slices["occlude"]][:, 0] < _P_OCCLUSION)
    uniforms = uniforms[rows]

    def col(name: str) -> np.ndarray:
        return uniforms[:, _COLS.slices[name]][:, :, None]

    scale, cx, cy, angle = _placement(uniforms)
    bar_angle = angle + col("occ_side") * np.pi
    offset = (0.35 + 0.45 * col("occ_offset")) * scale  # the bar's centre line misses the shape centre
    nx, ny = -np.sin(bar_angle), np.cos(bar_angle)
    mx, my = cx + offset * nx, cy + offset * ny
    half = 2.5 * scale
    distance = _capsule_distance(
        xs, ys, mx - half * np.cos(bar_angle), my - half * np.sin(bar_angle),
        mx + half * np.cos(bar_angle), my + half * np.sin(bar_angle),
    )  # fmt: skip
    width = (0.12 + 0.2 * col("occ_width")) * scale
    alpha = np.clip(0.5 - (distance - width), 0, 1)
    color = np.where(
        col("occ_use_bg")[..., None] < 0.5,
        bg_color[rows],
        uniforms[:, None, None, _COLS.slices["occ_color"]],
    )
    _composite(image, rows, color, alpha)
    return image


def _placement(
    uniforms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-image scale (pixels), centre (pixels) and rotation, each (count, 1, 1)."""

    def col(name: str) -> np.ndarray:
        return uniforms[:, _COLS.slices[name]][:, :, None]

    low, high = _SCALE_RANGE
    scale = low + (high - low) * col("scale")
    margin = 0.8 * scale  # the shape may touch the border but stays mostly inside
    cx = margin + (IMAGE_SIZE - 2 * margin) * col("cx")
    cy = margin + (IMAGE_SIZE - 2 * margin) * col("cy")
    angle = (col("angle") * 2 - 1) * np.deg2rad(_ROTATION)
    return scale, cx, cy, angle


def _shape_coverage(uniforms: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage (count, 32, 32) in 0..1 of each image's shape.

    Each class has a signed distance function in unit coordinates (negative inside, the shape
    about 1 unit in radius). Pixels are supersampled ``_SUPERSAMPLE`` x ``_SUPERSAMPLE``, each
    sub-pixel with a soft edge one sub-pixel wide, and averaged.
    """
    count = len(labels)
    s = _SUPERSAMPLE
    fine = (np.arange(IMAGE_SIZE * s, dtype=np.float32) + 0.5) / s
    xs, ys = fine[None, None, :], fine[None, :, None]
    scale, cx, cy, angle = _placement(uniforms)
    aspect = np.exp((uniforms[:, _COLS.slices["aspect"]][:, :, None] - 0.5) * 0.35)  # 0.84 .. 1.19
    cos, sin = np.cos(angle), np.sin(angle)
    coverage = np.empty((count, IMAGE_SIZE * s, IMAGE_SIZE * s), dtype=np.float32)
    for label in range(_NUM_SHAPES):
        rows = np.flatnonzero(labels == label)
        if not len(rows):
            continue
        dx, dy = xs - cx[rows], ys - cy[rows]
        u = (cos[rows] * dx + sin[rows] * dy) / (scale[rows] * aspect[rows])
        v = (-sin[rows] * dx + cos[rows] * dy) * aspect[rows] / scale[rows]
        a = uniforms[rows, _COLS.slices["shape_a"]][:, :, None]
        b = uniforms[rows, _COLS.slices["shape_b"]][:, :, None]
        distance = _SHAPE_SDFS[label](u, v, a, b) * scale[rows] * s  # in sub-pixels
        coverage[rows] = np.clip(0.5 - distance, 0, 1)
    total = sum(coverage[:, i::s, j::s] for i in range(s) for j in range(s))
    return total * (1.0 / (s * s))


# Signed distance functions (negative inside) in unit coordinates; a, b in 0..1 jitter the shape.
# Formulas after Inigo Quilez, "2D distance functions" (iquilezles.org/articles/distfunctions2d).


def _sd_box(u, v, half_u, half_v):  # type: ignore[no-untyped-def]
    qx, qy = np.abs(u) - half_u, np.abs(v) - half_v
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _sd_circle_shape(u, v, a, b):  # type: ignore[no-untyped-def]
    return np.sqrt(u * u + v * v) - 0.9


def _sd_ring(u, v, a, b):  # type: ignore[no-untyped-def]
    thickness = 0.16 + 0.1 * a
    return np.abs(np.sqrt(u * u + v * v) - (0.95 - thickness)) - thickness


def _sd_square(u, v, a, b):  # type: ignore[no-untyped-def]
    return _sd_box(u, v, 0.78, 0.78)


def _sd_triangle(u, v, a, b):  # type: ignore[no-untyped-def]
    r = 0.95  # half the side: the circumradius is 1.1
    k = math.sqrt(3.0)
    px = np.abs(u) - r
    py = -v + r / k  # pointing up, centred on its centroid
    fold = px + k * py > 0
    px, py = (
        np.where(fold, (px - k * py) / 2, px),
        np.where(fold, (-k * px - py) / 2, py),
    )
    px = px - np.clip(px, -2 * r, 0)
    return -np.sqrt(px * px + py * py) * np.sign(py)


def _sd_star(u, v, a, b):  # type: ignore[no-untyped-def]
    r, inner = 1.05, 0.38 + 0.12 * a
    k1x, k1y = 0.809016994375, -0.587785252292
    px, py = np.abs(u), -v
    dot = np.maximum(k1x * px + k1y * py, 0)
    px, py = px - 2 * dot * k1x, py - 2 * dot * k1y
    dot = np.maximum(-k1x * px + k1y * py, 0)
    px, py = px + 2 * dot * k1x, py - 2 * dot * k1y
    px, py = np.abs(px), py - r
    bax, bay = inner * -k1y, inner * k1x - 1
    h = np.clip((px * bax + py * bay) / (bax * bax + bay * bay), 0, r)
    return np.sqrt((px - bax * h) ** 2 + (py - bay * h) ** 2) * np.sign(py * bax - px * bay)


def _sd_plus(u, v, a, b):  # type: ignore[no-untyped-def]
    arm = 0.26 + 0.08 * a
    return np.minimum(_sd_box(u, v, 0.95, arm), _sd_box(u, v, arm, 0.95))


def _sd_crescent(u, v, a, b):  # type: ignore[no-untyped-def]
    shift = 0.38 + 0.15 * a
    outer = np.sqrt(u * u + v * v) - 0.95
    bite = np.sqrt((u - shift) ** 2 + v * v) - 0.8
    return np.maximum(outer, -bite)


def _sd_heart(u, v, a, b):  # type: ignore[no-untyped-def]
    size = 0.58  # heart units per unit: the heart spans about -1..1
    px, py = np.abs(u) * size, -v * size + 0.58
    lobe = np.sqrt((px - 0.25) ** 2 + (py - 0.75) ** 2) - math.sqrt(2) / 4
    m = np.maximum(px + py, 0) * 0.5
    point = np.sqrt(np.minimum(px * px + (py - 1) ** 2, (px - m) ** 2 + (py - m) ** 2)) * np.sign(px - py)
    return np.where(px + py > 1, lobe, point) / size


def _sd_polygon(u, v, vertices):  # type: ignore[no-untyped-def]
    """Signed distance to a simple polygon given as a (V, 2) list of vertices."""
    points = [(float(x), float(y)) for x, y in vertices]
    squared = None
    inside = np.zeros(u.shape, dtype=bool)
    for i, (xi, yi) in enumerate(points):
        xj, yj = points[i - 1]
        ex, ey = xj - xi, yj - yi
        wx, wy = u - xi, v - yi
        t = np.clip((wx * ex + wy * ey) * (1.0 / (ex * ex + ey * ey)), 0, 1)
        wx -= ex * t
        wy -= ey * t
        edge = wx * wx + wy * wy
        squared = edge if squared is None else np.minimum(squared, edge, out=squared)
        # Even-odd rule: the edge crosses the horizontal line through the pixel, on its left side.
        above, below = v >= yi, v < yj
        left = ex * (v - yi) > ey * (u - xi)
        inside ^= (above == below) & (above == left)
    distance = np.sqrt(squared)
    return np.where(inside, -distance, distance)


_ARROW = np.array(
    [
        [-1.0, -0.2],
        [0.15, -0.2],
        [0.15, -0.62],
        [1.0, 0.0],
        [0.15, 0.62],
        [0.15, 0.2],
        [-1.0, 0.2],
    ],
    dtype=np.float32,
)
_LIGHTNING = np.array(
    [
        [-0.1, -1.05],
        [0.55, -1.05],
        [0.18, -0.2],
        [0.6, -0.2],
        [-0.4, 1.05],
        [-0.08, 0.12],
        [-0.5, 0.12],
    ],
    dtype=np.float32,
)


def _sd_arrow(u, v, a, b):  # type: ignore[no-untyped-def]
    return _sd_polygon(u, v, _ARROW)


def _sd_lightning(u, v, a, b):  # type: ignore[no-untyped-def]
    return _sd_polygon(u, v, _LIGHTNING)


_SHAPE_SDFS = (
    _sd_circle_shape,
    _sd_ring,
    _sd_square,
    _sd_triangle,
    _sd_star,
    _sd_plus,
    _sd_crescent,
    _sd_heart,
    _sd_arrow,
    _sd_lightning,
)
assert len(_SHAPE_SDFS) == len(SHAPES10_CLASSES)


# --------------------------------------------------------------------------------------------
# A real photograph, offline
# --------------------------------------------------------------------------------------------

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R BT.601 weights for R, G, B used by ``sample_photo(gray=True)`` (as Pillow's "L" mode)."""


def sample_photo(gray: bool = False, size: int | None = None) -> np.ndarray:
    """A real photograph (Grace Hopper, 600x512, shipped with matplotlib) as a uint8 array.

    ``gray=False`` gives ``(H, W, 3)`` RGB; ``gray=True`` gives 2-D luma,
    ``round(0.299 R + 0.587 G + 0.114 B)`` (:data:`LUMA_WEIGHTS`). ``size`` centre-crops the
    largest square and resizes it to ``size x size`` (Pillow, Lanczos filter).

    Example: ``photo = sample_photo(gray=True, size=128)  # (128, 128) uint8``
    """
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"size must be a positive int or None, got {size!r}")
        if size < 1:
            raise ValueError(f"size must be a positive int or None, got {size}")
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as photo:
        photo = photo.convert("RGB")
        if size is not None:
            width, height = photo.size
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            photo = photo.crop((left, top, left + side, top + side))
            photo = photo.resize((int(size), int(size)), Image.Resampling.LANCZOS)
        rgb = np.asarray(photo, dtype=np.uint8).copy()
    if not gray:
        return rgb
    luma = rgb.astype(np.float32) @ np.array(LUMA_WEIGHTS, dtype=np.float32)
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)
