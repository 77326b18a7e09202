"""The layout check finds each kind of problem it names, on figures made to have exactly it,
and stays quiet on a figure without any."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from course.viz import style  # noqa: E402
from course.viz.collisions import check_figure, find_collisions  # noqa: E402


def blank(width=6, height=3):
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, 10), ylim=(0, 10))
    ax.axis("off")
    return fig, ax


def problems(fig):
    found = [c.problem for c in find_collisions(fig)]
    plt.close(fig)
    return found


def test_a_clean_figure_has_no_problem():
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([1, 2, 3], [1, 4, 9], label="squares")
    ax.set(title="a title", xlabel="x", ylabel="y")
    ax.legend()
    fig.tight_layout()
    assert problems(fig) == []


def test_overlapping_texts_are_found_and_touching_ones_are_not():
    fig, ax = blank()
    ax.text(1, 5, "googlenet", fontsize=10)
    ax.text(1.3, 5.1, "resnet18", fontsize=10)
    assert problems(fig) == ["texts overlap"]
    fig, ax = blank()
    ax.text(1, 5, "left", fontsize=10)
    ax.text(5, 5, "right", fontsize=10)
    assert problems(fig) == []


def test_turned_texts_are_compared_as_turned():
    """Two labels turned by 45 degrees, side by side: their upright boxes overlap, they do not."""
    fig, ax = blank()
    ax.text(4, 5, "inception4a", rotation=45, ha="center", va="center", fontsize=10)
    ax.text(4.6, 5, "inception4b", rotation=45, ha="center", va="center", fontsize=10)
    assert problems(fig) == []
    fig, ax = blank()
    ax.text(4, 5, "inception4a", rotation=45, ha="center", va="center", fontsize=10)
    ax.text(4.2, 5.2, "inception4b", rotation=45, ha="center", va="center", fontsize=10)
    assert problems(fig) == ["texts overlap"]


def test_text_cut_at_the_edge_too_small_or_a_figure_too_wide():
    fig, ax = blank()
    ax.text(9.5, 5, "runs off the right edge", fontsize=10)
    assert problems(fig) == ["text cut off at the figure's edge"]
    fig, ax = blank()
    ax.text(1, 5, "tiny", fontsize=style.MIN_FONT - 1)
    assert problems(fig) == ["text too small"]
    fig, _ = blank(width=style.WIDTH + 1)
    assert problems(fig) == ["figure wider than the notebook column"]


def test_boxes_labels_and_arrows():
    def box(ax, x, y, w=2.0, h=1.0):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0"))

    fig, ax = blank()
    box(ax, 1, 1)
    box(ax, 2.5, 1.5)
    assert problems(fig) == ["boxes overlap"]
    fig, ax = blank()
    box(ax, 4.75, 4, w=0.5)
    ax.text(5, 4.5, "a label far wider than its box", ha="center", va="center")
    assert problems(fig) == ["text sticks out of its box"]
    fig, ax = blank()
    box(ax, 1, 4)
    ax.text(2.8, 4.5, "half on it", va="center")
    assert problems(fig) == ["text overlaps a box"]
    fig, ax = blank()
    ax.text(5, 5, "1x1 conv, 96", ha="center", va="center")
    ax.annotate("", (5, 9), (5, 1), arrowprops=dict(arrowstyle="->"))
    assert problems(fig) == ["an arrow runs through a text"]


def test_check_figure_lists_every_problem_and_refuses_non_figures():
    fig, ax = blank()
    ax.text(1, 5, "one", fontsize=10)
    ax.text(1.1, 5, "one again", fontsize=10)
    with pytest.raises(ValueError, match=r"demo: 1 layout problem\(s\):\n  texts overlap: 'one'"):
        check_figure(fig, "demo")
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure, got Axes"):
        find_collisions(ax)
    plt.close("all")
