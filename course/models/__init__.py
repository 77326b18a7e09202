"""Every architecture of the lecture, at full size, checked against published numbers.

    from course.models import list_models, get_model, summarize
    model = get_model("vgg16", num_classes=10, in_channels=1, width=0.25)

Families (one file each): alexnet, vgg, googlenet, inception_bn, resnet.
"""

# Importing the families registers their builders (each file uses @register).
from course.models import alexnet, googlenet, inception_bn, resnet, vgg  # noqa: F401
from course.models.registry import (
    AuxOutputs,
    get_model,
    imagenet_model,
    list_models,
    skeleton,
)
from course.models.summary import (
    count_depth,
    count_macs,
    count_parameters,
    format_summary,
    parameter_breakdown,
    summarize,
)

__all__ = [
    "AuxOutputs", "count_depth", "count_macs", "count_parameters", "format_summary",
    "get_model", "imagenet_model", "list_models", "parameter_breakdown", "skeleton", "summarize",
]  # fmt: skip
