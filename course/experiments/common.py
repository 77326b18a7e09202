"""What the experiments share: their data, and a finished run as plain data."""

from __future__ import annotations

import math

from course.data import load_fashion_mnist
from course.training import History, Preprocess, TrainingDiverged, evaluate, fit


def fashion_mnist(config: dict) -> dict:
    """The first ``train_images`` training and ``test_images`` test images of Fashion-MNIST
    (the set is shuffled), and where they came from. With ``val_images``, that many more
    training images, the ones after the training images, are held out as "val" (to choose a
    learning rate without looking at the test set)."""
    train = load_fashion_mnist("train", verbose=False)
    test = load_fashion_mnist("test", verbose=False)
    n_train = min(config["train_images"], len(train))
    n_val = min(config.get("val_images", 0), len(train) - n_train)
    n_test = min(config["test_images"], len(test))
    held_out = f", {n_val:,} training images held out for validation" if n_val else ""
    data = {
        "train": (train.images[:n_train], train.labels[:n_train]),
        "test": (test.images[:n_test], test.labels[:n_test]),
        "source": f"Fashion-MNIST, {train.source}: {n_train:,} training and {n_test:,} test "
        f"images{held_out}",
    }
    if n_val:
        data["val"] = (
            train.images[n_train : n_train + n_val],
            train.labels[n_train : n_train + n_val],
        )
    return data


def fashion_mnist_32(config: dict) -> dict:
    """``fashion_mnist(config)`` with the ``preprocess`` of the networks that need larger images:
    resized to 32x32, and in training a random 32x32 crop of the image padded by 4 pixels,
    mirrored half of the time; normalized with the first 10,000 training images' statistics."""
    data = fashion_mnist(config)
    images = data["train"][0][:10_000]
    data["preprocess"] = Preprocess.for_images(images, size=32, crop=32, pad=4, flip=True)
    return data


def finished(history: History) -> dict:
    """The history as plain data; an interrupted run is not a finished one (the runner keeps
    its checkpoint, and the next run resumes it)."""
    if history.interrupted:
        raise KeyboardInterrupt
    return history.to_dict()


def test_errors(model, data: dict, preprocess: dict) -> dict:
    """``model``'s top-1 and top-5 error and confusion matrix on ``data["test"]``, each image
    seen as ``preprocess`` shows a test image (float32, evaluation mode)."""
    from course.measure.predictions import class_scores, confusion_matrix, top_k_error

    images, labels = data["test"]
    scores = class_scores(model, images, preprocess)
    return {
        "images": len(labels),
        "top1_error": top_k_error(scores, labels, 1),
        "top5_error": top_k_error(scores, labels, 5),
        "confusion": confusion_matrix(scores.argmax(1), labels, scores.shape[1]).tolist(),
    }


