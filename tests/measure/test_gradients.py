"""Gradient norms of a network with auxiliary classifiers, and per block, against autograd by
hand."""

import pytest
import torch
import torch.nn.functional as F

from course.measure.gradients import block_norms, layer_gradient_norms
from course.models import get_model


def googlenet():
    torch.manual_seed(0)
    return get_model("googlenet_paper", width=0.125, in_channels=1, num_classes=10, dropout=0.0,
                     dropout_aux=0.0)  # fmt: skip


def batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 1, 32, 32, generator=g), torch.randint(0, 10, (8,), generator=g)


@pytest.mark.parametrize("aux_weight", [0.0, 0.3])
def test_with_auxiliary_heads_the_objective_is_main_plus_weighted_aux(aux_weight):
    x, y = batch()
    measured = dict(layer_gradient_norms(googlenet(), x, y, aux_weight=aux_weight))
    reference = googlenet().train()
    out = reference(x)
    loss = F.cross_entropy(out.logits, y) + aux_weight * sum(F.cross_entropy(a, y) for a in out.aux)
    loss.backward()
    for name in ("conv1.conv", "inception3a.branch1.conv", "inception5b.branch1.conv"):
        expected = reference.get_submodule(name).weight.grad.norm().item()
        assert measured[name] == pytest.approx(expected, rel=1e-4)


def test_the_auxiliary_heads_add_gradient_only_below_where_they_attach():
    """aux2 hangs on inception 4d: blocks after it get the main output's gradient only."""
    x, y = batch()
    blocks = ["inception3a", "inception4d", "inception4e", "inception5b"]
    main = block_norms(layer_gradient_norms(googlenet(), x, y), blocks)
    both = block_norms(layer_gradient_norms(googlenet(), x, y, aux_weight=0.3), blocks)
    assert both["inception4e"] == pytest.approx(main["inception4e"], rel=1e-6)
    assert both["inception5b"] == pytest.approx(main["inception5b"], rel=1e-6)
    assert both["inception3a"] != pytest.approx(main["inception3a"], rel=1e-3)


def test_a_block_norm_is_the_norm_of_all_its_weight_gradients():
    norms = [("a.conv1", 3.0), ("a.conv2", 4.0), ("ab.conv", 100.0), ("b.conv", 1.0)]
    assert block_norms(norms, ["a", "b"]) == {"a": 5.0, "b": 1.0}
    with pytest.raises(ValueError, match="block 'c'"):
        block_norms(norms, ["c"])
