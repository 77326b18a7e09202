"""What a classifier gets wrong: top-k error, the confusion matrix and its most confused pairs,
and the top-k classes of one photo.

    scores = class_scores(model, images, preprocess)        # (N, classes) logits, float32
    top_k_error(scores, labels, k=5)                        # ILSVRC's measure: 0.0 .. 1.0
    matrix = confusion_matrix(scores.argmax(1), labels, 10) # rows: true class, columns: predicted
    most_confused(matrix, names, n=3)                       # the pairs mistaken most, both ways
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course.measure.probe import evaluating
from course.training.batches import Preprocess, check_images


def class_scores(model: nn.Module, images: torch.Tensor, preprocess: Preprocess | dict,
                 batch_size: int = 500) -> torch.Tensor:  # fmt: skip
    """The model's logits (N, classes) for uint8 ``images`` (N, C, H, W), each seen as
    ``preprocess`` shows a test image (the centre view), in float32, in evaluation mode."""
    check_images(images, "images")
    if isinstance(preprocess, dict):
        preprocess = Preprocess.from_dict(preprocess)
    device = next(model.parameters()).device
    out = []
    with evaluating(model):
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size].to(device)
            out.append(model(preprocess.eval_batch(x)).float().cpu())
    return torch.cat(out)


def _check_scores(scores: torch.Tensor, labels: torch.Tensor) -> None:
    if scores.ndim != 2 or labels.ndim != 1 or len(scores) != len(labels):
        raise ValueError(
            f"scores must be (N, classes) and labels (N,), got {tuple(scores.shape)} and "
            f"{tuple(labels.shape)}"
        )


def top_k_error(scores: torch.Tensor, labels: torch.Tensor, k: int = 1) -> float:
    """The fraction of images whose true class is not among the ``k`` highest scores (ILSVRC
    reports k = 1 and k = 5)."""
    _check_scores(scores, labels)
    if not isinstance(k, int) or not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be an int from 1 to the number of classes "
                         f"({scores.shape[1]}), got {k!r}")  # fmt: skip
    top = scores.topk(k, dim=1).indices
    hit = (top == labels[:, None]).any(dim=1)
    return 1.0 - hit.float().mean().item()


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, classes: int) -> torch.Tensor:
    """Counts (classes, classes): row = true class, column = predicted class."""
    if predicted.shape != labels.shape or predicted.ndim != 1:
        raise ValueError(f"predicted and labels must be two (N,) tensors, got "
                         f"{tuple(predicted.shape)} and {tuple(labels.shape)}")  # fmt: skip
    for name, values in (("predicted", predicted), ("labels", labels)):
        if len(values) and not 0 <= int(values.min()) <= int(values.max()) < classes:
            raise ValueError(f"{name} must be classes 0 to {classes - 1}, got values from "
                             f"{int(values.min())} to {int(values.max())}")  # fmt: skip
    index = labels.long() * classes + predicted.long()
    return torch.bincount(index, minlength=classes * classes).reshape(classes, classes)


def most_confused(matrix, names, n: int = 3) -> list[dict]:
    """The ``n`` pairs of classes mistaken for each other most often (both directions added),
    most first: ``{"pair": [a, b], "a_as_b": count, "b_as_a": count, "total": count}``."""
    m = torch.as_tensor(matrix)
    pairs = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            ab, ba = int(m[a, b]), int(m[b, a])
            pairs.append({"pair": [names[a], names[b]], "a_as_b": ab, "b_as_a": ba,
                          "total": ab + ba})  # fmt: skip
    return sorted(pairs, key=lambda p: -p["total"])[:n]


def top_k_classes(model: nn.Module, image: torch.Tensor, categories, transform,
                  k: int = 5) -> list[tuple[str, float]]:  # fmt: skip
    """The ``k`` most probable ``categories`` for one photo (a uint8 tensor (3, H, W)), seen as
    ``transform`` prepares it (torchvision's ``weights.transforms()``: resize, centre crop,
    ImageNet normalization): ``[(name, probability), ...]``, most probable first."""
    if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"image must be a uint8 tensor (3, H, W), got {image.dtype} "
                         f"{tuple(image.shape)}")  # fmt: skip
    if not isinstance(k, int) or not 1 <= k <= len(categories):
        raise ValueError(f"k must be an int from 1 to {len(categories)}, got {k!r}")
    device = next(model.parameters()).device
    with evaluating(model):
        probs = F.softmax(model(transform(image)[None].to(device)).float(), dim=1)[0].cpu()
    if len(categories) != len(probs):
        raise ValueError(f"{len(categories)} category names for {len(probs)} model outputs")
    top = probs.topk(k)
    return [(categories[i], probs[i].item()) for i in top.indices.tolist()]
