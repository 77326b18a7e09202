"""Top-k error, the confusion matrix and the top classes of a photo, against plain Python
counts and a plain forward pass."""

from collections import Counter

import pytest
import torch

from course.measure.predictions import (
    class_scores,
    confusion_matrix,
    most_confused,
    top_k_classes,
    top_k_error,
)
from course.models import get_model
from course.training import Preprocess


def scores_and_labels(n=300, classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, classes, generator=g), torch.randint(0, classes, (n,), generator=g)


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_top_k_error_counts_images_whose_class_is_not_among_the_k_best(k):
    scores, labels = scores_and_labels()
    missed = 0
    for row, label in zip(scores.tolist(), labels.tolist(), strict=True):
        ranked = sorted(range(10), key=lambda c: -row[c])
        missed += label not in ranked[:k]
    assert top_k_error(scores, labels, k) == pytest.approx(missed / 300, abs=1e-6)


def test_confusion_matrix_counts_each_true_and_predicted_pair_and_names_the_most_confused():
    scores, labels = scores_and_labels()
    predicted = scores.argmax(1)
    matrix = confusion_matrix(predicted, labels, 10)
    pairs = Counter(zip(labels.tolist(), predicted.tolist(), strict=True))
    assert matrix.tolist() == [[pairs[(t, p)] for p in range(10)] for t in range(10)]
    made = torch.zeros(3, 3, dtype=torch.long)
    made[0, 1], made[1, 0], made[2, 0], made[1, 2] = 4, 3, 6, 2
    pairs = most_confused(made, ["a", "b", "c"], n=2)
    assert pairs == [{"pair": ["a", "b"], "a_as_b": 4, "b_as_a": 3, "total": 7},
                     {"pair": ["a", "c"], "a_as_b": 0, "b_as_a": 6, "total": 6}]  # fmt: skip


def test_bad_arguments_are_refused():
    scores, labels = scores_and_labels()
    with pytest.raises(ValueError, match=r"k must be an int from 1 to the number of classes "
                                         r"\(10\), got 11"):  # fmt: skip
        top_k_error(scores, labels, 11)
    with pytest.raises(ValueError, match=r"scores must be \(N, classes\) and labels \(N,\), "
                                         r"got \(300, 10\) and \(299,\)"):  # fmt: skip
        top_k_error(scores, labels[:-1])
    with pytest.raises(ValueError, match="predicted and labels must be two"):
        confusion_matrix(scores, labels, 10)
    with pytest.raises(ValueError, match="labels must be classes 0 to 9, got values from 0 to 10"):
        confusion_matrix(labels, torch.cat([labels[:-1], torch.tensor([10])]), 10)


def test_class_scores_are_the_models_outputs_on_the_test_view_in_any_batch_size():
    torch.manual_seed(0)
    model = get_model("alexnet_small", num_classes=10, in_channels=1, width=0.25).eval()
    images = torch.randint(0, 256, (37, 1, 28, 28), dtype=torch.uint8)
    preprocess = Preprocess(mean=(0.3,), std=(0.3,), size=32, crop=32, pad=4, flip=True)
    with torch.no_grad():
        expected = model(preprocess.eval_batch(images))
    model.train()
    for batch_size in (5, 500):
        got = class_scores(model, images, preprocess.to_dict(), batch_size=batch_size)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert model.training  # its mode is restored
    with pytest.raises(ValueError, match=r"images must be a uint8 tensor"):
        class_scores(model, images.float(), preprocess)


def test_top_classes_of_a_photo_with_stand_in_imagenet_weights():
    from skimage import data as photos
    from torchvision.models import AlexNet_Weights

    weights = AlexNet_Weights.IMAGENET1K_V1  # its class names and preprocessing: offline
    torch.manual_seed(0)
    model = get_model("alexnet")  # random weights of the right shapes stand in
    photo = torch.from_numpy(photos.chelsea()).permute(2, 0, 1).contiguous()
    top = top_k_classes(model, photo, weights.meta["categories"], weights.transforms(), k=5)
    assert len(top) == 5 and all(name in weights.meta["categories"] for name, _ in top)
    probabilities = [p for _, p in top]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1
    assert model.training  # its mode is restored
    with torch.no_grad():
        logits = model.eval()(weights.transforms()(photo)[None])[0]
    assert top[0][0] == weights.meta["categories"][int(logits.argmax())]
    with pytest.raises(ValueError, match=r"image must be a uint8 tensor \(3, H, W\)"):
        top_k_classes(model, photo.float(), weights.meta["categories"], weights.transforms())
    with pytest.raises(ValueError, match="999 category names for 1000 model outputs"):
        top_k_classes(model, photo, weights.meta["categories"][:-1], weights.transforms())
