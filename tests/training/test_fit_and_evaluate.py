"""The training engine on tiny data: it learns, resumes exactly, keeps checkpoints safe,
detects divergence, handles auxiliary heads, test-time augmentation and torchrun."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.data import fashion_mnist as data
from course.models import AuxOutputs, get_model
from course.training import CheckpointError, TrainingDiverged, evaluate, fit, load_checkpoint
from course.training.batches import Preprocess, ten_crop_views
from course.training.loop import loss_and_logits

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def subset():
    folder = data.embedded_fashion_mnist_dir()
    return data.load_fashion_mnist("train", folder, verbose=False), data.load_fashion_mnist(
        "test", folder, verbose=False
    )


def small_cnn(dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(32 * 7 * 7, 10),
    )  # fmt: skip
    return model


def few(images_set, n):
    return images_set.images[:n], images_set.labels[:n]


def test_a_small_cnn_learns(subset):
    train, test = subset
    model = small_cnn()
    history = fit(model, train, test, epochs=2, batch_size=64, progress=False)
    assert history.val_acc[-1] > 0.7  # chance is 0.1
    assert history.train_loss[-1] < history.train_loss[0]
    assert len(history.epoch) == 2 and all(s > 0 for s in history.seconds)
    again = evaluate(model, test, history.preprocess, precision="auto")  # as fit measured it
    assert again["acc"] == pytest.approx(history.val_acc[-1], abs=1e-6)


def test_resume_after_interrupt_equals_an_uninterrupted_run(subset, tmp_path, monkeypatch):
    train, test = subset
    train, test = few(train, 640), few(test, 200)
    options = dict(epochs=3, batch_size=64, progress=False, seed=3)
    straight = small_cnn(dropout=0.3)
    fit(straight, train, test, checkpoint=tmp_path / "straight.pt", **options)

    interrupted = small_cnn(dropout=0.3)
    calls = {"n": 0}
    original = interrupted.forward

    def forward_then_interrupt(x):
        calls["n"] += 1
        if calls["n"] == 10 + 2 + 5:  # epoch 2 (10 train + 2 val batches per epoch), batch 5
            raise KeyboardInterrupt
        return original(x)

    monkeypatch.setattr(interrupted, "forward", forward_then_interrupt)
    history = fit(interrupted, train, test, checkpoint=tmp_path / "run.pt", **options)
    assert history.interrupted and history.epoch == [1]
    assert (tmp_path / "run.interrupted.pt").is_file()  # the weights of the moment are kept
    assert load_checkpoint(tmp_path / "run.pt")["epoch"] == 1

    resumed = small_cnn(dropout=0.3)  # a fresh kernel: nothing but the checkpoint
    history = fit(resumed, train, test, checkpoint=tmp_path / "run.pt", resume=True, **options)
    assert history.epoch == [1, 2, 3] and not history.interrupted
    for (name, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_val_every_measures_within_epochs_and_survives_a_resume(subset, tmp_path, monkeypatch):
    train, test = subset
    train, test = few(train, 640), few(test, 200)  # 10 batches of 64 per epoch
    options = dict(epochs=3, batch_size=64, progress=False, seed=3, val_every=4)
    straight = fit(small_cnn(), train, test, **options)
    assert straight.val_step == [4, 8, 10, 12, 16, 20, 24, 28, 30]  # and every epoch's end
    pairs = zip(straight.val_step, straight.val_step_acc, strict=True)
    ends = [a for s, a in pairs if s % 10 == 0]
    assert ends == straight.val_acc
    assert len(set(straight.val_step_acc)) > 3  # measured each time, not copied

    interrupted = small_cnn()
    calls = {"n": 0}
    original = interrupted.forward

    def forward_then_interrupt(x):
        calls["n"] += interrupted.training  # training batches only
        if calls["n"] == 15:  # epoch 2, batch 5
            raise KeyboardInterrupt
        return original(x)

    monkeypatch.setattr(interrupted, "forward", forward_then_interrupt)
    fit(interrupted, train, test, checkpoint=tmp_path / "run.pt", **options)
    resumed = fit(small_cnn(), train, test, checkpoint=tmp_path / "run.pt", resume=True, **options)
    assert resumed.val_step == straight.val_step
    assert resumed.val_step_acc == straight.val_step_acc


def test_corrupted_checkpoint_is_refused_clearly(subset, tmp_path):
    train, _ = subset
    path = tmp_path / "run.pt"
    fit(small_cnn(), few(train, 128), epochs=1, batch_size=64, progress=False, checkpoint=path)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match=r"run.pt cannot be read .* damaged"):
        fit(small_cnn(), few(train, 128), epochs=2, progress=False, checkpoint=path, resume=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")


def test_a_failed_write_leaves_the_previous_checkpoint_intact(subset, tmp_path, monkeypatch):
    train, _ = subset
    path = tmp_path / "run.pt"
    fit(small_cnn(), few(train, 128), epochs=1, batch_size=64, progress=False, checkpoint=path)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        fit(small_cnn(), few(train, 128), epochs=2, batch_size=64, progress=False, checkpoint=path,
            resume=True)  # fmt: skip
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary file left behind


def test_nan_loss_stops_with_epoch_and_batch(subset):
    train, _ = subset
    model = small_cnn()
    calls = {"n": 0}
    original = model.forward

    def forward(x):
        calls["n"] += 1
        out = original(x)
        return out * float("nan") if calls["n"] == 3 else out

    model.forward = forward
    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch 2 \(of 4\).*lower learning rate"):
        fit(model, few(train, 256), epochs=1, batch_size=64, progress=False, lr=0.5)


def test_auxiliary_losses_are_weighted_and_evaluation_uses_the_main_output():
    torch.manual_seed(0)
    y = torch.tensor([1, 0, 2])
    main, aux1, aux2 = torch.randn(3, 3), torch.randn(3, 3), torch.randn(3, 3)
    loss, main_loss, logits = loss_and_logits(AuxOutputs(main, (aux1, aux2)), y, 0.0, 0.3)
    expected = F.cross_entropy(main, y) + 0.3 * (
        F.cross_entropy(aux1, y) + F.cross_entropy(aux2, y)
    )
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(main_loss, F.cross_entropy(main, y))
    assert logits is main


class WithConstantAuxHead(nn.Module):
    """A network plus an auxiliary head that always says 'class 0': its loss is large and passes
    no gradient, so training is the same as without it."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        logits = self.net(x)
        if not self.training:
            return logits
        always_zero = torch.zeros_like(logits.detach())
        always_zero[:, 0] = 20.0
        return AuxOutputs(logits, (always_zero,))


