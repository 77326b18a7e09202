"""ReLU vs tanh, set up as the AlexNet paper did (Section 3.1, Figure 1).

The paper: a four-layer CNN with ReLUs reached 25% training error on CIFAR-10 six times faster
than the same network with tanh. Its setting, kept here: no normalization layers, SGD with
momentum 0.9, no weight decay (the figure's runs had none), each network with the learning rate
that suits it best (we take the best of a small sweep, as the paper says it did), and the inputs
as AlexNet saw them: pixels on the 0-255 scale with only the mean subtracted. Two
initializations: the paper's N(0, 0.01) with zero biases, and a modern one (He for ReLU,
Glorot for tanh). We count epochs to 25% training error, over three seeds, and measure why:
the fraction of units that pass no gradient (tanh saturated, ReLU at zero), layer by layer.

Departures: Fashion-MNIST (28x28 grey) instead of CIFAR-10; ``fit``'s cosine decay of the
learning rate instead of a constant one; one epoch here is a few thousand images.
"""

from __future__ import annotations

import torch
from torch import nn

from course.experiments.common import best_lr as common_best_lr
from course.experiments.common import (
    fashion_mnist,
    finished,
    mean_and_spread,
    sweep_key,
    sweep_then_seeds,
    sweep_then_seeds_runs,
)
from course.experiments.reporting import Claim, Claims, Report, Table, fmt, heading, per_seed
from course.measure.activations import layer_profile
from course.models.plain_cnn import four_layer_cnn
from course.training import Preprocess, TrainingDiverged, fit

NAME = "relu_vs_tanh"
CLAIM = (
    "A four-layer CNN with ReLUs reaches 25% training error several times sooner than the same "
    "network with tanh (six times on CIFAR-10 in the AlexNet paper's Figure 1)."
)
ARMS = [(activation, init) for init in ("2012", "modern") for activation in ("relu", "tanh")]
CONFIGS = {
    "fast": dict(train_images=256, test_images=128, epochs=2, batch_size=64, lrs=[0.003],
                 seeds=[0, 1], target_error=0.25, probe_images=64),
    "live": dict(train_images=5_000, test_images=2_000, epochs=6, batch_size=64,
                 lrs=[0.001, 0.01], seeds=[0], target_error=0.25, probe_images=256),
    "reference": dict(train_images=5_000, test_images=2_000, epochs=12, batch_size=64,
                      lrs=[0.0003, 0.001, 0.003, 0.01, 0.03], seeds=[0, 1, 2], target_error=0.25,
                      probe_images=256),
}  # fmt: skip


def load_data(config: dict) -> dict:
    data = fashion_mnist(config)
    images = data["train"][0]
    mean = round(images[:10_000].float().mean().item() / 255, 4)
    # AlexNet's input: the mean subtracted, values left on the 0-255 scale (std = 1/255)
    data["preprocess"] = Preprocess((mean,), (1 / 255,))
    return data


def initialize(model: nn.Module, init: str, activation: str) -> nn.Module:
    """'2012': weights N(0, 0.01), biases 0; 'modern': He (ReLU) or Glorot (tanh) normal."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if init == "2012":
                nn.init.normal_(m.weight, 0.0, 0.01)
            elif activation == "relu":
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_normal_(m.weight, gain=nn.init.calculate_gain("tanh"))
            nn.init.zeros_(m.bias)
    return model


def arm_key(activation: str, init: str) -> str:
    return f"{activation}, {init} init"


def run_key(activation: str, init: str, lr: float, seed: int) -> str:
    return sweep_key(arm_key(activation, init), lr, seed)


def plan(config: dict, done: dict) -> list[tuple[str, dict]]:
    """First the learning-rate sweep on the first seed; then the other seeds at each arm's
    best learning rate."""
    arms = {arm_key(a, i): dict(activation=a, init=i) for a, i in ARMS}
    return sweep_then_seeds(config, done, arms, lambda run: sweep_score(run, config))


def planned_runs(config: dict) -> int:
    return sweep_then_seeds_runs(config, ARMS)


def sweep_score(run: dict, config: dict) -> tuple[float, float]:
    """Lower is better: epochs to the target training error (inf: diverged or not within the
    budget), then the final training error."""
    if run.get("diverged"):
        return float("inf"), float("inf")
    hit = epochs_to_error(run, config["target_error"])
    return float("inf") if hit is None else float(hit), 1 - run["history"]["train_acc"][-1]


def best_lr(config: dict, done: dict, activation: str, init: str) -> float:
    """The sweep's best learning rate: fewest epochs to the target, then lowest final error."""
    return common_best_lr(config, done, arm_key(activation, init),
                          lambda run: sweep_score(run, config))  # fmt: skip


