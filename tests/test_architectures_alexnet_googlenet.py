"""The reference AlexNet and GoogLeNet: the counts notebooks 02 and 03 assert, their structure, their errors."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from workshop_utils import flops  # noqa: E402
from workshop_utils.architectures import alexnet as alexnet_module  # noqa: E402
from workshop_utils.architectures import googlenet as googlenet_module  # noqa: E402
from workshop_utils.architectures.alexnet import alexnet  # noqa: E402
from workshop_utils.architectures.googlenet import GOOGLENET_MODULES, googlenet, inception_module, inference_model  # noqa: E402


@pytest.fixture(scope="module")
def googlenet_training():
    return googlenet()


@pytest.mark.parametrize("groups, params", [(1, 62_378_344), (2, 60_965_224)])
def test_alexnet_parameter_counts(groups, params):
    model = alexnet(groups=groups)
    assert model.count_params() == params == alexnet_module.PARAMS[groups]
    assert model.output.shape == (None, 1000)
    # conv1 at 227x227, no padding: the paper's 55x55x96; pool5: 6x6x256 into fc6.
    assert model.get_layer("conv1").output.shape == (None, 55, 55, 96)
    assert model.get_layer("pool5").output.shape == (None, 6, 6, 256)


def test_alexnet_two_towers_group_exactly_conv2_conv4_conv5():
    one, two = alexnet(), alexnet(groups=2)
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5"):
        grouped = name in ("conv2", "conv4", "conv5")
        assert two.get_layer(name).groups == (2 if grouped else 1)
        one_kernel, two_kernel = one.get_layer(name).kernel.shape, two.get_layer(name).kernel.shape
        assert two_kernel[2] == (one_kernel[2] // 2 if grouped else one_kernel[2])


def test_alexnet_batch_norm_drops_conv_bias_and_small_variant_runs():
    model = alexnet(input_shape=(32, 32, 3), classes=10, filters=(8, 16, 32, 32, 32), kernel_sizes=(7, 5, 3, 3, 3),
                    first_stride=1, first_padding="same", fc_units=16, dropout=0.0, batch_norm=True)
    assert model.get_layer("conv1").use_bias is False
    assert model.get_layer("conv1_bn") is not None
    probabilities = np.asarray(model(np.zeros((2, 32, 32, 3), "float32")))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(groups=3), "groups must be 1"),
    (dict(filters=(96, 256, 384)), "5 conv layers"),
    (dict(first_padding="full"), "first_padding"),
])
def test_alexnet_rejects_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alexnet(**kwargs)


def test_googlenet_parameter_counts(googlenet_training):
    deployed = inference_model(googlenet_training)
    assert deployed.count_params() == 6_998_552 == googlenet_module.INFERENCE_PARAMS
    assert googlenet_training.count_params() == googlenet_module.TRAINING_PARAMS
    assert googlenet(auxiliary_classifiers=False).count_params() == 6_998_552
    assert [tuple(o.shape) for o in googlenet_training.outputs] == [(None, 1000)] * 3
    # The inference model shares the layers (no copy) and has no auxiliary head.
    assert deployed.get_layer("inception_3a_1x1") is googlenet_training.get_layer("inception_3a_1x1")
    assert not any(layer.name.startswith("aux") for layer in deployed.layers)


def test_googlenet_module_widths_follow_table_1(googlenet_training):
    for block, widths in GOOGLENET_MODULES.items():
        concat = googlenet_training.get_layer(f"inception_{block}_concat")
        assert concat.output.shape[-1] == widths[0] + widths[2] + widths[4] + widths[5]
    assert googlenet_training.get_layer("inception_3a_concat").output.shape == (None, 28, 28, 256)
    assert googlenet_training.get_layer("inception_5b_concat").output.shape == (None, 7, 7, 1024)


def test_inception_module_3a_costs():
    inputs = keras.Input((28, 28, 192))
    module = keras.Model(inputs, inception_module(inputs, *GOOGLENET_MODULES["3a"], name="inception_3a"))
    cost = flops.profile(module)
    assert cost.params == 163_696  # 1x1: 12,352; 3x3 path: 18,528 + 110,720; 5x5 path: 3,088 + 12,832; proj 6,176
    assert module.output.shape == (None, 28, 28, 256)


@pytest.mark.parametrize("kwargs, message", [
    (dict(modules={"3a": GOOGLENET_MODULES["3a"]}), "in order"),
    (dict(dropout=1.0), "dropout"),
    (dict(classes=0), "classes"),
])
def test_googlenet_rejects_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        googlenet(**kwargs)
