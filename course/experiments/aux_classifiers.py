"""GoogLeNet's auxiliary classifiers (Section 5 of its paper), and the gradient they add.

The paper's argument: in a network this deep the gradient reaching the middle layers is weak;
small classifiers on inception (4a) and (4d), whose losses are added with weight 0.3, send a
gradient of their own into the lower blocks and regularize. They are dropped at inference.

The paper's layout (no batch norm; LRN; dropout 0.4 before the classifier, 0.7 in the auxiliary
heads) at a quarter of its width, trained with and without the auxiliary heads: SGD with
momentum 0.9 as in the paper, weight decay 2e-4 (the paper gives none), random crops and
mirroring; the best of a small learning-rate sweep per arm, chosen on held-out training images;
then three seeds; a seed gives both arms the same order of the training images (not the same
weights: building the auxiliary heads draws random numbers before the weights are initialized).
Measured besides accuracy:

* the main classifier's training loss (what the paper's curves would show; ``fit`` records it
  without the auxiliary terms, so the two arms compare);
* the gradient that reaches each block, on a fixed batch, at the start and at the end of
  training: of the main loss alone, and (with the heads) of the whole objective, main loss +
  0.3 x each auxiliary loss. Their ratio is what the auxiliary heads add.

Departures: Fashion-MNIST resized to 32x32 (a 224x224 image reaches (4a) as 14x14, a 32x32 one
as 2x2; the auxiliary heads' 5x5 pooling becomes adaptive); ``fit``'s cosine schedule instead of
"4% lower every 8 epochs"; no Polyak averaging.
"""

from __future__ import annotations

import torch

from course.experiments.common import (
    at_best_lr,
    fashion_mnist_32,
    final_val_error,
    finished,
    mean_and_spread,
    sweep_then_seeds,
    sweep_val_acc,
)
from course.measure.gradients import block_norms, layer_gradient_norms, weighted_layers
from course.models import get_model
from course.training import evaluate, fit
from course.training.loop import AUX_WEIGHT

NAME = "aux_classifiers"
CLAIM = (
    "GoogLeNet's auxiliary classifiers strengthen the gradient that reaches the lower layers "
    "and help the network train (GoogLeNet paper, Section 5)."
)
ARMS = {"with auxiliary heads": dict(aux=True), "without": dict(aux=False)}
BLOCKS = ["conv1", "conv2", "conv3", "inception3a", "inception3b", "inception4a", "inception4b",
          "inception4c", "inception4d", "inception4e", "inception5a", "inception5b"]  # fmt: skip
CONFIGS = {
    "fast": dict(train_images=512, val_images=256, test_images=256, epochs=1, batch_size=64,
                 lrs=[0.02], seeds=[0], width=0.125, probe_images=32),
    "live": dict(train_images=5_000, val_images=1_000, test_images=2_000, epochs=4,
                 batch_size=128, lrs=[0.04], seeds=[0], width=0.25, probe_images=256),
    "reference": dict(train_images=15_000, val_images=5_000, test_images=10_000, epochs=8,
                      batch_size=128, lrs=[0.01, 0.04], seeds=[0, 1, 2], width=0.25,
                      probe_images=512),
}  # fmt: skip


def load_data(config: dict) -> dict:
    data = fashion_mnist_32(config)
    images, labels = data["train"]
    n = config["probe_images"]
    data["probe"] = data["preprocess"].eval_batch(images[:n].clone()), labels[:n]
    return data


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return sweep_then_seeds(config, done, ARMS, final_val_error)


