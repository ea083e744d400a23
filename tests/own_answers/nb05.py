"""Notebook 05: the channel shuffle as a gather with the paper's permutation."""

import numpy as np
from keras import ops


def channel_shuffle(x, groups):
    channels = x.shape[-1]
    per_group = channels // groups
    # output channel k * groups + i reads input channel i * per_group + k
    order = np.arange(channels).reshape(groups, per_group).T.reshape(-1)
    return ops.take(x, order, axis=-1)
