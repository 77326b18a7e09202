"""course.measure.activations against autograd and hand-made inputs."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.measure.activations import (
    SATURATED,
    layer_profile,
    percentile_drift,
    record_training,
    saturated_fraction,
)
from course.models.plain_cnn import plain_cnn


def test_layer_profile_matches_gradients_computed_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Sigmoid(), nn.Linear(5, 3), nn.Sigmoid(),
                          nn.Linear(3, 2))  # fmt: skip
    x, y = torch.randn(6, 4) * 3, torch.tensor([0, 1, 0, 1, 1, 0])
    profile = layer_profile(model, nn.Sigmoid, x, y, "sigmoid")
    z1 = model[0](x).detach().requires_grad_()
    z2 = model[2](torch.sigmoid(z1))
    z2.retain_grad()
    F.cross_entropy(model[4](torch.sigmoid(z2)), y).backward()
    assert profile["gradient"] == pytest.approx([z1.grad.norm().item(), z2.grad.norm().item()])
    s = torch.sigmoid(z1.detach())
    expected = ((s * (1 - s) / 0.25) < SATURATED).float().mean().item()
    assert profile["saturated"][0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="no Tanh layer"):
        layer_profile(model, nn.Tanh, x, y, "tanh")


def test_saturated_fraction_and_percentile_drift_on_known_values():
    values = torch.tensor([[0.0, 0.0, 3.0, -3.0], [0.0, 0.0, 0.0, 0.0]])  # tanh'(3) = 0.0099
    assert saturated_fraction(values, "tanh").tolist() == [0.5, 0.0]
    moving = torch.stack([torch.arange(101.0), torch.arange(101.0) + 7])  # shifted by 7
    assert percentile_drift(moving) == pytest.approx(7.0)


def test_record_training_snapshots_every_few_steps():
    torch.manual_seed(0)
    model = plain_cnn(batch_norm=False, activation=nn.Tanh)
    images, labels = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    record = record_training(model, images, labels, steps=4, every=2, batch_size=8, keep=30)
    assert record.steps == [0, 2, 4] and len(record.losses) == 5
    assert list(record.values) == [f"tanh {i}" for i in range(1, 11)]
    assert all(v.shape == (3, 30) for v in record.values.values())
    assert record.gradients.shape == (3, 10) and (record.gradients > 0).all()