def test_the_recorded_training_loss_is_the_main_outputs_alone(subset):
    """Training is identical with the constant auxiliary head (it adds no gradient), so the
    recorded loss must be too; had the 0.3-weighted auxiliary loss (about 6 per image) been
    added, it would be far larger."""
    train, _ = subset
    runs = [fit(net, few(train, 256), epochs=2, batch_size=64, progress=False, augment=False)
            for net in (small_cnn(), WithConstantAuxHead(small_cnn()))]  # fmt: skip
    assert runs[1].train_loss == runs[0].train_loss
    assert runs[1].train_acc == runs[0].train_acc


def test_googlenet_trains_with_its_auxiliary_heads(subset):
    from course.models import get_model

    train, test = subset
    model = get_model("googlenet_paper", num_classes=10, in_channels=1, width=0.125)
    prep = Preprocess((0.3,), (0.35,), size=64)  # GoogLeNet's five poolings need > 28 pixels
    history = fit(model, few(train, 256), few(test, 100), epochs=1, batch_size=64, progress=False,
                  preprocess=prep)  # fmt: skip
    assert model.aux1.fc2.weight.grad is not None  # the auxiliary heads were trained
    assert all(torch.isfinite(torch.tensor(history.train_loss + history.val_loss)))


def test_ten_crop_tta_equals_the_mean_over_the_ten_views():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (4, 1, 12, 12), dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 1])
    model = nn.Sequential(nn.Flatten(), nn.Linear(100, 3))
    prep = Preprocess((0.5,), (0.25,), crop=10)
    result = evaluate(model, (images, labels), prep, tta="ten_crop")

    x = (images.float() / 255 - 0.5) / 0.25
    views = [x[..., :10, :10], x[..., :10, 2:], x[..., 2:, :10], x[..., 2:, 2:], x[..., 1:11, 1:11]]
    views += [v.flip(-1) for v in views]
    with torch.no_grad():
        probs = torch.stack([F.softmax(model(v), 1) for v in views]).mean(0)
    assert result["loss"] == pytest.approx(F.nll_loss(probs.log(), labels).item(), rel=1e-5)
    assert result["acc"] == (probs.argmax(1) == labels).float().mean().item()
    assert [v.shape for v in ten_crop_views(x, 10)] == [(4, 1, 10, 10)] * 10