def kept_weights(model) -> dict:
    """The trained weights as a run returns them to be kept (``runner``: ``NAME.pt``)."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def network_seed_key(network: str, seed: int) -> str:
    return f"{network}, seed {seed}"


def every_network_and_seed(config: dict, networks) -> list[tuple[str, dict]]:
    """A plan (see ``runner``): each of ``networks`` once per seed, seed by seed."""
    return [(network_seed_key(n, s), dict(network=n, seed=s))
            for s in config["seeds"] for n in networks]  # fmt: skip


def sgd_run(model, config: dict, settings: dict, data: dict, checkpoint, **fit_options) -> dict:
    """One run of a learning-rate experiment: ``fit`` with SGD at ``settings["lr"]`` on
    ``data["train"]``, the held-out ``data["val"]`` measured after every epoch, then the test
    loss and accuracy. A loss that became NaN or infinite is recorded as diverged."""
    try:
        history = fit(
            model, data["train"], data["val"], epochs=config["epochs"],
            batch_size=config["batch_size"], optimizer="sgd", lr=settings["lr"],
            seed=settings["seed"], checkpoint=checkpoint, resume=checkpoint.exists(),
            progress=False, **fit_options,
        )  # fmt: skip
    except TrainingDiverged as error:
        return {**settings, "diverged": True, "error": str(error)}
    test = evaluate(model, data["test"], history.preprocess)
    return {**settings, "history": finished(history), "test": {k: test[k] for k in ("loss", "acc")}}


def mean_and_spread(values: list[float]) -> dict:
    """Mean and (sample) standard deviation; the spread is 0 for one value."""
    n = len(values)
    mean = sum(values) / n
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": spread, "n": n}


def final_val_error(run: dict) -> float:
    """A sweep score (lower is better): the held-out error after the last epoch."""
    return 1 - run["history"]["val_acc"][-1]


def sweep_key(arm: str, lr: float, seed: int) -> str:
    return f"{arm}, lr {lr:g}, seed {seed}"


def sweep_then_seeds(config: dict, done: dict, arms: dict[str, dict], score) -> list:
    """A plan (see ``runner``): first every arm at every learning rate in ``config["lrs"]`` on
    the first seed; then the other seeds at each arm's best learning rate (``best_lr``).
    ``arms`` maps an arm's name to its settings; a run's settings add "lr" and "seed"."""
    first, others = config["seeds"][0], config["seeds"][1:]
    sweep = [(sweep_key(arm, lr, first), {**settings, "lr": lr, "seed": first})
             for arm, settings in arms.items() for lr in config["lrs"]]  # fmt: skip
    if any(key not in done for key, _ in sweep):
        return sweep
    todo = []
    for arm, settings in arms.items():
        lr = best_lr(config, done, arm, score)
        todo += [(sweep_key(arm, lr, s), {**settings, "lr": lr, "seed": s}) for s in others]
    return todo


def sweep_then_seeds_runs(config: dict, arms) -> int:
    """How many runs ``sweep_then_seeds`` plans in all: the sweep, then the other seeds."""
    return len(arms) * (len(config["lrs"]) + len(config["seeds"]) - 1)


def best_lr(config: dict, runs: dict, arm: str, score) -> float:
    """The learning rate whose first-seed run of ``arm`` has the lowest ``score(run)`` (then the
    lowest learning rate)."""
    first = config["seeds"][0]
    return min(config["lrs"], key=lambda lr: (score(runs[sweep_key(arm, lr, first)]), lr))


def at_best_lr(config: dict, runs: dict, arm: str, score) -> tuple[float, list[dict]]:
    """An arm's best learning rate and its finished runs there, one per seed."""
    lr = best_lr(config, runs, arm, score)
    keys = [sweep_key(arm, lr, s) for s in config["seeds"]]
    return lr, [runs[k] for k in keys if k in runs]


def sweep_val_acc(config: dict, runs: dict, arm: str) -> dict[str, float]:
    """The sweep's held-out accuracy after the last epoch, per learning rate (first seed)."""
    first = config["seeds"][0]
    return {f"{lr:g}": 1 - final_val_error(runs[sweep_key(arm, lr, first)]) for lr in config["lrs"]}


def steps_per_epoch(config: dict) -> int:
    """Optimizer steps in one epoch (the last batch may be smaller)."""
    return math.ceil(config["train_images"] / config["batch_size"])


def steps_to(run: dict, accuracy: float, config: dict) -> int | None:
    """Optimizer steps until the held-out accuracy first reached ``accuracy``, as measured: every
    ``val_every`` steps where the run did so (``fit(..., val_every=...)``), else after every
    epoch; None if the run diverged or never got there."""
    if run.get("diverged"):
        return None
    history = run["history"]
    if history.get("val_step"):
        pairs = zip(history["val_step"], history["val_step_acc"], strict=True)
        return next((step for step, a in pairs if a >= accuracy), None)
    reached = (e for e, a in enumerate(run["history"]["val_acc"], 1) if a >= accuracy)
    epoch = next(reached, None)
    return None if epoch is None else epoch * steps_per_epoch(config)


def fewer_steps_range(base: float | None, steps: float | None, per_epoch: int):
    """How many times fewer steps ``steps`` is than ``base`` (both means of ``steps_to``), at
    least and at most, when counted in whole epochs: a run first measured at the target after an
    epoch may have reached it at any step of that epoch, so each mean may lie up to one epoch
    lower. ``(low, high)``, ``high`` None when ``steps`` is one epoch (any step of it could be
    the one); None when either is missing."""
    if not base or not steps:
        return None
    high = base / (steps - per_epoch) if steps > per_epoch else None
    return (base - per_epoch) / steps, high


def reached_by_all(runs: list[dict]) -> float:
    """The accuracy every one of ``runs`` reached: the lowest over the runs of each one's best
    held-out accuracy (over its epochs). A target for steps-to-accuracy counts that the runs it
    comes from reach, each seed by its own last epoch at the latest."""
    return min(max(r["history"]["val_acc"]) for r in runs)
