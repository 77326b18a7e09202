"""Exercises, one module per lecture, all of the same shape (``course.exercises.base``):
``question()``, ``check(answer)``, ``hint(n)``, ``solution()``; nothing shows the answer before
the student asks for it. Number exercises take a number; coding exercises (``CodeTask``) take
the student's function or class and run it against PyTorch.

    course.exercises.base         feedback, answers as students type them, the hint ladder
    course.exercises.coding       what coding exercises share: running the student's code
    course.exercises.convolution  a conv layer's parameters (the lecture's mini-task), output size;
                                  writing the convolution's forward pass
    course.exercises.alexnet      writing AlexNet's ten test-time views
    course.exercises.vgg          receptive field of a stack of layers
    course.exercises.googlenet    an Inception block's parameters and channels; writing the block
    course.exercises.batchnorm    writing batch norm, in training and evaluation mode
    course.exercises.resnet       a bottleneck block's parameters; writing a basic block

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