def test_preprocess_batches():
    generator = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 8 * 8, dtype=torch.uint8).view(2, 1, 8, 8)
    prep = Preprocess((0.0,), (1.0,), crop=6, pad=1, flip=True, channels=3)
    out = prep.train_batch(x, generator)
    assert out.shape == (2, 3, 6, 6)
    again = prep.train_batch(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)  # the generator decides every crop and flip
    centre = prep.eval_batch(x)
    torch.testing.assert_close(centre[:, :1], x[:, :, 1:7, 1:7].float() / 255)
    stats = Preprocess.for_images(torch.full((3, 1, 4, 4), 51, dtype=torch.uint8))
    assert stats.mean == (0.2,)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, r"epochs must be an int >= 1, got 0"),
        ({"batch_size": 0}, r"batch_size must be an int >= 1"),
        ({"lr": -1}, r"lr must be a number in \(0, 10\), got -1"),
        ({"resume": True}, r"resume=True needs checkpoint="),
        ({"optimizer": "adam"}, r"optimizer must be 'adamw' or 'sgd', got 'adam'"),
        ({"precision": "int8"}, r"precision must be 'auto', 'fp32', 'bf16' or 'fp16', got 'int8'"),
        ({"precision": "fp16", "device": "cpu"}, r"precision='fp16' is for GPUs"),
        ({"device": "cuda:5"}, r"'cuda:5' was asked for but this machine has only"),
        ({"val_every": 0}, r"val_every must be an int >= 1, got 0"),
        ({"val_every": 5}, r"val_every needs val= \(the held-out images to measure\)"),
    ],
)
def test_bad_fit_arguments(subset, kwargs, message):
    train, _ = subset
    with pytest.raises(ValueError, match=message):
        fit(small_cnn(), few(train, 64), progress=False, **kwargs)


def test_bad_data_and_tta(subset):
    _, test = subset
    with pytest.raises(ValueError, match=r"train must be an ImageSet .* got str"):
        fit(small_cnn(), "fashion", progress=False)
    with pytest.raises(ValueError, match=r"train images must be a uint8 tensor"):
        fit(small_cnn(), (torch.rand(4, 1, 28, 28), torch.zeros(4)), progress=False)
    with pytest.raises(ValueError, match=r"tta must be 'none', 'flip' or 'ten_crop'"):
        evaluate(small_cnn(), test, tta="five")
    with pytest.raises(ValueError, match=r"needs a Preprocess with crop="):
        evaluate(small_cnn(), test, Preprocess((0.5,), (0.5,)), tta="ten_crop")


