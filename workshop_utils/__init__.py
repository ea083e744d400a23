"""Helpers for the CNN Architectures workshop.

One job per module; import the module you need (imports stay light until you do). The README's "How the code is
organised" lists every module in one line each; the core ones:

* :mod:`workshop_utils.settings` -- run profiles (ci / cpu / gpu), seeding; ``run = settings.setup()`` opens every
  notebook.
* :mod:`workshop_utils.data` -- the offline ``shapes10`` dataset, Keras' real datasets, a sample photograph.
* :mod:`workshop_utils.flops` -- parameters, multiply-accumulates (MACs) and FLOPs (= 2 x MACs) per layer;
  ``register_cost`` for custom layers.
* :mod:`workshop_utils.training` -- ``train_classifier`` with a validation split, within the run's time budget.
* :mod:`workshop_utils.plots` -- training curves, image grids, filters, feature maps, cost charts, diagrams.
* :mod:`workshop_utils.receptive_field` -- receptive fields of a model (the same graph walk as flops).
* :mod:`workshop_utils.conv_arithmetic` -- output sizes for kernel/stride/padding/dilation; the explorer widget.
* :mod:`workshop_utils.inception_cost` -- naive vs bottleneck Inception module costs; the width-slider widget.
* :mod:`workshop_utils.architectures` -- reference implementations, one module per family (one copy of each block).
* :mod:`workshop_utils.exercises` -- exercise checkers (one module per notebook), ``run_check`` and ``Hint``.
* :mod:`workshop_utils.doctor` -- ``python -m workshop_utils doctor``, the pre-workshop check.
* :mod:`workshop_utils.agenda` -- the day's programme (the deck's Plan A) and which notebook teaches each part.
* :mod:`workshop_utils._keras_internals` -- the private Keras APIs the library relies on, in one place.
"""

__version__ = "0.1.0"
