"""A small member of every family, trained with one equal budget (notebook 09).

Not a claim of one paper but the lecture's story in numbers: from AlexNet to ResNet, what each
design reaches on the same data with the same training, at what size and training cost. Each
family's CPU-sized version (the models of notebook 09; Fashion-MNIST resized to 32x32):

* AlexNet: ``alexnet_small`` at half width (two towers, three FC layers, dropout 0.5) without
  its LRN layers: PyTorch's CPU implementation of LRN made a training step 6.7x slower (330
  against 2,200 images/s in a pilot), which would time PyTorch, not the design;
* VGG: ``vgg11_bn`` at a quarter width with global average pooling instead of the FC layers
  (at 32x32 the last map is 1x1; VGG's FC head is notebook 05's subject);
* GoogLeNet: torchvision's ``googlenet`` layout (batch norm) at a quarter width, no auxiliary
  heads;
* Inception-BN: ``inception_bn`` at a quarter width;
* ResNet: ``resnet18`` at a quarter width.

One recipe for all, so that the budget is equal, not each network's best: all 60,000 training
images, random crops and mirroring, AdamW (lr 2e-3, weight decay 0.05), batch 128, gradients
clipped at norm 2, one epoch of warm-up and cosine decay (``fit``'s defaults), three seeds; each
network keeps its own dropout (AlexNet and VGG's head 0.5, GoogLeNet 0.2, none in Inception-BN
and ResNet). Measured: test accuracy after every epoch, parameters, and the training time per
image on this machine. Differences within the run-to-run noise are reported as ties; training
times are compared within each seed (a seed's five runs train one after another, while the
machine's speed may drift over the whole run). Counted
from the models (``design``): the MACs of one 32x32 image and the side of the first map (the
ImageNet-style stems of GoogLeNet, Inception-BN and ResNet halve it at once). Why the order
differs from ImageNet's: ``course.experiments.stems``, the same networks with a CIFAR stem.

``report`` and ``claims`` at the end: what notebook 09 shows and the statements its text makes.
"""

from __future__ import annotations

from functools import cache

import torch

