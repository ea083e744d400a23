"""Reference implementations of the day's architectures, in the style of ``keras.applications``.

One module per family; the notebooks build the same models live, cell by cell, and the checkers, cost modules and
notebook 09's closing chart import these reference copies (one copy of each block in the whole repository):

* :mod:`~workshop_utils.architectures.alexnet`, :mod:`~workshop_utils.architectures.googlenet` -- AlexNet (one
  and two towers) and GoogLeNet with its auxiliary heads (02, 03).
* :mod:`~workshop_utils.architectures.mobilenet` -- MobileNet v1 (alpha, rho), depthwise separable blocks (04).
* :mod:`~workshop_utils.architectures.mobilenet_v2` -- MobileNetV2's inverted residual block and network (04,
  appendix).
* :mod:`~workshop_utils.architectures.shufflenet` -- ShuffleNet v1 units, channel shuffle layer (05).
* :mod:`~workshop_utils.architectures.shufflenet_v2` -- the ShuffleNet V2 unit and network (05, appendix).
* :mod:`~workshop_utils.architectures.squeezenet` -- fire module, SqueezeNet v1.0/v1.1 (06).
* :mod:`~workshop_utils.architectures.resnet` -- basic/bottleneck blocks, one ``resnet()`` for the ImageNet and CIFAR
  stems, ResNeXt (07).
* :mod:`~workshop_utils.architectures.identity_mappings` -- the Identity Mappings paper's ten residual unit orderings,
  one function per figure (07).
* :mod:`~workshop_utils.architectures.densenet` -- dense block, transition, one ``densenet()`` for the ImageNet and
  CIFAR stems, DenseNet-121/169/201 (08).
* :mod:`~workshop_utils.architectures.fpn` -- the FPN top-down pyramid on a ResNet backbone (09).

``_top`` holds the classifier top (``include_top``, ``pooling``) that ResNet and DenseNet share. None of these
modules imports the cost counter: :mod:`workshop_utils.flops.rules` knows the library's layers.

Submodules are imported on demand (``from workshop_utils.architectures.resnet import resnet``), so importing the
package stays cheap.
"""
