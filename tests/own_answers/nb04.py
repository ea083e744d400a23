"""Notebook 04: MobileNet's depthwise separable block, with Activation layers and tuple kernel sizes."""

from keras import layers


def depthwise_separable_block(x, filters, strides):
    depthwise = layers.DepthwiseConv2D(kernel_size=(3, 3), strides=(strides, strides), padding="same",
                                       use_bias=False)
    x = layers.Activation("relu")(layers.BatchNormalization()(depthwise(x)))
    pointwise = layers.Conv2D(filters, kernel_size=(1, 1), strides=1, padding="valid", use_bias=False)
    return layers.Activation("relu")(layers.BatchNormalization()(pointwise(x)))
