"""pytest settings shared by the unit tests and nbval's run over the notebooks."""

from __future__ import annotations

import pytest


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Never compare stderr in notebooks.

    TensorFlow writes C++ log lines to stderr at import; a notebook executed outside pytest stores them, nbval's
    own run does not produce them, and the comparison would fail on text that says nothing about the workshop.
    """
    path = getattr(collector, "path", None)
    if path is not None and path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare = (*collector.skip_compare, "stderr")


@pytest.fixture(scope="session")
def keras_vgg16():
    """``keras.applications.VGG16(weights=None)`` at 224x224x3, built once for the whole test session.

    It is the heaviest build in the tests (138M parameters, seconds and half a gigabyte): test_flops,
    test_receptive_field and test_exercises_vgg share this one model instead of building their own.
    """
    import keras

    return keras.applications.VGG16(weights=None)