from course.experiments.common import (
    every_network_and_seed,
    fashion_mnist_32,
    finished,
    mean_and_spread,
    network_seed_key,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, mean_std
from course.models import count_macs, count_parameters, get_model
from course.models.summary import summarize as layer_rows
from course.training import fit

NAME = "architectures"
CLAIM = (
    "Each later design is more accurate than the ones before it (the lecture's story from 2012 "
    "to 2015, told with ImageNet results); tested on CPU-sized versions trained alike."
)
NETWORKS = {  # name -> (family, model name, keyword arguments)
    "alexnet_small (1/2)": ("AlexNet", "alexnet_small", dict(width=0.5, lrn=False)),
    "vgg11_bn (1/4, GAP)": ("VGG", "vgg11_bn", dict(width=0.25, head="gap")),
    "googlenet (1/4)": ("GoogLeNet", "googlenet", dict(width=0.25, aux_logits=False)),
    "inception_bn (1/4)": ("Inception-BN", "inception_bn", dict(width=0.25)),
    "resnet18 (1/4)": ("ResNet", "resnet18", dict(width=0.25)),
}
NOISE_FLOOR = 0.02  # relative: a network is faster than another if by more than this in every seed
CONFIGS = {
    "fast": dict(train_images=256, test_images=128, epochs=1, batch_size=64, seeds=[0]),
    "live": dict(train_images=5_000, test_images=2_000, epochs=2, batch_size=128, seeds=[0]),
    "reference": dict(train_images=60_000, test_images=10_000, epochs=8, batch_size=128,
                      seeds=[0, 1, 2]),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def build(name: str):
    _, model, kwargs = NETWORKS[name]
    return get_model(model, num_classes=10, in_channels=1, **kwargs)


run_key = network_seed_key  # "resnet20, seed 0"


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return every_network_and_seed(config, NETWORKS)


def train_with_recipe(model, config: dict, settings: dict, data: dict, checkpoint):
    """``fit`` with the one recipe of this experiment (also ``stems``' and ``trained_alexnet``'s):
    AdamW 2e-3, weight decay 0.05, ``fit``'s warm-up and cosine decay; resumes ``checkpoint``."""
    return fit(
        model, data["train"], data["test"], epochs=config["epochs"],
        batch_size=config["batch_size"], lr=2e-3, weight_decay=0.05,
        preprocess=data["preprocess"], seed=settings["seed"], checkpoint=checkpoint,
        resume=checkpoint.exists(), progress=False,
    )  # fmt: skip


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = build(settings["network"])
    history = train_with_recipe(model, config, settings, data, checkpoint)
    return {**settings, "history": finished(history)}


def ms_per_image(run: dict, config: dict) -> float:
    """Training time per image (ms): the epochs' training time over the images they saw."""
    seconds = sum(run["history"]["seconds"])
    return 1000 * seconds / (config["train_images"] * len(run["history"]["epoch"]))


def summarize(result: dict) -> dict:
    """Per network, over seeds: family, parameters, final test accuracy, the last epoch's gain
    in test accuracy, training time per image. The timing noise: the largest relative
    difference between two seeds of one network. Rankings by accuracy and by time, where
    neighbours share a rank unless they differ beyond the noise. Accuracy: by more than 2x the
    largest seed-to-seed standard deviation of any network. Time: faster by more than 2% in
    every seed, compared within the seed (a seed's runs train one after another, so a drift of
    the machine's speed over the whole run does not enter the comparison)."""
    config, runs = result["config"], result["runs"]
    networks = {}
    for name, (family, _, _) in NETWORKS.items():
        chosen = [runs[k] for s in config["seeds"] if (k := run_key(name, s)) in runs]
        networks[name] = {
            "family": family,
            "parameters": count_parameters(build(name)),
            "test_acc": mean_and_spread([r["history"]["val_acc"][-1] for r in chosen]),
            "last_epoch_gain": mean_and_spread(
                [r["history"]["val_acc"][-1] - r["history"]["val_acc"][-2] for r in chosen]
            ) if config["epochs"] > 1 else None,
            "ms_per_image": mean_and_spread([ms_per_image(r, config) for r in chosen]),
        }  # fmt: skip
    times = {name: {s: ms_per_image(runs[k], config) for s in config["seeds"]
                    if (k := run_key(name, s)) in runs} for name in NETWORKS}  # fmt: skip
    spread = [max(t.values()) / min(t.values()) - 1 for t in times.values() if len(t) > 1]

    def faster_in_every_seed(a: str, b: str) -> bool:
        seeds = [s for s in times[a] if s in times[b]]
        return bool(seeds) and all(times[a][s] * (1 + NOISE_FLOOR) < times[b][s] for s in seeds)

    acc_noise = 2 * max(n["test_acc"]["std"] for n in networks.values())
    return {
        "networks": networks,
        "timing_noise": max(spread, default=0.0),
        "accuracy_ranks": ranks(
            {n: s["test_acc"]["mean"] for n, s in networks.items()},
            lambda a, b: abs(a - b) <= acc_noise,
            best=max,
        ),  # fmt: skip
        "time_ranks": ranks(
            {n: s["ms_per_image"]["mean"] for n, s in networks.items()},
            lambda a, b: not faster_in_every_seed(a, b),
            best=min,
            by_name=True,
        ),  # fmt: skip
    }


def ranks(values: dict[str, float], tie, best, by_name: bool = False) -> dict[str, int]:
    """Rank 1 for the best value; a value that ties with the one ranked before it (``tie`` of
    the two values, or of the two names with ``by_name``) shares its rank, so a chain of small
    steps stays one group only as far as each step."""
    order = sorted(values, key=values.get, reverse=best is max)
    out, rank = {}, 0
    for i, name in enumerate(order):
        before = order[i - 1] if i else None
        pair = (before, name) if by_name else (values.get(before), values[name])
        if i == 0 or not tie(*pair):
            rank = i + 1
        out[name] = rank
    return out


def planned_runs(config: dict) -> int:
    return len(NETWORKS) * len(config["seeds"])


@cache
def design(name: str) -> dict:
    """What network ``name`` computes for one 32x32 image: its multiply-accumulates, and the
    side of the map its first convolution makes (32: full resolution; 16: a stride of 2)."""
    model = build(name)
    first = next(r for r in layer_rows(model, (1, 32, 32)) if r.kind == "Conv2d")
    return {"macs": count_macs(model, (1, 32, 32)), "first_map": first.output_shape[-1]}


EARLY = ("alexnet_small (1/2)", "vgg11_bn (1/4, GAP)")  # the 2012 and 2014 designs
LATE = ("googlenet (1/4)", "inception_bn (1/4)", "resnet18 (1/4)")  # stems built to shrink fast
INCEPTIONS = ("googlenet (1/4)", "inception_bn (1/4)")


def _in_rank_order(rank_of: dict[str, int], better: str) -> str:
    """The names in rank order, '=' between those that share a rank: "a > b = c"."""
    order = sorted(rank_of, key=rank_of.get)
    text = order[0] if order else ""
    for before, name in zip(order[:-1], order[1:], strict=True):
        text += (" = " if rank_of[name] == rank_of[before] else f" {better} ") + name
    return text


def _verdict_lines(summary: dict) -> list[str]:
    nets = summary["networks"]
    seeds = min((s["test_acc"]["n"] for s in nets.values()), default=0)
    ties = ("'=': within twice the largest seed-to-seed standard deviation" if seeds > 1
            else "one seed: no noise measured, so no ties")  # fmt: skip
    return [
        f"Test accuracy, best first: {_in_rank_order(summary['accuracy_ranks'], '>')} ({ties})",
        f"Training time per image, fastest first: {_in_rank_order(summary['time_ranks'], '<')} "
        f"('<': faster by more than {NOISE_FLOOR:.0%} in every seed, compared within the seed; "
        f"one network's time varied by up to {summary['timing_noise']:.0%} between seeds)",
    ]


def verdict(summary: dict) -> str:
    """The networks in order of test accuracy and of training time, with ties, from ``summary``."""
    return "; ".join(_verdict_lines(summary))


def schedule_ran_its_course(result: dict) -> Claim:
    """The claim that no run's test accuracy moved by a point in its last epoch (a one-epoch
    run has no last-epoch change: with only such runs, it does not hold)."""
    gains = [acc[-1] - acc[-2] for run in result["runs"].values()
             if len(acc := run["history"]["val_acc"]) > 1]  # fmt: skip
    return Claim(
        "the schedule ran its course: no run's test accuracy moved by a point in its last epoch",
        f"largest change {fmt(max(map(abs, gains), default=None), '.4f')}",
        bool(gains) and max(map(abs, gains)) < 0.01,
    )


def count(n: int, thing: str) -> str:
    """'1 epoch', '8 epochs'."""
    return f"{n} {thing}" + ("s" if n != 1 else "")


def report(result: dict) -> Report:
    """What each network computes for one image, then its test accuracy, its gain in the last
    epoch and its training time per image, over seeds, with the ranks that count ties."""
    summary, config = result["summary"], result["config"]
    nets = summary["networks"]
    seeds = len(config["seeds"])
    over = f"mean ± standard deviation over {seeds} seeds" if seeds > 1 else "one seed"
    computes = Table(
        ("network", "family", "parameters", "MACs", "first map"),
        [
            (
                name,
                s["family"],
                f"{s['parameters']:,}",
                f"{design(name)['macs'] / 1e6:.1f}M",
                "{0}x{0}".format(design(name)["first_map"]),
            )
            for name, s in nets.items()
        ],  # fmt: skip
        title="what each network computes for one 32x32 image",
        align="llrrr",
        note="MACs: multiply-accumulates of one forward pass; first map: the side of the map "
        "the first convolution makes.",
    )
    trained = Table(
        ("network", "test accuracy", "last epoch", "ms per image", "rank: accuracy", "time"),
        [
            (
                name,
                mean_std(s["test_acc"], ".4f"),
                "-" if s["last_epoch_gain"] is None else f"{s['last_epoch_gain']['mean']:+.4f}",
                fmt(s["ms_per_image"]["mean"], ".2f"),
                summary["accuracy_ranks"][name],
                summary["time_ranks"][name],
            )
            for name, s in nets.items()
        ],  # fmt: skip
        title=f"after {count(config['epochs'], 'epoch')} on {config['train_images']:,} images "
        f"({over})",
        note="last epoch: the test accuracy it gained; ms per image: training time on the "
        "machine above; a shared rank is a tie within the noise (time: not faster in every "
        "seed).",
    )
    return Report(heading(result, "Architectures compared"), [computes, trained],
                  _verdict_lines(summary))  # fmt: skip


def claims(result: dict) -> Claims:
    """What notebook 09 says about the result (section "Small versions, one equal budget")."""
    summary = result["summary"]
    nets = summary["networks"]
    acc_rank, time_rank = summary["accuracy_ranks"], summary["time_ranks"]
    acc = {name: s["test_acc"]["mean"] for name, s in nets.items()}
    sizes = [s["parameters"] for s in nets.values()]
    macs = {name: design(name)["macs"] for name in NETWORKS}
    late_acc = [acc[n] for n in LATE]
    others = [n for n in NETWORKS if n not in INCEPTIONS]

    def ranked(rank_of: dict, names) -> str:
        return ", ".join(f"{NETWORKS[n][0]} {rank_of[n]}" for n in names)

    def pct(name: str) -> str:
        return f"{100 * acc[name]:.1f}%"

    return Claims(
        [
            schedule_ran_its_course(result),
            Claim(
                "the parameter counts are of the same order (the largest under 2.5x the smallest)",
                f"{min(sizes):,} to {max(sizes):,}",
                max(sizes) < 2.5 * min(sizes),
            ),
            Claim(
                "AlexNet and VGG rank ahead of GoogLeNet, Inception-BN and ResNet in test "
                "accuracy, beyond the noise",
                ranked(acc_rank, NETWORKS),
                max(acc_rank[n] for n in EARLY) < min(acc_rank[n] for n in LATE),
            ),
            Claim(
                "VGG's small version is the most accurate, alone",
                f"ranks {sorted(acc_rank.values())}",
                [n for n, r in acc_rank.items() if r == 1] == [EARLY[1]],
            ),
            Claim(
                "GoogLeNet, Inception-BN and ResNet tie within the noise",
                ranked(acc_rank, LATE),
                len({acc_rank[n] for n in LATE}) == 1,
            ),
            Claim(
                "VGG reaches 91.6%, AlexNet 90.3%, the three others 89.0% to 89.5%",
                f"{pct(EARLY[1])}, {pct(EARLY[0])}, "
                f"{100 * min(late_acc):.1f}% to {100 * max(late_acc):.1f}%",
                (pct(EARLY[1]), pct(EARLY[0])) == ("91.6%", "90.3%")
                and (f"{100 * min(late_acc):.1f}", f"{100 * max(late_acc):.1f}")
                == ("89.0", "89.5"),
            ),
            Claim(
                "GoogLeNet, Inception-BN and ResNet start on a 16x16 map, AlexNet and VGG on 32x32",
                ", ".join(f"{NETWORKS[n][0]} {design(n)['first_map']}" for n in NETWORKS),
                all(design(n)["first_map"] == 16 for n in LATE)
                and all(design(n)["first_map"] == 32 for n in EARLY),
            ),
            Claim(
                "they compute over three times fewer MACs per image than AlexNet and VGG",
                f"at most {max(macs[n] for n in LATE) / 1e6:.1f}M against at least "
                f"{min(macs[n] for n in EARLY) / 1e6:.1f}M",
                min(macs[n] for n in EARLY) > 3 * max(macs[n] for n in LATE),
            ),
            Claim(
                "the two Inception networks are the slowest to train per image, behind every "
                "other network in every seed",
                ranked(time_rank, NETWORKS),
                min(time_rank[n] for n in INCEPTIONS) > max(time_rank[n] for n in others),
            ),
            Claim(
                "ResNet's small version is the fastest to train per image, in every seed",
                ranked(time_rank, NETWORKS),
                [n for n, r in time_rank.items() if r == 1] == [LATE[2]],
            ),
            Claim(
                "one network's training time differed by up to 26% from seed to seed",
                f"{summary['timing_noise']:.0%}",
                f"{summary['timing_noise']:.0%}" == "26%",
            ),
        ]
    )
