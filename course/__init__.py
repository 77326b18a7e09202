"""The course on classic convolutional networks, as a package. Nothing happens at import time.

Infrastructure
    course.runtime       seeding, device choice, fast mode, machine description
    course.checks        argument checks every module shares
    course.data          Fashion-MNIST (offline first), your image folders, ImageNet's classes
    course.training      fit and evaluate: batches, devices, checkpoints, progress;
                         ``python -m course.training``
Models
    course.models        every architecture (one file per family), registry, summaries,
                         pretrained weights (hash-checked, tensors only)
Lecture topics
    course.measure       numbers computed about networks: conv arithmetic, gradient norms,
                         every architecture measured the same way
    course.from_scratch  teaching implementations checked against PyTorch: batch norm,
                         texture synthesis
    course.exercises     one module per lecture: checkers, hint ladders, worked solutions
    course.experiments   the lecture's claims tested at three budgets; reference results
                         with provenance in data/results/
Pictures
    course.viz           *_plots: pure plots (return a Figure); *_explorer: ipywidgets built
                         on them; figures: what they share
"""

__version__ = "0.1.0"