def test_command_line_writes_checkpoint_and_history(tmp_path, fashion_mnist_head):
    folder = fashion_mnist_head()
    result = subprocess.run(
        [sys.executable, "-m", "course.training", "--model", "resnet20", "--width", "0.25",
         "--epochs", "1", "--data", str(folder), "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    assert '"val_acc"' in (tmp_path / "run" / "history.json").read_text()


def test_torchrun_two_cpu_processes(tmp_path, fashion_mnist_head):
    folder = fashion_mnist_head()
    script = tmp_path / "ddp_fit.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, torch
        from course.data import load_fashion_mnist
        from course.models import get_model
        from course.training import fit
        train = load_fashion_mnist("train", {str(folder)!r}, verbose=False)
        test = load_fashion_mnist("test", {str(folder)!r}, verbose=False)
        torch.manual_seed(int(os.environ["RANK"]))  # different starts: DDP must sync them
        model = get_model("resnet20", num_classes=10, in_channels=1, width=0.25)
        history = fit(model, train, test, epochs=2, batch_size=32, progress=False,
                      checkpoint={str(tmp_path / "ckpt" / "run.pt")!r})
        out = {str(tmp_path)!r} + f"/rank{{os.environ['RANK']}}.pt"
        torch.save({{"params": model.state_dict(), "val_acc": history.val_acc}}, out)
    """)
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", COURSE_DEVICE="cpu")  # CPU processes, gloo
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         "--standalone", str(script)],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for (name, a), b in zip(rank0["params"].items(), rank1["params"].values(), strict=True):
        assert torch.equal(a, b), name  # DDP kept the replicas identical
    assert rank0["val_acc"] == rank1["val_acc"]  # metrics reduced over both processes
    assert [p.name for p in (tmp_path / "ckpt").iterdir()] == ["run.pt"]  # one writer


def test_progress_prints_text_outside_jupyter(subset, capsys):
    train, _ = subset
    fit(small_cnn(), few(train, 128), epochs=2, batch_size=64, live_plot=True)
    out = capsys.readouterr().out
    assert "epoch 1: train loss" in out and "epoch 2: train loss" in out
    assert "final: epoch 2: train loss" in out


def test_live_plot_updates_one_display_in_jupyter(subset, monkeypatch):
    import IPython.display

    from course.training import progress

    shown, updated = [], []

    class Handle:
        def update(self, fig):
            updated.append(fig)

    def display(fig, display_id=False):
        shown.append(fig)
        return Handle()

    monkeypatch.setattr(progress, "in_jupyter", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    train, _ = subset
    fit(small_cnn(), few(train, 128), epochs=3, batch_size=64)
    assert len(shown) == 1 and len(updated) == 2  # one figure, updated in place


# --- mistakes a user makes: refused before any compute, nothing lost ---------------------------


def test_an_existing_checkpoint_is_never_overwritten_by_a_new_run(subset, tmp_path):
    train, _ = subset
    path = tmp_path / "run.pt"
    fit(small_cnn(), few(train, 128), epochs=2, batch_size=64, progress=False, checkpoint=path)
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=r"already holds epoch 2.*resume=True.*delete"):
        fit(small_cnn(), few(train, 128), epochs=1, batch_size=64, progress=False, checkpoint=path)
    assert path.read_bytes() == before


def test_an_unwritable_checkpoint_path_is_found_before_training(subset, tmp_path):
    train, _ = subset
    model = small_cnn()
    forward = model.forward
    model.forward = lambda x: pytest.fail("trained although the checkpoint cannot be written")
    with pytest.raises(CheckpointError, match=r"is a folder; name a file in it"):
        fit(model, few(train, 64), epochs=1, progress=False, checkpoint=tmp_path)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(CheckpointError, match=r"cannot be written to .*a-file"):
        fit(
            model, few(train, 64), epochs=1, progress=False, checkpoint=tmp_path / "a-file" / "r.pt"
        )
    model.forward = forward


def small_run(model, train, path, **options):
    settings = dict(epochs=1, batch_size=64, progress=False, checkpoint=path)
    return fit(model, few(train, 128), **{**settings, **options})


@pytest.mark.parametrize(
    "other, options, message",
    [
        ("plain20", {}, r"another model: \{'name': 'resnet20'.*not \{'name': 'plain20'"),
        ("resnet20", {"width": 0.5}, r"another model.*'width': '0.5'"),
        ("resnet20", {"optimizer": "sgd"}, r"trained with optimizer='adamw'.*optimizer='sgd'"),
        ("resnet20", {"lr": 0.01}, r"trained with lr=0.001, this call asks for lr=0.01"),
    ],
)
def test_resume_refuses_a_checkpoint_of_another_run(subset, tmp_path, other, options, message):
    train, _ = subset
    path = tmp_path / "run.pt"
    build = dict(num_classes=10, in_channels=1, width=0.25)
    small_run(get_model("resnet20", **build), train, path)
    fit_options = {k: v for k, v in options.items() if k in ("optimizer", "lr")}
    model = get_model(other, **{**build, **{k: v for k, v in options.items() if k == "width"}})
    with pytest.raises(CheckpointError, match=message):
        small_run(model, train, path, resume=True, epochs=2, **fit_options)


def test_resume_names_a_shape_that_differs(subset, tmp_path):
    train, _ = subset
    path = tmp_path / "run.pt"
    small_run(small_cnn(), train, path)
    wider = small_cnn()
    wider[-1] = nn.Linear(32 * 7 * 7, 12)  # another class count, same keys
    with pytest.raises(CheckpointError, match=r"holds 10.weight of shape \(10, 1568\), .*\(12"):
        small_run(wider, train, path, resume=True, epochs=2)


def test_interrupt_in_the_first_epoch_says_there_is_nothing_to_resume(subset, tmp_path, capsys):
    train, _ = subset
    model = small_cnn()
    original = model.forward
    calls = {"n": 0}

    def forward(x):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(x)

    model.forward = forward
    history = small_run(model, train, tmp_path / "run.pt", progress=True, live_plot=False)
    out = capsys.readouterr().out
    assert history.interrupted and history.epoch == []
    assert "no epoch had finished, so there is no run.pt to resume from" in out
    assert not (tmp_path / "run.pt").exists() and (tmp_path / "run.interrupted.pt").is_file()


def test_evaluate_does_not_guess_how_images_were_normalized(subset):
    train, test = subset
    with pytest.raises(ValueError, match=r"evaluate needs to know how the model saw.*will not"):
        evaluate(small_cnn(), few(test, 64))
    model = small_cnn()
    history = fit(model, few(train, 256), epochs=1, batch_size=64, progress=False)
    assert evaluate(model, few(test, 64)) == evaluate(model, few(test, 64), history.preprocess)


def test_labels_are_checked_before_any_compute(subset):
    train, test = subset
    images, labels = few(train, 64)
    with pytest.raises(ValueError, match=r"train labels must be integer class indices.*float32"):
        fit(small_cnn(), (images, labels.float()), progress=False)
    with pytest.raises(ValueError, match=r"train labels range from 0 to 10, but the model .* 10"):
        fit(small_cnn(), (images, torch.where(labels == 9, 10, labels)), progress=False)
    with pytest.raises(ValueError, match=r"val labels range from -1 to"):
        fit(small_cnn(), (images, labels), (images, labels - 1), progress=False)
    with pytest.raises(ValueError, match=r"has 64 images but labels of shape \(63,\)"):
        evaluate(small_cnn(), (images, labels[:63]), Preprocess((0.5,), (0.5,)))


@pytest.mark.parametrize("which", ["train", "val", "test"])
def test_empty_data_is_refused_at_once(subset, which):
    train, _ = subset
    images, labels = few(train, 64)
    empty = (images[:0], labels[:0])
    with pytest.raises(ValueError, match=rf"{'data' if which == 'test' else which} is empty"):
        if which == "test":
            evaluate(small_cnn(), empty, Preprocess((0.5,), (0.5,)))
        else:
            fit(small_cnn(), *((empty,) if which == "train" else ((images, labels), empty)),
                progress=False)  # fmt: skip


def test_a_temporary_file_of_a_killed_writer_is_removed(subset, tmp_path):
    train, _ = subset
    stale = tmp_path / ".run.pt.999999999.tmp"  # no such process
    stale.write_bytes(b"half")
    small_run(small_cnn(), train, tmp_path / "run.pt")
    assert not stale.exists() and (tmp_path / "run.pt").is_file()


def run_cli(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "course.training", *args],
        capture_output=True, text=True, timeout=300, cwd=cwd,
    )  # fmt: skip


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "vgg"], r"argument --model: invalid choice: 'vgg'"),
        (["--model", "vgg11", "--epochs", "-1"], r"argument --epochs: must be above 0, got -1"),
        (["--model", "vgg11", "--lr", "fast"], r"argument --lr: 'fast' is not a float"),
        (["--model", "vgg11", "--image-size", "16"], r"--image-size 16: vgg11 needs at least 32"),
    ],
)
def test_command_line_mistakes_get_one_line_not_a_traceback(fashion_mnist_head, args, message):
    if "--image-size" in args:
        args += ["--data", str(fashion_mnist_head())]
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert re.search(message, result.stderr), result.stderr[-500:]


def test_command_line_picks_an_image_size_the_model_takes(tmp_path, fashion_mnist_head):
    folder = fashion_mnist_head()
    args = ["--model", "vgg11_bn", "--width", "0.125", "--epochs", "1", "--data", str(folder),
            "--out", str(tmp_path / "run")]  # fmt: skip
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "images resized to 32x32 (vgg11_bn needs at least 32)" in result.stdout
    again = run_cli(*args)  # the same command again: the checkpoint is kept, not overwritten
    assert again.returncode == 2 and "--resume goes on" in again.stderr


def test_torchrun_with_more_processes_than_gpus_says_what_to_do(monkeypatch):
    from course.training.devices import Distributed, device_for

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    second = Distributed(rank=1, world=2, local_rank=1)
    with pytest.raises(
        ValueError,
        match=r"LOCAL_RANK 1, but this machine has 1 GPU: use "
        r"--nproc_per_node=1 or fewer, or COURSE_DEVICE=cpu",
    ):
        device_for(second, None)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")  # a named device is kept: CPU processes
    assert device_for(second, None) == torch.device("cpu")
    assert device_for(second, "cpu") == torch.device("cpu")
