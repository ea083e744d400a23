"""The common format every dataset comes in (:class:`Dataset`), the dataset names, class names and settings.

Example::

    data = load_dataset("shapes10", train_size=1000); data.x_train.shape  # (1000, 32, 32, 3)
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

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

    def downsampled(self, factor: int) -> Dataset:
        """Both splits shrunk by ``factor`` in height and width, each output pixel the mean of a factor x factor block.

        A 32x32 net costs ``factor**2`` times fewer multiply-adds per image at 16x16, so deep nets (ResNet-56,
        DenseNets) get several epochs inside a laptop's training budget. The name gets a ``@16x16`` suffix.

        Raises:
            ValueError: ``factor`` is not an int >= 1 that divides the image size.

        Example: ``small = load_dataset().downsampled(2); small.input_shape  # (16, 16, 3)``
        """
        height, width = self.x_train.shape[1:3]
        if isinstance(factor, bool) or not isinstance(factor, numbers.Integral) or factor < 1:
            raise ValueError(f"factor must be an int >= 1, e.g. 2 for 32x32 -> 16x16; got {factor!r}.")
        factor = int(factor)
        if height % factor or width % factor:
            raise ValueError(
                f"factor {factor} does not divide the {height}x{width} images; use a divisor such as 2 or 4."
            )
        if factor == 1:
            return self

        def shrink(x: np.ndarray) -> np.ndarray:
            blocks = x.reshape(len(x), height // factor, factor, width // factor, factor, x.shape[-1])
            # Round the block mean back to uint8 so the Dataset keeps its one image format.
            return np.rint(blocks.mean(axis=(2, 4), dtype=np.float32)).astype(np.uint8)

        return dataclasses.replace(
            self,
            name=f"{self.name}@{height // factor}x{width // factor}",
            x_train=shrink(self.x_train),
            x_test=shrink(self.x_test),
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
