"""Pick a test image, a layer and a channel; see what a trained network's layer makes of the
image (``course.viz.learned_plots.plot_feature_maps``).

    explorer = FeatureMapExplorer(model, images, preprocess, names)
    explorer.widget                     # display it in JupyterLab
    explorer.draw(image="Sneaker", layer="conv2", channel=3)   # the same picture as a Figure

The layers are every ``nn.Conv2d`` of the model that runs on an image in evaluation mode, by
its qualified name, in the order they run: ``alexnet_small``'s conv1 ... conv5, torchvision's
``features.0`` or ``layer1.0.conv1``, a network written in a notebook (auxiliary heads, which run
only in training, are left out). The maps are their outputs after a ReLU (what the next layer
sees in a ReLU network; in a network with batch norm, before its normalization), computed once
per image.
"""

from __future__ import annotations

import ipywidgets as w
import torch
import torch.nn.functional as F
from torch import nn

from course.measure.probe import outputs_of
from course.training.batches import Preprocess, check_images
from course.viz.explorer import Explorer, filling, row
from course.viz.learned_plots import plot_feature_maps

CONTROL_PX = 300  # each of the three controls, side by side while the notebook is wide enough


class FeatureMapExplorer(Explorer):
    def __init__(self, model: nn.Module, images: torch.Tensor, preprocess: Preprocess | dict,
                 names: list[str], render: bool = True):  # fmt: skip
        check_images(images, "images")
        if len(names) != len(images) or len(set(names)) != len(names):
            raise ValueError(f"names must name each of the {len(images)} images once, got {names}")
        self.model = model
        self.preprocess = Preprocess.from_dict(preprocess) if isinstance(preprocess, dict) \
            else preprocess  # fmt: skip
        convolutions = {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
        if not convolutions:
            raise ValueError(f"{type(model).__name__} has no nn.Conv2d layer: the explorer shows "
                             f"the maps that convolutions make")  # fmt: skip
        self.layers = convolutions  # all of them until one image shows which run, and in what order
        self.images = dict(zip(names, images, strict=True))
        self._cache: dict[str, tuple[torch.Tensor, dict]] = {}
        ran = self.maps(names[0])[1]
        self.layers = {n: convolutions[n] for n in ran}
        first = next(iter(self.layers))
        self.image = w.Dropdown(options=list(names), value=names[0], description="image",
                                layout=filling(CONTROL_PX))  # fmt: skip
        self.layer = w.Dropdown(options=list(self.layers), value=first, description="layer",
                                layout=filling(CONTROL_PX))  # fmt: skip
        self.channel = w.IntSlider(value=0, min=0, max=self.layers[first].out_channels - 1,
                                   description="channel", continuous_update=False,
                                   layout=filling(CONTROL_PX))  # fmt: skip
        super().__init__({"image": self.image, "layer": self.layer, "channel": self.channel},
                         render, width="1000px")  # fmt: skip
        self.layer.observe(self._fit_channel, names="value")  # before refresh: the range first
        self.widget = w.VBox([row([self.image, self.layer, self.channel]), self.readout,
                              self.picture])  # fmt: skip
        self._watch_controls()
        self.refresh()

    def _fit_channel(self, change) -> None:
        self.channel.max = self.layers[change["new"]].out_channels - 1

    def maps(self, image: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The image as the network sees it (h, w) and every layer's maps (channels, h', w')."""
        if image not in self.images:
            raise ValueError(f"image must be one of {list(self.images)}, got {image!r}")
        if image not in self._cache:
            x = self.preprocess.eval_batch(self.images[image][None])
            outputs = outputs_of(self.model, x, self.layers)  # on the model's device
            maps = {n: F.relu(o[0]).cpu() for n, o in outputs.items()}  # in the order they ran
            self._cache[image] = (x[0, 0].cpu(), maps)
        return self._cache[image]

    def _check(self, layer: str, channel: int) -> None:
        if layer not in self.layers:
            raise ValueError(f"layer must be one of {list(self.layers)}, got {layer!r}")
        channels = self.layers[layer].out_channels
        if not isinstance(channel, int) or not 0 <= channel < channels:
            raise ValueError(f"channel must be an int from 0 to {channels - 1} for {layer}, "
                             f"got {channel!r}")  # fmt: skip

    def draw(self, image: str, layer: str, channel: int):
        self._check(layer, channel)
        seen, maps = self.maps(image)
        first = layer == next(iter(self.layers))
        kernel = self.layers[layer].weight[channel] if first else None
        return plot_feature_maps(seen, maps[layer], channel, layer, kernel)

    def describe(self, image: str, layer: str, channel: int) -> str:
        self._check(layer, channel)
        m = self.maps(image)[1][layer][channel]
        zero = (m == 0).float().mean().item()
        if m.max() == 0:
            return (f"<b>{layer}</b>, channel {channel}: silent on this {image} "
                    f"(every value is zero after ReLU)")  # fmt: skip
        row, col = divmod(int(m.argmax()), m.shape[1])
        channels = len(self.maps(image)[1][layer])
        return (f"<b>{layer}</b>, channel {channel} of {channels}: a {m.shape[0]}x{m.shape[1]} "
                f"map; strongest at row {row}, column {col} (<code>{m.max().item():.2f}</code>); "
                f"{zero:.0%} of it is zero after ReLU")  # fmt: skip
