"""The command line: train a course model on Fashion-MNIST, with checkpoints and resume.

python -m course.training --model resnet20 --epochs 5 --out runs/resnet20
torchrun --nproc_per_node=2 -m course.training --model resnet20 --epochs 5
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from course.files import write_text_atomically
from course.training.batches import Preprocess
from course.training.checkpoints import CheckpointError
from course.training.devices import Distributed
from course.training.loop import fit


def main(argv: list[str] | None = None) -> None:
    """python -m course.training --model resnet20 --epochs 5 [--out runs/resnet20]"""
    from course.data import load_fashion_mnist
    from course.models import get_model, list_models

    parser = argparse.ArgumentParser(
        prog="python -m course.training", description="Train a course model on Fashion-MNIST."
    )
    parser.add_argument("--model", required=True, choices=list_models(), metavar="MODEL",
                        help=f"one of: {', '.join(list_models())}")  # fmt: skip
    parser.add_argument("--epochs", type=_positive(int), default=10)
    parser.add_argument("--batch-size", type=_positive(int), default=128)
    parser.add_argument("--lr", type=_positive(float), default=1e-3)
    parser.add_argument("--width", type=_positive(float), default=None, help="channel multiplier")
    parser.add_argument(
        "--image-size", type=_positive(int), default=None,
        help="resize the 28x28 images to this size (default: 28, or the smallest size the "
        "model takes, e.g. 32 for VGG)",
    )  # fmt: skip
    parser.add_argument(
        "--data", default=None, help="Fashion-MNIST folder (default: look-up order)"
    )
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for checkpoint.pt and history.json"
    )
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    dist = Distributed.from_env()
    train = load_fashion_mnist("train", args.data, verbose=dist.main)
    test = load_fashion_mnist("test", args.data, verbose=dist.main)
    options = {"width": args.width} if args.width is not None else {}
    torch.manual_seed(args.seed)  # --seed fixes the initial weights too, not only the batches
    model = get_model(args.model, num_classes=10, in_channels=1, **options)
    smallest = model.min_input_size or 1
    size = args.image_size or max(28, smallest)
    if size < smallest:
        parser.error(f"--image-size {size}: {args.model} needs at least {smallest}")
    preprocess = None  # fit's default: the 28x28 images, random shifts and flips
    if size != 28:
        sample = train.images[:10_000]
        preprocess = Preprocess.for_images(sample, size=size, crop=size, pad=4, flip=True)
        if dist.main:
            print(f"images resized to {size}x{size} ({args.model} needs at least {smallest})")
    out = args.out or Path("runs") / args.model
    try:
        history = fit(
            model,
            train,
            test,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            preprocess=preprocess,
            device=args.device,
            checkpoint=out / "checkpoint.pt",
            resume=args.resume,
            seed=args.seed,
            live_plot=False,
        )
    except CheckpointError as exc:
        parser.error(f"{exc} On the command line: --resume goes on, --out names another folder.")
    if dist.main:
        write_text_atomically(out / "history.json", json.dumps(history.to_dict(), indent=1) + "\n")
        print(f"wrote {out / 'checkpoint.pt'} and {out / 'history.json'}")
    if dist.world > 1:
        import torch.distributed as torch_dist

        torch_dist.destroy_process_group()
    if history.interrupted:
        if dist.main and history.epoch:  # else fit said: nothing to resume
            print("On the command line: the same command with --resume goes on from there.")
        sys.exit(130)  # the shell's status for Ctrl-C: a script running this sees it stopped


def _positive(kind):
    """An argparse type: a number of ``kind`` above 0, or a one-line error (not a traceback)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


if __name__ == "__main__":
    main()
