"""GoogLeNet's auxiliary classifiers (Section 5 of its paper), and the gradient they add.

The paper's argument: in a network this deep the gradient reaching the middle layers is weak;
small classifiers on inception (4a) and (4d), whose losses are added with weight 0.3, send a
gradient of their own into the lower blocks and regularize. They are dropped at inference.

The paper's layout (no batch norm; LRN; dropout 0.4 before the classifier, 0.7 in the auxiliary
heads) at a quarter of its width, trained with and without the auxiliary heads: SGD with
momentum 0.9 as in the paper, weight decay 2e-4 (the paper gives none), random crops and
mirroring; the best of a learning-rate sweep per arm (0.01 to 0.08: an earlier sweep of 0.01
and 0.04 chose its top for both arms), chosen on held-out training images; then five seeds, so
that "ahead in every seed" could not happen one time in eight by chance alone but one in 32; a
seed gives both arms the same order of the training images (not the same weights: building the
auxiliary heads draws random numbers before the weights are initialized). 12 epochs: at 8 both
arms still gained about a point of held-out accuracy in the last epoch.
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

import math

import torch

from course.experiments.common import (
    at_best_lr,
    fashion_mnist_32,
    final_val_error,
    finished,
    mean_and_spread,
    sweep_key,
    sweep_then_seeds,
    sweep_then_seeds_runs,
    sweep_val_acc,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, mean_std
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
    "reference": dict(train_images=15_000, val_images=5_000, test_images=10_000, epochs=12,
                      batch_size=128, lrs=[0.01, 0.02, 0.04, 0.08], seeds=[0, 1, 2, 3, 4],
                      width=0.25, probe_images=512),
}  # fmt: skip


def load_data(config: dict) -> dict:
    data = fashion_mnist_32(config)
    images, labels = data["train"]
    n = config["probe_images"]
    data["probe"] = data["preprocess"].eval_batch(images[:n].clone()), labels[:n]
    return data


def run_key(arm: str, lr: float, seed: int) -> str:
    """The key of a run of ``arm`` ("with auxiliary heads" or "without") in a result's runs."""
    return sweep_key(arm, lr, seed)


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    return sweep_then_seeds(config, done, ARMS, final_val_error)


def planned_runs(config: dict) -> int:
    return sweep_then_seeds_runs(config, ARMS)


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


def chosen_runs(result: dict, arm: str) -> tuple[float, dict[int, dict]]:
    """An arm's chosen learning rate (the sweep's best, as summarized) and its runs there, by
    seed (the seeds that ran)."""
    lr = result["summary"]["arms"][arm]["best_lr"]
    runs = result["runs"]
    return lr, {s: runs[run_key(arm, lr, s)] for s in result["config"]["seeds"]
                if run_key(arm, lr, s) in runs}  # fmt: skip


def seed_by_seed(result: dict) -> list[dict]:
    """Per seed both arms ran at their chosen learning rates: the test accuracy of each arm and
    their difference (with minus without), and the held-out accuracy after the first epoch."""
    (_, with_), (_, without) = (chosen_runs(result, arm) for arm in ARMS)
    rows = []
    for seed in with_.keys() & without.keys():
        a, b = with_[seed], without[seed]
        test = a["test"]["acc"], b["test"]["acc"]
        first = a["history"]["val_acc"][0], b["history"]["val_acc"][0]
        rows.append({"seed": seed, "test": test, "difference": test[0] - test[1], "epoch_1": first})
    return sorted(rows, key=lambda r: r["seed"])


def sign_test(differences: list[float]) -> float | None:
    """One-sided sign test: the chance of at least this many positive differences out of n, if
    each were as likely to be positive as negative (None: no differences)."""
    n, ahead = len(differences), sum(d > 0 for d in differences)
    if not n:
        return None
    return sum(math.comb(n, k) for k in range(ahead, n + 1)) / 2**n


def premise(summary: dict) -> dict[str, float | None]:
    """Without the auxiliary heads, how many times larger the main loss's gradient per weight is
    in inception (3a) than in (5b), at the start and at the end of training (None: no gradient
    reached (5b))."""
    rms = summary["arms"]["without"]["main_gradient_rms"]
    return {when: rms[when]["inception3a"] / rms[when]["inception5b"]
            if rms[when]["inception5b"] else None for when in ("start", "end")}  # fmt: skip


