"""The course's one visual language: colours, type sizes and figure widths every plot uses.

    from course.viz import style
    fig, ax = plt.subplots(figsize=(style.WIDTH, 3.6))
    ax.plot(x, y, color=style.family_color("resnet18"))     # ResNet blue, in every notebook
    ax.text(..., fontsize=style.SMALL)

Colours are Okabe and Ito's palette (2008), chosen to stay distinct for the common kinds of
colour blindness; each architecture family keeps one of them everywhere. Sizes are for
JupyterLab at 100% zoom: the inline backend draws at 100 dpi, so a figure ``WIDTH`` inches wide
is 1,000 px, which fits the notebook column without being scaled down, and a ``MIN_FONT``-point
text is 11 px high. ``course.viz.collisions`` checks every figure of the package against these.
"""

from __future__ import annotations

import re

# Okabe & Ito, "Color Universal Design" (2008).
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
ORANGE = "#E69F00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
YELLOW = "#F0E442"
BLACK = "#000000"
GREY = "#888888"
LIGHT = "#DDDDDD"  # backgrounds of neutral diagram boxes

# Lines that are not architectures (settings, seeds, depths), in this order.
CYCLE = [BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, BLACK]
# Two arms of an experiment: the paper's choice and what it is compared with.
PAPER, BASELINE = BLUE, VERMILLION

# One colour per architecture family, in every figure of the course.
FAMILY_COLORS = {
    "AlexNet": VERMILLION,
    "VGG": GREEN,
    "GoogLeNet": ORANGE,
    "Inception-BN": PURPLE,
    "ResNet": BLUE,
    "plain": GREY,  # ResNet's plain baselines
}
_FAMILY_OF_NAME = [  # a model name's start -> its family
    ("alexnet", "AlexNet"),
    ("vgg", "VGG"),
    ("googlenet", "GoogLeNet"),
    ("inception_bn", "Inception-BN"),
    ("resnet", "ResNet"),
    ("plain", "plain"),
]

WIDTH = 10.0  # inches: the widest figure, the notebook column at 100 dpi
FONT = 10  # points: titles, axis labels
SMALL = 9  # legends, box labels, annotations
MIN_FONT = 8  # nothing smaller (tick labels included)


def family_of(name: str) -> str:
    """The architecture family of a model name: "resnet18" -> "ResNet", "vgg11_bn" -> "VGG"."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a model name (str), got {type(name).__name__}")
    key = re.sub(r"[^a-z0-9_]", "", name.lower().replace("-", "_"))
    for start, family in _FAMILY_OF_NAME:
        if key.startswith(start):
            return family
    known = ", ".join(start for start, _ in _FAMILY_OF_NAME)
    raise ValueError(f"no architecture family for {name!r}: names start with one of {known}")


def family_color(name: str) -> str:
    """The colour of a family ("VGG") or of a model name ("vgg16")."""
    if name in FAMILY_COLORS:
        return FAMILY_COLORS[name]
    return FAMILY_COLORS[family_of(name)]


def cycle(i: int) -> str:
    """The ``i``-th colour for lines that are not architectures (wraps around)."""
    return CYCLE[i % len(CYCLE)]


def color_for(name: str, fallback: str) -> str:
    """A model's family colour when ``name`` starts with a model name, else ``fallback``."""
    try:
        return family_color(name)
    except ValueError:
        return fallback
