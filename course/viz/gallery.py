"""Every figure the package draws, once, on the inputs the notebooks give it (or small stand-ins
of the same shape), so that all of them can be checked and looked at together.

    python -m course.viz.gallery figures/         # `make figures`: one PNG each, and a report
    for name, draw in figures(): check_figure(draw(), name)      # what tests/viz checks

Stored experiment results come from ``data/results``; models, photos and ImageNet's class tree
are the course's own. Heavier inputs are stand-ins of the right shape (random activations for
the covariate-shift explorer, latencies proportional to MACs for the architecture charts):
the layout is what is checked here, not the numbers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

# Each entry: (name, the package functions it draws with, a function returning the Figure).
Entry = tuple[str, tuple[str, ...], Callable[[], Figure]]


@cache
def _records():
    """Every architecture of notebook 09, counted without timing (8 s); the latency is
    a stand-in proportional to MACs (25 GMACs/s)."""
    from dataclasses import replace

    from course.measure.compare import ARCHITECTURES, measure_architecture

    records = [measure_architecture(name, latency=False) for name in ARCHITECTURES]
    return [replace(r, latency_ms=r.macs / 25e6) for r in records]


def _trained_alexnet(arm: str = "first layer N(0, 0.01)"):
    """Notebook 03's trained network (its stored weights) and its stored run."""
    from course.experiments import load_results, trained_alexnet

    result = load_results("trained_alexnet")
    key = trained_alexnet.run_key(arm, result["config"]["seed"])
    return trained_alexnet.trained_model(arm), result["runs"][key]


def _history(run: dict):
    from course.training.loop import History

    return History(**{k: v for k, v in run["history"].items() if k in History.__dataclass_fields__})


def _runs_of_random_activations(layers=("tanh 1", "tanh 8"), snapshots=4):
    import torch

    g = torch.Generator().manual_seed(0)
    return {run: {layer: torch.randn(snapshots, 500, generator=g) * (1 + i)
                  for i, layer in enumerate(layers)}
            for run in ("tanh", "tanh + batch norm")}  # fmt: skip


