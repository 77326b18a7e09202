"""The closing notebook's worked example (notebook 10): a network designed under a budget with
what the lecture taught, trained with ``architectures``' recipe and set beside its five networks.

The design (``WorkedExample``; notebook 10 writes the same network in a cell, and
``tests/experiments/test_your_network.py`` checks that the two are one network):

* a CIFAR stem (notebook 09): one 3x3 convolution at stride 1, so the first block sees 32x32;
* stacks of 3x3 convolutions (VGG, notebook 05), each followed by batch norm (Inception-BN,
  notebook 07) and a ReLU;
* residual blocks (ResNet, notebook 08): two 3x3 convolutions added to their input, and in the
  last stage a bottleneck (a 1x1 convolution to a quarter of the channels, a 3x3, a 1x1 back:
  GoogLeNet's and ResNet-50's way to make a wide layer cheap, notebooks 06 and 08);
* a stride-2 3x3 convolution between stages, doubling the channels as the map halves;
* global average pooling and one linear layer as the head (GoogLeNet, notebook 06).

Its budget (``BUDGET``): fewer parameters than every network of ``architectures`` and at most
twice the MACs of its VGG. Trained exactly as ``architectures``' networks (``train_with_recipe``:
all 60,000 images at 32x32, 8 epochs, AdamW 2e-3, weight decay 0.05, batch 128), three seeds,
so that its point on 09's charts is measured alike; the training time per image is comparable
only with runs on the same machine (the report says whether ``architectures``' were). Kept: the
trained weights of seed 0 (``data/results/your_network.pt``) and its confusion matrix on the
10,000 test images, for notebook 10's instruments.
"""

from __future__ import annotations

import torch
from torch import nn

from course.data import FASHION_MNIST_CLASSES
from course.experiments import architectures
from course.experiments.common import (
    fashion_mnist_32,
    finished,
    kept_weights,
    mean_and_spread,
    test_errors,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, mean_std
from course.measure.budget import costs
from course.measure.predictions import most_confused

NAME = "your_network"
CLAIM = (
    "A network designed with the lecture's ideas (3x3 stacks, batch norm, residual connections, "
    "a 1x1 bottleneck, global average pooling) and a stem for the image's size beats the "
    "architectures of notebook 09 at this scale with fewer parameters."
)
NETWORK = "worked example"
INPUT = (1, 32, 32)  # Fashion-MNIST resized to 32x32, as in architectures
# The reference budget is architectures' (its point on 09's charts is measured alike); the live
# one, what notebook 10 trains in its cell, is larger: 20,000 images for 3 epochs (about half a
# minute here), for a point near the others, tested on the same 10,000 test images.
LIVE = dict(train_images=20_000, test_images=10_000, epochs=3, batch_size=128, seeds=[0])
CONFIGS = {**architectures.CONFIGS, "live": LIVE}


class Residual(nn.Module):
    """relu(x + body(x)) (notebook 08); ``body`` keeps the shape of its input."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return torch.relu(x + self.body(x))


def conv_bn(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, relu: bool = True):
    """A convolution without bias (batch norm's shift replaces it), batch norm, a ReLU."""
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False),
              nn.BatchNorm2d(c_out)]  # fmt: skip
    return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)


def basic(c: int) -> Residual:
    """Two 3x3 convolutions, added to their input."""
    return Residual(nn.Sequential(conv_bn(c, c), conv_bn(c, c, relu=False)))


def bottleneck(c: int, inner: int) -> Residual:
    """1x1 down to ``inner`` channels, 3x3, 1x1 back up to ``c``, added to the input."""
    return Residual(nn.Sequential(conv_bn(c, inner, 1), conv_bn(inner, inner),
                                  conv_bn(inner, c, 1, relu=False)))  # fmt: skip


