"""Does ``torch.compile`` (inductor) pay for training with ``fit`` on this CPU? A benchmark, not a
test (issue 33).

    python scripts/benchmark_compile.py [--precision auto|fp32] [--images 8192] [--repeats 3]
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python scripts/benchmark_compile.py \
        --precision fp32                      # a laptop CPU without bf16, approximately

For notebook 10's worked example and 09's small VGG (Fashion-MNIST at 32x32, batch 128): the
compile time (the compiled model's first epoch, compilation included), then the eager and the
compiled model trained alternately, two epochs each, the second timed; training images per
second, median of the repeats.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from course.experiments import architectures, your_network
from course.training import fit

NETWORKS = {
    "worked example (10)": your_network.WorkedExample,
    "vgg11_bn 1/4, GAP (09)": lambda: architectures.build("vgg11_bn (1/4, GAP)"),
}


def images_per_second(model, data: dict, precision: str) -> float:
    history = fit(model, data["train"], epochs=2, preprocess=data["preprocess"], progress=False,
                  precision=precision)  # fmt: skip
    return len(data["train"][1]) / history.seconds[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    parser.add_argument("--images", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = dict(train_images=args.images, test_images=100, epochs=1, batch_size=128, seeds=[0])
    data = your_network.load_data(config)
    for name, build in NETWORKS.items():
        torch.manual_seed(0)
        eager = build()
        torch.manual_seed(0)
        compiled = torch.compile(build())
        start = time.perf_counter()
        fit(compiled, data["train"], epochs=1, preprocess=data["preprocess"], progress=False,
            precision=args.precision)  # fmt: skip
        first = time.perf_counter() - start
        rates = {"eager": [], "compiled": []}
        for _ in range(args.repeats):
            for label, model in (("eager", eager), ("compiled", compiled)):
                rates[label].append(images_per_second(model, data, args.precision))
        eager_rate, compiled_rate = (statistics.median(rates[k]) for k in ("eager", "compiled"))
        print(
            f"{name}, {args.precision}: compile + first epoch {first:.0f} s; images/s "
            f"(median of {args.repeats}): eager {eager_rate:.0f}, compiled {compiled_rate:.0f} "
            f"({compiled_rate / eager_rate - 1:+.0%})",
            flush=True,
        )


if __name__ == "__main__":
    main()
