"""What the split of course.training made explicit: any nn.Module trains without attributes
patched onto it, evaluate takes what fit takes (image folders too), the preprocessing survives
JSON, and the history answers "when did it get there"."""

import json

import pytest
import torch
from torch import nn

from course.data import load_image_folder
from course.training import History, Preprocess, evaluate, fit
from course.training.batches import input_channels


def grey_images(n: int = 96, size: int = 12, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, size, size), dtype=torch.uint8, generator=g)
    labels = (images.float().mean(dim=(1, 2, 3)) > 127.5).long()  # learnable: bright or dark
    return images, labels


def test_a_plain_module_taking_three_channels_trains_on_grey_images():
    """No ``model.in_channels``: fit reads the channels from the first convolution."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 2))  # fmt: skip
    assert not hasattr(model, "in_channels") and input_channels(model) == 3
    data = grey_images()
    history = fit(model, data, data, epochs=1, batch_size=32, progress=False)
    assert history.preprocess["channels"] == 3 and len(history.val_acc) == 1
    assert evaluate(model, data)["n"] == 96


def test_input_channels_of_models_without_a_convolution_is_none():
    assert input_channels(nn.Sequential(nn.Flatten(), nn.Linear(4, 2))) is None
    from course.models import get_model

    assert input_channels(get_model("resnet20", in_channels=1)) == 1


def test_evaluate_takes_an_image_folder_like_fit(tmp_path):
    from PIL import Image

    g = torch.Generator().manual_seed(0)
    for k, name in enumerate(("dark", "bright")):
        (tmp_path / name).mkdir()
        for i in range(6):
            value = int(torch.randint(0, 100, (), generator=g)) + 150 * k
            Image.new("RGB", (20, 20), color=(value, value, value)).save(
                tmp_path / name / f"{i}.png"
            )
    folder = load_image_folder(tmp_path, image_size=16)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2))  # fmt: skip
    history = fit(model, folder, folder, epochs=1, batch_size=4, progress=False)
    from_folder = evaluate(model, folder, history.preprocess)
    images = torch.stack([folder[i][0] for i in range(len(folder))])
    labels = torch.tensor([folder[i][1] for i in range(len(folder))])
    in_memory = evaluate(model, (images, labels), history.preprocess)
    assert from_folder["n"] == in_memory["n"] == 12
    assert from_folder["acc"] == in_memory["acc"]
    assert from_folder["loss"] == pytest.approx(in_memory["loss"], rel=1e-5)
    assert from_folder["acc"] == pytest.approx(history.val_acc[-1])


def test_preprocess_survives_a_json_round_trip():
    prep = Preprocess((0.5, 0.4, 0.3), (0.2, 0.2, 0.25), size=32, crop=28, pad=2, flip=True,
                      channels=3)  # fmt: skip
    assert Preprocess.from_dict(json.loads(json.dumps(prep.to_dict()))) == prep


def test_history_epochs_to():
    h = History(epoch=[1, 2, 3], train_acc=[0.5, 0.8, 0.9], val_acc=[0.4, 0.7, 0.85])
    assert h.epochs_to(0.8) == 2 and h.epochs_to(0.95) is None
    assert h.epochs_to(0.7, on="val_acc") == 2
    with pytest.raises(ValueError, match="on must be 'train_acc' or 'val_acc', got 'loss'"):
        h.epochs_to(0.5, on="loss")
