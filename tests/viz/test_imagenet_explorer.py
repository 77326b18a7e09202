"""The ImageNet explorer and hierarchy helpers, checked against the metadata files."""

import json

import pytest

from course.data import data_dir, imagenet
from course.viz.imagenet_explorer import ImageNetExplorer
from course.viz.imagenet_plots import collapse, leaves, plot_sunburst, primary_tree


def test_search_updates_matches_and_details():
    explorer = ImageNetExplorer(query="panda")
    assert [v for _, v in explorer.matches.options] == [387, 388]
    explorer.query.value = "goldfish"
    assert explorer.matches.value == 1
    assert "Carassius auratus" in explorer.details.value
    assert "entity → physical entity" in explorer.details.value
    explorer.query.value = "zzzz"
    assert explorer.matches.options == () and "No class matches" in explorer.details.value


def test_details_list_every_path_and_the_siblings():
    explorer = ImageNetExplorer(query="black grouse")
    c = imagenet.load_imagenet_classes()[explorer.matches.value]
    assert explorer.details.value.count("<li>") == len(c.paths) == 2
    assert f"Siblings among the 1000</b> ({len(imagenet.siblings(c))})" in explorer.details.value


def test_browsing_down_and_up_shows_counts_from_the_files():
    explorer = ImageNetExplorer()
    assert explorer.up.disabled
    explorer.below.value = "physical_entity.n.01"
    assert explorer.node == "physical_entity.n.01" and not explorer.up.disabled
    labels = dict((v, label) for label, v in explorer.below.options)
    n_object = len({c.index for c in imagenet.descendants("object.n.01")})
    assert labels["object.n.01"] == f"object ({n_object})"
    explorer.go_up()
    assert explorer.node == "entity.n.01"


def test_choosing_a_class_in_the_tree_opens_it_in_the_search_tab():
    explorer = ImageNetExplorer()
    explorer.show_node("clock.n.01")
    assert explorer.breadcrumb.value.endswith("timepiece › clock</div>")
    explorer.widget.selected_index = 1
    explorer.below.value = "wall_clock.n.01"  # a class, not a node with children
    assert explorer.widget.selected_index == 0
    assert imagenet.load_imagenet_classes()[explorer.matches.value].synset == "wall_clock.n.01"


def test_children_counts_and_collisions():
    below = imagenet.children("canine.n.02")
    assert below["dog.n.01"] == len(imagenet.descendants("dog.n.01"))
    assert set(imagenet.name_collisions()) == {"crane", "maillot", "missile", "sunglasses"}
    with pytest.raises(KeyError, match="on no class's hypernym path"):
        imagenet.children("unicorn.n.01")


def test_tree_counts_every_class_once():
    tree = primary_tree()
    assert leaves(tree) == 1000
    assert leaves(collapse(tree)) == 1000
    fig = plot_sunburst("whole.n.02", depth=2)
    assert "classes under 'whole'" in fig.axes[0].get_title()
    with pytest.raises(KeyError, match="not in the class tree"):
        plot_sunburst("unicorn.n.01")


def test_photo_annotations_name_real_classes():
    image, objects = imagenet.annotated_photo("astronaut")
    assert image.shape == (3, 512, 512)
    notes = json.loads((data_dir() / "annotations" / "astronaut.json").read_text())
    assert "made for this course" in notes["about"].replace(
        "drawn by hand for this course", "made for this course"
    )
    for o in objects:
        x0, y0, x1, y1 = o["box"]
        assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
        if o["wnid"]:
            assert imagenet.class_by_wnid(o["wnid"]).name == o["label"]
    with pytest.raises(imagenet.DataError, match="no annotations for 'coffee'"):
        imagenet.annotated_photo("coffee")


def test_class_sample_grid_from_an_image_folder(tmp_path):
    from PIL import Image

    from course.data import load_image_folder
    from course.viz.imagenet_plots import plot_class_samples

    for wnid in ("n01440764", "n01443537"):
        (tmp_path / "val" / wnid).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (40, 30), (60 * i, 90, 20)).save(tmp_path / "val" / wnid / f"{i}.JPEG")
    dataset = load_image_folder(tmp_path, "val", image_size=16)
    fig = plot_class_samples(dataset, [0, 1], per_class=3)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == ["tench", "goldfish"] and len(fig.axes) == 6
