"""Keras' real datasets (CIFAR-10, Fashion-MNIST, MNIST) read from Keras' own cache folder, downloaded once if a
network is there; otherwise :class:`~workshop_utils.data.DatasetUnavailableError` says which file to put where.

Example::

    keras_datasets_dirs()[0]  # PosixPath('/home/me/.keras/datasets')
"""

from __future__ import annotations

import gzip
import os
import pickle
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from workshop_utils.data.dataset import (
    CIFAR10_CLASSES,
    ENV_DATASET,
    FASHION_MNIST_CLASSES,
    IMAGE_SIZE,
    MNIST_CLASSES,
    DatasetUnavailableError,
)


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
