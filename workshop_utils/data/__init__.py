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

import os

import numpy as np

from workshop_utils.data.cache import _shapes10_cached, data_cache_dir
from workshop_utils.data.dataset import (
    CIFAR10_CLASSES,
    DATASETS,
    DEFAULT_DATASET,
    ENV_DATA_DIR,
    ENV_DATASET,
    FASHION_MNIST_CLASSES,
    IMAGE_SIZE,
    MNIST_CLASSES,
    SHAPES10_CLASSES,
    SHAPES10_SEED,
    SHAPES10_TEST_SIZE,
    SHAPES10_TEST_START,
    SHAPES10_TRAIN_SIZE,
    SHAPES10_VERSION,
    Dataset,
    DatasetUnavailableError,
    _balanced_order,
    _check_size,
)
from workshop_utils.data.keras_files import _REAL_LOADERS, _to_rgb32, keras_datasets_dirs
from workshop_utils.data.photo import LUMA_WEIGHTS, sample_photo
from workshop_utils.data.shapes10 import make_shapes10

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
