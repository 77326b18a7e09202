"""Experiments that test what the lecture claims, designed as the papers did, at three budgets:
``fast`` (seconds: the tests), ``live`` (about two minutes on a 2-core CPU: what a notebook
runs) and ``reference`` (the convincing version, stored in ``data/results/NAME.json`` with its
provenance and shown in the notebooks).

    course.experiments.runner        run_experiment, load_results, provenance, StaleResult
    course.experiments.relu_vs_tanh  AlexNet's Figure 1: epochs to 25% training error
    course.experiments.dropout       over-fitting with and without dropout
    course.experiments.tta           AlexNet's ten test-time views, a paired test
    course.experiments.fc_vs_gap     VGG's three FC layers vs global average pooling
    course.experiments.aux_classifiers  GoogLeNet's auxiliary heads: accuracy and gradient
    course.experiments.degradation   plain vs residual networks of 20 and 56 layers
    course.experiments.batch_norm    one deep network with and without batch norm, lr grid
    course.experiments.inception_bn  GoogLeNet vs Inception-BN at x1, x5, x30 its learning rate
    course.experiments.architectures a small member of every family, one budget
    course.experiments.stems         the same with CIFAR stems: why the order reverses at 32x32
    course.experiments.trained_alexnet  notebook 09's AlexNet again, its weights and errors kept
    course.experiments.your_network  notebook 10's worked example, beside the architectures
    python -m course.experiments run NAME --budget reference
"""

from course.experiments.runner import (
    BUDGETS,
    EXPERIMENTS,
    StaleResult,
    load_results,
    run_experiment,
)

__all__ = ["BUDGETS", "EXPERIMENTS", "StaleResult", "load_results", "run_experiment"]
