"""Exercises, one module per lecture, all of the same shape (``course.exercises.base``):
``question()``, ``check(answer)``, ``hint(n)``, ``solution()``; nothing shows the answer before
the student asks for it.

    course.exercises.base         feedback, answers as students type them, the hint ladder
    course.exercises.convolution  a conv layer's parameters (the lecture's mini-task), output size
    course.exercises.vgg          receptive field of a stack of layers
    course.exercises.googlenet    an Inception block's parameters and channels
    course.exercises.resnet       a bottleneck block's parameters

    from course.exercises import LECTURE_TASK, random_conv_task
"""

from course.exercises.base import Feedback, HintLadder, Note, read_number, shown
from course.exercises.convolution import (
    LECTURE_TASK,
    ConvParamsTask,
    OutputSizeTask,
    random_conv_task,
)
from course.exercises.googlenet import INCEPTION_4A, InceptionTask
from course.exercises.resnet import BottleneckTask
from course.exercises.vgg import ReceptiveFieldTask

__all__ = [
    "INCEPTION_4A",
    "LECTURE_TASK",
    "BottleneckTask",
    "ConvParamsTask",
    "Feedback",
    "HintLadder",
    "InceptionTask",
    "Note",
    "OutputSizeTask",
    "ReceptiveFieldTask",
    "random_conv_task",
    "read_number",
    "shown",
]
