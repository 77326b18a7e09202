"""Dropout in the fully connected layers (AlexNet paper, Section 4.2), where it over-fits.

The same AlexNet-style network (``alexnet_small``, half width, no LRN) trained on a small
training set for many epochs, with and without dropout 0.5 before fc6 and fc7, three seeds.
Training accuracy is measured as test accuracy is, in evaluation mode (dropout off): the
running accuracy ``fit`` reports during training has dropout on, which lowers it by itself.
No weight decay, so dropout is the only regularizer.
"""

from __future__ import annotations

import torch

from course.experiments.common import fashion_mnist, finished, mean_and_spread
from course.experiments.reporting import Claim, Claims, Report, Table, heading, mean_std
from course.models import get_model
from course.training import evaluate, fit

NAME = "dropout"
CLAIM = (
    "Dropout reduces over-fitting: without it AlexNet's fully connected layers over-fit "
    "substantially (AlexNet paper, Section 4.2)."
)
CONFIGS = {
    "fast": dict(train_images=256, test_images=256, epochs=2, batch_size=64, p=[0.0, 0.5],
                 seeds=[0, 1], width=0.25),
    "live": dict(train_images=2_000, test_images=2_000, epochs=20, batch_size=128,
                 p=[0.0, 0.5], seeds=[0], width=0.5),
    "reference": dict(train_images=3_000, test_images=5_000, epochs=30, batch_size=128,
                      p=[0.0, 0.5], seeds=[0, 1, 2], width=0.5),
}  # fmt: skip


def load_data(config: dict) -> dict:
    return fashion_mnist(config)


def run_key(p: float, seed: int) -> str:
    return f"dropout {p:g}, seed {seed}"


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return [(run_key(p, s), dict(p=p, seed=s)) for s in config["seeds"] for p in config["p"]]


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = get_model("alexnet_small", num_classes=10, in_channels=1, width=config["width"],
                      lrn=False, dropout=settings["p"])  # fmt: skip
    history = fit(
        model, data["train"], data["test"], epochs=config["epochs"],
        batch_size=config["batch_size"], weight_decay=0.0, augment=False, seed=settings["seed"],
        checkpoint=checkpoint, resume=checkpoint.exists(), progress=False,
    )  # fmt: skip
    train_eval = evaluate(model, data["train"], history.preprocess)  # dropout off
    test_eval = evaluate(model, data["test"], history.preprocess)
    return {**settings, "history": finished(history),
            "train_eval": {k: train_eval[k] for k in ("loss", "acc")},
            "test": {k: test_eval[k] for k in ("loss", "acc")}}  # fmt: skip


def summarize(result: dict) -> dict:
    """Per dropout rate, over seeds: final training accuracy (evaluation mode), test accuracy
    and loss, their gap, and the lowest test loss on the way (over-fitting shows as a test loss
    that rises again after its minimum)."""
    config, runs = result["config"], result["runs"]
    out = {}
    for p in config["p"]:
        chosen = [runs[run_key(p, s)] for s in config["seeds"] if run_key(p, s) in runs]
        out[f"{p:g}"] = {
            "train_acc": mean_and_spread([r["train_eval"]["acc"] for r in chosen]),
            "test_acc": mean_and_spread([r["test"]["acc"] for r in chosen]),
            "gap": mean_and_spread([r["train_eval"]["acc"] - r["test"]["acc"] for r in chosen]),
            "test_loss": mean_and_spread([r["test"]["loss"] for r in chosen]),
            "best_test_loss": mean_and_spread([min(r["history"]["val_loss"]) for r in chosen]),
        }
    return out


def verdict(summary: dict) -> str:
    """What the runs say about over-fitting, computed from ``summary``."""
    without, with_ = summary["0"], summary["0.5"]
    gap_change = with_["gap"]["mean"] - without["gap"]["mean"]
    loss_change = with_["test_loss"]["mean"] - without["test_loss"]["mean"]
    return (
        f"gap between training accuracy (evaluation mode) and test accuracy "
        f"{without['gap']['mean']:.3f} without dropout, {with_['gap']['mean']:.3f} with it "
        f"({gap_change:+.3f}); final test loss {without['test_loss']['mean']:.3f} -> "
        f"{with_['test_loss']['mean']:.3f} ({loss_change:+.3f}); test accuracy "
        f"{without['test_acc']['mean']:.3f} -> {with_['test_acc']['mean']:.3f}"
    )


