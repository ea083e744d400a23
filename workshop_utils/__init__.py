"""Helpers for the CNN Architectures workshop.

One job per module; import the module you need (imports stay light until you do):

* :mod:`workshop_utils.settings` -- run profiles (ci / cpu / gpu), seeding; ``setup()`` opens every notebook.
* :mod:`workshop_utils.data` -- the offline ``shapes10`` dataset, Keras' real datasets, a sample photograph.
* :mod:`workshop_utils.flops` -- parameters, multiply-accumulates (MACs) and FLOPs (= 2 x MACs) per layer.
* :mod:`workshop_utils.training` -- ``train_classifier`` within the profile's time budget; throughput callbacks.
* :mod:`workshop_utils.plots` -- training curves, image grids, filters, feature maps, cost charts, diagrams.
* :mod:`workshop_utils.doctor` -- ``python -m workshop_utils doctor``, the pre-workshop check.
"""

__version__ = "0.1.0"
