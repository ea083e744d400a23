"""Helpers for the CNN Architectures workshop.

One job per module; import the module you need (imports stay light until you do):

* :mod:`workshop_utils.settings` -- run profiles (ci / cpu / gpu), seeding; ``setup()`` opens every notebook.
* :mod:`workshop_utils.data` -- the offline ``shapes10`` dataset, Keras' real datasets, a sample photograph.
* :mod:`workshop_utils.flops` -- parameters, multiply-accumulates (MACs) and FLOPs (= 2 x MACs) per layer.
* :mod:`workshop_utils.training` -- ``train_classifier`` within the profile's time budget; throughput callbacks.
* :mod:`workshop_utils.plots` -- training curves, image grids, filters, feature maps, cost charts, diagrams.
* :mod:`workshop_utils.doctor` -- ``python -m workshop_utils doctor``, the pre-workshop check.
* :mod:`workshop_utils.agenda` -- the day's programme (the deck's Plan A) and which notebook teaches each part.
* :mod:`workshop_utils.conv_arithmetic` -- output sizes for kernel/stride/padding/dilation; the explorer widget.
* :mod:`workshop_utils.receptive_field` -- receptive fields of a model; stacked small vs one big kernel.
* :mod:`workshop_utils.inception_cost` -- naive vs bottleneck Inception module costs; the width-slider widget.
* :mod:`workshop_utils.exercises` -- exercise checkers (one module per notebook) and their ``CheckResult``.
"""

__version__ = "0.1.0"