def train(config: dict, settings: dict, data: dict, checkpoint) -> dict:
    activation, init = settings["activation"], settings["init"]
    torch.manual_seed(settings["seed"])
    model = initialize(four_layer_cnn(activation), init, activation)
    prep = data["preprocess"]
    probe = data["train"][0][: config["probe_images"]]
    probe = prep.eval_batch(probe), data["train"][1][: config["probe_images"]]
    at_init = layer_profile(model, type(model[1]), *probe, activation)
    try:
        history = fit(
            model, data["train"], data["test"], epochs=config["epochs"],
            batch_size=config["batch_size"], optimizer="sgd", lr=settings["lr"], weight_decay=0.0,
            warmup_epochs=0, max_grad_norm=None, augment=False, preprocess=prep,
            seed=settings["seed"], checkpoint=checkpoint, resume=checkpoint.exists(),
            progress=False,
        )  # fmt: skip
    except TrainingDiverged as error:
        return {**settings, "diverged": True, "error": str(error), "at_init": at_init}
    model.float().to("cpu", memory_format=torch.contiguous_format)
    at_end = layer_profile(model, type(model[1]), *probe, activation)
    return {**settings, "history": finished(history), "at_init": at_init, "at_end": at_end}


LEVELS = (0.25, 0.15, 0.10)  # training errors: the paper's target, then harder ones


def epochs_to_error(run: dict, error: float) -> int | None:
    """The first epoch whose training error is at most ``error`` (None: diverged or never)."""
    if run.get("diverged"):
        return None
    accuracies = run["history"]["train_acc"]
    return next((e for e, a in enumerate(accuracies, 1) if 1 - a <= error), None)


def summarize(result: dict) -> dict:
    """Per arm, at its best learning rate: epochs to each error in ``LEVELS`` per seed and their
    mean (None unless every seed got there), the final training error per seed, and the share
    of units passing no gradient (tanh saturated, ReLU at zero) per layer, at the start and at
    the end (first seed). Per initialization and level: how many times sooner ReLU got there."""
    config, runs = result["config"], result["runs"]
    arms = {}
    for a, i in ARMS:
        lr = best_lr(config, runs, a, i)
        chosen = [runs[run_key(a, i, lr, s)] for s in config["seeds"]
                  if run_key(a, i, lr, s) in runs]  # fmt: skip
        epochs = {f"{level:g}": [epochs_to_error(r, level) for r in chosen] for level in LEVELS}
        arms[arm_key(a, i)] = {
            "best_lr": lr,
            "seeds": len(chosen),
            "diverged": sum(bool(r.get("diverged")) for r in chosen),
            "epochs_to": epochs,
            "mean_epochs_to": {
                level: (mean_and_spread(e)["mean"] if None not in e else None)
                for level, e in epochs.items()
            },
            "final_train_error": [
                None if r.get("diverged") else 1 - r["history"]["train_acc"][-1] for r in chosen
            ],  # fmt: skip
            "blocked_at_start": chosen[0]["at_init"]["saturated"],
            "blocked_at_end": chosen[0].get("at_end", {}).get("saturated"),
        }
    speedup = {}
    for init in ("2012", "modern"):
        relu, tanh = arms[arm_key("relu", init)], arms[arm_key("tanh", init)]
        speedup[init] = {}
        for level in relu["mean_epochs_to"]:
            r, t = relu["mean_epochs_to"][level], tanh["mean_epochs_to"][level]
            speedup[init][level] = t / r if r is not None and t is not None else None
    return {"arms": arms, "relu_speedup": speedup}


