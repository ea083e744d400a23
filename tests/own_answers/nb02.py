"""Notebook 02: VGG's block, with the keywords the rest of the notebook passes."""

from keras import layers


def vgg_block(x, filters, convs, name=None, batch_norm=False):
    def layer_name(suffix):
        return None if name is None else f"{name}_{suffix}"

    for number in range(convs):
        conv = layers.Conv2D(filters=filters, kernel_size=(3, 3), strides=1, padding="same",
                             activation=None if batch_norm else "relu", use_bias=not batch_norm,
                             name=layer_name(f"conv{number + 1}"))
        x = conv(x)
        if batch_norm:
            x = layers.Activation("relu")(layers.BatchNormalization()(x))
    return layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2), name=layer_name("pool"))(x)
