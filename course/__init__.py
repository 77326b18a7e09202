"""Helpers for the course on classic convolutional networks. Nothing happens at import time.

Infrastructure
    course.runtime        seeding, device choice, fast mode, machine description
    course.checks         argument checks every module shares
    course.datafiles      where the course's files are; DataError
    course.data           Fashion-MNIST (offline first), your own image folders
    course.image_folder   ImageFolder with a link-loop-safe scan (used by course.data)
    course.imagenet       the 1000 ILSVRC-2012 classes and their WordNet hierarchy
    course.batches        in-memory uint8 batches, augmented on the device; test-time views
    course.train          fit, evaluate, checkpoints, torchrun; ``python -m course.train``
Models
    course.models         every architecture (one file per family), registry, summaries,
                          pretrained weights (hash-checked, tensors only)
Arithmetic and measurement
    course.conv           convolution arithmetic: output size, parameters, MACs, receptive field
    course.gradients      per-layer gradient norms
    course.compare        every architecture measured the same way
From-scratch teaching implementations
    course.batchnorm      batch normalization, checked against nn.BatchNorm2d
    course.texture        texture synthesis from VGG features
Exercises
    course.exercises      checkers, hint ladders, worked solutions (conv, output size,
                          receptive field, Inception block); course.exercises_resnet (bottleneck)
Pictures and widgets
    course.viz            pure plots (return a Figure) and the ipywidgets built on them
"""

__version__ = "0.1.0"
