"""course.from_scratch.batchnorm.BatchNorm2d against nn.BatchNorm2d, in training and evaluation."""

import matplotlib
import pytest
import torch
from torch import nn

from course.from_scratch.batchnorm import BatchNorm2d

matplotlib.use("Agg")

SHAPES = [(8, 3, 5, 5), (2, 4, 1, 1), (16, 1, 3, 7), (1, 6, 4, 4)]
SETTINGS = [
    dict(),
    dict(momentum=0.3, eps=1e-3),
    dict(momentum=None),
    dict(affine=False),
    dict(track_running_stats=False),
    dict(momentum=0.0),
    dict(momentum=1.0),
]


def pair(channels: int, seed: int, **kwargs):
    """Ours and PyTorch's, with the same (random, not default) scale and shift."""
    ours, ref = BatchNorm2d(channels, **kwargs), nn.BatchNorm2d(channels, **kwargs)
    if ref.affine:
        g = torch.Generator().manual_seed(seed + 100)
        with torch.no_grad():
            ref.weight.copy_(torch.rand(channels, generator=g) + 0.5)
            ref.bias.copy_(torch.randn(channels, generator=g))
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def batches(shape, seed: int, count: int = 4):
    g = torch.Generator().manual_seed(seed)
    # Not centred and not unit variance, so normalizing really has something to do.
    return [torch.randn(shape, generator=g) * 3 + 2 for _ in range(count)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "kwargs", SETTINGS, ids=lambda k: ",".join(map(str, k.items())) or "default"
)
def test_matches_pytorch_in_training_and_evaluation(shape, seed, kwargs):
    ours, ref = pair(shape[1], seed, **kwargs)
    for x in batches(shape, seed):  # training: batch statistics, running estimates updated
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        y1, y2 = ours(x1), ref(x2)
        torch.testing.assert_close(y1, y2, rtol=1e-5, atol=1e-5)
        upstream = torch.randn_like(y1)
        (y1 * upstream).sum().backward()
        (y2 * upstream).sum().backward()
        torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-4, atol=1e-4)
        if ref.affine:
            torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=1e-4, atol=1e-4)
        for name, buffer in ref.named_buffers():
            torch.testing.assert_close(dict(ours.named_buffers())[name], buffer)
    assert ours.state_dict().keys() == ref.state_dict().keys()
    ours.eval(), ref.eval()  # evaluation: running estimates (or the batch, if not tracked)
    x = batches(shape, seed + 7, 1)[0]
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-5)


def test_running_variance_is_unbiased_and_momentum_weighted():
    x = batches((4, 2, 3, 3), 0, 1)[0]
    bn = BatchNorm2d(2, momentum=0.25)
    bn(x)
    var = x.var(dim=(0, 2, 3), unbiased=True)
    torch.testing.assert_close(bn.running_var, 0.75 * torch.ones(2) + 0.25 * var)
    torch.testing.assert_close(bn.running_mean, 0.25 * x.mean(dim=(0, 2, 3)))
    assert bn.num_batches_tracked.item() == 1


def test_cumulative_average_with_momentum_none():
    xs = batches((5, 3, 2, 2), 3, 6)
    bn = BatchNorm2d(3, momentum=None)
    for x in xs:
        bn(x)
    expected = torch.stack([x.mean(dim=(0, 2, 3)) for x in xs]).mean(0)
    torch.testing.assert_close(bn.running_mean, expected)
    assert bn.num_batches_tracked.item() == len(xs)


def test_training_output_is_normalized_and_eval_is_per_image():
    bn = BatchNorm2d(4, affine=False)
    x = batches((32, 4, 6, 6), 5, 1)[0]
    y = bn(x)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        y.var(dim=(0, 2, 3), unbiased=False), torch.ones(4), atol=1e-3, rtol=0
    )
    bn.eval()
    alone, in_batch = bn(x[:1]), bn(x)[:1]
    torch.testing.assert_close(alone, in_batch)


def test_loads_pytorch_state_dict_both_ways():
    ref = nn.BatchNorm2d(3)
    ref(torch.randn(4, 3, 2, 2) + 1)
    ours = BatchNorm2d(3)
    ours.load_state_dict(ref.state_dict())
    back = nn.BatchNorm2d(3)
    back.load_state_dict(ours.state_dict())
    for name, value in ref.state_dict().items():
        torch.testing.assert_close(back.state_dict()[name], value)


def test_reset_and_repr():
    bn = BatchNorm2d(2)
    bn(torch.randn(3, 2, 2, 2) + 5)
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0
    torch.testing.assert_close(bn.running_mean, torch.zeros(2))
    assert (
        repr(bn) == "BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )


def test_one_value_per_channel_fails_in_training_like_pytorch():
    x = torch.randn(1, 3, 1, 1)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(x)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm2d(3)(x)
    bn = BatchNorm2d(3).eval()  # evaluation uses running estimates: fine
    assert bn(x).shape == x.shape


@pytest.mark.parametrize(
    "x, error, words",
    [
        (torch.randn(2, 5, 3, 3), ValueError, "num_features=3"),
        (torch.randn(2, 3, 3), ValueError, "4D input"),
        (torch.randn(2, 3, 3, 3, 3), ValueError, "4D input"),
        (torch.ones(2, 3, 3, 3, dtype=torch.long), TypeError, "floating-point"),
        ([[1.0]], TypeError, "torch.Tensor"),
    ],
)
def test_bad_input_is_named(x, error, words):
    with pytest.raises(error, match=words):
        BatchNorm2d(3)(x)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(num_features=0), "num_features"),
        (dict(num_features=2.0), "num_features"),
        (dict(num_features=True), "num_features"),
        (dict(num_features=2, eps=0), "eps"),
        (dict(num_features=2, momentum=1.5), "momentum"),
        (dict(num_features=2, momentum="0.1"), "momentum"),
    ],
)
def test_bad_arguments_are_named(kwargs, words):
    with pytest.raises(ValueError, match=words):
        BatchNorm2d(**kwargs)


