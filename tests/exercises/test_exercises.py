"""Exercise checkers: right answers pass, known mistakes get their hint, nonsense gets help."""

import re

import numpy as np
import pytest
import torch
from torch import nn

from course.exercises import (
    INCEPTION_4A,
    LECTURE_TASK,
    ConvParamsTask,
    InceptionTask,
    OutputSizeTask,
    ReceptiveFieldTask,
    random_conv_task,
)
from course.exercises.googlenet import MACS_3A, MACS_3A_NAIVE
from course.exercises.resnet import BottleneckTask
from course.exercises.vgg import FC6_TASK
from course.models import get_model
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
        ("seventy thousand", "not a number I can read"),
        ("__import__('os')", "not a number I can read"),
        ("73856 / 0", "cannot be computed"),
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
    assert all(len(line) <= 110 for line in task.question().splitlines())  # fits the column
    assert " a 11x" not in task.question() and " a 8x" not in task.question()
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


# --- The Inception block exercise (notebook 06) -------------------------------------------------

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
    assert str(task.check("512")).startswith("512 is too low")  # text is read as a number


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


# --- the forms a student types, the hint ladder, solutions only on request --------------------

VGG16_TO_CONV3_3 = (("conv1_1", 3, 1), ("conv1_2", 3, 1), ("pool1", 2, 2), ("conv2_1", 3, 1),
                    ("conv2_2", 3, 1), ("pool2", 2, 2), ("conv3_1", 3, 1), ("conv3_2", 3, 1),
                    ("conv3_3", 3, 1))  # fmt: skip
NOTEBOOK_TASKS = {  # every exercise the notebooks ask, with a form of its answer as arithmetic
    "01 mini-task": (LECTURE_TASK, "3*3*64*128 + 128"),
    "01 output size": (OutputSizeTask(44, 3, stride=2, padding=1, dilation=3), "(44+2-7)//2 + 1"),
    "03 conv1": (ConvParamsTask(3, 96, 11), "96 * (11*11*3 + 1)"),
    "03 conv2": (ConvParamsTask(96, 256, 5, groups=2), "256 * (5*5*48 + 1)"),
    "03 conv1 at 224": (OutputSizeTask(224, 11, stride=4), "(224 - 11) // 4 + 1"),
    "04 receptive field": (ReceptiveFieldTask(VGG16_TO_CONV3_3), "1 + 2*2 + 1 + 2*2*2 + 2 + 3*2*4"),
    "05 fc6": (FC6_TASK, "7*7*512*4096 + 4096"),
    "06 macs naive": (MACS_3A_NAIVE, "28*28*(64*192 + 128*9*192 + 32*25*192)"),
    "06 macs": (MACS_3A, "28*28*(64*192 + 96*192 + 128*9*96 + 16*192 + 32*25*16 + 32*192)"),
    "05 inception 4a": (
        INCEPTION_4A,
        "481*192 + 481*96 + (9*96+1)*208 + 481*16 + (25*16+1)*48 + 481*64",
    ),
    "07 bottleneck": (
        BottleneckTask(256, 128, stride=2),
        "256*128 + 9*128*128 + 128*512 + 2*(128+128+512) + 256*512 + 2*512",
    ),
}


@pytest.mark.parametrize("name", NOTEBOOK_TASKS)
def test_every_form_of_the_right_answer_passes(name):
    task, expression = NOTEBOOK_TASKS[name]
    right = task._answer()
    forms = [
        right,
        np.int64(right),
        torch.tensor(right),
        str(right),
        f"{right:,}",
        f"{right:_}",
        f" {right:,} ".replace(",", " "),
        expression,
        expression.replace(" ", ""),
    ]
    for form in forms:
        assert task.check(form), f"{name}: {form!r} was not accepted"
    assert eval(expression) == right  # the expression really is the answer


@pytest.mark.parametrize("name", NOTEBOOK_TASKS)
def test_every_known_mistake_gets_its_own_hint(name):
    task, _ = NOTEBOOK_TASKS[name]
    mistakes = task.known_mistakes()
    assert mistakes, f"{name}: no known mistakes"
    for value, hint in mistakes:
        feedback = task.check(value)
        assert not feedback and hint in feedback.message, (name, value, feedback)
    assert len({hint for _, hint in mistakes}) == len(mistakes)  # one hint per mistake


