"""Texture synthesis from a CNN's feature statistics (Gatys, Ecker & Bethge, NeurIPS 2015).

A texture is described by the Gram matrices of a network's feature maps at several depths:
which channels fire together, wherever in the image. Synthesis starts from noise and changes
the *pixels* (the network stays fixed) until their Gram matrices match the example's.

    features = VGGFeatures(get_model("vgg19").features)      # relu1_1 ... relu5_1
    result = synthesize_texture(features, example, size=128, steps=10)

Gatys et al. used VGG-19 trained on ImageNet. ``load_vgg19`` loads those weights only from
torch's local cache or when the caller asks for the download; otherwise it returns the
randomly initialized network and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from course.data.imagenet import IMAGENET_MEAN, IMAGENET_STD

GATYS_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def layer_names(features: nn.Sequential) -> list[str]:
    """VGG's names for the layers of ``features``: conv1_1, relu1_1, ..., pool1, conv2_1, ...
    (batch-norm layers, if any, are bn1_1, ...)."""
    names, block, index = [], 1, 0
    for m in features:
        if isinstance(m, nn.Conv2d):
            index += 1
            names.append(f"conv{block}_{index}")
        elif isinstance(m, nn.BatchNorm2d):
            names.append(f"bn{block}_{index}")
        elif isinstance(m, nn.ReLU):
            names.append(f"relu{block}_{index}")
        elif isinstance(m, nn.MaxPool2d):
            names.append(f"pool{block}")
            block, index = block + 1, 0
        else:
            raise ValueError(f"unexpected layer {m!r} in a VGG feature extractor")
    return names


class VGGFeatures(nn.Module):
    """The outputs of chosen layers of a VGG ``features`` stack, frozen, in evaluation mode.

    Input: images in [0, 1], shape (N, 3, H, W); ImageNet normalization happens inside.
    Output: a list of feature maps, one per name in ``layers``, in the network's order.
    Layers after the last one asked for are never run.
    """

    def __init__(self, features: nn.Sequential, layers=GATYS_LAYERS):
        super().__init__()
        names = layer_names(features)
        unknown = [name for name in layers if name not in names]
        if unknown or not layers:
            raise ValueError(f"layers must be names from {names}, got {list(layers)}")
        self.indices = sorted(names.index(name) for name in layers)
        self.layers = [names[i] for i in self.indices]
        self.features = features[: self.indices[-1] + 1].eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True):  # always frozen: dropout and BN stay in eval mode
        return super().train(False)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
        x, out = (images - self.mean) / self.std, []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.indices:
                out.append(x)
        return out


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C): channel co-activations averaged over the H*W positions."""
    if features.dim() != 4:
        raise ValueError(f"features must have shape (N, C, H, W), got {tuple(features.shape)}")
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def style_loss(grams: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    """Sum over layers of the squared Gram difference, each relative to the target's size,
    so every layer counts alike whatever its scale (0 = the same statistics)."""
    if len(grams) != len(targets):
        raise ValueError(f"got {len(grams)} Gram matrices for {len(targets)} targets")
    pairs = zip(grams, targets, strict=True)
    return sum(((g - t) ** 2).sum() / (t**2).sum().clamp_min(1e-12) for g, t in pairs)


@dataclass
class TextureResult:
    image: torch.Tensor  # (3, size, size), values in [0, 1]
    losses: list[float] = field(default_factory=list)  # style loss at every evaluation
    seconds: float = 0.0


def as_image_batch(image) -> torch.Tensor:
    """A uint8 or float image, (H, W), (H, W, 3) or (3, H, W), as a (1, 3, H, W) float batch
    in [0, 1]; grey images are repeated over the three channels."""
    x = torch.as_tensor(image)
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    if x.dim() == 2:
        x = x.expand(3, *x.shape)
    elif x.dim() == 3 and x.shape[-1] == 3 and x.shape[0] != 3:
        x = x.permute(2, 0, 1)
    if x.dim() != 3 or x.shape[0] != 3:
        raise ValueError(f"image must be (H, W), (H, W, 3) or (3, H, W), got {tuple(x.shape)}")
    return x.unsqueeze(0).contiguous()


def synthesize_texture(
    features: VGGFeatures,
    example,
    size: int = 128,
    steps: int = 10,
    evaluations_per_step: int = 20,
    grey: bool = False,
    seed: int = 0,
) -> TextureResult:
    """Optimize the pixels of a ``size`` x ``size`` noise image with L-BFGS so that its Gram
    matrices match those of ``example`` (resized to ``size``). ``grey=True`` keeps the result
    grey (one channel shown three times), as for grey examples."""
    import time

    for name, value, low in (("size", size, 16), ("steps", steps, 1), ("evaluations_per_step",
                             evaluations_per_step, 1)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    target = F.interpolate(as_image_batch(example), size=(size, size), mode="area")
    with torch.no_grad():
        targets = [gram_matrix(f) for f in features(target)]
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.rand(1, 1 if grey else 3, size, size, generator=generator).requires_grad_()
    optimizer = torch.optim.LBFGS([pixels], lr=1.0, max_iter=evaluations_per_step)
    result, start = TextureResult(image=torch.empty(0)), time.perf_counter()

    def closure():
        optimizer.zero_grad()
        loss = style_loss([gram_matrix(f) for f in features(pixels.expand(1, 3, -1, -1))], targets)
        loss.backward()
        result.losses.append(loss.item())
        return loss

    for _ in range(steps):
        optimizer.step(closure)
        with torch.no_grad():
            pixels.clamp_(0, 1)  # stay a valid image
    result.image = pixels.detach().expand(1, 3, -1, -1)[0].clone()
    result.seconds = time.perf_counter() - start
    return result


def load_vgg19(download: bool = False) -> tuple[nn.Module, str]:
    """VGG-19 and a sentence saying which weights it has: ImageNet weights when torch's cache
    holds them or ``download=True`` (about 550 MB, once), random initialization otherwise.
    A cached file that fails torchvision's hash, or holds more than tensors, is refused
    (``course.models.pretrained.PretrainedWeightsError``), never unpickled."""
    from course.models import get_model, imagenet_model
    from course.models.pretrained import cached_weights_file

    if not isinstance(download, bool):
        raise ValueError(f"download must be True or False, got {download!r}")
    cached = cached_weights_file("vgg19")
    if cached is None and not download:
        return get_model("vgg19").eval(), (
            "random weights (He initialization, seed fixed): no ImageNet weights for VGG-19 in "
            f"{Path(torch.hub.get_dir()) / 'checkpoints'}, and downloading was not asked for"
        )
    source = f"from the local cache {cached}" if cached else "downloaded just now"
    return imagenet_model("vgg19", download), f"ImageNet weights ({source})"
