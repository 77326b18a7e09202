"""Pictures of the ImageNet class hierarchy (from the committed WordNet metadata)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from course.data.imagenet import ROOT_SYNSET, load_imagenet_classes, load_synsets
from course.viz import style


def primary_tree() -> dict[str, dict]:
    """Every class under its first WordNet path, as nested dicts {synset: {child: ...}}."""
    tree: dict[str, dict] = {}
    for c in load_imagenet_classes():
        node = tree
        for synset in c.paths[0]:
            node = node.setdefault(synset, {})
    return tree


def leaves(node: dict) -> int:
    return 1 if not node else sum(leaves(child) for child in node.values())


def plot_group_counts(counts: dict[str, int], title: str = "", highlight: str | None = None):
    """Horizontal bars: how many of the 1000 classes fall under each group."""
    names = list(counts)
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1))
    colours = [style.VERMILLION if n == highlight else style.BLUE for n in names]
    ax.barh(names[::-1], [counts[n] for n in names][::-1], color=colours[::-1])
    for y, n in enumerate(names[::-1]):
        ax.text(counts[n] + 3, y, str(counts[n]), va="center", fontsize=8)
    ax.set_xlabel("classes among the 1000")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def collapse(node: dict) -> dict:
    """Skip chains of single children (living thing > organism > animal becomes animal)."""
    result = {}
    for name, child in node.items():
        while len(child) == 1 and next(iter(child.values())):
            name, child = next(iter(child.items()))
        result[name] = collapse(child)
    return result


def plot_sunburst(start: str = "whole.n.02", depth: int = 4, label_min: int = 25):
    """Rings of the hierarchy below ``start`` (each class counted once, on its first path;
    chains of single children collapsed); the angle of a segment is its share of the
    classes. Segments of at least ``label_min`` classes are labelled."""
    tree = primary_tree()[ROOT_SYNSET]
    node = _find(tree, start)
    if node is None:
        raise KeyError(f"{start!r} is not in the class tree; try 'object.n.01' or 'animal.n.01'")
    synsets = load_synsets()
    total = leaves(node)
    node = collapse(node)
    fig, ax = plt.subplots(figsize=(9, 9), subplot_kw={"projection": "polar"})
    cmap = plt.get_cmap("tab20")

    def ring(children: dict, level: int, start_angle: float, span: float, colour_index=None):
        angle = start_angle
        for i, (name, child) in enumerate(sorted(children.items(), key=lambda kv: -leaves(kv[1]))):
            width = span * leaves(child) / max(1, sum(leaves(c) for c in children.values()))
            colour = cmap((colour_index if colour_index is not None else i) % 20)
            ax.bar(angle + width / 2, 1, width=width, bottom=level, color=colour,
                   edgecolor="white", linewidth=0.5, alpha=1 - 0.15 * level)  # fmt: skip
            if leaves(child) >= label_min and width > 0.05:
                rotation = math.degrees(angle + width / 2)
                rotation = rotation - 180 if 90 < rotation < 270 else rotation
                ax.text(angle + width / 2, level + 0.5, f"{synsets[name].lemma}\n{leaves(child)}",
                        ha="center", va="center", fontsize=style.MIN_FONT,
                        rotation=rotation)  # fmt: skip
            if level + 1 < depth and child:
                ring(
                    child, level + 1, angle, width, colour_index if colour_index is not None else i
                )
            angle += width

    ring(node, 0, 0.0, 2 * math.pi)
    ax.set_axis_off()
    ax.set_title(f"The {total} classes under '{synsets[start].lemma}', {depth} levels down")
    return fig


def _find(node: dict, name: str) -> dict | None:
    for key, child in node.items():
        if key == name:
            return child
        found = _find(child, name)
        if found is not None:
            return found
    return None


def plot_boxes(image, objects: list[dict], title: str = ""):
    """``image`` (uint8, 3 x H x W) with each object's box and label, drawn by torchvision."""
    import torch
    from matplotlib import font_manager
    from torchvision.utils import draw_bounding_boxes

    boxes = torch.tensor([o["box"] for o in objects], dtype=torch.float)
    colours = [style.ORANGE, style.GREEN, style.BLUE, style.VERMILLION, style.PURPLE, style.SKY]
    drawn = draw_bounding_boxes(image, boxes, labels=[o["label"] for o in objects],
                                colors=colours[: len(objects)], width=4, font_size=20,
                                font=font_manager.findfont("DejaVu Sans"))  # fmt: skip
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.imshow(drawn.permute(1, 2, 0).numpy())
    ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_class_samples(dataset, classes: list[int], per_class: int = 6):
    """A grid of real images: one row per class index, ``per_class`` images each (a dataset from
    ``course.data.load_image_folder``)."""
    targets = dataset.targets
    fig, axes = plt.subplots(len(classes), per_class, figsize=(1.6 * per_class, 1.7 * len(classes)),
                             squeeze=False)  # fmt: skip
    for row, label in zip(axes, classes, strict=True):
        picks = [i for i, t in enumerate(targets) if t == label][:per_class]
        for ax, i in zip(row, picks, strict=False):
            ax.imshow(dataset[i][0].permute(1, 2, 0).numpy())
        for ax in row:
            ax.set_axis_off()
        row[0].set_title(dataset.readable_classes[label], fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def plot_ilsvrc():
    """The ILSVRC winners' top-5 error by year (bars, with VGG, second in 2014, beside
    GoogLeNet), the human estimate (dashed), and the course's architectures with torchvision's
    weights (diamonds: one network, one centre crop, validation set)."""
    from course.data import ilsvrc
    from course.viz.figures import label_points

    fig, ax = plt.subplots(figsize=(style.WIDTH * 0.8, 4.6))
    bars = [(r.year - 0.2 if r.year == 2014 else r.year, r) for r in ilsvrc.WINNERS]
    bars.append((2014 + 0.2, ilsvrc.RUNNER_UP_2014))
    for x, r in bars:
        colour = style.color_for(r.network, style.GREY)  # "AlexNet (7 CNNs)": AlexNet's colour
        ax.bar(x, r.top5_error, width=0.4 if r.year == 2014 else 0.7, color=colour)
        ax.text(x, r.top5_error + 0.6, f"{r.top5_error:g}", ha="center", fontsize=style.SMALL)
    teams = {r.year: r.team for r in ilsvrc.WINNERS}
    teams[2014] += f" | {ilsvrc.RUNNER_UP_2014.team}"  # the two bars of 2014, left to right
    ax.set_xticks(list(teams), [f"{team}\n{year}" for year, team in teams.items()],
                  fontsize=style.MIN_FONT)  # fmt: skip
    ax.axhline(ilsvrc.HUMAN.top5_error, color=style.BLACK, ls="--", lw=1,
               label=f"human estimate ({ilsvrc.HUMAN.top5_error:g}%)")  # fmt: skip
    points = [(year + 0.45, ilsvrc.torchvision_top5_error(arch))
              for arch, year in ilsvrc.COURSE_MODELS.items()]  # fmt: skip
    for (x, y), arch in zip(points, ilsvrc.COURSE_MODELS, strict=True):
        ax.scatter(x, y, marker="D", s=28, zorder=3, color=style.family_color(arch), ec="black")
    ax.scatter([], [], marker="D", s=28, color="white", ec="black",
               label="torchvision's weights: one network,\none crop, validation set")  # fmt: skip
    ax.set(ylabel="top-5 error (%)", ylim=(0, 33), xlim=(2009.4, 2016.1))
    ax.set_title("ILSVRC classification: the winners' top-5 error (test set)", fontsize=style.FONT)
    ax.legend(fontsize=style.SMALL, loc="upper right")
    label_points(ax, points, list(ilsvrc.COURSE_MODELS), fontsize=style.MIN_FONT)
    fig.tight_layout()
    return fig