class WorkedExample(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(1, 16), basic(16))  # 16 maps of 32x32
        self.stage1 = nn.Sequential(conv_bn(16, 32, stride=2), basic(32))  # 32 of 16x16
        self.stage2 = nn.Sequential(conv_bn(32, 64, stride=2), basic(64))  # 64 of 8x8
        self.stage3 = nn.Sequential(conv_bn(64, 128, stride=2), bottleneck(128, 32))  # 128 of 4x4
        self.head = nn.Linear(128, classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.head(x.mean(dim=(2, 3)))  # global average pooling: (N, 128)


VGG = "vgg11_bn (1/4, GAP)"  # architectures' network the MACs budget is set by


def budget() -> dict[str, int]:
    """The worked example's limits: fewer parameters than the smallest network of
    ``architectures``, at most twice the MACs of its VGG."""
    counts = [costs(architectures.build(n), INPUT)["parameters"] for n in architectures.NETWORKS]
    smallest = min(counts)
    return {"parameters": smallest - 1, "macs": 2 * costs(architectures.build(VGG), INPUT)["macs"]}


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def run_key(seed: int) -> str:
    return architectures.run_key(NETWORK, seed)


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return [(run_key(s), dict(network=NETWORK, seed=s)) for s in config["seeds"]]


def planned_runs(config: dict) -> int:
    return len(config["seeds"])


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = WorkedExample()
    history = architectures.train_with_recipe(model, config, settings, data, checkpoint)
    run = {**settings, "history": finished(history), "preprocess": history.preprocess}
    if settings["seed"] == config["seeds"][0]:  # the one whose weights notebook 10 inspects
        run["test"] = test_errors(model, data, history.preprocess)
        run["state_dict"] = kept_weights(model)
    return run


def trained_model() -> WorkedExample:
    """The worked example with the weights of its stored reference run (seed 0), evaluating."""
    from course.experiments.runner import load_results, trained_weights

    model = WorkedExample()
    seed = load_results(NAME)["config"]["seeds"][0]
    model.load_state_dict(trained_weights(NAME, run_key(seed)))
    return model.eval()


def stored_run(result: dict) -> dict:
    """The run whose weights were kept: its history, ``preprocess`` and test figures."""
    return result["runs"][run_key(result["config"]["seeds"][0])]


def summarize(result: dict) -> dict:
    """The worked example over seeds (test accuracy per seed and mean ± std, the last epoch's
    gain, training time per image), its costs, and the test errors of the kept run."""
    config, runs = result["config"], result["runs"]
    done = [runs[k] for s in config["seeds"] if (k := run_key(s)) in runs]
    finals = [r["history"]["val_acc"][-1] for r in done]
    kept = runs.get(run_key(config["seeds"][0]), {}).get("test")
    return {
        **costs(WorkedExample(), INPUT),
        "test_acc_per_seed": finals,
        "test_acc": mean_and_spread(finals),
        "last_epoch_gain": mean_and_spread(
            [r["history"]["val_acc"][-1] - r["history"]["val_acc"][-2] for r in done]
        ) if config["epochs"] > 1 else None,
        "ms_per_image": mean_and_spread([architectures.ms_per_image(r, config) for r in done]),
        "top1_error": kept and kept["top1_error"],
        "top5_error": kept and kept["top5_error"],
        "most_confused": kept and most_confused(kept["confusion"], FASHION_MNIST_CLASSES, 3),
    }  # fmt: skip


def _same_machine(result: dict, other: dict) -> bool:
    key = ("cpu", "cores", "torch", "native_bf16")
    ours, theirs = (r.get("provenance", {}).get("machine", {}) for r in (result, other))
    return bool(ours) and all(ours.get(k) == theirs.get(k) for k in key)


def beside_architectures(result: dict) -> dict:
    """For 09's chart (``plot_architectures(..., extra=...)``): the worked example's point."""
    s = result["summary"]
    return {NETWORK: {"parameters": s["parameters"], "accuracies": s["test_acc_per_seed"],
                      "ms_per_image": s["ms_per_image"]["mean"]}}  # fmt: skip


def report(result: dict) -> Report:
    """The worked example's costs and accuracy in one table with ``architectures``' networks."""
    from course.experiments.runner import load_results

    other = load_results("architectures")
    s, config = result["summary"], result["config"]
    nets = other["summary"]["networks"]
    seeds = len(config["seeds"])
    over = f"mean ± standard deviation over {seeds} seeds" if seeds > 1 else "one seed"
    rows = [(NETWORK, f"{s['parameters']:,}", f"{s['macs'] / 1e6:.1f}M",
             mean_std(s["test_acc"], ".4f"), fmt(s["ms_per_image"]["mean"], ".2f"))]  # fmt: skip
    rows += [(name, f"{n['parameters']:,}", f"{architectures.design(name)['macs'] / 1e6:.1f}M",
              mean_std(n["test_acc"], ".4f"), fmt(n["ms_per_image"]["mean"], ".2f"))
             for name, n in nets.items()]  # fmt: skip
    machine = ("the same machine" if _same_machine(result, other)
               else "another machine: compare those times only roughly")  # fmt: skip
    table = Table(
        ("network", "parameters", "MACs", "test accuracy", "ms per image"),
        rows,
        title=f"after {architectures.count(config['epochs'], 'epoch')} on "
        f"{config['train_images']:,} images ({over})",
        note=f"Below the worked example, notebook 09's networks, trained on {machine}. MACs of "
        f"one 32x32 image; ms per image: training time.",
    )
    lines = []
    if s["top1_error"] is not None:
        pair = s["most_confused"][0]
        lines.append(f"Seed {config['seeds'][0]}, kept: top-1 error {s['top1_error']:.2%}, top-5 "
                     f"error {s['top5_error']:.2%}; mistaken most: {pair['pair'][0]} and "
                     f"{pair['pair'][1]} ({pair['total']} images)")  # fmt: skip
    return Report(heading(result, "The worked example"), [table], lines)


def verdict(summary: dict) -> str:
    return (f"worked example: {summary['parameters']:,} parameters, {summary['macs'] / 1e6:.1f}M "
            f"MACs, test accuracy {mean_std(summary['test_acc'], '.4f')}")  # fmt: skip


def claims(result: dict) -> Claims:
    """What notebook 10 says about the result."""
    from course.experiments.runner import load_results

    s, config = result["summary"], result["config"]
    nets = load_results("architectures")["summary"]["networks"]
    limits = budget()
    best = max(nets, key=lambda n: nets[n]["test_acc"]["mean"])
    margin = s["test_acc"]["mean"] - nets[best]["test_acc"]["mean"]
    above = nets[best]["test_acc"]["mean"] + 2 * nets[best]["test_acc"]["std"]  # beyond its noise
    slowest = max(n["ms_per_image"]["mean"] for n in nets.values())
    return Claims(
        [
            Claim(
                "the worked example keeps its budget: fewer parameters than any network of 09, "
                "at most twice the MACs of its VGG",
                f"{s['parameters']:,} parameters, {s['macs'] / 1e6:.1f}M MACs",
                s["parameters"] <= limits["parameters"] and s["macs"] <= limits["macs"],
            ),
            Claim(
                f"it is more accurate than the best of 09's networks ({best}) in every seed, "
                f"beyond that network's spread, by about a point on average",
                f"{100 * margin:+.1f} points on average",
                len(s["test_acc_per_seed"]) == len(config["seeds"])
                and all(a > above for a in s["test_acc_per_seed"])
                and 0.005 <= margin < 0.015,
            ),
            Claim(
                "92.7% against VGG's 91.6%, with 213,690 parameters against at least 355,490; "
                "18.1M MACs, almost twice VGG's; 0.57 ms per training image",
                f"{100 * s['test_acc']['mean']:.1f}%, {100 * nets[VGG]['test_acc']['mean']:.1f}%, "
                f"{s['parameters']:,}, {limits['parameters'] + 1:,}, {s['macs'] / 1e6:.1f}M, "
                f"{s['macs'] / (limits['macs'] / 2):.2f}x, {s['ms_per_image']['mean']:.2f} ms",
                (
                    f"{100 * s['test_acc']['mean']:.1f}",
                    f"{100 * nets[VGG]['test_acc']['mean']:.1f}",
                    s["parameters"],
                    limits["parameters"] + 1,
                    f"{s['macs'] / 1e6:.1f}",
                    f"{s['ms_per_image']['mean']:.2f}",
                )
                == ("92.7", "91.6", 213_690, 355_490, "18.1", "0.57")
                and 1.8 < s["macs"] / (limits["macs"] / 2) < 2,
            ),  # fmt: skip
            Claim(
                "it trains slower per image than every network of 09 (measured in another run)",
                f"{s['ms_per_image']['mean']:.2f} ms against at most {slowest:.2f} ms",
                s["ms_per_image"]["mean"] > slowest,
            ),
            Claim(
                "its three most confused pairs of classes all involve Shirt",
                "; ".join(" and ".join(p["pair"]) for p in s["most_confused"] or []),
                bool(s["most_confused"]) and all("Shirt" in p["pair"] for p in s["most_confused"]),
            ),
            architectures.schedule_ran_its_course(result),
        ]
    )
