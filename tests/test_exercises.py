"""Exercise checkers: right answers pass, known mistakes get their hint, nonsense gets help."""

import numpy as np
import pytest
import torch
from torch import nn

from course.exercises import (
    INCEPTION_4A,
    LECTURE_TASK,
    ConvParamsTask,
    InceptionTask,
    random_conv_task,
)
from course.models.googlenet import INCEPTION_TABLE, Inception, InceptionNaive


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


# --- The Inception block exercise (notebook 05) -------------------------------------------------

INCEPTION_ROWS = [
    (192, *INCEPTION_TABLE["3a"]),
    (480, *INCEPTION_TABLE["4a"]),
    (7, 1, 2, 3, 4, 5, 6),
]


@pytest.mark.parametrize("row", INCEPTION_ROWS)
def test_inception_answers_are_what_pytorch_counts(row):
    task, block = InceptionTask(*row), Inception(*row)  # the paper's block: biases, no BN
    pytorch_count = sum(p.numel() for p in block.parameters())
    assert task.check(pytorch_count)
    assert task.check_channels(block(torch.zeros(1, row[0], 5, 5)).shape[1])
    for value, _ in task.known_mistakes():
        assert value != pytorch_count and not task.check(value)


def test_inception_mistakes_get_their_hints():
    task = InceptionTask(480, 192, 96, 208, 16, 48, 64)
    assert task == INCEPTION_4A
    block = Inception(480, 192, 96, 208, 16, 48, 64)
    weights_only = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    assert "bias" in task.check(weights_only).message
    naive = sum(p.numel() for p in InceptionNaive(480, 192, 208, 48).parameters())
    assert "naive block" in task.check(naive).message
    no_proj = sum(p.numel() for p in block.parameters()) - sum(
        p.numel() for p in block.branch4.parameters()
    )
    assert "pool projection" in task.check(no_proj).message
    assert "naive block" in task.check_channels(192 + 208 + 48 + 480).message
    assert "not concatenated" in task.check_channels(512 + 96 + 16).message
    assert task.check_channels(10**6).message.startswith("1,000,000 is too high")
    assert str(task.check("512")).startswith("'512' is text")


def test_inception_task_refuses_bad_rows():
    with pytest.raises(ValueError, match="c3 must be an int >= 1, got 0"):
        InceptionTask(192, 64, 96, 0, 16, 32, 32)
    assert "480 channels" in INCEPTION_4A.question()


def test_numpy_and_tensor_integers_are_ints_too():
    block = InceptionTask(np.int64(480), 192, 96, torch.tensor(208), 16, 48, np.int32(64))
    assert block == InceptionTask(480, 192, 96, 208, 16, 48, 64)
    assert random_conv_task(np.int64(3)) == random_conv_task(3)
    with pytest.raises(ValueError, match=r"seed must be an int, got 3.5"):
        random_conv_task(3.5)
