"""The ILSVRC classification winners, 2010-2015, as their papers report them, and where the
course's architectures stand with torchvision's weights.

    WINNERS[2]           # Result(2012, 'SuperVision', 'AlexNet (7 CNNs)', 15.3, source)
    HUMAN.top5_error     # 5.1: the better of two trained annotators, 1,500 test images
    torchvision_top5_error("resnet50")   # 7.138: one 224x224 centre crop, one network

Each figure is the top-5 error (%) on the challenge's test set, copied with its source: they are
results of the contest, not something this course can recompute. The torchvision figures are
read from torchvision's weight metadata (validation set, one centre crop, one network), so they
are not comparable one to one with the contest entries (ensembles, many crops, test set).
"""

from __future__ import annotations

from dataclasses import dataclass

RUSSAKOVSKY = "Russakovsky et al., ImageNet Large Scale Visual Recognition Challenge, IJCV 2015"


@dataclass(frozen=True)
class Result:
    year: int
    team: str
    network: str
    top5_error: float  # %, ILSVRC test set
    source: str


WINNERS = [
    Result(2010, "NEC-UIUC", "SIFT/LBP features + SVMs", 28.2, RUSSAKOVSKY),
    Result(2011, "XRCE", "Fisher vectors + SVMs", 25.8, RUSSAKOVSKY),
    Result(2012, "SuperVision", "AlexNet (7 CNNs)", 15.3,
           RUSSAKOVSKY + "; Krizhevsky et al., NIPS 2012, Table 2"),
    Result(2013, "Clarifai", "ZFNet-like (ensemble)", 11.7, RUSSAKOVSKY),
    Result(2014, "GoogLeNet", "GoogLeNet (7 networks, 144 crops)", 6.7,
           RUSSAKOVSKY + "; Szegedy et al., CVPR 2015, Tables 2-3"),
    Result(2015, "MSRA", "ResNet (ensemble)", 3.57, "He et al., CVPR 2016, Table 5"),
]  # fmt: skip
RUNNER_UP_2014 = Result(2014, "VGG", "VGG (7 networks)", 7.3,
                        RUSSAKOVSKY + "; Simonyan & Zisserman, ICLR 2015, Table 7")  # fmt: skip
HUMAN = Result(2014, "human", "the better of two trained annotators (A1), 1,500 images", 5.1,
               "Russakovsky et al., IJCV 2015, Section 6.4")  # fmt: skip

# The course's architectures placed on the chart: torchvision name -> the year its paper won
# (or, for VGG, came second).
COURSE_MODELS = {"alexnet": 2012, "vgg16": 2014, "googlenet": 2014, "resnet50": 2015,
                 "resnet152": 2015}  # fmt: skip


def torchvision_top5_error(arch: str) -> float:
    """100 - torchvision's published ImageNet-1K acc@5 of ``arch``'s IMAGENET1K_V1 weights
    (read from torchvision's metadata: nothing is downloaded)."""
    from torchvision.models import get_model_weights, list_models

    if arch not in list_models():
        raise ValueError(f"arch must be a torchvision model name such as 'resnet50', got {arch!r}")
    metrics = get_model_weights(arch).IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]
    return round(100 - metrics["acc@5"], 3)
