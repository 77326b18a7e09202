"""Helpers for the course on classic convolutional networks.

Modules (import what you need; nothing happens at import time):
    course.runtime   seeding, device choice, fast mode, environment report
    course.data      Fashion-MNIST (offline first) and your own image folders
    course.imagenet  the 1000 ILSVRC-2012 classes and their WordNet hierarchy
"""

__version__ = "0.1.0"