# --- the notebook's plots and the covariate-shift explorer --------------------------------------


def test_derivative_ratio_matches_autograd():
    from course.measure.activations import derivative_ratio

    z = torch.linspace(-5, 5, 41, requires_grad=True)
    for name, f, peak in (("sigmoid", torch.sigmoid, 0.25), ("tanh", torch.tanh, 1.0),
                          ("relu", torch.relu, 1.0)):  # fmt: skip
        (grad,) = torch.autograd.grad(f(z).sum(), z)
        torch.testing.assert_close(derivative_ratio(z.detach(), name), grad / peak)
    with pytest.raises(ValueError, match="activation must be 'sigmoid', 'tanh' or 'relu'"):
        derivative_ratio(z, "gelu")


def test_plots_return_figures():
    import matplotlib.pyplot as plt

    from course.viz.batchnorm_plots import plot_layer_profile, plot_saturating_activations

    fig = plot_saturating_activations()
    assert [t.get_text() for t in fig.axes[0].get_legend().texts] == ["sigmoid", "tanh"]
    fig2 = plot_layer_profile({"a": {"saturated": [0.1, 0.5], "gradient": [1e-5, 1e-3]}})
    assert fig2.axes[1].get_yscale() == "log"
    with pytest.raises(ValueError, match="differ in length"):
        plot_layer_profile({"a": {"saturated": [0.1], "gradient": [1e-5, 1e-3]}})
    plt.close("all")


def fake_runs(steps=(0, 10, 20), layers=("tanh 1", "tanh 2")):
    g = torch.Generator().manual_seed(0)
    return {
        run: {name: torch.randn(len(steps), 500, generator=g) * (1 + k) for name in layers}
        for k, run in enumerate(("without BN", "with BN"))
    }, list(steps)


def test_shift_explorer_redraws_on_every_control():
    import matplotlib.pyplot as plt

    from course.viz.batchnorm_explorer import ShiftExplorer

    runs, steps = fake_runs()
    explorer = ShiftExplorer(runs, steps)
    first = explorer.picture.value
    assert first[:4] == b"\x89PNG"
    explorer.step.value = 20
    after_step = explorer.picture.value
    assert after_step != first
    explorer.layer.value = "tanh 1"
    assert explorer.picture.value not in (first, after_step)
    assert explorer.step.max == 20 and explorer.step.step == 10
    fig = explorer.draw("tanh 2", 12)  # nearest snapshot: step 10
    assert len(fig.axes) == 4 and "step 10" in [
        t.get_text() for t in fig.axes[0].get_legend().texts
    ]
    plt.close("all")


def test_shift_explorer_rejects_inconsistent_records():
    from course.viz.batchnorm_explorer import ShiftExplorer

    runs, steps = fake_runs()
    with pytest.raises(ValueError, match="increasing"):
        ShiftExplorer(runs, [0, 0, 1], render=False)
    with pytest.raises(ValueError, match=r"shape \(2, K\)"):
        ShiftExplorer(runs, [0, 10], render=False)
    runs["with BN"].pop("tanh 2")
    with pytest.raises(ValueError, match="records layers"):
        ShiftExplorer(runs, steps, render=False)
    with pytest.raises(ValueError, match="unknown layer"):
        ShiftExplorer(fake_runs()[0], steps, render=False).draw("relu 9", 0)


@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"track_running_stats": False}])  # fmt: skip
def test_compare_with_torch_finds_agreement(options):
    from course.from_scratch.batchnorm import compare_with_torch

    worst = compare_with_torch(options)
    assert set(worst) == {"output", "input grad", "param grads", "running stats", "eval output"}
    assert max(worst.values()) < 1e-4


def test_compare_with_torch_finds_a_wrong_running_variance(monkeypatch):
    """The notebook's table would show it: running statistics updated with the biased variance."""
    from course.from_scratch import batchnorm

    original = batchnorm.BatchNorm2d._update_running_stats

    def biased(self, mean, var, n):
        original(self, mean, var * (n - 1) / n, n)  # undo the n / (n - 1) correction

    monkeypatch.setattr(batchnorm.BatchNorm2d, "_update_running_stats", biased)
    worst = batchnorm.compare_with_torch({}, shape=(2, 3, 2, 2))
    assert worst["running stats"] > 1e-3 and worst["eval output"] > 1e-3
    assert worst["output"] < 1e-5  # training mode normalizes with the batch: unaffected
