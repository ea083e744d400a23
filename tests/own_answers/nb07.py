"""Notebook 07: the basic residual block, main path first, projection only where the shape changes."""

from keras import layers


def residual_block(x, filters, stride=1):
    main = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    main = layers.Activation("relu")(layers.BatchNormalization()(main))
    main = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(main))
    if stride == 1 and x.shape[-1] == filters:
        shortcut = x
    else:
        shortcut = layers.BatchNormalization()(layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x))
    return layers.Activation("relu")(layers.Add()([main, shortcut]))
