"""The channel-shuffle checker passes right answers and names each plausible wrong one."""

from __future__ import annotations

import pytest
from keras import ops

from workshop_utils.exercises.shufflenet import check_channel_shuffle


def _divisible(channels, groups):
    if channels % groups:
        raise ValueError(f"{channels} channels cannot be split into {groups} equal groups")


def solution(x, groups):
    height, width, channels = ops.shape(x)[1], ops.shape(x)[2], x.shape[-1]
    _divisible(channels, groups)
    x = ops.reshape(x, (-1, height, width, groups, channels // groups))
    x = ops.transpose(x, (0, 1, 2, 4, 3))
    return ops.reshape(x, (-1, height, width, channels))


def flat_solution(x, groups):
    """Another right answer: fold every leading axis into one, shuffle, restore."""
    channels = x.shape[-1]
    _divisible(channels, groups)
    y = ops.transpose(ops.reshape(x, (-1, groups, channels // groups)), (0, 2, 1))
    return ops.reshape(y, (-1, *x.shape[1:]))


def stub(x, groups):
    raise NotImplementedError


def inverse_order(x, groups):
    height, width, channels = ops.shape(x)[1], ops.shape(x)[2], x.shape[-1]
    _divisible(channels, groups)
    x = ops.reshape(x, (-1, height, width, channels // groups, groups))  # (n, g): the inverse
    x = ops.transpose(x, (0, 1, 2, 4, 3))
    return ops.reshape(x, (-1, height, width, channels))


def no_transpose(x, groups):
    height, width, channels = ops.shape(x)[1], ops.shape(x)[2], x.shape[-1]
    _divisible(channels, groups)
    return ops.reshape(ops.reshape(x, (-1, height, width, groups, channels // groups)), (-1, height, width, channels))


def channels_first_reshape(x, groups):
    """Reshapes as if the tensor were (batch, channels, height, width): mixes pixels and channels."""
    batch, height, width, channels = x.shape
    _divisible(channels, groups)
    y = ops.reshape(x, (batch, groups, channels // groups, height, width))
    return ops.reshape(ops.transpose(y, (0, 2, 1, 3, 4)), (batch, height, width, channels))


def hard_coded_sizes(x, groups):
    """Written for the first case only: 3x4 images, 12 channels."""
    _divisible(x.shape[-1], groups)
    y = ops.reshape(x, (-1, 3, 4, groups, 12 // groups))
    return ops.reshape(ops.transpose(y, (0, 1, 2, 4, 3)), (-1, 3, 4, 12))


def hard_coded_groups(x, groups):
    """Ignores its groups argument (always 3)."""
    height, width, channels = ops.shape(x)[1], ops.shape(x)[2], x.shape[-1]
    _divisible(channels, 3)
    y = ops.reshape(x, (-1, height, width, 3, channels // 3))
    return ops.reshape(ops.transpose(y, (0, 1, 2, 4, 3)), (-1, height, width, channels))


def static_batch(x, groups):
    """Right on tensors, but the batch size None of a model's input breaks the reshape."""
    batch, height, width, channels = x.shape
    _divisible(channels, groups)
    y = ops.reshape(x, (batch, height, width, groups, channels // groups))
    return ops.reshape(ops.transpose(y, (0, 1, 2, 4, 3)), (batch, height, width, channels))


def no_divisibility_check(x, groups):
    height, width, channels = ops.shape(x)[1], ops.shape(x)[2], x.shape[-1]
    x = ops.reshape(x, (-1, height, width, groups, channels // groups))
    return ops.reshape(ops.transpose(x, (0, 1, 2, 4, 3)), (-1, height, width, channels))


def drops_channels(x, groups):
    """Silently truncates to a multiple of groups: wrong shape on indivisible input, but right otherwise."""
    channels = x.shape[-1]
    keep = channels - channels % groups
    return solution(x[..., :keep], groups)


def flattened_output(x, groups):
    height, width, channels = ops.shape(x)[1], ops.shape(x)[2], x.shape[-1]
    _divisible(channels, groups)
    y = ops.transpose(ops.reshape(x, (-1, height, width, groups, channels // groups)), (0, 1, 2, 4, 3))
    return ops.reshape(y, (-1, height * width * channels))


def rolled(x, groups):
    """A permutation of the channels, but not the shuffle."""
    _divisible(x.shape[-1], groups)
    return ops.roll(x, 1, axis=-1)


@pytest.mark.parametrize("fn", [solution, flat_solution])
def test_right_answers_pass(fn):
    result = check_channel_shuffle(fn, seed=0)
    assert result.passed, result.message
    assert result.message.startswith("Passed: ")


@pytest.mark.parametrize(
    ("fn", "mistake", "says"),
    [
        (stub, "not_written", "not written yet"),
        (inverse_order, "inverse_order", "inverse permutation"),
        (no_transpose, "identity", "own order"),
        (channels_first_reshape, "wrong_axes", "between pixels"),
        (hard_coded_sizes, "fixed_shape", "ops.shape"),
        (hard_coded_groups, "fixed_shape", "from groups"),
        (static_batch, "fixed_shape", "-1 for the batch"),
        (no_divisibility_check, "not_divisible", "raise ValueError"),
        (drops_channels, "not_divisible", "raise ValueError"),
        (flattened_output, "wrong_shape", "input's shape"),
        (rolled, "wrong_order", "not as the paper says"),
    ],
)
def test_each_mistake_gets_its_hint(fn, mistake, says):
    result = check_channel_shuffle(fn, seed=1)
    assert not result.passed
    assert result.mistake == mistake, result.message
    assert says in result.message
    assert result.message.startswith("Not yet: ")


def test_fresh_inputs_each_call_still_pass():
    assert check_channel_shuffle(solution).passed and check_channel_shuffle(solution).passed
