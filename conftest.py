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
