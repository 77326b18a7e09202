"""Forward time of the course's models vs torchvision's same architectures, on the CPU.

    python scripts/benchmark_models.py [--batch 8] [--size 224] [--repeats 7] [--models ...]

Same process, same input, same weights (torchvision's state_dict is loaded into ours); the two
are timed alternately so that machine load affects both alike. Prints the median of
``--repeats`` timed runs (after one warm-up) and the ratio ours / torchvision.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchvision

from course.models import get_model

TORCHVISION_COMPATIBLE = [
    "alexnet", "vgg11", "vgg16", "vgg19", "vgg16_bn", "googlenet",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
]  # fmt: skip


def timed(model, x) -> float:
    start = time.perf_counter()
    model(x)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--models", nargs="*", default=TORCHVISION_COMPATIBLE)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.size, args.size)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"batch {args.batch} at {args.size}x{args.size}, median of {args.repeats}")  # fmt: skip
    print(f"{'model':12} {'ours ms':>9} {'torchvision ms':>15} {'ratio':>7}")
    for name in args.models:
        extra = {"aux_logits": False} if name == "googlenet" else {}
        reference = torchvision.models.get_model(name, weights=None, **extra).eval()
        ours = get_model(name, **extra).eval()
        ours.load_state_dict(reference.state_dict())
        ours_t, ref_t = [], []
        with torch.inference_mode():
            timed(ours, x), timed(reference, x)  # warm-up
            for _ in range(args.repeats):
                ours_t.append(timed(ours, x))
                ref_t.append(timed(reference, x))
        a, b = statistics.median(ours_t) * 1e3, statistics.median(ref_t) * 1e3
        print(f"{name:12} {a:9.1f} {b:15.1f} {a / b:7.3f}", flush=True)


if __name__ == "__main__":
    main()
