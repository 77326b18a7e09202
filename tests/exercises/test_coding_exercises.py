"""Coding exercises: a correct solution passes; each typical mistake gets its own message; a crash
in the student's code comes back as their traceback; nothing of the student's is changed."""

import torch
import torch.nn.functional as F
from torch import nn

from course.exercises.alexnet import TenViewTask
from course.exercises.batchnorm import BatchNormTask
from course.exercises.convolution import ConvForwardTask
from course.exercises.googlenet import InceptionBlockTask
from course.exercises.resnet import ResidualBlockTask

CONV = ConvForwardTask()
BLOCK = ResidualBlockTask()


def conv2d(x, weight, bias, stride=1, padding=0, dilation=1):  # the worked solution's loops
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    w_out = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    xp = F.pad(x, (padding,) * 4)
    rows, cols = dilation * torch.arange(kh), dilation * torch.arange(kw)
    out = x.new_zeros(n, c_out, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride + rows][:, :, :, j * stride + cols]
            out[:, :, i, j] = (window[:, None] * weight[None]).sum((2, 3, 4))
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def test_the_worked_convolution_passes_and_is_the_one_shown():
    assert CONV.check(conv2d)
    assert "def conv2d(x, weight, bias, stride=1, padding=0, dilation=1)" in CONV.worked_solution()
    namespace = {"F": F, "torch": torch}
    exec(CONV.worked_solution().split("```python\n")[1].split("```")[0], namespace)
    assert CONV.check(namespace["conv2d"])  # the solution on the page is right


def test_each_convolution_mistake_gets_its_own_message():
    mistakes = {
        "without the padding": lambda x, w, b, stride=1, padding=0, dilation=1: conv2d(
            x, w, b, stride, 0, dilation),
        "without the stride": lambda x, w, b, stride=1, padding=0, dilation=1: conv2d(
            x, w, b, 1, padding, dilation),
        "without the dilation": lambda x, w, b, stride=1, padding=0, dilation=1: conv2d(
            x, w, b, stride, padding, 1),
        "you flipped the kernel": lambda x, w, b, stride=1, padding=0, dilation=1: conv2d(
            x, w.flip(-1, -2), b, stride, padding, dilation),
        "the bias is missing": lambda x, w, b, stride=1, padding=0, dilation=1: conv2d(
            x, w, None, stride, padding, dilation),
        "changed its input": lambda x, w, b, stride=1, padding=0, dilation=1: conv2d(
            x.mul_(2), w, b, stride, padding, dilation),
        "must return a tensor": lambda x, w, b, stride=1, padding=0, dilation=1: conv2d(
            x, w, b, stride, padding, dilation).tolist(),
    }  # fmt: skip
    for says, student in mistakes.items():
        feedback = CONV.check(student)
        assert not feedback and says in feedback.message, (says, feedback.message)


def test_a_crash_is_the_students_traceback_with_the_line():
    def student(x, weight, bias, stride=1, padding=0, dilation=1):
        return x @ weight  # shapes that cannot multiply

    feedback = CONV.check(student)
    assert not feedback and feedback.message.startswith("Your code stopped with an error")
    assert "return x @ weight" in feedback.message and "RuntimeError" in feedback.message
    assert "course/exercises" not in feedback.message and "-packages" not in feedback.message


def test_nothing_of_the_student_is_touched_and_the_start_is_neutral():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    CONV.check(conv2d)
    assert torch.equal(torch.get_rng_state(), state)  # their random numbers go on as before
    for task in (CONV, BLOCK):
        waiting = task.check(None)
        assert not waiting and not waiting.graded and "then run this cell again" in str(waiting)
    assert (
        "Give the function itself"
        in CONV.check(conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 1, 1), None)).message
    )
    assert "Give the class itself" in BLOCK.check(nn.Identity()).message

    def skeleton(x, weight, bias, stride=1, padding=0, dilation=1): ...

    class Skeleton(nn.Module):
        def __init__(self, in_channels, out_channels, stride=1):
            super().__init__()

        def forward(self, x): ...

    for task, student in ((CONV, skeleton), (BLOCK, Skeleton)):
        untouched = task.check(student)  # the notebook's skeleton, as a student first runs it
        assert not untouched and not untouched.graded and "nothing yet (None)" in str(untouched)


class Block(nn.Module):  # the worked solution
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class NoShortcut(Block):
    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class NoReluAtTheEnd(Block):
    def forward(self, x):
        return self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + self.shortcut(x)


class IdentityShortcutEverywhere(Block):
    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + x)


class ConvolutionsWithBias(Block):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)


class ReluBeforeTheAddition(Block):
    def forward(self, x):
        out = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))
        return out + self.shortcut(x)


