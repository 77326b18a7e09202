"""Why the later designs fall behind in ``architectures`` at 32x32: the same networks with a
CIFAR stem (notebook 09).

In ``architectures`` the small VGG is ahead of the small GoogLeNet, Inception-BN and ResNet.
Those three keep their ImageNet stems, built to shrink a 224x224 image fast: a 7x7 convolution
at stride 2, then a max-pool. On a 32x32 image that leaves an 8x8 map before the first block
(GoogLeNet's and Inception-BN's second max-pool: 4x4), and their last blocks work on 1x1 maps;
VGG's small version starts at full resolution. Here each of the three is trained twice, once
with its ImageNet stem and once with a CIFAR stem (``stem="cifar"``: a 3x3 first convolution at
stride 1 and no max-pool after it, as the CIFAR networks of ResNet's Section 4.2 start), beside
the same VGG, with ``architectures``' recipe (AdamW 2e-3, weight decay 0.05, batch 128, crops
and mirroring, warm-up and cosine decay) on a third of its training images, three seeds. The
CIFAR stem changes almost no parameters (a 3x3 instead of a 7x7 first kernel) but 14-15x the
MACs, and a training step costs 3-4x as long: the reason the reference budget is 20,000 images
(the same 8 epochs), not 60,000.

Measured: test accuracy after every epoch, training time per image. Compared per seed (the
same seed orders the images alike for every network): each family's CIFAR stem minus its
ImageNet stem, and each network minus VGG; a verdict needs the sign in every seed.
"""

from __future__ import annotations

from functools import cache

import torch

