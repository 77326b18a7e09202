"""What a trained AlexNet learned (notebook 03): its weights, kept, and its errors, counted.

The network and the training are notebook 09's AlexNet (``architectures``: the CPU-sized
``alexnet_small`` at half width without LRN, Fashion-MNIST resized to 32x32, AdamW, random crops
and mirroring, seed 0), in two arms that differ only in how the first layer starts:

* ``He initialization``: exactly 09's run (so the two can be checked against each other);
* ``first layer N(0, 0.01)``: the first layer's weights drawn as the AlexNet paper drew all of
  its weights (Section 5), small, so that what the trained kernels show is what training put
  there; the other layers keep He's initialization, which trains at this size.

Kept: the trained weights (``data/results/trained_alexnet.pt``, read back with
``runner.trained_weights``), and, measured on the test images,

* the top-1 and top-5 error (the two figures ILSVRC reports), and the confusion matrix;
* how the first-layer kernels changed: how much of their random start remains (the cosine
  between each kernel before and after training), and the correlation of neighbouring weights
  (a random kernel has none, a smooth pattern such as an edge detector a high one).
"""

from __future__ import annotations

import torch
from torch.nn.functional import cosine_similarity

from course.data import FASHION_MNIST_CLASSES
from course.experiments import architectures
from course.experiments.common import fashion_mnist_32, finished, kept_weights, test_errors
from course.experiments.reporting import Claim, Claims, Report, Table, heading
from course.measure.kernels import hand_made_kernels, neighbour_correlation
from course.measure.predictions import most_confused