@pytest.mark.parametrize("name", NOTEBOOK_TASKS)
def test_hints_climb_and_only_the_solution_gives_the_answer(name):
    task, _ = NOTEBOOK_TASKS[name]
    right = task._answer()
    shown = {str(right), f"{right:,}"}
    hints = [str(task.hint(level)) for level in range(1, len(task.hints()) + 1)]
    assert len(hints) >= 2 and hints[0].startswith("Hint 1 of")
    assert not any(form in hint for hint in hints for form in shown if len(form) > 2), hints
    assert "solution()" in hints[-1] and "No more hints" in str(task.hint(len(hints) + 1))
    solution = task.solution()
    assert f"**{right:,}**" in solution._repr_markdown_()
    assert not task.check(None) and "Replace `None`" in task.check(None).message


def test_the_notebook_answers_are_what_pytorch_counts():
    paper = get_model("alexnet_paper")
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert NOTEBOOK_TASKS["03 conv1"][0].check(count(paper.conv1))
    assert NOTEBOOK_TASKS["03 conv2"][0].check(count(paper.conv2))
    assert NOTEBOOK_TASKS["05 inception 4a"][0].check(
        count(get_model("googlenet_paper").inception4a)
    )
    at_224 = nn.Conv2d(3, 96, 11, stride=4)(torch.zeros(1, 3, 224, 224)).shape[-1]
    assert NOTEBOOK_TASKS["03 conv1 at 224"][0].check(at_224) and at_224 == 54
    dilated = nn.Conv2d(1, 1, 3, stride=2, padding=1, dilation=3)(torch.zeros(1, 1, 44, 44))
    assert NOTEBOOK_TASKS["01 output size"][0].check(dilated.shape[-1])