from course.experiments import architectures
from course.experiments.common import (
    every_network_and_seed,
    fashion_mnist_32,
    finished,
    mean_and_spread,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, mean_std
from course.models import count_macs, count_parameters, get_model
from course.models.summary import summarize as layer_rows

NAME = "stems"
CLAIM = (
    "The small GoogLeNet, Inception-BN and ResNet fall behind the small VGG at 32x32 because "
    "their ImageNet stems shrink the image at once; with a CIFAR stem they do not."
)
VGG = "vgg11_bn (1/4, GAP)"
FAMILIES = {"ResNet": "resnet18 (1/4)", "GoogLeNet": "googlenet (1/4)",
            "Inception-BN": "inception_bn (1/4)"}  # fmt: skip  # family -> architectures' name


def cifar(name: str) -> str:
    """The name of ``name`` (one of ``architectures.NETWORKS``) with the CIFAR stem."""
    return name[:-1] + ", CIFAR stem)"


# name -> (family, stem, model name, keyword arguments); "-": VGG has no stem of this kind
NETWORKS = {VGG: ("VGG", "-", *architectures.NETWORKS[VGG][1:])}
for _family, _name in FAMILIES.items():
    _, _model, _kwargs = architectures.NETWORKS[_name]
    NETWORKS[_name] = (_family, "imagenet", _model, _kwargs)
    NETWORKS[cifar(_name)] = (_family, "cifar", _model, {**_kwargs, "stem": "cifar"})

CONFIGS = {
    "fast": dict(train_images=256, test_images=128, epochs=1, batch_size=64, seeds=[0],
                 networks=[VGG, FAMILIES["ResNet"], cifar(FAMILIES["ResNet"])]),
    "live": dict(train_images=2_000, test_images=2_000, epochs=3, batch_size=128, seeds=[0],
                 networks=[VGG, FAMILIES["ResNet"], cifar(FAMILIES["ResNet"])]),
    "reference": dict(train_images=20_000, test_images=10_000, epochs=8, batch_size=128,
                      seeds=[0, 1, 2], networks=list(NETWORKS)),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def build(name: str):
    _, _, model, kwargs = NETWORKS[name]
    return get_model(model, num_classes=10, in_channels=1, **kwargs)


run_key = architectures.run_key  # "resnet18 (1/4, CIFAR stem), seed 0"


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return every_network_and_seed(config, config["networks"])


def planned_runs(config: dict) -> int:
    return len(config["networks"]) * len(config["seeds"])


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = build(settings["network"])
    history = architectures.train_with_recipe(model, config, settings, data, checkpoint)
    return {**settings, "history": finished(history)}


@cache
def design(name: str) -> dict:
    """What ``name`` computes for one 32x32 image: MACs, the side of the first and of the last
    convolution's output map, and its parameters."""
    model = build(name)
    convs = [r for r in layer_rows(model, (1, 32, 32)) if r.kind == "Conv2d"]
    sides = [r.output_shape[-1] for r in convs]
    return {"macs": count_macs(model, (1, 32, 32)), "first_map": sides[0],
            "last_map": sides[-1], "parameters": count_parameters(model)}  # fmt: skip


def _final_acc(run: dict) -> float:
    return run["history"]["val_acc"][-1]


def summarize(result: dict) -> dict:
    """Per network, over seeds: test accuracy (each seed's and mean ± std), training time per
    image. Per family, over the seeds both networks finished: the CIFAR stem's gain over the
    ImageNet stem, and each stem's difference from VGG, per seed and mean ± std."""
    config, runs = result["config"], result["runs"]

    def per_seed(name: str) -> dict[int, dict]:
        return {s: runs[k] for s in config["seeds"] if (k := run_key(name, s)) in runs}

    networks = {}
    for name in config["networks"]:
        done = per_seed(name)
        networks[name] = {
            "family": NETWORKS[name][0],
            "stem": NETWORKS[name][1],
            "seeds": list(done),
            "test_acc_per_seed": [_final_acc(r) for r in done.values()],
            "test_acc": mean_and_spread([_final_acc(r) for r in done.values()]),
            "ms_per_image": mean_and_spread(
                [architectures.ms_per_image(r, config) for r in done.values()]
            ),
        }

    def difference(a: str, b: str) -> dict | None:
        if a not in networks or b not in networks:
            return None
        first, second = per_seed(a), per_seed(b)
        seeds = [s for s in first if s in second]
        diffs = [_final_acc(first[s]) - _final_acc(second[s]) for s in seeds]
        return {"seeds": seeds, "per_seed": diffs, **mean_and_spread(diffs)}

    families = {}
    for family, name in FAMILIES.items():
        families[family] = {
            "cifar_minus_imagenet": difference(cifar(name), name),
            "imagenet_minus_vgg": difference(name, VGG),
            "cifar_minus_vgg": difference(cifar(name), VGG),
        }
    return {"networks": networks, "families": families}


def _points(stats: dict | None) -> str:
    """A difference in accuracy over seeds, in points: "+1.2 ± 0.3" (one seed: "+1.2")."""
    if not stats or not stats["per_seed"]:
        return "-"
    spread = f" ± {100 * stats['std']:.1f}" if stats["n"] > 1 else ""
    return f"{100 * stats['mean']:+.1f}{spread}"


def _by_seed(stats: dict, seeds: list[int]) -> list[str]:
    """Each of ``seeds``' difference in points, "-" where it was not measured."""
    found = dict(zip(stats["seeds"], stats["per_seed"], strict=True))
    return [f"{100 * found[s]:+.1f}" if s in found else "-" for s in seeds]


def report(result: dict) -> Report:
    """What each network computes and reaches, then the differences per family, per seed."""
    summary, config = result["summary"], result["config"]
    nets = summary["networks"]
    seeds = len(config["seeds"])
    over = f"mean ± standard deviation over {seeds} seeds" if seeds > 1 else "one seed"
    trained = Table(
        ("network", "parameters", "MACs", "maps", "test accuracy", "ms per image"),
        [
            (
                name,
                f"{design(name)['parameters']:,}",
                f"{design(name)['macs'] / 1e6:.1f}M",
                "{0}x{0} to {1}x{1}".format(design(name)["first_map"], design(name)["last_map"]),
                mean_std(s["test_acc"], ".4f"),
                fmt(s["ms_per_image"]["mean"], ".2f"),
            )
            for name, s in nets.items()
        ],  # fmt: skip
        title=f"after {architectures.count(config['epochs'], 'epoch')} on "
        f"{config['train_images']:,} images ({over})",
        note="A name without a stem has the ImageNet stem. MACs of one 32x32 image; maps: the "
        "first and the last convolution's output; ms per image: training time on the machine "
        "above.",
    )
    comparisons = {"cifar_minus_imagenet": "CIFAR stem - ImageNet stem",
                   "imagenet_minus_vgg": "ImageNet stem - VGG",
                   "cifar_minus_vgg": "CIFAR stem - VGG"}  # fmt: skip
    rows = [
        (family, label, _points(f[key]),
         *_by_seed(f[key], config["seeds"]))
        for family, f in summary["families"].items() for key, label in comparisons.items()
        if f[key]
    ]  # fmt: skip
    differences = Table(
        ("family", "difference", "mean ± std", *(f"seed {s}" for s in config["seeds"])),
        rows,
        title="differences in test accuracy, points",
        align="llr" + "r" * len(config["seeds"]),
        note="Each seed: the two networks trained with that seed; a positive number: the first "
        "is more accurate"
        + ("; '-': a run not finished." if any("-" in r[3:] for r in rows) else "."),
    )
    return Report(heading(result, "ImageNet stems against CIFAR stems"), [trained, differences],
                  _verdict_lines(summary))  # fmt: skip


def _every(stats: dict | None, sign: int) -> bool:
    """The difference has ``sign`` in every seed (and at least one seed was compared)."""
    return bool(stats and stats["per_seed"]) and all(d * sign > 0 for d in stats["per_seed"])


def _verdict_lines(summary: dict) -> list[str]:
    lines = []
    for family, f in summary["families"].items():
        gain, vgg = f["cifar_minus_imagenet"], f["cifar_minus_vgg"]
        if not gain:
            continue
        every = "in every seed" if gain["n"] > 1 else "in its one seed"
        sign = (f"better {every}" if _every(gain, 1) else f"worse {every}"
                if _every(gain, -1) else "no consistent difference")  # fmt: skip
        versus = (f"ahead of VGG {every}" if _every(vgg, 1) else
                  f"behind VGG {every}" if _every(vgg, -1) else
                  f"neither ahead of nor behind VGG {every}")  # fmt: skip
        alone = " (one seed: no spread measured)" if gain["n"] == 1 else ""
        lines.append(f"{family}: the CIFAR stem is {sign}; with it, {versus}{alone}")
    return lines


def verdict(summary: dict) -> str:
    return "; ".join(_verdict_lines(summary))


def claims(result: dict) -> Claims:
    """What notebook 09 says about the result (section "Why the later designs fall behind
    here: the stem"). A statement about all three families holds only if all three ran."""
    summary = result["summary"]
    families = summary["families"]
    nets = summary["networks"]
    late = [f for f, n in FAMILIES.items() if n in nets and cifar(n) in nets]  # all, but live
    all_ran = len(late) == len(FAMILIES)
    ratio = {f: design(cifar(n))["macs"] / design(n)["macs"] for f, n in FAMILIES.items()}
    slower = {f: nets[cifar(n)]["ms_per_image"]["mean"] / nets[n]["ms_per_image"]["mean"]
              for f, n in FAMILIES.items() if f in late}  # fmt: skip

    def each(key: str) -> str:
        return ", ".join(f"{f} {_points(families[f][key])}" if f in late else f"{f} not run"
                         for f in FAMILIES)  # fmt: skip

    return Claims(
        [
            Claim(
                "with the CIFAR stem the first map stays 32x32 and each network computes 14 to "
                "15 times the MACs, more than VGG, with almost the same parameters",
                ", ".join(f"{f} {r:.1f}x" for f, r in ratio.items()),
                all(design(cifar(n))["first_map"] == 32 for n in FAMILIES.values())
                and all(14 <= r <= 15 for r in ratio.values())
                and all(design(cifar(n))["macs"] > design(VGG)["macs"] for n in FAMILIES.values())
                and all(
                    abs(design(cifar(n))["parameters"] - design(n)["parameters"]) < 1_000
                    for n in FAMILIES.values()
                ),
            ),  # fmt: skip
            Claim(
                "with the ImageNet stems their last convolutions work on 1x1 maps, with the "
                "CIFAR stems on 4x4 maps",
                ", ".join(
                    f"{f} {design(n)['last_map']} and {design(cifar(n))['last_map']}"
                    for f, n in FAMILIES.items()
                ),
                all(
                    design(n)["last_map"] == 1 and design(cifar(n))["last_map"] == 4
                    for n in FAMILIES.values()
                ),
            ),  # fmt: skip
            Claim(
                "with their ImageNet stems, all three are behind VGG in every seed at this "
                "budget too",
                each("imagenet_minus_vgg"),
                all_ran and all(_every(families[f]["imagenet_minus_vgg"], -1) for f in late),
            ),
            Claim(
                "the CIFAR stem makes each of the three more accurate, in every seed",
                each("cifar_minus_imagenet"),
                all_ran and all(_every(families[f]["cifar_minus_imagenet"], 1) for f in late),
            ),
            Claim(
                "each gains 4 to 6 points with it (mean over seeds)",
                each("cifar_minus_imagenet"),
                all_ran
                and all(0.04 <= families[f]["cifar_minus_imagenet"]["mean"] <= 0.06 for f in late),
            ),
            Claim(
                "with the CIFAR stem, each of the three passes VGG in every seed",
                each("cifar_minus_vgg"),
                all_ran and all(_every(families[f]["cifar_minus_vgg"], 1) for f in late),
            ),
            architectures.schedule_ran_its_course(result),
            Claim(
                "a training step takes 3 to 4 times as long per image with the CIFAR stem",
                ", ".join(f"{f} {r:.1f}x" for f, r in slower.items()),
                all_ran and all(3 <= round(r) <= 4 for r in slower.values()),
            ),
        ]
    )