def planned_runs(config: dict) -> int:
    return len(config["p"]) * len(config["seeds"])


def after_the_loss_minimum(result: dict, p: float) -> list[dict]:
    """Per seed at dropout ``p``: the epoch of the lowest test loss, the test accuracy there and
    after the last epoch (over-fitting: does the accuracy fall as the loss climbs again?)."""
    out = []
    for seed in result["config"]["seeds"]:
        run = result["runs"].get(run_key(p, seed))
        if run is None:
            continue
        losses, accs = run["history"]["val_loss"], run["history"]["val_acc"]
        lowest = min(range(len(losses)), key=losses.__getitem__)
        out.append({"seed": seed, "epoch": lowest + 1, "acc_there": accs[lowest],
                    "final_acc": accs[-1]})  # fmt: skip
    return out


def report(result: dict) -> Report:
    """Per dropout rate, over seeds: training and test accuracy (both in evaluation mode), their
    gap, the final and the lowest test loss; per seed without dropout, the test accuracy at the
    lowest test loss and at the end."""
    summary = result["summary"]
    rates = Table(
        ("dropout", "train acc", "test acc", "gap", "final test loss", "lowest test loss"),
        [
            (
                p,
                *(
                    mean_std(s[k])
                    for k in ("train_acc", "test_acc", "gap", "test_loss", "best_test_loss")
                ),
            )
            for p, s in summary.items()
        ],  # fmt: skip
        title="mean ± standard deviation over seeds; accuracies in evaluation mode",
    )
    seeds = Table(
        ("seed", "lowest test loss at epoch", "test acc there", "test acc at the end"),
        [
            (r["seed"], r["epoch"], f"{r['acc_there']:.3f}", f"{r['final_acc']:.3f}")
            for r in after_the_loss_minimum(result, 0.0)
        ],  # fmt: skip
        title="without dropout: the test accuracy after the test loss's lowest point",
    )
    return Report(heading(result, "Dropout"), [rates, seeds], verdict(summary).split("; "))


def claims(result: dict) -> Claims:
    """What notebook 04 says about the result (section "Dropout")."""
    summary = result["summary"]
    no, yes = summary.get("0"), summary.get("0.5")
    if no is None or yes is None:
        return Claims([Claim("both dropout rates were trained", f"rates {list(summary)}", False)])
    later = after_the_loss_minimum(result, 0.0)
    rose = [r["final_acc"] - r["acc_there"] for r in later]
    return Claims(
        [
            Claim(
                "without dropout the network learns the training images by heart",
                f"training accuracy {no['train_acc']['mean']:.3f}",
                no["train_acc"]["mean"] > 0.99,
            ),
            Claim(
                "without dropout the test loss climbs well above its lowest point",
                f"{no['best_test_loss']['mean']:.3f} -> {no['test_loss']['mean']:.3f}",
                no["test_loss"]["mean"] > no["best_test_loss"]["mean"] + 0.1,
            ),
            Claim(
                "without dropout the test accuracy still rises after the test loss's lowest "
                "point, in every seed",
                "by " + ", ".join(f"{d:+.3f}" for d in rose),
                bool(rose) and min(rose) > 0,
            ),
            Claim(
                "with dropout the final test loss stays far lower",
                f"{yes['test_loss']['mean']:.3f} vs {no['test_loss']['mean']:.3f}",
                yes["test_loss"]["mean"] < no["test_loss"]["mean"] - 0.1,
            ),
            Claim(
                "dropout narrows the gap between training and test accuracy",
                f"{no['gap']['mean']:.3f} -> {yes['gap']['mean']:.3f}",
                yes["gap"]["mean"] < no["gap"]["mean"],
            ),
            Claim(
                "the gap narrows mostly because training accuracy falls, not because test accuracy "
                "rises",
                f"{no['train_acc']['mean']:.3f} -> {yes['train_acc']['mean']:.3f}",
                no["train_acc"]["mean"] - yes["train_acc"]["mean"]
                > abs(no["test_acc"]["mean"] - yes["test_acc"]["mean"]),
            ),
            Claim(
                "test accuracy is about the same with and without dropout (within 2 points)",
                f"{no['test_acc']['mean']:.3f} vs {yes['test_acc']['mean']:.3f}",
                abs(yes["test_acc"]["mean"] - no["test_acc"]["mean"]) < 0.02,
            ),
        ]
    )
