"""The end of a classification network in ``keras.applications``' manner: one copy for the families that share it.

With ``include_top``: global average pooling (``avg_pool``) and a dense classifier (``predictions``). Without it:
the feature map as it is (``pooling=None``) or pooled to one vector (``"avg"``: ``avg_pool``, ``"max"``:
``max_pool``), for feature extraction.

Example::

    x = classifier_top(x, include_top=True, pooling=None, classes=10, classifier_activation="softmax")
"""

from __future__ import annotations

from typing import Any

from keras import layers

from workshop_utils._validate import choice, positive_int

POOLINGS: tuple[Any, ...] = (None, "avg", "max")


def check_top(include_top: bool, pooling: str | None, classes: int) -> int:
    """Check the top arguments before anything is built; returns ``classes`` as an int.

    Example::

        classes = check_top(include_top, pooling, classes)
    """
    choice("pooling", pooling, POOLINGS)
    if include_top and pooling is not None:
        raise ValueError(f"pooling={pooling!r} is for feature extraction: pass include_top=False with it (the top "
                         "already pools).")
    return positive_int("classes", classes)


def classifier_top(x: Any, include_top: bool, pooling: str | None, classes: int,
                   classifier_activation: str | None) -> Any:
    """Global average pool + dense classifier, or (without the top) the feature map, average- or max-pooled.

    Example::

        outputs = classifier_top(x, True, None, 1000, "softmax")   # (batch, 1000)
    """
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x