def verdict(summary: dict) -> str:
    """One sentence per initialization, computed from ``summary``."""
    parts = []
    for init in ("2012", "modern"):
        relu, tanh = (summary["arms"][arm_key(a, init)] for a in ("relu", "tanh"))
        said = []
        for level, times in summary["relu_speedup"][init].items():
            r, t = relu["mean_epochs_to"][level], tanh["mean_epochs_to"][level]
            target = f"{float(level):.0%}"
            if times is not None:
                said.append(f"to {target} ReLU took {r:.1f} epochs, tanh {t:.1f} ({times:.1f}x)")
            elif r is None and t is None:
                said.append(f"neither reached {target} in every run")
            else:
                said.append(f"only {'ReLU' if t is None else 'tanh'} reached {target} in every run")
        parts.append(f"{init} initialization: " + "; ".join(said))
    return ". ".join(parts) + "."


def diverged_lrs(result: dict) -> dict[str, list[float]]:
    """Per arm, the learning rates of the sweep (first seed) whose loss became infinite."""
    config, runs = result["config"], result["runs"]
    first = config["seeds"][0]
    lost = {}
    for a, i in ARMS:
        tried = [runs.get(run_key(a, i, lr, first), {}) for lr in config["lrs"]]
        rates = [lr for lr, run in zip(config["lrs"], tried, strict=True) if run.get("diverged")]
        if rates:
            lost[arm_key(a, i)] = rates
    return lost


def report(result: dict) -> Report:
    """Epochs to each training error per seed at each network's best learning rate, the final
    training errors, and the share of units passing no gradient before and after training."""
    arms = result["summary"]["arms"]

    levels = [f"{level:g}" for level in LEVELS]
    speed = Table(
        ("network", "best lr", *(f"to {float(v):.0%}" for v in levels), "final error"),
        [
            (
                arm,
                f"{s['best_lr']:g}",
                *(per_seed(s["epochs_to"][v]) for v in levels),
                per_seed(s["final_train_error"], ".3f"),
            )
            for arm, s in arms.items()
        ],  # fmt: skip
        title="epochs to a training error, one number per seed",
        note=f"'-': not within {result['config']['epochs']} epochs (or diverged).",
    )
    blocked = Table(
        ("network", "conv layers 1-3 at the start", "after training"),
        [
            (
                arm,
                per_seed(s["blocked_at_start"], ".2f"),
                per_seed(s["blocked_at_end"], ".2f") if s["blocked_at_end"] else "diverged",
            )
            for arm, s in arms.items()
        ],  # fmt: skip
        title="share of units passing no gradient, first seed",
        note="tanh: derivative below 10% of its maximum; ReLU: input at or below 0.",
    )
    lost = [f"{arm} diverged at learning rate {', '.join(f'{lr:g}' for lr in rates)}"
            for arm, rates in diverged_lrs(result).items()]  # fmt: skip
    lines = verdict(result["summary"]).rstrip(".").split(". ")
    return Report(
        heading(result, "ReLU vs tanh"),
        [speed, blocked],
        [*lines, *([f"In the sweep: {'; '.join(lost)}."] if lost else [])],
    )


