"""Checker for notebook 05's exercise: ShuffleNet's channel shuffle with ``keras.ops``.

The attendee writes::

    def channel_shuffle(x, groups):
        ...  # x: (batch, height, width, channels); reshape the channels into (groups, n), transpose, flatten
        return shuffled

and :func:`check_channel_shuffle` runs it on fresh random tensors against the paper's definition (Zhang et al.
2017, section 3.1: output channel ``k * groups + i`` is input channel ``i * n + k``, the order
:func:`workshop_utils.architectures.shufflenet.shuffle_order` gives), and names the likely mistake:

* ``identity`` -- the channels come back in their own order (the transpose is missing or undone);
* ``inverse_order`` -- the inverse permutation: reshaping into (n, groups) instead of (groups, n). Equal to the
  right answer only when ``n == groups``, so the cases use ``n != groups``;
* ``wrong_axes`` -- values move between pixels or images: the reshape/transpose touched more than the channel axis;
* ``wrong_shape`` -- the output's shape differs from the input's;
* ``fixed_shape`` -- right on one shape but not on another batch size or image size (sizes written into the
  reshape), or not usable inside a model, where the batch size is unknown (``None``);
* ``not_divisible`` -- channels that ``groups`` does not divide must raise a ``ValueError`` that says so, not a
  backend error about a reshape (or, worse, a silent answer).

Example::

    from workshop_utils.exercises.shufflenet import check_channel_shuffle
    check_channel_shuffle(channel_shuffle)     # "Passed: ..." or a hint
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from workshop_utils.exercises import Hint
from workshop_utils.exercises import _toolkit as kit

__all__ = ["check_channel_shuffle"]

#: (batch, height, width, channels, groups): n = channels / groups differs from groups in every case.
_CASES: tuple[tuple[int, int, int, int, int], ...] = (
    (2, 3, 4, 12, 3),
    (1, 5, 7, 8, 2),
    (4, 2, 3, 24, 8),
    (3, 6, 2, 10, 5),
)


def _shuffled(x: np.ndarray, groups: int) -> np.ndarray:
    """``x`` with its last axis in the paper's shuffle order (the architectures' :func:`shuffle_order`)."""
    from workshop_utils.architectures.shufflenet import shuffle_order

    return x[..., shuffle_order(x.shape[-1], groups)]


def _run(fn: Callable[[Any, int], Any], x: np.ndarray, groups: int) -> np.ndarray:
    from keras import ops

    return np.asarray(ops.convert_to_numpy(fn(ops.convert_to_tensor(x), groups)))


def _diagnose(result: np.ndarray, x: np.ndarray, groups: int, case: tuple) -> None:
    """Raise the Hint that explains why ``result`` is not the shuffle of ``x``; return if it is."""
    from workshop_utils.architectures.shufflenet import shuffle_order

    label = f"x of shape {x.shape}, groups={groups}"
    if result.shape != x.shape:
        raise Hint(
            f"for {label} your output has shape {result.shape}; a channel shuffle only reorders the channels, so "
            f"the output has the input's shape. Reshape back to the input's shape as the last step.",
            mistake="wrong_shape", case=case,
        )
    expected = _shuffled(x, groups)
    if np.array_equal(result, expected):
        return
    channels = x.shape[-1]
    if np.array_equal(result, x):
        raise Hint(
            f"for {label} the channels come back in their own order. Between the two reshapes, swap the last two "
            f"axes: ops.transpose(x, (0, 1, 2, 4, 3)).",
            mistake="identity", case=case,
        )
    if np.array_equal(result, _shuffled(x, channels // groups)):
        raise Hint(
            f"for {label} you get the inverse permutation (output channel 1 is input channel "
            f"{shuffle_order(channels, channels // groups)[1]}, the paper's is "
            f"{shuffle_order(channels, groups)[1]}): the paper reshapes the channels into "
            f"(groups, n) = ({groups}, {channels // groups}), not (n, groups), then transposes.",
            mistake="inverse_order", case=case,
        )
    # Each pixel of each image must hold the same multiset of values: otherwise values moved across pixels.
    if not np.array_equal(np.sort(result, axis=-1), np.sort(x, axis=-1)):
        raise Hint(
            f"for {label} values moved between pixels or images, not just between channels. The channels are the "
            f"last axis (channels-last): reshape only that axis, to (batch, height, width, groups, n), transpose "
            f"the last two axes, and reshape back.",
            mistake="wrong_axes", case=case,
        )
    raise Hint(
        f"for {label} the channels are reordered, but not as the paper says: output channel k * groups + i must be "
        f"input channel i * n + k (expected order {shuffle_order(channels, groups)}).",
        mistake="wrong_order", case=case,
    )


@kit.checker("channel_shuffle")
def check_channel_shuffle(channel_shuffle: Callable[[Any, int], Any], seed: int | None = None) -> str:
    """Check an attendee's ``channel_shuffle(x, groups)`` on several shapes, inside a model, and on bad input.

    Args:
        channel_shuffle: the function to check; takes a channels-last tensor and the number of groups.
        seed: seed for the random inputs (default: fresh ones every call).

    Example::

        check_channel_shuffle(channel_shuffle)    # shows "Passed: ..." or a hint naming the mistake
    """
    rng = np.random.default_rng(seed)
    first = True
    for case in _CASES:
        batch, height, width, channels, groups = case
        x = rng.normal(size=(batch, height, width, channels)).astype("float32")
        try:
            result = _run(channel_shuffle, x, groups)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 -- the attendee's code may raise anything
            if first:
                raise Hint(
                    f"for x of shape {x.shape}, groups={groups}, your function raised "
                    f"{type(error).__name__}: {str(error).splitlines()[0][:200]}",
                    mistake="error", case=case,
                ) from None
            raise Hint(
                f"your function works for the first shape but fails for x of shape "
                f"{x.shape}, groups={groups} ({type(error).__name__}: {str(error).splitlines()[0][:120]}). "
                f"Take the sizes from the tensor (ops.shape(x), -1 for the batch axis) and from groups, instead "
                f"of writing numbers into the reshape.",
                mistake="fixed_shape", case=case,
            ) from None
        if first:
            _diagnose(result, x, groups, case)
        else:
            try:
                _diagnose(result, x, groups, case)
            except Hint as hint:  # right on the first shape: the sizes or the groups are written in
                raise Hint(
                    f"right for the first shape, wrong for x of shape {x.shape}, groups={groups}: the sizes in "
                    f"your reshape must come from the tensor (ops.shape(x), -1 for the batch) and from "
                    f"groups, not be written in. ({hint.message})",
                    mistake="fixed_shape", case=case,
                ) from None
        first = False

    _check_in_a_model(channel_shuffle, rng)
    _check_not_divisible(channel_shuffle, rng)
    shapes = ", ".join(f"{c[:4]}/g={c[4]}" for c in _CASES)
    return (f"the paper's order on {len(_CASES)} shapes ({shapes}), inside models (batch size None) of two "
            f"image sizes, and a clear ValueError when groups does not divide the channels.")


def _check_in_a_model(channel_shuffle: Callable[[Any, int], Any], rng: np.random.Generator) -> None:
    """The shuffle must work on a symbolic input whose batch size is unknown (None), for two image sizes."""
    import keras
    from keras import ops

    try:
        for shape in [(3, 5, 6, 12), (1, 2, 9, 12)]:
            inputs = keras.Input(shape[1:])  # batch size None, as in every Keras model
            model = keras.Model(inputs, channel_shuffle(inputs, 4))
            x = rng.normal(size=shape).astype("float32")
            result = np.asarray(ops.convert_to_numpy(model(x)))  # eager call: no predict-function retracing
            if not np.array_equal(result, _shuffled(x, 4)):
                raise ValueError("the model's output is not the shuffled input")
    except Exception as error:  # noqa: BLE001
        raise Hint(
            "your function is right on tensors, but not inside a model, where the batch size is unknown (None) "
            "while the model is built: use -1 for the batch axis of both reshapes (the error: "
            f"{type(error).__name__}: {str(error).splitlines()[0][:160]}).",
            mistake="fixed_shape",
        ) from None


def _check_not_divisible(channel_shuffle: Callable[[Any, int], Any], rng: np.random.Generator) -> None:
    """Channels that groups does not divide: the function must refuse them with a ValueError."""
    x = rng.normal(size=(2, 3, 3, 10)).astype("float32")
    try:
        _run(channel_shuffle, x, 4)
    except ValueError:
        return
    except Exception as error:  # noqa: BLE001
        raise Hint(
            f"with 10 channels and groups=4 your function fails inside the reshape ({type(error).__name__}), which "
            f"does not tell the user what is wrong. Check first: if channels % groups: raise ValueError(...) "
            f"saying that 10 channels cannot be split into 4 groups.",
            mistake="not_divisible",
        ) from None
    raise Hint(
        "with 10 channels and groups=4 your function returns a result, but 4 groups cannot split 10 channels. "
        "Check first: if channels % groups: raise ValueError(...) saying so.",
        mistake="not_divisible",
    )
