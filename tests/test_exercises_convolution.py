"""The conv2d checker passes correct answers and names the mistake in plausible wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from workshop_utils.exercises import FAIL_PREFIX, PASS_PREFIX
from workshop_utils.exercises import convolution as ex
from workshop_utils.exercises.convolution import CASES, check_conv2d, conv2d, keras_conv2d, same_padding


def _pads(x: np.ndarray, kernel: np.ndarray, stride: int, order: str) -> tuple:
    """'same' padding with the odd zero after (right), before (wrong) or on both sides (wrong)."""
    pads = []
    for axis in (0, 1):
        before, after = same_padding(x.shape[axis], kernel.shape[axis], stride)
        pads.append({"after": (before, after), "before": (after, before), "both": (after, after)}[order])
    return tuple(pads)


def _loop_conv(x: np.ndarray, kernel: np.ndarray, stride: int, pads: tuple) -> np.ndarray:
    """An attendee-style loop, independent of the module's own engine."""
    x = np.pad(x, (*pads, (0, 0)))
    k_h, k_w, _, out_channels = kernel.shape
    rows, cols = (x.shape[0] - k_h) // stride + 1, (x.shape[1] - k_w) // stride + 1
    out = np.zeros((rows, cols, out_channels))
    for r in range(rows):
        for c in range(cols):
            for o in range(out_channels):
                out[r, c, o] = np.sum(x[r * stride: r * stride + k_h, c * stride: c * stride + k_w] * kernel[..., o])
    return out


def solution(x, kernel, stride=1, padding="valid"):
    pads = _pads(x, kernel, stride, "after") if padding == "same" else ((0, 0), (0, 0))
    return _loop_conv(x, kernel, stride, pads)


def test_reference_matches_keras_on_random_inputs() -> None:
    rng = np.random.default_rng(1)
    for case in CASES:
        x = rng.normal(size=(case.height, case.width, case.in_channels)).astype("float32")
        kernel = rng.normal(size=(*case.kernel, case.in_channels, case.out_channels)).astype("float32")
        want = keras_conv2d(x, kernel, case.stride, case.padding)
        assert np.allclose(conv2d(x, kernel, case.stride, case.padding), want, atol=1e-4)
        assert ex.output_shape(x.shape, kernel.shape, case.stride, case.padding) == want.shape


def test_reference_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="channels"):
        conv2d(np.zeros((5, 5, 2)), np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError, match="padding"):
        conv2d(np.zeros((5, 5, 1)), np.zeros((3, 3, 1, 1)), padding="full")
    with pytest.raises(ValueError, match="height, width"):
        conv2d(np.zeros((5, 5)), np.zeros((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="stride"):
        conv2d(np.zeros((5, 5, 1)), np.zeros((3, 3, 1, 1)), stride=0)


def test_checker_passes_the_reference_and_an_independent_solution() -> None:
    for fn in (conv2d, solution):
        result = check_conv2d(fn)
        assert result.passed and bool(result), result.message
        assert result.message.startswith(PASS_PREFIX) and result.mistake == ""
        assert repr(result) == result.message


def test_a_notebook_shows_the_message_wrapped_to_the_slide_width() -> None:
    from IPython.lib.pretty import pretty

    from workshop_utils.exercises import DISPLAY_WIDTH, CheckResult, wrap_message

    message = "Passed: " + " ".join(f"word{index}" for index in range(60)) + "\nsecond paragraph"
    shown = pretty(CheckResult(True, message))
    assert shown == wrap_message(message) and len(shown.splitlines()) > 2
    assert max(len(line) for line in shown.splitlines()) <= DISPLAY_WIDTH
    assert shown.split() == message.split()  # only line breaks change; words are never split
    assert shown.splitlines()[-1] == "second paragraph"  # existing line breaks are kept


def _flipped(x, kernel, stride=1, padding="valid"):
    return solution(x, kernel[::-1, ::-1], stride, padding)


def _odd_zero_before(x, kernel, stride=1, padding="valid"):
    pads = _pads(x, kernel, stride, "before") if padding == "same" else ((0, 0), (0, 0))
    return _loop_conv(x, kernel, stride, pads)


def _symmetric_floor(x, kernel, stride=1, padding="valid"):
    pads = tuple((p[0], p[0]) for p in _pads(x, kernel, stride, "after")) if padding == "same" else ((0, 0),) * 2
    return _loop_conv(x, kernel, stride, pads)


def _always_valid(x, kernel, stride=1, padding="valid"):
    return solution(x, kernel, stride, "valid")


def _ignores_stride(x, kernel, stride=1, padding="valid"):
    return solution(x, kernel, 1, padding)


def _channels_first(x, kernel, stride=1, padding="valid"):
    return np.moveaxis(solution(x, kernel, stride, padding), -1, 0)


def _height_width_swapped(x, kernel, stride=1, padding="valid"):
    return solution(x, kernel, stride, padding).transpose(1, 0, 2)


def _kernel_out_in_confused(x, kernel, stride=1, padding="valid"):
    return np.einsum("hwc,ijcd->hwd", x, kernel.transpose(0, 1, 3, 2))  # crashes when in != out channels


def _stub(x, kernel, stride=1, padding="valid"):
    raise NotImplementedError


def _off_by_a_bit(x, kernel, stride=1, padding="valid"):
    return solution(x, kernel, stride, padding) + 0.5


def _returns_list(x, kernel, stride=1, padding="valid"):
    return {"not": "an array"}


@pytest.mark.parametrize(
    ("fn", "mistake", "words"),
    [
        (_stub, "not_written", "not written yet"),
        (_flipped, "flipped_kernel", "flipped"),
        (_odd_zero_before, "padding", "bottom/right"),
        (_symmetric_floor, "padding", "both sides"),
        (_always_valid, "padding", "'valid' size"),
        (_ignores_stride, "stride", "stride=2"),
        (_channels_first, "channel_order", "channels first"),
        (_height_width_swapped, "height_width", "swapped"),
        (_kernel_out_in_confused, "error", "channel order"),
        (_off_by_a_bit, "values", "wrong numbers"),
        (_returns_list, "not_array", "NumPy array"),
    ],
)
def test_checker_names_the_mistake(fn, mistake: str, words: str) -> None:
    result = check_conv2d(fn)
    assert not result.passed and not bool(result)
    assert result.message.startswith(FAIL_PREFIX)
    assert result.mistake == mistake, result.message
    assert words in result.message, result.message
    assert result.case is not None or mistake == "not_written"


def test_checker_uses_fresh_inputs_unless_seeded() -> None:
    seen = []

    def spy(x, kernel, stride=1, padding="valid"):
        seen.append(x.copy())
        return solution(x, kernel, stride, padding)

    check_conv2d(spy)
    check_conv2d(spy)
    assert not np.array_equal(seen[0], seen[len(CASES)])
    seen.clear()
    check_conv2d(spy, seed=3)
    check_conv2d(spy, seed=3)
    assert np.array_equal(seen[0], seen[len(CASES)])


def test_checker_covers_strides_paddings_and_odd_same_padding() -> None:
    assert {case.stride for case in CASES} >= {1, 2, 3}
    assert {case.padding for case in CASES} == {"valid", "same"}
    assert any(case.in_channels != case.out_channels for case in CASES)
    assert any(case.height != case.width for case in CASES)
    odd = [c for c in CASES if c.padding == "same" and sum(same_padding(c.height, c.kernel[0], c.stride)) % 2]
    assert odd


def test_checker_refuses_a_non_function() -> None:
    with pytest.raises(TypeError, match="check_conv2d"):
        check_conv2d("conv2d")
