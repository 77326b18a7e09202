"""Exercise checkers: right answers pass, known mistakes get their hint, nonsense gets help."""

import numpy as np
import pytest
from torch import nn

from course.exercises import LECTURE_TASK, ConvParamsTask, random_conv_task


def test_lecture_answer_is_what_pytorch_counts():
    real = sum(p.numel() for p in nn.Conv2d(64, 128, 3).parameters())
    assert LECTURE_TASK.check(real)
    assert LECTURE_TASK.check(np.int64(real))
    assert LECTURE_TASK.check(float(real))  # 73856.0 is the same whole number


@pytest.mark.parametrize(
    "answer, hint",
    [
        (128 * 3 * 3 * 64, "count the bias too"),
        (3 * 3 * 64 + 1, "That is one kernel"),
        (3 * 3 * 64, "weights of one kernel only"),
        (128 * (3 * 3 + 1), "spans the whole depth"),
        (128 * 3 * 3, "both are missing"),
        (128 * (3 * 3 * 64 + 64), "not one per input channel"),
        (2 * 128 * 3 * 3 * 64, "not one per weight"),
        (128 * 3 * 3 * 64 + 1, "more than one bias"),
        (128 * (64 * 6 + 1), "not kh + kw"),
    ],
)
def test_each_known_mistake_gets_its_hint(answer, hint):
    feedback = LECTURE_TASK.check(answer)
    assert not feedback and hint in feedback.message
    assert "73,856" not in feedback.message and "73856" not in feedback.message


def test_unknown_wrong_answers_say_too_high_or_low_only():
    assert "too high" in LECTURE_TASK.check(10**6).message
    assert "too low" in LECTURE_TASK.check(7).message


@pytest.mark.parametrize(
    "answer, says",
    [
        ("73856", "is text"),
        ("seventy thousand", "is text"),
        (-5, "must be positive"),
        (0, "must be positive"),
        (73856.5, "not a whole number"),
        (None, "Replace `None`"),
        (True, "truth value"),
        ([73856], "not a list"),
    ],
)
def test_nonsense_gets_a_friendly_message(answer, says):
    feedback = LECTURE_TASK.check(answer)
    assert not feedback and says in feedback.message


def test_groups_and_no_bias_hints():
    grouped = ConvParamsTask(64, 128, 3, bias=True, groups=4)
    assert grouped.check(sum(p.numel() for p in nn.Conv2d(64, 128, 3, groups=4).parameters()))
    assert "in_channels / groups" in grouped.check(128 * (64 * 9 + 1)).message
    no_bias = ConvParamsTask(64, 128, 3, bias=False)
    assert "bias=False" in no_bias.check(128 * 64 * 9 + 128).message


@pytest.mark.parametrize("seed", range(40))
def test_generated_variants_are_checked_against_nn_conv2d(seed):
    task = random_conv_task(seed)
    layer = nn.Conv2d(task.in_channels, task.out_channels, task.kernel_size,
                      groups=task.groups, bias=task.bias)  # fmt: skip
    assert task.check(sum(p.numel() for p in layer.parameters()))
    assert str(task.in_channels) in task.question()
    for value, _hint in task.known_mistakes():
        assert not task.check(value)


def test_variants_vary_and_repeat_by_seed():
    assert random_conv_task(3) == random_conv_task(3)
    tasks = {random_conv_task(s) for s in range(30)}
    assert len(tasks) > 20
    assert any(t.groups > 1 for t in tasks) and any(not t.bias for t in tasks)


def test_invalid_task_is_refused():
    with pytest.raises(ValueError, match=r"in_channels \(6\) must be divisible by groups \(4\)"):
        ConvParamsTask(6, 8, 3, groups=4)