def _short(block: str) -> str:
    return block.replace("inception", "")


def report(result: dict) -> Report:
    """The two arms at their chosen learning rates: the sweep, test accuracy and the main
    classifier's training loss; the test accuracy seed by seed; and per block how many times
    larger the gradient is with the auxiliary losses, at the start and at the end of training."""
    summary = result["summary"]
    arms, gain = summary["arms"], summary["gradient_gain"]
    n = len(result["config"]["seeds"])
    rates = "/".join(arms["without"]["sweep_val_acc"])
    both = Table(
        ("", f"held-out, lr {rates}", "test accuracy", "training loss (main)"),
        [
            (
                arm,
                " ".join(f"{acc:.3f}" for acc in s["sweep_val_acc"].values()),
                mean_std(s["test_acc"], ".4f"),
                mean_std(s["final_train_loss"]),
            )
            for arm, s in arms.items()
        ],  # fmt: skip
        title="the two arms, each at its best learning rate",
        note=f"Held-out accuracy: after the last epoch, first seed, at each learning rate of the "
        f"sweep. Test accuracy (at the arm's best rate) and the main "
        f"classifier's final training loss: mean ± standard deviation over {n} "
        f"seed{'s' if n != 1 else ''}.",
    )
    rows = [(f"seed {r['seed']}", *(f"{a:.4f}" for a in r["test"]), f"{r['difference']:+.4f}",
             *(f"{a:.4f}" for a in r["epoch_1"])) for r in seed_by_seed(result)]  # fmt: skip
    seeds = Table(
        ("", "test: with heads", "without", "difference", "epoch 1: with heads", "without"),
        rows,
        title="seed by seed (a seed gives both arms the same order of the training images)",
        note="Test accuracy after the last epoch, with minus without; held-out accuracy after "
        "the first epoch.",
    )
    gradient = Table(
        ("", *(_short(b) for b in BLOCKS)),
        [(when, *(fmt(gain[when][b]["mean"]) for b in BLOCKS)) for when in ("start", "end")],
        title="gradient of the whole objective / of the main loss alone, per block",
        note="Mean over seeds, at the start and at the end of training. 1.000: the auxiliary "
        "losses add nothing there.",
    )
    ratio = premise(summary)
    lines = verdict(summary).split("; ")
    lines.append(
        f"without the heads the main loss's gradient per weight is {fmt(ratio['start'], '.1f')}x "
        f"as large in (3a) as in (5b) at the start of training, {fmt(ratio['end'], '.1f')}x at "
        f"the end"
    )
    return Report(heading(result, "GoogLeNet's auxiliary classifiers"), [both, seeds, gradient],
                  lines)  # fmt: skip


def last_epoch_gains(result: dict) -> list[float]:
    """How much each chosen run's held-out accuracy rose in its last epoch (both arms, every
    seed): near 0 means the budget let the accuracy settle."""
    curves = [run["history"]["val_acc"] for arm in ARMS
              for run in chosen_runs(result, arm)[1].values()]  # fmt: skip
    return [curve[-1] - curve[-2] for curve in curves if len(curve) > 1]