NAME = "trained_alexnet"
CLAIM = (
    "A trained CNN's first layer holds smooth patterns, not noise (AlexNet's Figure 3 shows "
    "edges, bars and blobs), and its errors are between classes that look alike."
)
NETWORK = "alexnet_small (1/2)"  # one of architectures.NETWORKS
ARMS = {"He initialization": None, "first layer N(0, 0.01)": 0.01}  # arm -> conv1's weight std
CONFIGS = {
    "fast": dict(train_images=256, test_images=128, epochs=1, batch_size=64, seed=0),
    "live": dict(train_images=5_000, test_images=2_000, epochs=2, batch_size=128, seed=0),
    "reference": dict(train_images=60_000, test_images=10_000, epochs=8, batch_size=128, seed=0),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist_32(config)


def build(arm: str) -> torch.nn.Module:
    """The arm's network, initialized (call ``torch.manual_seed`` first)."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {list(ARMS)}, got {arm!r}")
    model = architectures.build(NETWORK)
    if ARMS[arm] is not None:
        torch.nn.init.normal_(model.conv1.weight, 0.0, ARMS[arm])
    return model


def run_key(arm: str, seed: int) -> str:
    return f"{arm}, seed {seed}"


def stored_run(result: dict, arm: str) -> dict:
    """The run of ``arm`` in ``result``: its history, ``preprocess`` and test figures."""
    return result["runs"][run_key(arm, result["config"]["seed"])]


def trained_model(arm: str) -> torch.nn.Module:
    """The arm's network with the weights its reference run trained, in evaluation mode."""
    from course.experiments.runner import load_results, trained_weights

    model = build(arm)
    seed = load_results(NAME)["config"]["seed"]
    model.load_state_dict(trained_weights(NAME, run_key(arm, seed)))
    return model.eval()


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return [(run_key(arm, config["seed"]), dict(arm=arm, seed=config["seed"])) for arm in ARMS]


def kernel_statistics(weight: torch.Tensor) -> dict:
    """The correlation of neighbouring weights, across (horizontal) and down (vertical)."""
    correlation = neighbour_correlation(weight)
    return {
        "horizontal_correlation": correlation["horizontal"],
        "vertical_correlation": correlation["vertical"],
    }


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = build(settings["arm"])
    at_init = kernel_statistics(model.conv1.weight)
    init_weight = model.conv1.weight.detach().clone()
    history = architectures.train_with_recipe(model, config, settings, data, checkpoint)
    return {
        **settings,
        "history": finished(history),
        "preprocess": history.preprocess,  # a dict: what the model needs to see an image
        "test": test_errors(model, data, history.preprocess),
        "conv1": {
            "initialization": at_init,
            "trained": kernel_statistics(model.conv1.weight),
            "cosine_to_initialization": cosine_similarity(
                model.conv1.weight.detach().flatten(1), init_weight.flatten(1)
            ).tolist(),
        },
        "state_dict": kept_weights(model),
    }


def summarize(result: dict) -> dict:
    """Per arm: test errors, the three most confused pairs, the errors per class, and the
    first-layer kernels before and after training (how much of the start remains, neighbour
    correlation)."""
    seed = result["config"]["seed"]

    def kernels(stats: dict) -> dict:
        return {k: stats[k] for k in ("horizontal_correlation", "vertical_correlation")}

    arms = {}
    for arm in ARMS:
        run = result["runs"][run_key(arm, seed)]
        test = run["test"]
        matrix = torch.tensor(test["confusion"])
        per_class = 1 - matrix.diag() / matrix.sum(1).clamp_min(1)
        cosine = run["conv1"]["cosine_to_initialization"]
        arms[arm] = {
            "test_images": test["images"],
            "top1_error": test["top1_error"],
            "top5_error": test["top5_error"],
            "final_val_acc": run["history"]["val_acc"][-1],
            "class_error": dict(zip(FASHION_MNIST_CLASSES, per_class.tolist(), strict=True)),
            "most_confused": most_confused(matrix, FASHION_MNIST_CLASSES, 3),
            "conv1": {when: kernels(run["conv1"][when]) for when in ("initialization", "trained")},
            "cosine_to_initialization": sum(cosine) / len(cosine),
        }
    return {"arms": arms}


def verdict(summary: dict) -> str:
    parts = []
    for arm, s in summary["arms"].items():
        pair = s["most_confused"][0]
        k = s["conv1"]["trained"]
        parts.append(
            f"{arm}: top-1 error {s['top1_error']:.2%}, top-5 error {s['top5_error']:.2%}; "
            f"mistaken most: {pair['pair'][0]} and {pair['pair'][1]} ({pair['total']} images); "
            f"first-layer kernels {s['cosine_to_initialization']:.2f} cosine to their start, "
            f"neighbour correlation {k['horizontal_correlation']:.2f} (horizontal), "
            f"{k['vertical_correlation']:.2f} (vertical)"
        )
    return "; ".join(parts)


def planned_runs(config: dict) -> int:
    return len(ARMS)


UPPER_BODY = ("T-shirt/top", "Pullover", "Coat", "Shirt")
SHOES = ("Sandal", "Sneaker", "Ankle boot")


def share_within(matrix: list[list[int]], group: tuple[str, ...]) -> dict[str, float]:
    """Per class of ``group``: the share of its errors that went to another class of the group."""
    index = [FASHION_MNIST_CLASSES.index(c) for c in group]
    out = {}
    for c, i in zip(group, index, strict=True):
        wrong = sum(matrix[i]) - matrix[i][i]
        within = sum(matrix[i][j] for j in index) - matrix[i][i]
        out[c] = within / wrong if wrong else 1.0
    return out


def report(result: dict) -> Report:
    """The first-layer kernels before and after training, the test errors, and which classes
    each arm confuses."""
    arms = result["summary"]["arms"]
    sobel = neighbour_correlation(hand_made_kernels()[:2])  # for comparison: smooth patterns
    kernels = Table(
        ("arm", "", "cosine to the start", "neighbours: across", "down"),
        [
            (
                arm if when == "initialization" else "",
                when,
                f"{s['cosine_to_initialization']:.2f}" if when == "trained" else "",
                f"{s['conv1'][when]['horizontal_correlation']:.2f}",
                f"{s['conv1'][when]['vertical_correlation']:.2f}",
            )
            for arm, s in arms.items()
            for when in ("initialization", "trained")
        ]
        + [
            (
                "notebook 01's Sobel pair",
                "hand-made",
                "",
                f"{sobel['horizontal']:.2f}",
                f"{sobel['vertical']:.2f}",
            )
        ],  # fmt: skip
        title="the first layer's kernels",
        align="llrrr",
        note="cosine: between each kernel before and after training, averaged (1: it still "
        "points where it started); neighbours: the correlation of adjacent weights (0: noise).",
    )
    errors = Table(
        ("arm", "top-1 error", "top-5 error", "test accuracy during training"),
        [
            (arm, f"{s['top1_error']:.2%}", f"{s['top5_error']:.2%}", f"{s['final_val_acc']:.4f}")
            for arm, s in arms.items()
        ],  # fmt: skip
        title=f"errors on {next(iter(arms.values()))['test_images']:,} test images",
    )
    arm = list(ARMS)[1]
    pairs = Table(
        ("classes", "images", "first as second", "second as first"),
        [
            (" / ".join(p["pair"]), p["total"], p["a_as_b"], p["b_as_a"])
            for p in arms[arm]["most_confused"]
        ],  # fmt: skip
        title=f"{arm}: the pairs mistaken for each other most often",
    )
    hardest = sorted(arms[arm]["class_error"].items(), key=lambda kv: -kv[1])
    return Report(
        heading(result, "Trained AlexNet"),
        [kernels, errors, pairs],
        [
            f"{arm}: error per class, hardest first: "
            + ", ".join(f"{c} {e:.1%}" for c, e in hardest)
        ],  # fmt: skip
    )


def claims(result: dict) -> Claims:
    """What notebook 03 says about the result (section "What the trained network learned")."""
    from course.experiments.runner import load_results

    he, small = (result["summary"]["arms"][arm] for arm in ARMS)
    seed = result["config"]["seed"]
    ours = result["runs"][run_key(list(ARMS)[0], seed)]["history"]["val_acc"]
    theirs = load_results("architectures")["runs"].get(architectures.run_key(NETWORK, seed), {})
    theirs = theirs.get("history", {}).get("val_acc")

    def largest_correlation(s: dict, when: str) -> float:
        return max(abs(s["conv1"][when]["horizontal_correlation"]),
                   abs(s["conv1"][when]["vertical_correlation"]))  # fmt: skip

    matrix = result["runs"][run_key(list(ARMS)[1], seed)]["test"]["confusion"]
    within = {**share_within(matrix, UPPER_BODY), **share_within(matrix, SHOES)}
    errors = small["class_error"]
    pairs = [p["pair"] for p in small["most_confused"]]
    return Claims(
        [
            Claim(
                "the He arm is notebook 09's stored AlexNet run: the same test accuracy after "
                "every epoch",
                f"last epoch {ours[-1]:.4f}",
                ours == theirs,
            ),
            Claim(
                "at the start both arms' kernels are noise (neighbour correlation near 0)",
                f"at most {max(largest_correlation(s, 'initialization') for s in (he, small)):.2f}",
                max(largest_correlation(s, "initialization") for s in (he, small)) < 0.1,
            ),
            Claim(
                "with He's start, the trained kernels still point almost where they started",
                f"cosine {he['cosine_to_initialization']:.2f}",
                he["cosine_to_initialization"] > 0.9,
            ),
            Claim(
                "with He's start, the trained kernels are as uncorrelated as at the start",
                f"neighbour correlation at most {largest_correlation(he, 'trained'):.2f}",
                largest_correlation(he, "trained") < 0.1,
            ),
            Claim(
                "started small, the trained kernels point elsewhere",
                f"cosine {small['cosine_to_initialization']:.2f}",
                small["cosine_to_initialization"] < 0.6,
            ),
            Claim(
                "started small, the trained kernels' neighbouring weights are correlated: smooth "
                "patterns",
                f"{small['conv1']['trained']['horizontal_correlation']:.2f} across, "
                f"{small['conv1']['trained']['vertical_correlation']:.2f} down",
                min(small["conv1"]["trained"].values()) > 0.3,
            ),
            Claim(
                "both arms end less than half a point apart in test accuracy",
                f"{he['final_val_acc']:.4f} vs {small['final_val_acc']:.4f}",
                abs(he["final_val_acc"] - small["final_val_acc"]) < 0.005,
            ),
            Claim(
                "the float32 top-1 error and the accuracy fit measured differ by a few images",
                f"{1 - small['top1_error']:.4f} vs {small['final_val_acc']:.4f}",
                all(abs(1 - s["top1_error"] - s["final_val_acc"]) <= 1e-3 for s in (he, small)),
            ),
            Claim(
                "shirts are the hardest class",
                f"{errors['Shirt']:.1%} error",
                max(errors, key=errors.get) == "Shirt",
            ),
            Claim(
                "all three pairs mistaken most often have a shirt in them",
                "; ".join(" / ".join(p) for p in pairs),
                len(pairs) == 3 and all("Shirt" in p for p in pairs),
            ),
            Claim(
                "most errors of each upper-body garment and each shoe stay within its group",
                f"at least {min(within.values()):.0%} of a class's errors",
                min(within.values()) > 0.5,
            ),
            Claim(
                "trousers and bags are almost always right (under 2% error)",
                f"{errors['Trouser']:.1%}, {errors['Bag']:.1%}",
                errors["Trouser"] < 0.02 and errors["Bag"] < 0.02,
            ),
        ]
    )
