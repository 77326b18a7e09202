"""Every explorer's Python side in the states a student can reach, errors included: a state that
cannot be drawn hides the picture (no empty, broken image) and says why in text that wraps, and
the controls have widths that no state changes. tests/test_browser.py drives the same states in
a real JupyterLab and measures the layout there."""

import ipywidgets as w
import pytest
import torch

from course.measure.compare import ArchitectureRecord
from course.viz import conv_explorer
from course.viz.compare_explorer import ArchitectureExplorer
from course.viz.conv_explorer import ConvExplorer
from course.viz.explorer import Explorer, filling, fixed, wrapped
from course.viz.imagenet_explorer import TITLES, ImageNetExplorer

WRAPS = "white-space: normal; overflow-wrap: anywhere"


def is_fixed(layout: w.Layout) -> bool:
    return layout.width == layout.min_width == layout.max_width and layout.flex == "0 0 auto"


def test_fixed_and_filling_layouts():
    assert is_fixed(fixed("200px")) and fixed("200px").width == "200px"
    assert filling(200).width == "196px"  # 2px of margin on each side of a control
    assert wrapped("") == "" and WRAPS in wrapped("text")


def test_an_invalid_layer_hides_the_picture_and_explains_in_wrapping_text():
    explorer = ConvExplorer(input_size=7, kernel_size=3)
    assert explorer.picture.layout.display is None
    explorer.kernel_h.value, explorer.dilation.value = 5, 2  # the kernel spans 9 of 7 pixels
    assert explorer.picture.value == b"" and explorer.picture.layout.display == "none"
    assert "Not a valid layer" in explorer.readout.value and WRAPS in explorer.readout.value
    explorer.padding_mode.value = "same"  # valid again: the picture comes back
    assert bytes(explorer.picture.value).startswith(b"\x89PNG")
    assert explorer.picture.layout.display is None
    explorer.stride.value = 4  # "same" needs stride 1
    assert explorer.picture.layout.display == "none" and "needs stride 1" in explorer.readout.value


def test_the_conv_explorers_columns_and_controls_have_fixed_widths():
    explorer = ConvExplorer(render=False)
    left, right = explorer.widget.children[0].children
    assert is_fixed(left.layout) and left.layout.width == f"{conv_explorer.LEFT_PX}px"
    assert is_fixed(right.layout) and right.layout.width == f"{conv_explorer.RIGHT_PX}px"
    assert is_fixed(explorer.readout.layout)
    for control in [*left.children, *right.children[:-2], explorer.position, explorer.play]:
        assert is_fixed(control.layout), control.description
    # ipywidgets 8 leaves these off ToggleButtons (its label would sit above the buttons), and
    # label, buttons and their margins must fit in the column for the buttons to stay on a row.
    assert {"jupyter-widgets", "widget-inline-hbox"} <= set(explorer.padding_mode._dom_classes)
    style = explorer.padding_mode.style
    needed = int(style.description_width[:-2]) + 8 + 3 * (int(style.button_width[:-2]) + 4)
    assert needed <= conv_explorer.LEFT_PX - 4


def records():
    return [
        ArchitectureRecord("alexnet", "AlexNet", 61_100_840, 714_188_480, 8, 12.0, 56.5),
        ArchitectureRecord("vgg16", "VGG", 138_357_544, 15_470_264_320, 16, 90.0, 71.6),
    ]


def test_no_architecture_selected_shows_no_picture_and_says_what_to_do():
    explorer = ArchitectureExplorer(records())
    explorer.families.value = ()
    assert explorer.draw(**explorer.settings()) is None
    assert explorer.picture.layout.display == "none" and explorer.table.value == ""
    assert "0 of 2 architectures shown: choose a family" in explorer.readout.value
    explorer.families.value = ("VGG",)
    explorer.max_parameters.value = 1  # no VGG is that small
    assert "0 of 2 architectures shown: allow more parameters" in explorer.readout.value
    explorer.max_parameters.value = explorer.max_parameters.max
    assert "1 of 2 architectures shown" in explorer.readout.value
    assert explorer.picture.layout.display is None and "vgg16" in explorer.table.value


def test_imagenet_messages_wrap_and_tab_titles_fit():
    explorer = ImageNetExplorer(query="panda")
    assert WRAPS in explorer.details.value and WRAPS in explorer.breadcrumb.value
    explorer.query.value = "x" * 150  # one word wider than the widget
    assert explorer.matches.options == () and "No class matches" in explorer.details.value
    assert WRAPS in explorer.details.value
    explorer.query.value = ""
    assert explorer.details.value == ""
    # JupyterLab gives a tab title about 144px: a longer title shows cut short.
    assert all(len(title) <= 16 for title in TITLES)
    assert [explorer.widget.get_title(i) for i in range(2)] == list(TITLES)


class Failing(Explorer):
    """An explorer whose drawing fails in some state (as a bug or an unforeseen state would)."""

    def __init__(self):
        self.n = w.IntSlider(0, 0, 2)
        super().__init__({"n": self.n})
        self.widget = w.VBox([self.n, self.readout, self.picture])
        self._watch_controls()
        self.refresh()

    def draw(self, n):
        import matplotlib.pyplot as plt

        if n == 2:
            raise ValueError("n must be below 2, got 2")
        return plt.figure(figsize=(1, 1))

    def describe(self, n):
        return f"n = {n}"


def test_a_state_that_cannot_be_drawn_says_why_instead_of_raising():
    explorer = Failing()
    assert explorer.picture.layout.display is None and "n = 0" in explorer.readout.value
    explorer.n.value = 2
    assert explorer.picture.value == b"" and explorer.picture.layout.display == "none"
    assert "Cannot show this" in explorer.readout.value and "below 2" in explorer.readout.value
    explorer.n.value = 1
    assert explorer.picture.layout.display is None and "n = 1" in explorer.readout.value


@pytest.mark.parametrize("layer, channel", [("conv3", 95), ("conv1", 31)])
def test_the_feature_explorer_keeps_the_channel_in_range(layer, channel):
    from course.models import get_model
    from course.viz.feature_explorer import FeatureMapExplorer

    model = get_model("alexnet_small", num_classes=10, in_channels=1, width=0.5, lrn=False)
    images = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    explorer = FeatureMapExplorer(model, images, {"mean": [0.5], "std": [0.25], "size": 32},
                                  ["a", "b"])  # fmt: skip
    explorer.layer.value = "conv3"
    explorer.channel.value = 500  # beyond the range: the slider keeps to its maximum
    explorer.layer.value = layer
    assert explorer.channel.value == channel
    assert f"channel {channel} of {channel + 1}" in explorer.readout.value or "silent" in (
        explorer.readout.value
    )
    assert explorer.picture.layout.display is None