def gradients(model, probe, aux: bool) -> dict:
    """Gradient norm per block on the probe batch: of the main loss, and with auxiliary heads
    of the whole objective (the same dropout masks for both)."""
    weights = {"main": 0.0, "objective": AUX_WEIGHT} if aux else {"main": 0.0}
    device = next(model.parameters()).device
    probe = tuple(t.to(device) for t in probe)
    out = {}
    for name, weight in weights.items():
        torch.manual_seed(1234)
        out[name] = block_norms(layer_gradient_norms(model, *probe, aux_weight=weight), BLOCKS)
    return out


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    torch.manual_seed(settings["seed"])
    model = get_model("googlenet_paper", num_classes=10, in_channels=1, width=config["width"],
                      aux_logits=settings["aux"])  # fmt: skip
    at_start = gradients(model, data["probe"], settings["aux"])
    history = fit(
        model, data["train"], data["val"], epochs=config["epochs"],
        batch_size=config["batch_size"], optimizer="sgd", lr=settings["lr"], weight_decay=2e-4,
        preprocess=data["preprocess"], seed=settings["seed"], checkpoint=checkpoint,
        resume=checkpoint.exists(), progress=False,
    )  # fmt: skip
    model.to(memory_format=torch.contiguous_format)
    at_end = gradients(model, data["probe"], settings["aux"])
    test = evaluate(model, data["test"], data["preprocess"])
    return {**settings, "history": finished(history), "test": {k: test[k] for k in ("loss", "acc")},
            "gradients": {"start": at_start, "end": at_end}}  # fmt: skip


def block_weights(config: dict) -> dict[str, int]:
    """How many weights (of convolutions and linear layers) each block has."""
    model = get_model("googlenet_paper", num_classes=10, in_channels=1, width=config["width"],
                      aux_logits=False)  # fmt: skip
    return {b: sum(m.weight.numel() for _, m in weighted_layers(model.get_submodule(b)))
            for b in BLOCKS}  # fmt: skip


def summarize(result: dict) -> dict:
    """Per arm: the chosen learning rate, the sweep's validation accuracies, test accuracy and
    the main classifier's final training loss over seeds, and per block the main loss's
    gradient per weight (its norm / sqrt(number of weights): blocks of any size compare). With
    the auxiliary heads, per block and over seeds: how many times larger the whole objective's
    gradient is than the main loss's, at the start and at the end of training."""
    config, runs = result["config"], result["runs"]
    weights = block_weights(config)
    arms = {}
    for arm in ARMS:
        lr, chosen = at_best_lr(config, runs, arm, final_val_error)
        arms[arm] = {
            "best_lr": lr,
            "sweep_val_acc": sweep_val_acc(config, runs, arm),
            "test_acc": mean_and_spread([r["test"]["acc"] for r in chosen]),
            "final_train_loss": mean_and_spread([r["history"]["train_loss"][-1] for r in chosen]),
            "main_gradient_rms": {
                when: {b: mean_and_spread([r["gradients"][when]["main"][b] / weights[b] ** 0.5
                                           for r in chosen])["mean"] for b in BLOCKS}
                for when in ("start", "end")
            },
        }  # fmt: skip
    _, with_aux = at_best_lr(config, runs, "with auxiliary heads", final_val_error)
    gain = {}
    for when in ("start", "end"):
        gain[when] = {
            block: mean_and_spread([r["gradients"][when]["objective"][block]
                                    / r["gradients"][when]["main"][block] for r in with_aux])
            for block in BLOCKS
        }  # fmt: skip
    difference = (
        arms["with auxiliary heads"]["test_acc"]["mean"] - arms["without"]["test_acc"]["mean"]
    )
    return {"arms": arms, "aux_minus_without": difference, "gradient_gain": gain}


def verdict(summary: dict) -> str:
    """Accuracy and the gradient the auxiliary heads add, from ``summary``."""
    arms, gain = summary["arms"], summary["gradient_gain"]
    with_, without = arms["with auxiliary heads"], arms["without"]
    return (
        f"test accuracy {with_['test_acc']['mean']:.4f} with the auxiliary heads, "
        f"{without['test_acc']['mean']:.4f} without ({summary['aux_minus_without']:+.4f}); "
        f"with them the gradient reaching inception (3a) is "
        f"{gain['start']['inception3a']['mean']:.2f}x as large at the start of training and "
        f"{gain['end']['inception3a']['mean']:.2f}x at the end; after (4d) it is unchanged "
        f"({gain['end']['inception5b']['mean']:.2f}x at (5b))"
    )