def test_output_size_hints_for_each_slip():
    task = OutputSizeTask(224, 11, stride=4)  # (224 - 11) / 4 + 1 = 54.25
    assert "whole steps only" in task.check(54.25).message
    assert "round the division down, not up" in task.check(55).message  # the paper's 55
    assert "+ 1" in task.check(53).message
    assert "divide by the stride" in task.check(214).message
    dilated = OutputSizeTask(44, 3, stride=2, padding=1, dilation=3)
    assert "Dilation spreads the kernel" in dilated.check((44 + 2 - 3) // 2 + 1).message
    assert dilated.question().startswith("A 44x44 input")
    assert task.question().startswith("A 224x224 input goes through an 11x11 convolution")
    for n in (8, 11, 18, 80, 89, 800, 8000, 11000, 18000):
        assert OutputSizeTask(n, 1).question().startswith(f"An {n}x{n} input"), n
    assert all(len(line) <= 100 for line in dilated.question().splitlines())  # a column wide
    padded = OutputSizeTask(32, 5, padding=2)  # "same": 32
    assert "both sides" in padded.check(32 + 2 - 5 + 1).message
    with pytest.raises(ValueError, match=r"stride must be an int >= 1, got 0"):
        OutputSizeTask(32, 3, stride=0)


def test_receptive_field_hints_for_each_slip():
    task = ReceptiveFieldTask(VGG16_TO_CONV3_3)
    assert task._answer() == 40
    assert "2 input pixels apart" in task.check(17).message  # steps ignored
    assert "do not add up" in task.check(25).message  # kernel sizes summed
    assert "pooling layers count too" in task.check(15).message
    with pytest.raises(ValueError, match=r"layers\[0\] must be \(name, kernel, stride\)"):
        ReceptiveFieldTask((("conv", 3),))


# --- what students type by accident or on purpose (issue: the checker reads what they type) ----

OUR_NOTATION = ["3x3x64x128+128", "3 x 3 x 64 x 128 + 128", "577 x 128", "577 × 128",
                "3**2*64*128+128", "3^2*64*128+128", "3·3·64·128 + 128"]  # fmt: skip


@pytest.mark.parametrize("typed", OUR_NOTATION)
def test_the_courses_own_notation_is_read(typed):
    assert LECTURE_TASK.check(typed), typed


def test_a_thousands_dot_is_asked_about_not_graded():
    feedback = LECTURE_TASK.check("73.856")
    assert not feedback and not feedback.graded
    assert feedback.message.startswith("Did you mean 73,856?")
    assert LECTURE_TASK.check("1.5").graded  # a real fraction is graded (not a whole number)


@pytest.mark.parametrize(
    "answer, says",
    [
        (10**5000, "far larger than any answer"),
        ("9" * 5000, "5,000 characters long"),
        ("'a'*100000*100000", "not a number I can read"),
        ("-" * 200_000 + "1", "200,001 characters long"),
        ("9**9**9", "powers up to 64"),
        ("2^1000", "powers up to 64"),
        ("10**16", "below 10**15"),
        ("1e400", "over 10**15"),
        (float("nan"), "not a finite number"),
        ("(" * 150 + "1" + ")" * 150, "characters long"),
        ("()", "not a number I can read"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else "long",
)
def test_hostile_input_gets_a_message_not_an_error(answer, says):
    feedback = LECTURE_TASK.check(answer)
    assert not feedback and says in feedback.message


@pytest.mark.parametrize("name", NOTEBOOK_TASKS)
def test_the_format_example_is_never_part_of_the_answer(name):
    task, _ = NOTEBOOK_TASKS[name]
    message = task.check("abc").message
    solution = task.worked_solution() + task.question()
    numbers = lambda text: set(re.findall(r"\d+", text.replace(",", "")))  # noqa: E731
    assert str(task._answer()) not in numbers(message), message
    shared = {n for n in numbers(message) & numbers(solution) if len(n) > 1}
    assert not shared, f"{name}: the format example shows {shared}, part of the solution"


def test_a_check_before_any_answer_is_neutral():
    feedback = LECTURE_TASK.check(None)
    assert not feedback and not feedback.graded
    assert feedback._repr_markdown_().startswith("✏️") and "❌" not in feedback._repr_markdown_()
    assert LECTURE_TASK.check(7)._repr_markdown_().startswith("❌")


def test_a_check_after_a_failed_answer_cell_says_so():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.user_ns["task"] = LECTURE_TASK
        shell.run_cell("answer = 73856")
        shell.run_cell("answer = abc")  # a NameError: answer keeps its older value
        shell.run_cell("feedback = task.check(answer)")
        feedback = shell.user_ns["feedback"]
        assert not feedback and not feedback.graded and "stopped with an error" in str(feedback)
        shell.run_cell("feedback = task.check(answer)")  # run again: graded as it stands
        assert shell.user_ns["feedback"]
    finally:
        InteractiveShell.clear_instance()


def test_a_table_shows_an_answer_only_once_the_task_is_settled():
    from course.exercises import shown
    from course.models import format_summary, summarize

    solved, given_up = ConvParamsTask(5, 7, 3), ConvParamsTask(5, 11, 3)  # used nowhere else
    layer = nn.Sequential(nn.Conv2d(5, 7, 3))
    right = sum(p.numel() for p in layer.parameters())
    table = format_summary(summarize(layer, (5, 8, 8)), hide=["0"])
    assert f"{right:,}" not in table.splitlines()[1] and " ? " in table.splitlines()[1]
    assert shown(right, solved) == "?" and not solved.settled
    assert not solved.check(right + 1) and not solved.settled  # a wrong answer settles nothing
    assert solved.check(right) and solved.settled and shown(right, solved) == f"{right:,}"
    assert not given_up.settled and given_up.solution() and given_up.settled
    assert shown(right, None) == f"{right:,}"  # a value no exercise asks for
    inception = InceptionTask(7, 1, 2, 3, 4, 5, 6)
    assert inception.check_channels(1 + 3 + 5 + 6) and inception.settled


def test_fc6_is_what_pytorch_counts_and_its_slips_are_named():
    fc6 = get_model("vgg16").classifier[0]
    assert fc6.in_features == 7 * 7 * 512 and FC6_TASK.check(
        sum(p.numel() for p in fc6.parameters())
    )
    assert "each output also has a bias" in FC6_TASK.check(25088 * 4096).message
    assert "not only one value per channel" in FC6_TASK.check(512 * 4096 + 4096).message


def test_inception_macs_are_what_pytorchs_flop_counter_counts():
    from course.models import count_macs

    naive, bottleneck = InceptionNaive(192, 64, 128, 32), Inception(192, *INCEPTION_TABLE["3a"])
    assert MACS_3A_NAIVE.check(count_macs(naive, (192, 28, 28)))
    assert MACS_3A.check(count_macs(bottleneck, (192, 28, 28)))
    assert (
        "1x1 reduce convolutions cost MACs too"
        in MACS_3A.check(28 * 28 * (64 * 192 + 128 * 9 * 96 + 32 * 25 * 16 + 32 * 192)).message
    )
    assert (
        "one output position"
        in MACS_3A_NAIVE.check(64 * 192 + 128 * 9 * 192 + 32 * 25 * 192).message
    )