def entries() -> list[Entry]:
    import torch
    from skimage import data as photos

    from course.data import imagenet
    from course.experiments import load_results
    from course.measure.conv import ConvSpec
    from course.models import get_model, skeleton, summarize
    from course.models.googlenet import INCEPTION_TABLE, Inception, InceptionNaive
    from course.models.resnet import BasicBlock, Bottleneck
    from course.viz import (
        batchnorm_plots,
        compare_plots,
        conv_plots,
        experiment_plots,
        history_plots,
        imagenet_plots,
        inception_plots,
        learned_plots,
        receptive_plots,
        resnet_plots,
        summary_plots,
        texture_plots,
    )
    from course.viz.batchnorm_explorer import ShiftExplorer
    from course.viz.compare_explorer import ArchitectureExplorer
    from course.viz.conv_explorer import ConvExplorer
    from course.viz.feature_explorer import FeatureMapExplorer
    from course.viz.resnet_explorer import GradientNormExplorer

    c1, r3, c3, r5, c5, proj = INCEPTION_TABLE["3a"]
    deg = load_results("degradation")

    def layer_profiles():
        layers = range(1, 11)
        shapes = (("sigmoid", 0.9, 0.5), ("sigmoid + batch norm", 0.1, 0.05))
        return {name: {"saturated": [min(1.0, s * k / 10) for k in layers],
                       "gradient": [10.0 ** (-k * g) for k in layers]}
                for name, s, g in shapes}  # fmt: skip

    def textures():
        class Synthesis:
            image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))

        examples = {"brick": photos.brick(), "grass": photos.grass()}
        return texture_plots.plot_textures(examples, {k: Synthesis() for k in examples}, 64,
                                           title="VGG-19 Gram-matrix textures")  # fmt: skip

    def class_samples():
        class Photos:  # the shape of course.data.load_image_folder's dataset
            loaders = (photos.astronaut, photos.chelsea, photos.coffee, photos.rocket)
            images = [torch.from_numpy(p()).permute(2, 0, 1).float() / 255 for p in loaders]
            targets = [0, 1, 2, 3]
            readable_classes = ["astronaut", "tabby cat", "espresso", "space shuttle"]

            def __getitem__(self, i):
                return self.images[i], self.targets[i]

        return imagenet_plots.plot_class_samples(Photos(), [0, 1, 2, 3], per_class=1)

    def group_counts():
        groups = ["dog.n.01", "bird.n.01", "reptile.n.01", "fish.n.01", "insect.n.01",
                  "cat.n.01", "vehicle.n.01", "musical_instrument.n.01"]  # fmt: skip
        counts = {g.split(".")[0]: len(imagenet.descendants(g)) for g in groups}
        return imagenet_plots.plot_group_counts(counts, "classes under some WordNet nodes",
                                                highlight="dog")  # fmt: skip

    def boxes():
        photo, objects = imagenet.annotated_photo("astronaut")
        return imagenet_plots.plot_boxes(photo, objects, "astronaut")

    def gradient_explorer():
        g = torch.Generator().manual_seed(0)
        explorer = GradientNormExplorer(torch.randn(8, 1, 28, 28, generator=g),
                                        torch.arange(8) % 10, depth=20,
                                        model_kwargs={"in_channels": 1}, render=False)  # fmt: skip
        return explorer.draw(**explorer.settings())

    def shift_explorer():
        explorer = ShiftExplorer(_runs_of_random_activations(), [0, 100, 200, 300], render=False)
        return explorer.draw(**explorer.settings())

    def architecture_explorer():
        explorer = ArchitectureExplorer(_records(), render=False)
        return explorer.draw(**explorer.settings())

    def receptive_fields():
        from course.measure.receptive import receptive_path

        photo = torch.from_numpy(photos.astronaut()[::2, ::2][:224, 16:240].copy()).permute(2, 0, 1)
        paths = {name: receptive_path(skeleton(name)) for name in
                 ("alexnet_paper", "vgg16", "googlenet_paper", "resnet50")}  # fmt: skip
        return receptive_plots.plot_receptive_fields(photo, paths)

    def conv_explorer():
        explorer = ConvExplorer(render=False)
        return explorer.draw(**explorer.settings())

    def feature_explorer():
        model, run = _trained_alexnet()
        images = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8,
                               generator=torch.Generator().manual_seed(0))  # fmt: skip
        explorer = FeatureMapExplorer(model, images, run["preprocess"], ["Shirt", "Bag", "Coat"],
                                      render=False)  # fmt: skip
        return explorer.draw(**explorer.settings())

    def mistakes():
        images = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8,
                               generator=torch.Generator().manual_seed(0))  # fmt: skip
        return learned_plots.plot_mistakes(images, ["T-shirt/top -> Shirt"] * 8,
                                           title="true class -> predicted class")  # fmt: skip

    def top_classes():
        from torchvision.models import AlexNet_Weights

        names = AlexNet_Weights.IMAGENET1K_V1.meta["categories"]
        shown = {"astronaut": photos.astronaut(), "chelsea": photos.chelsea(),
                 "coffee": photos.coffee(), "rocket": photos.rocket()}  # fmt: skip
        longest = sorted(names, key=len)[-5:]  # the longest names: the tightest layout
        guesses = {name: [(c, 0.5 / (i + 1)) for i, c in enumerate(longest)] for name in shown}
        return learned_plots.plot_top_classes(shown, guesses, title="top-5 classes")

    from course.data import FASHION_MNIST_CLASSES
    from course.measure.kernels import HAND_MADE_KERNELS, hand_made_kernels

    bn = "batch_norm"

    return [
        ("01 convolution", ("plot_convolution", "draw_input", "draw_output", "draw_formula"),
         lambda: conv_plots.plot_convolution(ConvSpec(1, 1, 3, dilation=2), 7, (1, 1))),
        ("01 formula", ("draw_formula",),
         lambda: conv_plots.draw_formula(ConvSpec(3, 8, 5, stride=2, padding=1), 32).figure),
        ("01 explorer", ("ConvExplorer.draw",), conv_explorer),
        ("02 sunburst", ("plot_sunburst",), lambda: imagenet_plots.plot_sunburst()),
        ("02 group counts", ("plot_group_counts",), group_counts),
        ("02 boxes", ("plot_boxes",), boxes),
        ("02 class samples", ("plot_class_samples",), class_samples),
        ("02 ilsvrc", ("plot_ilsvrc",), imagenet_plots.plot_ilsvrc),
        ("04 relu vs tanh", ("plot_relu_vs_tanh",),
         lambda: experiment_plots.plot_relu_vs_tanh(load_results("relu_vs_tanh"))),
        ("04 dropout", ("plot_dropout",),
         lambda: experiment_plots.plot_dropout(load_results("dropout"))),
        ("03 history", ("plot_history",),
         lambda: history_plots.plot_history(
             *[_history(deg["runs"][k]) for k in list(deg["runs"])[:2]],
             labels=list(deg["runs"])[:2], title="two runs", val_name="test")),
        ("03 hand-made kernels", ("plot_kernels",),
         lambda: learned_plots.plot_kernels(hand_made_kernels(), columns=4,
                                            titles=list(HAND_MADE_KERNELS), width=8)),
        ("03 learned kernels", ("plot_kernels",),
         lambda: learned_plots.plot_kernels(_trained_alexnet()[0].conv1.weight,
                                            title="32 learned 5x5 kernels")),
        ("03 imagenet kernels", ("plot_kernels",),
         lambda: learned_plots.plot_kernels(get_model("alexnet").features[0].weight,
                                            title="64 kernels of 11x11x3")),
        ("03 confusion", ("plot_confusion",),
         lambda: learned_plots.plot_confusion(_trained_alexnet()[1]["test"]["confusion"],
                                              FASHION_MNIST_CLASSES)),
        ("03 mistakes", ("plot_mistakes",), mistakes),
        ("03 feature maps", ("plot_feature_maps", "FeatureMapExplorer.draw"), feature_explorer),
        ("03 top classes", ("plot_top_classes",), top_classes),
        ("05 parameters per layer", ("plot_parameters_per_layer",),
         lambda: summary_plots.plot_parameters_per_layer(
             summarize(skeleton("vgg16"), (3, 224, 224)),
             [f"conv{i + 1}" for i in range(13)] + ["fc6", "fc7", "fc8"],
             title="VGG-16: parameters per layer")),
        ("05 textures", ("plot_textures",), textures),
        ("05 fc vs gap", ("plot_fc_vs_gap",),
         lambda: experiment_plots.plot_fc_vs_gap(load_results("fc_vs_gap"))),
        ("06 inception blocks", ("plot_inception_blocks", "plot_inception_block"),
         lambda: inception_plots.plot_inception_blocks(
             {"naive (Figure 2a)": InceptionNaive(192, c1, c3, c5),
              "with 1x1 bottlenecks (Figure 2b)": Inception(192, c1, r3, c3, r5, c5, proj)},
             in_channels=192)),
        ("06 branch maps", ("plot_branch_maps",),
         lambda: inception_plots.plot_branch_maps(
             Inception(192, c1, r3, c3, r5, c5, proj).eval(),
             torch.randn(1, 192, 28, 28, generator=torch.Generator().manual_seed(0)))),
        ("06 aux classifiers", ("plot_aux_classifiers",),
         lambda: experiment_plots.plot_aux_classifiers(load_results("aux_classifiers"))),
        ("07 saturating activations", ("plot_saturating_activations",),
         batchnorm_plots.plot_saturating_activations),
        ("07 layer profile", ("plot_layer_profile",),
         lambda: batchnorm_plots.plot_layer_profile(layer_profiles(), title="ten layers")),
        ("07 input shift", ("plot_input_shift",),
         lambda: batchnorm_plots.plot_input_shift(_runs_of_random_activations(),
                                                  [0, 100, 200, 300], "tanh 8", 3)),  # fmt: skip
        ("07 explorer", ("ShiftExplorer.draw",), shift_explorer),
        ("07 batch norm", ("plot_batch_norm",),
         lambda: experiment_plots.plot_batch_norm(load_results(bn))),
        ("07 inception bn", ("plot_inception_bn",),
         lambda: experiment_plots.plot_inception_bn(load_results("inception_bn"))),
        ("08 degradation", ("plot_degradation",), lambda: experiment_plots.plot_degradation(deg)),
        ("08 training errors", ("plot_training_errors",),
         lambda: resnet_plots.plot_training_errors(
             {k.split(",")[0]: _history(r) for k, r in deg["runs"].items()
              if k.endswith("seed 0")})),
        ("08 blocks", ("plot_blocks", "draw_block"),
         lambda: resnet_plots.plot_blocks({
             "basic block, 64 channels": BasicBlock(64, 64),
             "bottleneck, 256 channels (width 64)": Bottleneck(256, 64),
             "basic block, 256 channels": BasicBlock(256, 256)})),
        ("08 gradient norms", ("plot_gradient_norms", "GradientNormExplorer.draw"),
         gradient_explorer),
        ("09 metrics", ("plot_metric",), lambda: compare_plots.plot_metric(_records(), "macs")),
        ("09 tradeoffs", ("plot_tradeoffs",),
         lambda: compare_plots.plot_tradeoffs(_records(), "macs")),
        ("09 costs", ("plot_costs",), lambda: compare_plots.plot_costs(_records())),
        ("09 accuracy tradeoffs", ("plot_accuracy_tradeoffs",),
         lambda: compare_plots.plot_accuracy_tradeoffs(_records())),
        ("09 explorer", ("ArchitectureExplorer.draw",), architecture_explorer),
        ("09 receptive fields", ("plot_receptive_fields",), receptive_fields),
        ("09 architectures", ("plot_architectures",),
         lambda: experiment_plots.plot_architectures(load_results("architectures"))),
    ]  # fmt: skip


def figures() -> Iterator[tuple[str, Callable[[], Figure]]]:
    for name, _, draw in entries():
        yield name, draw


def file_name(name: str) -> str:
    """The PNG a figure is written to: its name with underscores for spaces."""
    return name.replace(" ", "_") + ".png"


def main(argv: list[str]) -> int:
    """Write every figure as ``OUT/NAME.png`` and list its layout problems; exit 1 if any."""
    if len(argv) != 1:
        print("usage: python -m course.viz.gallery OUT_DIR", file=sys.stderr)
        return 2
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course.viz.collisions import find_collisions

    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    problems = 0
    for name, draw in figures():
        fig = draw()
        found = find_collisions(fig)
        fig.savefig(out / file_name(name), dpi=100)
        plt.close(fig)
        problems += len(found)
        print(f"{name:28} {'ok' if not found else f'{len(found)} problem(s)'}")
        for collision in found:
            print(f"    {collision}")
    print(f"{problems} layout problem(s); figures in {out}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
