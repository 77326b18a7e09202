"""The convolution explorer: every knob of a real ``nn.Conv2d`` and its exact consequence.

    from course.viz.conv_explorer import ConvExplorer
    explorer = ConvExplorer()
    explorer.widget                # display it in JupyterLab
    explorer.draw(**explorer.settings())   # the picture as a Figure (None: not a valid layer)

The readout's output shape comes from running a real ``nn.Conv2d`` on a tensor of the chosen
size; parameters are counted from that layer and MACs by ``torch.utils.flop_counter``. The
picture is ``course.viz.conv_plots.plot_convolution``. The Play control walks the kernel over
every output position, row by row.
"""

from __future__ import annotations

import ipywidgets as w

from course.measure.conv import ConvSpec, measure
from course.viz.conv_plots import plot_convolution
from course.viz.explorer import Explorer, error_html, filling, fixed, row

LEFT_PX, RIGHT_PX = 380, 440  # the two columns of controls (the readout is the right one's)
PLAY_PX = 154  # the Play buttons, left of the position slider


class ConvExplorer(Explorer):
    def __init__(self, input_size: int = 7, kernel_size: int = 3, render: bool = True):
        label = {"description_width": "110px"}

        def slider(value, low, high, description, width=LEFT_PX):  # readout included
            return w.IntSlider(value, low, high, description=description, style=label,
                               continuous_update=False, layout=filling(width))  # fmt: skip

        self.input_h = slider(input_size, 1, 16, "input height")
        self.input_w = slider(input_size, 1, 16, "input width")
        self.kernel_h = slider(kernel_size, 1, 7, "kernel height")
        self.kernel_w = slider(kernel_size, 1, 7, "kernel width")
        self.padding_mode = w.ToggleButtons(
            options=["number", "same", "valid"], value="number", description="padding",
            style={**label, "button_width": "80px"}, layout=filling(LEFT_PX),
        )  # fmt: skip
        # ipywidgets 8 leaves these classes off ToggleButtons: without them its label sits on a
        # line of its own above the buttons, aligned unlike every other control's label.
        self.padding_mode.add_class("jupyter-widgets").add_class("widget-inline-hbox")
        self.padding = slider(0, 0, 4, "padding size")
        self.stride = slider(1, 1, 4, "stride")
        self.dilation = slider(1, 1, 4, "dilation")
        self.in_channels = slider(3, 1, 64, "in channels", RIGHT_PX)
        self.out_channels = slider(8, 1, 64, "out channels", RIGHT_PX)
        self.groups = w.Dropdown(options=[1], value=1, description="groups", style=label,
                                 layout=filling(RIGHT_PX))  # fmt: skip
        self.bias = w.Checkbox(True, description="bias", style=label, layout=filling(RIGHT_PX))
        self.play = w.Play(value=0, min=0, max=0, interval=400, description="walk the kernel",
                           layout=filling(PLAY_PX))  # fmt: skip
        self.position = w.IntSlider(0, 0, 0, description="position", continuous_update=False,
                                    style={"description_width": "60px"},
                                    layout=filling(RIGHT_PX - PLAY_PX))  # fmt: skip
        w.link((self.play, "value"), (self.position, "value"))  # kernel-side: tests see it too
        names = ["input_h", "input_w", "kernel_h", "kernel_w", "padding_mode", "padding",
                 "stride", "dilation", "in_channels", "out_channels", "groups", "bias"]  # fmt: skip
        layer = [getattr(self, name) for name in names]
        super().__init__({**dict(zip(names, layer, strict=True)), "position": self.position},
                         render, width="820px", readout_px=RIGHT_PX)  # fmt: skip
        self.spec: ConvSpec | None = None  # the layer the controls describe (None: invalid)
        self.real: dict | None = None  # what a real nn.Conv2d gives for it
        self.error = ""
        self._moving_position = False  # True while settings reset the position
        for control in layer:
            control.observe(self._on_settings, names="value")
        self.position.observe(self._on_position, names="value")
        self._update_groups()
        self._on_settings()

        # Columns of fixed widths: no message, disabled control or extreme value resizes them.
        left = w.VBox(layer[:8], layout=fixed(f"{LEFT_PX}px"))
        walk = w.HBox([self.play, self.position], layout=fixed(f"{RIGHT_PX}px"))
        right = w.VBox([*layer[8:], walk, self.readout],
                       layout=fixed(f"{RIGHT_PX}px", margin="0 0 0 16px"))  # fmt: skip
        self.widget = w.VBox([row([left, right]), self.picture])

    # --- state ------------------------------------------------------------------------------

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.input_h.value, self.input_w.value)

    def current_position(self) -> tuple[int, int] | None:
        if self.spec is None:
            return None
        _, out_w = self.spec.output_size(self.input_size)
        return divmod(self.position.value, out_w)

    @staticmethod
    def spec_for(in_channels, out_channels, kernel_h, kernel_w, padding_mode, padding, stride,
                 dilation, groups, bias, **_) -> ConvSpec:  # fmt: skip
        """The layer these settings describe (ValueError if it is not a valid one)."""
        return ConvSpec(
            in_channels, out_channels, (kernel_h, kernel_w), stride=stride,
            padding=padding if padding_mode == "number" else padding_mode,
            dilation=dilation, groups=groups, bias=bias,
        )  # fmt: skip

    def _update_groups(self) -> None:
        allowed = ConvSpec(self.in_channels.value, self.out_channels.value, 1).allowed_groups()
        if list(self.groups.options) != allowed:
            keep = self.groups.value if self.groups.value in allowed else 1
            with self.groups.hold_trait_notifications():
                self.groups.options = allowed
                self.groups.value = keep

    # --- reactions --------------------------------------------------------------------------

    def _on_settings(self, change=None) -> None:
        if change is not None and change["owner"] in (self.in_channels, self.out_channels):
            self._update_groups()
        self.padding.disabled = self.padding_mode.value != "number"
        try:
            spec = self.spec_for(**self.settings())
            spec.output_size(self.input_size)  # our explanation if the output would be empty
            self.real = measure(spec, self.input_size)  # a real nn.Conv2d on a real tensor
            self.spec, self.error = spec, ""
            _, _, out_h, out_w = self.real["output_shape"]
            positions = out_h * out_w
        except (ValueError, RuntimeError) as error:
            self.spec, self.real, self.error = None, None, str(error)
            positions = 1
        self._moving_position = True
        self.play.value = self.position.value = 0
        self.play.max = self.position.max = positions - 1
        self._moving_position = False
        self.refresh()

    def _on_position(self, change=None) -> None:
        if not self._moving_position:
            self.refresh()

    def describe(self, **settings) -> str:
        if self.spec is None or self.real is None:
            return error_html("Not a valid layer", self.error)
        shape = "×".join(str(n) for n in self.real["output_shape"])
        row, col = self.current_position()
        return (
            f"<b>output shape</b> (nn.Conv2d on a 1×{self.spec.in_channels}×"
            f"{self.input_h.value}×{self.input_w.value} tensor): <code>{shape}</code><br>"
            f"<b>parameters</b>: <code>{self.real['parameters']:,}</code> &nbsp; "
            f"<b>MACs</b>: <code>{self.real['flops'] // 2:,}</code><br>"
            f"<b>kernel at output</b> (row {row}, col {col})"
        )

    def draw(self, **settings):
        """The kernel over the input and the output at ``position`` (None: not a valid layer)."""
        size = (settings["input_h"], settings["input_w"])
        try:
            spec = self.spec_for(**settings)
            _, out_w = spec.output_size(size)
        except ValueError:
            return None
        return plot_convolution(spec, size, divmod(settings["position"], out_w))
