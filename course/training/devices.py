"""Where training runs: the device, the precision, and the processes of a torchrun launch."""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass

import torch

from course.runtime import DEVICE_ENV, cpu_has_native_bf16, pick_device


def choose_precision(device: torch.device, precision: str) -> torch.dtype | None:
    """The autocast dtype for ``precision`` ('auto', 'fp32', 'bf16', 'fp16'); None is fp32."""
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be 'auto', 'fp32', 'bf16' or 'fp16', got {precision!r}")
    if precision == "fp32" or (precision == "auto" and device.type == "mps"):
        return None
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_native_bf16() else None
    if precision == "fp16" and device.type == "cpu":
        raise ValueError("precision='fp16' is for GPUs; on a CPU use 'bf16' or 'fp32'")
    return torch.bfloat16 if precision == "bf16" else torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None):
    """Mixed precision in ``dtype`` on ``device``; a no-op for fp32 (``dtype`` None)."""
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun launch (a plain run: rank 0 of a world of 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> Distributed:
        """torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; a plain run is a world of one. The
        processes connect in ``join``, once the device (and so the backend) is known."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return cls()
        return cls(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))

    def join(self, device: torch.device) -> None:
        """Connect the processes: NCCL between GPUs, gloo between CPU processes."""
        if self.world > 1:
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()


def device_for(dist: Distributed, device) -> torch.device:
    """Under torchrun on a machine with GPUs, unless a device is named (``device`` or
    ``$COURSE_DEVICE``), each process takes the GPU of its local rank; otherwise
    ``course.runtime.pick_device``."""
    named = device if device is not None else os.environ.get(DEVICE_ENV) or "auto"
    if dist.world > 1 and str(named).strip().lower() == "auto" and torch.cuda.is_available():
        gpus = torch.cuda.device_count()
        if dist.local_rank >= gpus:
            raise ValueError(
                f"torchrun started a process with LOCAL_RANK {dist.local_rank}, but this machine "
                f"has {gpus} GPU{'s' if gpus != 1 else ''}: use --nproc_per_node={gpus} or "
                f"fewer, or {DEVICE_ENV}=cpu to train in CPU processes"
            )
        torch.cuda.set_device(dist.local_rank)
        return torch.device("cuda", dist.local_rank)
    return pick_device(device)
