"""What the experiments share: their data, and a finished run as plain data."""

from __future__ import annotations

import math

from course.data import load_fashion_mnist
from course.training import History


def fashion_mnist(config: dict) -> dict:
    """The first ``train_images`` training and ``test_images`` test images of Fashion-MNIST
    (the set is shuffled), and where they came from."""
    train = load_fashion_mnist("train", verbose=False)
    test = load_fashion_mnist("test", verbose=False)
    n_train = min(config["train_images"], len(train))
    n_test = min(config["test_images"], len(test))
    return {
        "train": (train.images[:n_train], train.labels[:n_train]),
        "test": (test.images[:n_test], test.labels[:n_test]),
        "source": f"Fashion-MNIST, {train.source}: {n_train:,} training and {n_test:,} test images",
    }


def finished(history: History) -> dict:
    """The history as plain data; an interrupted run is not a finished one (the runner keeps
    its checkpoint, and the next run resumes it)."""
    if history.interrupted:
        raise KeyboardInterrupt
    return history.to_dict()


def mean_and_spread(values: list[float]) -> dict:
    """Mean and (sample) standard deviation; the spread is 0 for one value."""
    n = len(values)
    mean = sum(values) / n
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": spread, "n": n}
