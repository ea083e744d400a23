"""The fire-module checker passes the reference and names each listed mistake."""

from __future__ import annotations

import pytest
from keras import layers

from workshop_utils.architectures.squeezenet import fire_module as reference_fire_module
from workshop_utils.exercises.squeezenet import check_fire_module


def make_fire(chained=False, reads_input=False, axis=-1, three_first=False, relu=(True, True, True), padding="same"):
    def fire(x, squeeze, expand_1x1, expand_3x3, name):
        act = ["relu" if on else None for on in relu]
        squeezed = layers.Conv2D(squeeze, 1, activation=act[0], name=f"{name}_s")(x)
        branch_1x1 = layers.Conv2D(expand_1x1, 1, activation=act[1], name=f"{name}_e1")(x if reads_input else squeezed)
        source_3x3 = branch_1x1 if chained else squeezed
        branch_3x3 = layers.Conv2D(expand_3x3, 3, padding=padding, activation=act[2], name=f"{name}_e3")(source_3x3)
        parts = [branch_3x3, branch_1x1] if three_first else [branch_1x1, branch_3x3]
        return layers.Concatenate(axis=axis)(parts)
    return fire


def test_reference_and_correct_variant_pass():
    assert check_fire_module(reference_fire_module).passed
    result = check_fire_module(make_fire())
    assert result.passed, result.message
    assert result.message.startswith("Passed: ")


def fire_with_relu_layers(x, squeeze, expand_1x1, expand_3x3, name):
    """Correct too: ReLU as separate layers instead of activation='relu'."""
    squeezed = layers.ReLU()(layers.Conv2D(squeeze, 1)(x))
    a = layers.ReLU()(layers.Conv2D(expand_1x1, 1)(squeezed))
    b = layers.ReLU()(layers.Conv2D(expand_3x3, 3, padding="same")(squeezed))
    return layers.Concatenate()([a, b])


def test_relu_as_separate_layers_passes():
    assert check_fire_module(fire_with_relu_layers).passed


@pytest.mark.parametrize("kwargs, mistake, words", [
    (dict(chained=True), "expand_chained", "other expand conv"),
    (dict(reads_input=True), "expand_reads_input", "skipping the squeeze"),
    (dict(axis=1), "concat_axis", "axis=-1"),
    (dict(three_first=True), "concat_order", "1x1 branch first"),
    (dict(relu=(False, True, True)), "missing_relu", "squeeze"),
    (dict(relu=(True, True, False)), "missing_relu", "expand_3x3"),
    (dict(padding="valid"), "padding_3x3", "padding='same'"),
])
def test_each_mistake_is_named(kwargs, mistake, words):
    result = check_fire_module(make_fire(**kwargs))
    assert not result.passed
    assert result.mistake == mistake, result.message
    assert words in result.message


def test_stub_and_non_tensor():
    def stub(x, squeeze, expand_1x1, expand_3x3, name):
        raise NotImplementedError

    assert check_fire_module(stub).mistake == "not_written"
    assert check_fire_module(lambda x, s, e1, e3, name: None).mistake == "not_a_tensor"


def test_batch_norm_is_flagged_as_extra_weights():
    def fire_bn(x, squeeze, expand_1x1, expand_3x3, name):
        return reference_fire_module(x, squeeze, expand_1x1, expand_3x3, name, batch_norm=True)

    assert check_fire_module(fire_bn).mistake == "extra_weights"
