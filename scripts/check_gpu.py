"""What the course's GPU paths do on this machine's first CUDA GPU. A check for instructors (and
for the note of an issue), not a test: the test suite never needs a GPU.

    python scripts/check_gpu.py [--epochs 2] [--only torchrun live] [--out gpu_check.json]

1. device     what ``pick_device`` takes and how ``describe_device`` names it.
2. precision  ``fit`` trains resnet20 (full width) on Fashion-MNIST for ``--epochs`` epochs in
              each precision: bf16 (what 'auto' takes), fp16 (with a gradient scaler), fp32;
              channels_last, the defaults otherwise. Test accuracy and training images/second.
3. resume     the same run straight through, and stopped after one epoch then resumed: the
              largest difference between the two final sets of weights (0 on a CPU).
4. towers     AlexNet's two towers on one GPU and on the GPU and the CPU: their output against
              the same weights on the CPU, and one training step.
5. torchrun   the command line under torchrun with one process (NCCL, the GPU), two processes
              on one GPU (refused with a message), two CPU processes (gloo).
6. live       experiments' live reruns on the GPU: wall time, and whether their statements hold.

Each check runs on its own; one that fails prints its error and the others go on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from course.data import load_fashion_mnist  # noqa: E402
from course.models import get_model  # noqa: E402
from course.runtime import describe_device, pick_device  # noqa: E402
from course.training import evaluate, fit  # noqa: E402

RESULTS: dict = {}


def check(name: str):
    """Run a check, print and record what it found, keep going after an error."""

    def wrap(function):
        def run(*args):
            if args[0].only and name not in args[0].only:
                return
            start = time.perf_counter()
            try:
                found = function(*args)
            except Exception as exc:  # a check that breaks is a finding, not the end
                traceback.print_exc()
                found = {"error": f"{type(exc).__name__}: {exc}"}
            found["seconds"] = round(time.perf_counter() - start, 1)
            RESULTS[name] = found
            print(f"== {name}: {json.dumps(found)}", flush=True)

        return run

    return wrap


@check("device")
def device_check(_args) -> dict:
    device = pick_device()
    return {"picked": str(device), "described": describe_device(device),
            "torch": torch.__version__, "bf16": torch.cuda.is_bf16_supported()}  # fmt: skip


@check("precision")
def precision_check(args) -> dict:
    train, test = load_fashion_mnist("train"), load_fashion_mnist("test")
    found = {}
    for precision in ("auto", "fp16", "fp32"):
        torch.manual_seed(0)
        model = get_model("resnet20", num_classes=10, in_channels=1)
        torch.cuda.synchronize()
        start = time.perf_counter()
        history = fit(model, train, epochs=args.epochs, precision=precision, progress=False)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        found[precision] = {
            "test_acc": round(evaluate(model, test)["acc"], 4),
            "images_per_s": round(args.epochs * len(train.labels) / seconds),
            "final_train_loss": round(history.train_loss[-1], 4),
        }
    return found


@check("resume")
def resume_check(args) -> dict:
    train = load_fashion_mnist("train")
    subset = (train.images[:8_000], train.labels[:8_000])
    weights = []
    with tempfile.TemporaryDirectory() as folder:
        for stops in (False, True):
            torch.manual_seed(0)
            model = get_model("resnet20", num_classes=10, in_channels=1, width=0.5)
            path = Path(folder) / f"stopped_{stops}.pt"
            if stops:
                fit(model, subset, epochs=1, checkpoint=path, progress=False)
                torch.manual_seed(1)  # a fresh model: everything must come from the checkpoint
                model = get_model("resnet20", num_classes=10, in_channels=1, width=0.5)
                fit(model, subset, epochs=2, checkpoint=path, resume=True, progress=False)
            else:
                fit(model, subset, epochs=2, checkpoint=path, progress=False)
            weights.append({k: v.float().cpu() for k, v in model.state_dict().items()})
    straight, resumed = weights
    largest = max((straight[k] - resumed[k]).abs().max().item() for k in straight)
    return {"largest_weight_difference": largest,
            "cudnn_deterministic": torch.backends.cudnn.deterministic}  # fmt: skip


@check("towers")
def towers_check(_args) -> dict:
    from course.models.alexnet import AlexNetTwoTower

    torch.manual_seed(0)
    x = torch.randn(4, 3, 224, 224)
    on_cpu = AlexNetTwoTower(devices=("cpu", "cpu")).eval()
    reference = on_cpu(x)
    found = {}
    for devices in (("cuda:0", "cuda:0"), ("cuda:0", "cpu")):
        model = AlexNetTwoTower(devices=devices).eval()
        model.load_state_dict(on_cpu.state_dict())
        model.place(devices)
        with torch.no_grad():
            out = model(x).cpu()
        model.train()
        loss = model(x).float().logsumexp(1).mean()
        loss.backward()
        grads = sum(p.grad is not None for p in model.parameters())
        found[" + ".join(devices)] = {
            "largest_output_difference": (out - reference.detach()).abs().max().item(),
            "parameters_with_gradients": f"{grads} of {len(list(model.parameters()))}",
        }
    return found


@check("torchrun")
def torchrun_check(_args) -> dict:
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        train = ["-m", "course.training", "--model", "resnet20", "--width", "0.5", "--epochs",
                 "1", "--out"]  # fmt: skip
        cases = {
            "1 process, GPU": (["--nproc_per_node=1"], {}),
            "2 processes, 1 GPU": (["--nproc_per_node=2"], {}),
            "2 CPU processes": (["--nproc_per_node=2"], {"COURSE_DEVICE": "cpu"}),
        }
        for case, (procs, env) in cases.items():
            out = Path(folder) / case.replace(" ", "_").replace(",", "")
            start = time.perf_counter()
            done = subprocess.run([*command, *procs, *train, str(out)], capture_output=True,
                                  text=True, timeout=240, cwd=REPO,
                                  env=dict(os.environ, OMP_NUM_THREADS="4", **env))  # fmt: skip
            history = out / "history.json"
            last = [line for line in done.stderr.splitlines() if "ValueError" in line][-1:]
            found[case] = {
                "returncode": done.returncode,
                "seconds": round(time.perf_counter() - start, 1),
                "val_acc": json.loads(history.read_text())["val_acc"] if history.exists() else None,
                "error": last[0][:300] if last else None,
            }
    return found


@check("live")
def live_check(args) -> dict:
    from course.experiments.runner import experiment, run_experiment

    found = {}
    for name in args.live:
        start = time.perf_counter()
        result = run_experiment(name, "live", store=False, progress=False)
        claims = experiment(name).claims(result)
        found[name] = {"seconds": round(time.perf_counter() - start, 1),
                       "statements_holding": f"{len(claims) - len(claims.failed)} of "
                                             f"{len(claims)}"}  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--live", nargs="*", default=["batch_norm", "inception_bn"])
    parser.add_argument("--only", nargs="*", default=None, help="these checks alone")
    parser.add_argument("--out", type=Path, default=None, help="write the findings as JSON")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA GPU here: this script checks the GPU paths (the tests cover the CPU)")
    for run in (device_check, precision_check, resume_check, towers_check, torchrun_check,
                live_check):  # fmt: skip
        run(args)
        if args.out:
            args.out.write_text(json.dumps(RESULTS, indent=1) + "\n")


if __name__ == "__main__":
    main()