def claims(result: dict) -> Claims:
    """What notebook 06 says about the result (section 3, "Auxiliary classifiers")."""
    summary, config = result["summary"], result["config"]
    arms, gain = summary["arms"], summary["gradient_gain"]
    with_, without = arms["with auxiliary heads"], arms["without"]
    seeds = seed_by_seed(result)
    n = len(config["seeds"])
    differences = [r["difference"] for r in seeds]
    p = sign_test(differences)
    mean = summary["aux_minus_without"]
    (_, with_runs), (_, without_runs) = (chosen_runs(result, arm) for arm in ARMS)
    losses = [(with_runs[s]["history"]["train_loss"][-1],
               without_runs[s]["history"]["train_loss"][-1]) for s in with_runs
              if s in without_runs]  # fmt: skip
    loss = with_["final_train_loss"]["mean"], without["final_train_loss"]["mean"]
    behind = sum(a < b for a, b in (r["epoch_1"] for r in seeds))
    settled = last_epoch_gains(result)
    start = [gain["start"][b]["mean"] for b in BLOCKS]
    below = [gain["end"][b]["mean"] for b in BLOCKS[: BLOCKS.index("inception4a") + 1]]
    between = [gain["end"][b]["mean"] for b in ("inception4b", "inception4c", "inception4d")]
    above = [gain[w][b]["mean"] for w in ("start", "end")
             for b in BLOCKS[BLOCKS.index("inception4e"):]]  # fmt: skip
    ratio = premise(summary)

    def inside(arm: str) -> bool:
        sweep = {float(lr): acc for lr, acc in arms[arm]["sweep_val_acc"].items()}
        rates, best = sorted(sweep), arms[arm]["best_lr"]
        i = rates.index(best)
        return 0 < i < len(rates) - 1 and sweep[rates[i - 1]] < sweep[best] > sweep[rates[i + 1]]

    return Claims(
        [
            Claim(
                "each arm's best learning rate lies inside the sweep: the rates on either side "
                "end lower",
                f"with the heads {with_['best_lr']:g}, without {without['best_lr']:g}, of "
                f"{', '.join(f'{lr:g}' for lr in config['lrs'])}",
                all(inside(arm) for arm in ARMS),
            ),
            Claim(
                f"with the auxiliary heads the test accuracy is ahead in each of the {n} seeds",
                "with minus without " + ", ".join(f"{d:+.4f}" for d in differences),
                len(differences) == n == 5 and all(d > 0 for d in differences),
            ),
            Claim(
                "five seeds out of five in favour happen one time in 32 by chance alone, if the "
                "heads made no difference (a one-sided sign test)",
                f"p = {fmt(p)}",
                p == 1 / 32,
            ),
            Claim(
                "the heads are ahead by 0.7 points on average, between 0.2 and 1.9 points by "
                "seed: a small gain",
                f"{with_['test_acc']['mean']:.4f} - {without['test_acc']['mean']:.4f} = "
                f"{mean:+.4f}; by seed {min(differences):+.4f} to {max(differences):+.4f}",
                round(100 * mean, 1) == 0.7
                and (round(100 * min(differences), 1), round(100 * max(differences), 1))
                == (0.2, 1.9),
            ),
            Claim(
                "the main classifier's own training loss ends lower with the heads, in every "
                "seed (0.47 against 0.51 on average)",
                "; ".join(f"{a:.3f} vs {b:.3f}" for a, b in losses),
                len(losses) == n
                and all(a < b for a, b in losses)
                and [round(v, 2) for v in loss] == [0.47, 0.51],
            ),
            Claim(
                "after the first epoch the network with the heads is behind on held-out images "
                "in 4 of the 5 seeds",
                "; ".join(f"{a:.4f} vs {b:.4f}" for a, b in (r["epoch_1"] for r in seeds)),
                len(seeds) == 5 and behind == 4,
            ),
            Claim(
                "in its last epoch no run's held-out accuracy rose by more than 0.6 points: the "
                "budget lets it settle",
                f"largest rise {max(settled, default=float('nan')):+.4f}",
                len(settled) == 2 * n and max(settled) < 0.006,
            ),
            Claim(
                "at the start of training the auxiliary losses add at most 3% to any block's "
                "gradient",
                f"at most {max(start):.3f}x",
                round(max(start), 2) <= 1.03,
            ),
            Claim(
                "by the end they add about a third to a half to every block up to (4a) "
                "(1.35x to 1.47x)",
                f"{min(below):.3f}x to {max(below):.3f}x",
                round(min(below), 2) == 1.35 and round(max(below), 2) == 1.47,
            ),
            Claim(
                "they add less, but still some, to the blocks between the two heads, (4b) to (4d)",
                ", ".join(f"{g:.3f}x" for g in between),
                all(1.01 < g < min(below) for g in between),
            ),
            Claim(
                "they add exactly nothing to the blocks after (4d), at the start and at the end",
                ", ".join(f"{g:.6f}" for g in above),
                all(round(g, 6) == 1 for g in above),
            ),
            Claim(
                "without the heads the main loss's gradient per weight is 3.0x as large in (3a) "
                "as in (5b) at the start of training, 5.8x at the end",
                f"{fmt(ratio['start'], '.2f')}x and {fmt(ratio['end'], '.2f')}x",
                None not in ratio.values()
                and (round(ratio["start"], 1), round(ratio["end"], 1)) == (3.0, 5.8),
            ),
        ]
    )