def claims(result: dict) -> Claims:
    """What notebook 04 says about the result (section "ReLU vs tanh")."""
    arms = result["summary"]["arms"]
    speed = result["summary"]["relu_speedup"]["2012"]
    relu, tanh = arms[arm_key("relu", "2012")], arms[arm_key("tanh", "2012")]
    stuck = arms[arm_key("relu", "modern")]
    finals = [e for e in stuck["final_train_error"] if e is not None]

    def times(level):
        return speed[level] is not None and speed[level] >= 1.5

    # each activation at the initialization it trains best with: ReLU 2012's, tanh the modern one
    best_tanh = arms[arm_key("tanh", "modern")]
    r15, t15 = relu["mean_epochs_to"]["0.15"], best_tanh["mean_epochs_to"]["0.15"]
    best_speed = t15 / r15 if r15 and t15 else None
    relu_final = [e for e in relu["final_train_error"] if e is not None]
    tanh_final = [e for e in best_tanh["final_train_error"] if e is not None]

    top = max(result["config"]["lrs"])
    trained = {arm: s["best_lr"] for arm, s in arms.items() if arm != arm_key("relu", "modern")}
    return Claims(
        [
            Claim(
                "every arm that trains has its best learning rate below the top of the sweep "
                "(the sweep brackets it)",
                ", ".join(f"{arm} {lr:g}" for arm, lr in trained.items()) + f"; top {top:g}",
                all(lr < top for lr in trained.values()),
            ),
            Claim(
                "2012 init: to the paper's 25% training error both arrive in the same epoch",
                f"ReLU {fmt(speed['0.25'], '.1f')}x sooner",
                speed["0.25"] == 1.0,
            ),
            Claim(
                "2012 init: to 15% ReLU needs at most two thirds of tanh's epochs",
                f"{fmt(speed['0.15'], '.1f')}x",
                times("0.15"),
            ),
            Claim(
                "2012 init: to 10% ReLU is as clearly sooner, or tanh does not get there in "
                "every seed",
                f"{speed['0.1']:.1f}x"
                if speed["0.1"]
                else f"tanh: {per_seed(tanh['epochs_to']['0.1'])}",
                times("0.1") or tanh["mean_epochs_to"]["0.1"] is None,
            ),
            Claim(
                "2012 init: ReLU reaches 10% in every seed",
                f"epochs {per_seed(relu['epochs_to']['0.1'])}",
                None not in relu["epochs_to"]["0.1"],
            ),
            Claim(
                "each at its best initialization (ReLU 2012's, tanh the modern one), ReLU still "
                "reaches 15% sooner, but by less than at the same initialization",
                f"{fmt(best_speed, '.2f')}x vs {fmt(speed['0.15'], '.1f')}x",
                best_speed is not None and 1 < best_speed < (speed["0.15"] or 0),
            ),
            Claim(
                "tanh with the modern initialization ends with about the same training error as "
                "ReLU with 2012's: the seeds' ranges overlap, the means within half a point",
                f"{per_seed(tanh_final, '.3f')} vs {per_seed(relu_final, '.3f')}",
                bool(tanh_final and relu_final)
                and max(tanh_final) >= min(relu_final)
                and max(relu_final) >= min(tanh_final)
                and abs(sum(tanh_final) / len(tanh_final) - sum(relu_final) / len(relu_final))
                < 0.005,
            ),
            Claim(
                "fed 0-255 inputs, most of tanh's first layer is saturated from the start",
                f"{tanh['blocked_at_start'][0]:.2f} of its units",
                tanh["blocked_at_start"][0] > 0.5,
            ),
            Claim(
                "modern init: the ReLU network never reaches 25% training error",
                f"epochs {per_seed(stuck['epochs_to']['0.25'])}",
                all(e is None for e in stuck["epochs_to"]["0.25"]),
            ),
            Claim(
                "modern init: its training error stays near chance (above 0.8) in every seed",
                "final errors " + ", ".join(f"{e:.3f}" for e in finals),
                len(finals) == stuck["seeds"] and min(finals) > 0.8,
            ),
            Claim(
                "modern init: its last convolution ends with (almost) every unit at zero",
                f"{fmt((stuck['blocked_at_end'] or [None])[-1], '.2f')} of its units",
                bool(stuck["blocked_at_end"]) and stuck["blocked_at_end"][-1] > 0.95,
            ),
        ]
    )
