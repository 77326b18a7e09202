"""The plots moved out of notebooks 05, 07 and 09: what they draw is read back from the Figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course.models import get_model, summarize  # noqa: E402
from course.viz.batchnorm_plots import plot_input_shift  # noqa: E402
from course.viz.summary_plots import plot_parameters_per_layer  # noqa: E402
from course.viz.texture_plots import plot_textures  # noqa: E402


def test_parameters_per_layer_has_one_bar_per_layer_with_parameters():
    rows = summarize(get_model("vgg11"), (3, 224, 224))
    with_parameters = [r for r in rows if r.parameters]
    fig = plot_parameters_per_layer(rows, title="vgg11")
    bars = fig.axes[0].patches
    assert len(bars) == len(with_parameters) == 11
    assert [b.get_height() for b in bars] == pytest.approx(
        [r.parameters / 1e6 for r in with_parameters]
    )
    with pytest.raises(ValueError, match="one label per layer with parameters"):
        plot_parameters_per_layer(rows, ["a", "b"])
    plt.close("all")


def test_textures_show_example_synthesis_and_shuffle():
    class Result:
        image = torch.rand(3, 16, 16)

    example = (np.random.default_rng(0).random((20, 24, 3)) * 255).astype(np.uint8)
    fig = plot_textures({"noise": example}, {"noise": Result()}, size=16, title="t")
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes][1] == "noise: synthesized"
    shown = fig.axes[1].get_images()[0].get_array()
    assert np.allclose(shown, Result.image.permute(1, 2, 0).numpy())
    plt.close("all")


def test_input_shift():
    g = torch.Generator().manual_seed(0)
    shift = {"run": {"tanh 1": torch.randn(3, 40, generator=g)}}
    fig = plot_input_shift(shift, [0, 10, 20], "tanh 1", 12)
    assert "step 10" in [t.get_text() for t in fig.axes[0].get_legend().texts]
    with pytest.raises(ValueError, match="unknown layer 'relu 9'"):
        plot_input_shift(shift, [0, 10, 20], "relu 9", 0)
    plt.close("all")