class Crashes(Block):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.head = nn.Linear(out_channel, 10)  # noqa: F821 - the student's typo


def test_the_worked_block_passes_and_is_the_one_shown():
    assert BLOCK.check(Block)
    namespace = {"nn": nn, "torch": torch}
    exec(BLOCK.worked_solution().split("```python\n")[1].split("```")[0], namespace)
    assert BLOCK.check(namespace["Block"])


def test_each_block_mistake_gets_its_own_message():
    mistakes = {
        NoShortcut: "the shortcut is missing",
        NoReluAtTheEnd: "apply the last ReLU after adding the shortcut",
        IdentityShortcutEverywhere: "the shortcut must change it the same way",
        ConvolutionsWithBias: "the convolutions need no bias",
        ReluBeforeTheAddition: "check the order conv → BN → ReLU → conv → BN",
    }
    for student, says in mistakes.items():
        feedback = BLOCK.check(student)
        assert not feedback and says in feedback.message, (student.__name__, feedback.message)
    crash = BLOCK.check(Crashes)
    assert not crash and "while building Block(16, 16, stride=1)" in crash.message
    assert "self.head = nn.Linear(out_channel, 10)" in crash.message
    assert "NameError" in crash.message


# --- the Inception block (notebook 06) ----------------------------------------------------------

INCEPTION = InceptionBlockTask()


class Inception(nn.Module):  # the worked solution, with switches for the typical mistakes
    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, bias=True,
                 reduce=True, project=True, relu=True, padding5=2):  # fmt: skip
        super().__init__()
        act = nn.ReLU() if relu else nn.Identity()
        r3, r5 = (c3_reduce, c5_reduce) if reduce else (in_channels, in_channels)
        first = (lambda c: [nn.Conv2d(in_channels, c, 1, bias=bias), act]) if reduce else (
            lambda c: [])  # fmt: skip
        pool = [nn.Conv2d(in_channels, pool_proj, 1, bias=bias), act] if project else []
        self.branches = nn.ModuleList([
            nn.Sequential(nn.Conv2d(in_channels, c1, 1, bias=bias), act),
            nn.Sequential(*first(r3), nn.Conv2d(r3, c3, 3, padding=1, bias=bias), act),
            nn.Sequential(*first(r5), nn.Conv2d(r5, c5, 5, padding=padding5, bias=bias), act),
            nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *pool),
        ])  # fmt: skip
        self.axis = 1

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=self.axis)


def inception_with(**mistake):
    class Student(Inception):
        def __init__(self, *row):
            super().__init__(*row, **{k: v for k, v in mistake.items() if k != "axis"})
            self.axis = mistake.get("axis", 1)

    return Student


class BranchesSwapped(Inception):
    def forward(self, x):
        one, three, five, pool = (branch(x) for branch in self.branches)
        return torch.cat([three, one, five, pool], dim=1)


def test_the_worked_inception_block_passes_and_is_the_one_shown():
    assert INCEPTION.check(Inception)
    namespace = {"nn": nn, "torch": torch}
    exec(INCEPTION.worked_solution().split("```python\n")[1].split("```")[0], namespace)
    assert INCEPTION.check(namespace["Inception"])


def test_each_inception_mistake_gets_its_own_message():
    mistakes = {
        inception_with(bias=False): "the paper's convolutions have biases",
        inception_with(reduce=False): "the 1x1 reductions before the 3x3 and the 5x5",
        inception_with(project=False): "its 1x1 projection (pool proj) is missing",
        inception_with(relu=False): "a ReLU follows every convolution",
        inception_with(axis=0): "concatenated along dim=0; the channel axis is dim=1",
        inception_with(padding5=1): "padding 1 for the 3x3 convolution and the max-pool",
        BranchesSwapped: "check the order of the outputs (1x1, 3x3, 5x5, pool)",
    }
    for student, says in mistakes.items():
        feedback = INCEPTION.check(student)
        assert not feedback and says in feedback.message, (says, feedback.message)

    class Crashes(Inception):
        def __init__(self, *row):
            super().__init__(*row)
            self.extra = nn.Conv2d(row[0], row[1])  # kernel_size forgotten

    crash = INCEPTION.check(Crashes)
    assert not crash and "while building Inception(192, 64, 96, 128, 16, 32, 32)" in crash.message
    assert "TypeError" in crash.message


# --- AlexNet's ten views (notebook 04) ----------------------------------------------------------

VIEWS = TenViewTask()


def ten_views(x, size):  # the worked solution
    h, w = x.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    corners = [x[..., :size, :size], x[..., :size, w - size :], x[..., h - size :, :size],
               x[..., h - size :, w - size :]]  # fmt: skip
    crops = [*corners, x[..., top : top + size, left : left + size]]
    return crops + [crop.flip(-1) for crop in crops]


