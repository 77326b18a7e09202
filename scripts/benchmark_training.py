"""Training speed of ``course.training.fit`` vs a plain tutorial-style loop, and the accuracy the
default recipe reaches on Fashion-MNIST in a time budget. A benchmark, not a test.

    python scripts/benchmark_training.py speed [--images 12000] [--repeats 3]
    python scripts/benchmark_training.py recipe [--model vgg11_bn] [--minutes 10]

speed: the same model (a 3-block BN CNN, 28x28 inputs) trained on the same images, batch 128,
with the same augmentation (random 4-pixel-shift crop, flip), one epoch each, alternately:
  reference -- a DataLoader over per-sample torchvision transforms (PIL image, RandomCrop,
               RandomHorizontalFlip, ToTensor, Normalize), 2 workers, ``loss.item()`` every batch;
  fit       -- course.training.fit with its defaults (whole-batch augmentation on the device,
               channels_last, synchronizing every 25 batches).
Both use AdamW; the figure is training images per second (median of the repeats).

recipe: ``fit`` with its defaults on the full training set, as many epochs as fit in the time
budget (measured on the first epoch), reporting the best test accuracy and the wall time.
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


def reference_epoch(images, labels, batch_size: int) -> float:
    model = bn_cnn()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
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


def fit_epoch(images, labels, batch_size: int) -> float:
    history = fit(bn_cnn(), (images, labels), epochs=1, batch_size=batch_size, progress=False)
    return history.images_per_second[0]


def speed(args) -> None:
    train = load_fashion_mnist("train")
    images, labels = train.images[: args.images], train.labels[: args.images]
    print(f"{len(images):,} images 28x28, batch {args.batch}, {torch.get_num_threads()} threads")
    ref, ours = [], []
    for i in range(args.repeats):
        ref.append(reference_epoch(images, labels, args.batch))
        ours.append(fit_epoch(images, labels, args.batch))
        print(f"run {i + 1}: reference {ref[-1]:.0f} img/s, fit {ours[-1]:.0f} img/s", flush=True)
    r, o = statistics.median(ref), statistics.median(ours)
    print(f"median: reference {r:.0f} img/s, fit {o:.0f} img/s, ratio {o / r:.2f}x")


def recipe(args) -> None:
    from course.models import get_model
    from course.training.batches import Preprocess

    train, test = load_fashion_mnist("train"), load_fashion_mnist("test")
    options = dict(num_classes=10, in_channels=1, width=args.width)
    if args.model.startswith("vgg"):
        options.update(head="gap")
    model = get_model(args.model, **options)
    prep = Preprocess.for_images(train.images[:10_000], size=args.size, crop=args.size,
                                 pad=args.size // 8, flip=True, channels=1)  # fmt: skip
    start = time.perf_counter()
    first = fit(model, train, test, epochs=1, preprocess=prep, progress=False)
    per_epoch = time.perf_counter() - start
    epochs = max(1, int(args.minutes * 60 // per_epoch))
    print(f"{args.model} width {args.width} at {args.size}px: first epoch {per_epoch:.0f} s "
          f"(test acc {first.val_acc[0]:.4f}); training {epochs} epochs", flush=True)  # fmt: skip
    model = get_model(args.model, **options)
    start = time.perf_counter()
    history = fit(model, train, test, epochs=epochs, preprocess=prep, progress=False)
    wall = time.perf_counter() - start
    for e, acc in zip(history.epoch, history.val_acc, strict=True):
        print(f"  epoch {e}: test acc {acc:.4f}")
    print(
        f"best test accuracy {max(history.val_acc):.4f} in {wall / 60:.1f} min "
        f"({epochs} epochs, {sum(history.images_per_second) / epochs:.0f} img/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--images", type=int, default=12_000)
    s.add_argument("--batch", type=int, default=128)
    s.add_argument("--repeats", type=int, default=3)
    r = sub.add_parser("recipe")
    r.add_argument("--model", default="vgg11_bn")
    r.add_argument("--width", type=float, default=0.5)
    r.add_argument("--size", type=int, default=32)
    r.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    speed(args) if args.mode == "speed" else recipe(args)


if __name__ == "__main__":
    main()
