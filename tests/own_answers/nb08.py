"""Notebook 08: the dense block (a list of every earlier output) and the transition layer."""

from keras import layers


def dense_block(x, num_layers, growth_rate):
    features = [x]
    for _ in range(num_layers):
        joined = features[0] if len(features) == 1 else layers.Concatenate(axis=-1)(features)
        features.append(bottleneck_layer(joined, growth_rate))  # noqa: F821 (defined in notebook 08)
    return features[0] if len(features) == 1 else layers.Concatenate(axis=-1)(features)


def transition(x, compression):
    kept = int(x.shape[-1] * compression)
    x = composite(x, kept, 1)  # noqa: F821 (defined in notebook 08)
    return layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2))(x)