def test_the_worked_ten_views_pass_in_any_order_and_form():
    assert VIEWS.check(ten_views)
    assert VIEWS.check(lambda x, size: torch.stack(ten_views(x, size)[::-1]))  # a tensor, reversed
    namespace = {}
    exec(VIEWS.worked_solution().split("```python\n")[1].split("```")[0], namespace)
    assert VIEWS.check(namespace["ten_views"])


def test_each_ten_view_mistake_gets_its_own_message():
    def upside_down(x, size):
        return ten_views(x, size)[:5] + [v.flip(-2) for v in ten_views(x, size)[:5]]

    def centre_rounded_up(x, size):
        views, (h, w) = ten_views(x, size), x.shape[-2:]
        top, left = -(-(h - size) // 2), -(-(w - size) // 2)
        views[4] = x[..., top : top + size, left : left + size]
        views[9] = views[4].flip(-1)
        return views

    mistakes = {
        upside_down: "not upside down",
        lambda x, size: ten_views(x, size)[:5] * 2: "the mirrored views are missing",
        lambda x, size: ten_views(x, size)[:5]: "you return 5 views",
        centre_rounded_up: "centre; centre, mirrored. Hint: the centre crop starts at row",
        lambda x, size: [v[..., :-1, :] for v in ten_views(x, size)]: "each should be",
    }
    for student, says in mistakes.items():
        feedback = VIEWS.check(student)
        assert not feedback and says in feedback.message, (says, feedback.message)
    crash = VIEWS.check(lambda x, size: x.flip(5))
    assert not crash and "IndexError" in crash.message and "x.flip(5)" in crash.message


# --- batch norm (notebook 07) -------------------------------------------------------------------

BATCH_NORM = BatchNormTask()


class MyBatchNorm2d(nn.Module):  # the worked solution, with switches for the typical mistakes
    def __init__(self, num_features, eps=1e-5, momentum=0.1, mistake=None):
        super().__init__()
        self.eps, self.momentum, self.mistake = eps, momentum, mistake
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training or self.mistake == "batch statistics in evaluation":
            mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=self.mistake == "unbiased")
            n, m = x.numel() / x.shape[1], self.momentum
            if self.mistake != "no running update":
                with torch.no_grad():
                    self.running_mean.mul_(1 - m).add_(m * mean)
                    unbiased = var if self.mistake == "biased running" else var * n / (n - 1)
                    self.running_var.mul_(1 - m).add_(m * unbiased)
        else:
            mean, var = self.running_mean, self.running_var
        shape = (1, -1, 1, 1)
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        if self.mistake == "no scale and shift":
            return x_hat
        return x_hat * self.weight.view(shape) + self.bias.view(shape)


def batch_norm_with(mistake):
    class Student(MyBatchNorm2d):
        def __init__(self, num_features, eps=1e-5, momentum=0.1):
            super().__init__(num_features, eps, momentum, mistake)

    return Student


def test_the_worked_batch_norm_passes_and_is_the_one_shown():
    assert BATCH_NORM.check(MyBatchNorm2d)
    namespace = {"nn": nn, "torch": torch}
    exec(BATCH_NORM.worked_solution().split("```python\n")[1].split("```")[0], namespace)
    assert BATCH_NORM.check(namespace["MyBatchNorm2d"])


def test_each_batch_norm_mistake_gets_its_own_message():
    mistakes = {
        "unbiased": "normalize with the biased variance",
        "no scale and shift": "scale by weight (γ) and shift by bias (β)",
        "no running update": "did not change in training mode",
        "biased running": "The running variance takes the unbiased variance",
        "batch statistics in evaluation": "In evaluation mode (after model.eval()) normalize with",
    }
    for mistake, says in mistakes.items():
        feedback = BATCH_NORM.check(batch_norm_with(mistake))
        assert not feedback and says in feedback.message, (mistake, feedback.message)

    class Crashes(MyBatchNorm2d):
        def forward(self, x):
            return x - x.mean(dim=(0, 2, 3))  # (C,) does not broadcast against (N, C, H, W)

    crash = BATCH_NORM.check(Crashes)
    assert not crash and "x - x.mean(dim=(0, 2, 3))" in crash.message


def test_the_batch_norm_skeleton_is_neutral():
    class Skeleton(nn.Module):  # as 07 ships it
        def __init__(self, num_features, eps=1e-5, momentum=0.1):
            super().__init__()

        def forward(self, x): ...

    untouched = BATCH_NORM.check(Skeleton)
    assert not untouched and not untouched.graded
    assert "no parameters or buffers yet" in str(untouched)
