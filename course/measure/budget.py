"""What a network costs, set against a budget you choose (notebook 10).

    costs(model, (1, 32, 32))                 # parameters, MACs and depth for one image
    training_ms_per_image(model, data)        # a short run of ``fit`` on this machine
    budget_table(model, (1, 32, 32), parameters=250_000, minutes=10, ms_per_image=ms)

A budget is any of three limits: the trainable parameters, the multiply-accumulates of one
image's forward pass (MACs), and the minutes a training run takes on this machine (its measured
time per image, times the images and epochs of the run). Parameters and MACs are counted from
the model; minutes are measured, so they belong to the machine that measured them.
"""

from __future__ import annotations

import copy
import math

from torch import nn

from course.experiments.reporting import Table
from course.models.summary import count_depth, count_macs, count_parameters

LIMITS = ("parameters", "macs", "minutes")


def costs(model: nn.Module, input_size: tuple[int, int, int] = (1, 32, 32)) -> dict[str, int]:
    """The trainable parameters, the MACs of one image of ``input_size`` (C, H, W), and the
    depth (layers with weights on the longest path) of ``model``."""
    return {
        "parameters": count_parameters(model),
        "macs": count_macs(model, input_size),
        "depth": count_depth(model, input_size),
    }


def training_ms_per_image(model: nn.Module, data: dict, images: int = 1024,
                          batch_size: int = 128) -> float:  # fmt: skip
    """Milliseconds per training image of ``fit`` on this machine: a copy of ``model`` (the
    model itself is not changed) trained for two epochs on the first ``images`` training images
    of ``data`` (a dict with "train" and "preprocess", as the experiments' ``load_data`` gives),
    timed in the second epoch (the first also pays for one-time set-up)."""
    from course.training import fit

    if not isinstance(images, int) or isinstance(images, bool) or images < batch_size:
        raise ValueError(f"images must be an integer of at least batch_size={batch_size}, "
                         f"got {images!r}")  # fmt: skip
    train_images, labels = data["train"]
    if len(train_images) < images:
        raise ValueError(f"images={images} is more than the {len(train_images)} training images "
                         f"in data; pass images={len(train_images)} or fewer")  # fmt: skip
    history = fit(copy.deepcopy(model), (train_images[:images], labels[:images]), epochs=2,
                  batch_size=batch_size, preprocess=data["preprocess"], progress=False)  # fmt: skip
    return 1000 * history.seconds[-1] / images


def _limit(value, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value <= 0:  # fmt: skip
        raise ValueError(f"{name} must be a positive number or None (no limit), got {value!r}")
    return value


def budget_table(model: nn.Module, input_size: tuple[int, int, int] = (1, 32, 32), *,
                 parameters: float | None = None, macs: float | None = None,
                 minutes: float | None = None, ms_per_image: float | None = None,
                 images: int = 60_000, epochs: int = 8) -> Table:  # fmt: skip
    """``model``'s costs against each limit given (None: no limit), one row each, with whether
    it is within. ``minutes`` needs ``ms_per_image`` (``training_ms_per_image``): the run's
    minutes are that time per image, times ``images`` and ``epochs``."""
    limits = {name: _limit(value, name) for name, value in
              (("parameters", parameters), ("macs", macs), ("minutes", minutes))}  # fmt: skip
    if all(v is None for v in limits.values()):
        raise ValueError(f"give at least one limit: {', '.join(f'{n}=' for n in LIMITS)}")
    if limits["minutes"] is not None and ms_per_image is None:
        raise ValueError("minutes= needs ms_per_image= (measure it with training_ms_per_image)")
    found = costs(model, input_size)
    rows = []
    if limits["parameters"] is not None:
        rows.append(("parameters", f"{found['parameters']:,}", f"{limits['parameters']:,.0f}",
                     found["parameters"] <= limits["parameters"]))  # fmt: skip
    if limits["macs"] is not None:
        rows.append(("MACs per image", f"{found['macs'] / 1e6:.1f}M",
                     f"{limits['macs'] / 1e6:.1f}M", found["macs"] <= limits["macs"]))  # fmt: skip
    if limits["minutes"] is not None:
        run_minutes = ms_per_image * images * epochs / 60_000
        rows.append((f"minutes for {images:,} images x {epochs}", f"{run_minutes:.1f}",
                     f"{limits['minutes']:g}", run_minutes <= limits["minutes"]))  # fmt: skip
    return Table(
        ("measure", "your network", "budget", "within"),
        [(*r[:3], "yes" if r[3] else "NO") for r in rows],
        title=f"{type(model).__name__}: {found['depth']} layers deep, for a "
        f"{'x'.join(map(str, input_size))} image",
        note="Minutes: the time per image measured on this machine." if limits["minutes"] else "",
    )
