"""Notebook 01's exercise: write ``conv2d(x, kernel, stride, padding)`` in NumPy; :func:`check_conv2d` checks it.

The convention is Keras' (``keras.layers.Conv2D``, channels last):

* ``x``: one image, shape ``(height, width, in_channels)``;
* ``kernel``: shape ``(kernel_height, kernel_width, in_channels, out_channels)``;
* the result: shape ``(out_height, out_width, out_channels)``, where every output pixel is the dot product of the
  kernel with the window under it -- cross-correlation: the kernel is **not** flipped;
* ``padding="valid"``: no zeros, ``out = floor((n - k) / stride) + 1``; ``padding="same"``: ``out = ceil(n / stride)``,
  with ``max((out - 1) * stride + k - n, 0)`` zeros in total, the odd one at the bottom/right (as TensorFlow does).

:func:`check_conv2d` runs the attendee's function on fresh random inputs over several strides and paddings,
compares with ``keras.ops.conv`` (what ``Conv2D`` computes), and returns a :class:`CheckResult` that shows as a
one-line pass or a hint naming the likely mistake: a flipped kernel, wrong padding, wrong output size, an
ignored stride, or the channel order.

Example::

    from workshop_utils.exercises.convolution import check_conv2d, conv2d
    check_conv2d(conv2d)  # Passed: ...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workshop_utils.exercises import Hint
from workshop_utils.exercises import _toolkit as kit

PADDINGS: tuple[str, ...] = ("valid", "same")

Pads = tuple[tuple[int, int], tuple[int, int]]


def _pair(name: str, value: object) -> tuple[int, int]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in values):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}.")
    return int(values[0]), int(values[1])


def same_padding(size: int, kernel_size: int, stride: int) -> tuple[int, int]:
    """Zeros before and after along one axis for ``padding="same"`` (TensorFlow's rule: the odd one after).

    Example::

        same_padding(8, 3, 2)  # (0, 1)
    """
    total = max((math.ceil(size / stride) - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


def output_shape(x_shape: tuple[int, ...], kernel_shape: tuple[int, ...], stride: Any = 1,
                 padding: str = "valid") -> tuple[int, int, int]:
    """The shape ``conv2d`` returns, ``(out_height, out_width, out_channels)``.

    Example::

        output_shape((8, 9, 3), (3, 3, 3, 2), stride=2, padding="same")  # (4, 5, 2)
    """
    (s_h, s_w), (k_h, k_w) = _pair("stride", stride), kernel_shape[:2]
    if padding == "same":
        return math.ceil(x_shape[0] / s_h), math.ceil(x_shape[1] / s_w), kernel_shape[3]
    return (x_shape[0] - k_h) // s_h + 1, (x_shape[1] - k_w) // s_w + 1, kernel_shape[3]


def _correlate(x: np.ndarray, kernel: np.ndarray, stride: tuple[int, int], pads: Pads) -> np.ndarray:
    """Cross-correlation with explicit padding ``((top, bottom), (left, right))``; the engine of every variant."""
    padded = np.pad(x, (*pads, (0, 0)))
    k_h, k_w, _, out_channels = kernel.shape
    out_h = (padded.shape[0] - k_h) // stride[0] + 1
    out_w = (padded.shape[1] - k_w) // stride[1] + 1
    result = np.zeros((out_h, out_w, out_channels), dtype=np.result_type(x, kernel, np.float32))
    for row in range(out_h):
        for col in range(out_w):
            top, left = row * stride[0], col * stride[1]
            window = padded[top: top + k_h, left: left + k_w, :]  # (k_h, k_w, in_channels)
            result[row, col] = np.tensordot(window, kernel, axes=3)  # sum over k_h, k_w, in_channels
    return result


def conv2d(x: np.ndarray, kernel: np.ndarray, stride: int | tuple[int, int] = 1, padding: str = "valid") -> np.ndarray:
    """Reference 2-D convolution (cross-correlation, as ``keras.layers.Conv2D``) of one channels-last image.

    Args:
        x: ``(height, width, in_channels)``.
        kernel: ``(kernel_height, kernel_width, in_channels, out_channels)``.
        stride: step of the window, an int or ``(stride_height, stride_width)``.
        padding: ``"valid"`` or ``"same"``.

    Returns:
        ``(out_height, out_width, out_channels)``.

    Example::

        conv2d(np.ones((5, 5, 1)), np.ones((3, 3, 1, 1)))[..., 0]  # 3x3 of 9.0
    """
    x, kernel = np.asarray(x), np.asarray(kernel)
    if x.ndim != 3 or kernel.ndim != 4:
        raise ValueError(
            f"x must be (height, width, in_channels) and kernel (kernel_height, kernel_width, in_channels, "
            f"out_channels); got shapes {x.shape} and {kernel.shape}."
        )
    if x.shape[2] != kernel.shape[2]:
        raise ValueError(f"x has {x.shape[2]} channels but the kernel expects {kernel.shape[2]} (its axis 2).")
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}.")
    stride = _pair("stride", stride)
    if padding == "same":
        pads = tuple(same_padding(x.shape[axis], kernel.shape[axis], stride[axis]) for axis in (0, 1))
    else:
        pads = ((0, 0), (0, 0))
    if x.shape[0] + sum(pads[0]) < kernel.shape[0] or x.shape[1] + sum(pads[1]) < kernel.shape[1]:
        raise ValueError(f"the kernel {kernel.shape[:2]} is larger than the (padded) image {x.shape[:2]}.")
    return _correlate(x, kernel, stride, pads)


def keras_conv2d(x: np.ndarray, kernel: np.ndarray, stride: int | tuple[int, int] = 1,
                 padding: str = "valid") -> np.ndarray:
    """What Keras computes for the same arguments (``keras.ops.conv``, the op inside ``Conv2D``), as NumPy.

    Example::

        keras_conv2d(np.ones((5, 5, 1)), np.ones((3, 3, 1, 1))).shape  # (3, 3, 1)
    """
    import keras

    outputs = keras.ops.conv(np.asarray(x, "float32")[None], np.asarray(kernel, "float32"),
                             strides=_pair("stride", stride), padding=padding)
    return np.asarray(keras.ops.convert_to_numpy(outputs))[0]


@dataclass(frozen=True)
class Case:
    """One test input: image and kernel sizes, stride and padding."""

    height: int
    width: int
    in_channels: int
    out_channels: int
    kernel: tuple[int, int]
    stride: int
    padding: str

    def describe(self) -> str:
        return (
            f"x {(self.height, self.width, self.in_channels)}, kernel "
            f"{(*self.kernel, self.in_channels, self.out_channels)}, stride={self.stride}, padding={self.padding!r}"
        )


# Chosen so that each likely mistake shows: non-square images and kernels (height/width swaps), in_channels !=
# out_channels (channel order), odd total 'same' padding (which side gets the extra zero), strides 1-3.
CASES: tuple[Case, ...] = (
    Case(6, 7, 2, 3, (3, 3), 1, "valid"),
    Case(7, 6, 3, 2, (3, 3), 1, "same"),
    Case(9, 8, 2, 4, (3, 3), 2, "valid"),
    Case(8, 9, 3, 2, (3, 3), 2, "same"),
    Case(7, 7, 2, 3, (2, 2), 1, "same"),
    Case(10, 11, 1, 2, (5, 3), 3, "same"),
    Case(11, 10, 3, 2, (3, 5), 3, "valid"),
)


_CHANNEL_HINT = (
    "Check the channel order: x is (height, width, in_channels), the kernel is (kernel_height, kernel_width, "
    "in_channels, out_channels), and the result is (out_height, out_width, out_channels) -- channels last."
)
_PADDING_RULE = (
    "padding='same' gives ceil(n / stride) pixels and adds max((out - 1) * stride + k - n, 0) zeros in total, "
    "the odd one at the bottom/right; padding='valid' adds none: floor((n - k) / stride) + 1."
)


def _shape_hint(case: Case, got: tuple[int, ...], x: np.ndarray, kernel: np.ndarray) -> tuple[str, str]:
    expected = output_shape(x.shape, kernel.shape, case.stride, case.padding)
    other = "valid" if case.padding == "same" else "same"
    if len(got) == 3 and got == (expected[2], expected[0], expected[1]):
        return "channel_order", f"Your result has the channels first. {_CHANNEL_HINT}"
    if len(got) != 3:
        return "channel_order", f"Return a 3-D array (out_height, out_width, out_channels). {_CHANNEL_HINT}"
    if got == (expected[1], expected[0], expected[2]):
        return "height_width", "Height and width are swapped: rows come from axis 0 of x and of the kernel."
    if got == output_shape(x.shape, kernel.shape, case.stride, other):
        return "padding", f"That is the {other!r} size, but padding={case.padding!r} was asked. {_PADDING_RULE}"
    if got == output_shape(x.shape, kernel.shape, 1, case.padding):
        return "stride", f"That is the size with stride 1: move the window by stride={case.stride} pixels."
    if case.padding == "same":
        symmetric = []
        for axis in (0, 1):
            total = sum(same_padding(x.shape[axis], kernel.shape[axis], case.stride))
            symmetric.append({total // 2 * 2, math.ceil(total / 2) * 2})
        sizes = [
            {(x.shape[axis] + pad - kernel.shape[axis]) // case.stride + 1 for pad in symmetric[axis]}
            for axis in (0, 1)
        ]
        if got[0] in sizes[0] and got[1] in sizes[1]:
            return "padding", (
                f"The same amount of zeros on both sides changes the size when the total is odd. {_PADDING_RULE}"
            )
    return "size", (
        f"Wrong output size: expected {expected} for these inputs. out = floor((n + pad_total - k) / stride) + 1; "
        + _PADDING_RULE
    )


def _value_hint(case: Case, got: np.ndarray, x: np.ndarray, kernel: np.ndarray, want: np.ndarray) -> tuple[str, str]:
    stride = (case.stride, case.stride)
    if case.padding == "same":
        pads = tuple(same_padding(x.shape[axis], kernel.shape[axis], case.stride) for axis in (0, 1))
    else:
        pads = ((0, 0), (0, 0))

    def close(candidate: np.ndarray) -> bool:
        return candidate.shape == got.shape and np.allclose(got, candidate, rtol=1e-4, atol=1e-4)

    if close(_correlate(x, kernel[::-1, ::-1], stride, pads)):
        return "flipped_kernel", (
            "Your kernel is flipped: that is the textbook convolution. Keras' Conv2D (like every deep-learning "
            "library) computes cross-correlation: multiply each window by the kernel as it is, without flipping."
        )
    swapped = ((pads[0][1], pads[0][0]), (pads[1][1], pads[1][0]))
    if close(_correlate(x, kernel, stride, swapped)):
        return "padding", f"The odd zero of 'same' padding goes at the bottom/right, not the top/left. {_PADDING_RULE}"
    if close(_correlate(x[..., ::-1], kernel, stride, pads)) or (
        kernel.shape[2] == kernel.shape[3] and close(_correlate(x, kernel.transpose(0, 1, 3, 2), stride, pads))
    ):
        return "channel_order", f"The channels are mixed up. {_CHANNEL_HINT}"
    if kernel.shape[0] == kernel.shape[1] and close(_correlate(x, kernel.transpose(1, 0, 2, 3), stride, pads)):
        return "height_width", (
            "The kernel's rows and columns are swapped: kernel[i, j] multiplies x[top + i, left + j]."
        )
    error = np.abs(got - want)
    row, col, channel = np.unravel_index(int(np.argmax(error)), error.shape)
    return "values", (
        f"Right shape, wrong numbers: the largest difference is at output (row {row}, column {col}, channel "
        f"{channel}). That pixel should be the sum over the window x[row*stride : row*stride + k_h, "
        f"col*stride : col*stride + k_w, :] (after padding) times kernel[:, :, :, channel]."
    )


@kit.checker("conv2d")
def check_conv2d(fn: Callable[..., Any], seed: int | None = None) -> str:
    """Run ``fn(x, kernel, stride, padding)`` on fresh random inputs and compare with Keras; a :class:`CheckResult`.

    The cases cover strides 1-3, ``"valid"`` and ``"same"`` padding (with an odd total of zeros), non-square
    images and kernels, and different numbers of input and output channels. The first case that differs gets a
    hint about the likely mistake.

    Args:
        fn: the attendee's function.
        seed: ``None`` (default) draws fresh inputs every call; an int repeats them.

    Example::

        check_conv2d(conv2d).passed  # True
    """
    rng = np.random.default_rng(seed)
    for number, case in enumerate(CASES, start=1):
        x = rng.normal(size=(case.height, case.width, case.in_channels)).astype("float32")
        kernel = rng.normal(size=(*case.kernel, case.in_channels, case.out_channels)).astype("float32")
        want = keras_conv2d(x, kernel, case.stride, case.padding)
        where = f"case {number} of {len(CASES)} ({case.describe()}): "
        try:
            got = fn(x.copy(), kernel.copy(), case.stride, case.padding)
        except NotImplementedError:
            raise  # reported as "not written yet"
        except Exception as error:  # the attendee's bug: report it, with a hint when it looks like a shape mix-up
            shapes = any(word in str(error) for word in ("broadcast", "shape", "axes", "index"))
            hint = _CHANNEL_HINT if shapes else "Read the error above the hint, fix that line, and run the cell again."
            raise Hint(f"{where}your function raised {type(error).__name__}: {error}. {hint}",
                       mistake="error", case=case) from None
        try:
            got = np.asarray(got, dtype="float64")
        except (TypeError, ValueError):
            raise Hint(f"{where}return a NumPy array, not {type(got).__name__}.", mistake="not_array",
                       case=case) from None
        if got.shape != want.shape:
            mistake, hint = _shape_hint(case, got.shape, x, kernel)
            raise Hint(f"{where}your result has shape {got.shape}, Keras gives {want.shape}. {hint}",
                       mistake=mistake, case=case)
        if not np.allclose(got, want, rtol=1e-4, atol=1e-4):
            mistake, hint = _value_hint(case, got, x, kernel, want)
            raise Hint(where + hint, mistake=mistake, case=case)
    strides = sorted({case.stride for case in CASES})
    return (f"your conv2d matches Keras on {len(CASES)} random cases (strides {', '.join(map(str, strides))}; "
            "padding 'valid' and 'same'; non-square images and kernels).")
