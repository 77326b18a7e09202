"""The convolution explorer: every knob of a real ``nn.Conv2d`` and its exact consequence.

    from course.viz.conv_explorer import ConvExplorer
    ConvExplorer().widget          # display it in JupyterLab

The readout's output shape comes from running a real ``nn.Conv2d`` on a tensor of the chosen
size; parameters are counted from that layer and MACs by ``torch.utils.flop_counter``. The
picture is ``course.viz.conv_plots.plot_convolution``. The Play control walks the kernel over
every output position, row by row.
"""

from __future__ import annotations

import html
import io

import ipywidgets as w
import matplotlib.pyplot as plt

from course.conv import ConvSpec, measure
from course.viz.conv_plots import plot_convolution


class ConvExplorer:
    def __init__(self, input_size: int = 7, kernel_size: int = 3, draw: bool = True):
        slider = dict(continuous_update=False, style={"description_width": "110px"})
        self.input_h = w.IntSlider(input_size, 1, 16, description="input height", **slider)
        self.input_w = w.IntSlider(input_size, 1, 16, description="input width", **slider)
        self.kernel_h = w.IntSlider(kernel_size, 1, 7, description="kernel height", **slider)
        self.kernel_w = w.IntSlider(kernel_size, 1, 7, description="kernel width", **slider)
        self.padding_mode = w.ToggleButtons(
            options=["number", "same", "valid"], value="number", description="padding",
            style={"description_width": "110px", "button_width": "70px"},
        )  # fmt: skip
        self.padding = w.IntSlider(0, 0, 4, description="padding size", **slider)
        self.stride = w.IntSlider(1, 1, 4, description="stride", **slider)
        self.dilation = w.IntSlider(1, 1, 4, description="dilation", **slider)
        self.in_channels = w.IntSlider(3, 1, 64, description="in channels", **slider)
        self.out_channels = w.IntSlider(8, 1, 64, description="out channels", **slider)
        self.groups = w.Dropdown(options=[1], value=1, description="groups",
                                 style={"description_width": "110px"})  # fmt: skip
        self.bias = w.Checkbox(True, description="bias")
        self.play = w.Play(value=0, min=0, max=0, interval=400, description="walk the kernel")
        self.position = w.IntSlider(0, 0, 0, description="position", **slider)
        w.link((self.play, "value"), (self.position, "value"))  # kernel-side: tests see it too
        self.readout = w.HTML()
        self.picture = w.Image(format="png", layout=w.Layout(max_width="820px"))
        self.draw_enabled = draw
        self.spec: ConvSpec | None = None
        self.real: dict | None = None
        self._moving_position = False  # True while settings reset the position

        self.controls = [
            self.input_h, self.input_w, self.kernel_h, self.kernel_w, self.padding_mode,
            self.padding, self.stride, self.dilation, self.in_channels, self.out_channels,
            self.groups, self.bias,
        ]  # fmt: skip
        for control in self.controls:
            control.observe(self._on_settings, names="value")
        self.position.observe(self._on_position, names="value")
        self._update_groups()
        self._on_settings()

        left = w.VBox(self.controls[:8])
        right = w.VBox([*self.controls[8:], w.HBox([self.play, self.position]), self.readout])
        self.widget = w.VBox([w.HBox([left, right]), self.picture])

    # --- state ------------------------------------------------------------------------------

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.input_h.value, self.input_w.value)

    def current_position(self) -> tuple[int, int] | None:
        if self.spec is None:
            return None
        _, out_w = self.spec.output_size(self.input_size)
        return divmod(self.position.value, out_w)

    def _update_groups(self) -> None:
        allowed = ConvSpec(self.in_channels.value, self.out_channels.value, 1).allowed_groups()
        if list(self.groups.options) != allowed:
            keep = self.groups.value if self.groups.value in allowed else 1
            with self.groups.hold_trait_notifications():
                self.groups.options = allowed
                self.groups.value = keep

    def _build_spec(self) -> ConvSpec:
        mode = self.padding_mode.value
        return ConvSpec(
            self.in_channels.value, self.out_channels.value,
            (self.kernel_h.value, self.kernel_w.value),
            stride=self.stride.value,
            padding=self.padding.value if mode == "number" else mode,
            dilation=self.dilation.value, groups=self.groups.value, bias=self.bias.value,
        )  # fmt: skip

    # --- reactions --------------------------------------------------------------------------

    def _on_settings(self, change=None) -> None:
        if change is not None and change["owner"] in (self.in_channels, self.out_channels):
            self._update_groups()
        self.padding.disabled = self.padding_mode.value != "number"
        try:
            spec = self._build_spec()
            spec.output_size(self.input_size)  # our explanation if the output would be empty
            self.real = measure(spec, self.input_size)  # a real nn.Conv2d on a real tensor
            self.spec = spec
        except (ValueError, RuntimeError) as error:
            self.spec, self.real = None, None
            message = html.escape(str(error))
            self.readout.value = f"<b style='color:#b00'>Not a valid layer:</b> {message}"
            self._moving_position = True
            self.play.value = self.position.value = 0
            self.play.max = self.position.max = 0
            self._moving_position = False
            self._draw()
            return
        _, _, out_h, out_w = self.real["output_shape"]
        self._moving_position = True
        self.play.value = self.position.value = 0
        self.play.max = self.position.max = out_h * out_w - 1
        self._moving_position = False
        self.readout.value = self.readout_html()
        self._draw()

    def _on_position(self, change=None) -> None:
        if self._moving_position:
            return
        self.readout.value = self.readout_html()
        self._draw()

    def readout_html(self) -> str:
        if self.spec is None or self.real is None:
            return self.readout.value
        shape = "×".join(str(n) for n in self.real["output_shape"])
        row, col = self.current_position()
        return (
            f"<b>output shape</b> (nn.Conv2d on a 1×{self.spec.in_channels}×"
            f"{self.input_h.value}×{self.input_w.value} tensor): <code>{shape}</code><br>"
            f"<b>parameters</b>: <code>{self.real['parameters']:,}</code> &nbsp; "
            f"<b>MACs</b>: <code>{self.real['flops'] // 2:,}</code><br>"
            f"<b>kernel at output</b> (row {row}, col {col})"
        )

    def _draw(self) -> None:
        if not self.draw_enabled:
            return
        if self.spec is None:
            self.picture.value = b""
            return
        fig = plot_convolution(self.spec, self.input_size, self.current_position())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        self.picture.value = buffer.getvalue()
