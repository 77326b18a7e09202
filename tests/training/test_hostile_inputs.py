"""What a hostile tester tried against training (issue "Reliability II"): each test failed before
its fix. Tiny models and a few hundred images: seconds in all."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course.data import fashion_mnist as data
from course.files import read_json
from course.training import CheckpointError, evaluate, fit
from course.training.batches import Preprocess

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def images():
    train = data.load_fashion_mnist("train", data.embedded_fashion_mnist_dir(), verbose=False)
    return train.images[:257], train.labels[:257]


def bn_cnn() -> nn.Module:
    """Batch norm also after the pooling (as at a 1x1 map): one value per channel in a batch of
    one image."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.BatchNorm1d(8), nn.Linear(8, 10),
    )  # fmt: skip


class Images(torch.utils.data.Dataset):
    """(image, label) pairs as given; ``scaled``: float images in [0, 1], the ToTensor() habit.
    (Not named images: fit would take a Dataset with ``.images`` for an ImageSet.)"""

    def __init__(self, images, labels, scaled: bool = False):
        self.x, self.y, self.scaled = images, labels, scaled

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return (self.x[i].float() / 255 if self.scaled else self.x[i]), int(self.y[i])


def test_a_dataset_of_float_images_is_refused_with_the_fix(images):
    floats = Images(*images, scaled=True)
    with pytest.raises(ValueError, match=r"train\[0\]'s image must be a uint8 tensor .* got a "
                       r"torch.float32 tensor .*PILToTensor\(\)"):  # fmt: skip
        fit(bn_cnn(), floats, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"data\[0\]'s image must be a uint8 tensor"):
        evaluate(bn_cnn(), floats, Preprocess((0.5,), (0.5,)))
    arrays = Images(images[0][:128].numpy(), images[1][:128])  # NumPy uint8 images: fine
    assert fit(bn_cnn(), arrays, epochs=1, batch_size=64, progress=False).train_loss


def test_a_last_batch_of_one_image_is_left_out_not_a_crash(images):
    # 257 = 2 x 128 + 1: the third batch would hold one image, and batch norm cannot train on it
    history = fit(bn_cnn(), images, epochs=2, batch_size=128, progress=False, augment=False)
    assert len(history.epoch) == 2
    again = fit(bn_cnn(), (images[0][:258], images[1][:258]), epochs=1, batch_size=128,
                progress=False)  # fmt: skip
    assert again.train_acc  # 258 = 2 x 128 + 2: a batch of two trains as before
    plain = nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 10))  # fmt: skip
    one = fit(plain, (images[0][:1], images[1][:1]), epochs=2, batch_size=4, progress=False)
    assert len(one.train_loss) == 2  # a set of one image (a sanity check) still trains


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(augment=False), "augment"),
        (dict(label_smoothing=0.1), "label_smoothing"),
        (dict(warmup_epochs=0.0), "warmup_epochs"),
        (dict(max_grad_norm=None), "max_grad_norm"),
        (dict(preprocess=Preprocess((0.2,), (0.3,))), "preprocess"),
        (dict(train="other images"), "data"),
    ],
)
def test_resume_refuses_every_setting_that_changes_the_result(images, tmp_path, change, name):
    path = tmp_path / "run.pt"
    fit(bn_cnn(), images, epochs=1, batch_size=64, checkpoint=path, progress=False)
    train, change = images, dict(change)
    if change.pop("train", None):
        train = (images[0].flip(0), images[1].flip(0))  # the same count, other order
    with pytest.raises(CheckpointError, match=rf"was trained with {name}="):
        fit(bn_cnn(), train, epochs=2, batch_size=64, checkpoint=path, resume=True,
            progress=False, **change)  # fmt: skip


def test_numbers_of_any_kind_are_accepted_and_nan_statistics_refused(images):
    fit(bn_cnn(), images, epochs=1, lr=np.float32(1e-3), weight_decay=np.float64(0.01),
        progress=False)  # fmt: skip
    with pytest.raises(ValueError, match=r"mean and std must be finite numbers"):
        Preprocess((float("nan"),), (0.5,))


def tiny_folder(folder: Path, n: int = 256) -> Path:
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        x, y = data.read_fashion_mnist_folder(data.embedded_fashion_mnist_dir(), split)
        names = data._FILES[split]
        data.write_idx(folder / f"{names[0]}.gz", x[:n, 0].numpy())
        data.write_idx(folder / f"{names[1]}.gz", y[:n].numpy().astype("uint8"))
    return folder


def cli(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "course.training", *args], cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs,
    )  # fmt: skip


def test_command_line_seed_fixes_the_initial_weights(tmp_path):
    folder = tiny_folder(tmp_path / "fm")
    losses = []
    for run in ("a", "b"):
        args = ["--model", "resnet20", "--width", "0.25", "--epochs", "1", "--data", str(folder),
                "--out", str(tmp_path / run), "--seed", "7"]  # fmt: skip
        assert cli(*args).wait(timeout=300) == 0
        losses.append(json.loads((tmp_path / run / "history.json").read_text())["train_loss"])
    assert losses[0] == losses[1]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_command_line_ctrl_c_exits_130_and_names_resume(tmp_path):
    folder = tiny_folder(tmp_path / "fm", n=512)
    args = ["--model", "resnet20", "--width", "0.25", "--epochs", "500", "--data", str(folder),
            "--out", str(tmp_path / "run")]  # fmt: skip
    # A shell's background job (`make test &`, some CI runners) starts with SIGINT ignored, and
    # children inherit that; the test is about the training process, so it gets Ctrl-C back.
    process = cli(*args, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while not (tmp_path / "run" / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.2)  # an epoch has finished: there is something to resume
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 130, out
    assert "--resume" in out


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges there")
def test_temporary_files_have_unguessable_names_and_never_follow_a_link(images, tmp_path):
    from course.experiments.runner import _write_json

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in ("run.pt", "finished.json"):  # planted where the old, predictable names were
        (tmp_path / f".{name}.{os.getpid()}.tmp").symlink_to(victim)
    fit(bn_cnn(), (images[0][:256], images[1][:256]), epochs=1, checkpoint=tmp_path / "run.pt",
        progress=False)  # fmt: skip
    _write_json(tmp_path / "finished.json", {"runs": {}})
    assert victim.read_text() == "precious"
    assert not (tmp_path / "finished.json").is_symlink()
    assert read_json(tmp_path / "finished.json") == {"runs": {}}
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "finished.json").stat().st_mode & 0o777 == 0o666 & ~umask  # as open()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    from course.experiments.runner import _write_json

    path = tmp_path / "finished.json"
    _write_json(path, {"old": 1})

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # the data must reach the disk before a rename
    with pytest.raises(OSError, match="No space left"):
        _write_json(path, {"new": 2})
    assert read_json(path) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["finished.json"]
    path.write_text('{"runs": ')  # truncated by hand
    with pytest.raises(ValueError, match=r"finished.json is not a readable record"):
        read_json(path, "record")


posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX: HOME, flock, FIFOs, SIGINT")


@posix
def test_a_checkpoint_path_under_home_goes_home(images, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    small = (images[0][:64], images[1][:64])
    fit(bn_cnn(), small, epochs=1, checkpoint="~/runs/run.pt", progress=False)
    assert (tmp_path / "home" / "runs" / "run.pt").is_file()
    assert not (tmp_path / "~").exists()


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = bn_cnn()

    def forward(self, x):
        return self.net(x), x.mean()


def test_models_that_do_not_fit_the_data_get_messages_not_torch_errors(images):
    small = (images[0][:64], images[1][:64])
    with pytest.raises(TypeError, match=r"must return class scores, a tensor \(N, classes\), got "
                       r"a tuple"):  # fmt: skip
        fit(TwoOutputs(), small, epochs=1, progress=False)
    no_linear = nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ValueError, match=r"labels go up to 9, but the model gives 4 class scores"):
        fit(no_linear, small, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"the model takes 1-channel images but would be given 3 "
                       r"channels"):  # fmt: skip
        fit(bn_cnn(), small, epochs=1, progress=False, preprocess=Preprocess(
            (0.5,), (0.25,), channels=3))  # fmt: skip


def test_a_grey_dataset_trains_a_grey_model(images):
    history = fit(bn_cnn(), Images(images[0][:128], images[1][:128]), epochs=1,
                  batch_size=64, progress=False)  # fmt: skip
    assert len(history.preprocess["mean"]) == 1


@posix
def test_a_second_runner_in_the_same_folder_is_refused(tmp_path):
    from course.experiments.runner import exclusive

    with exclusive(tmp_path, "dropout"):
        with pytest.raises(RuntimeError, match=r"dropout: another run is using"):
            with exclusive(tmp_path, "dropout"):
                pass
    with exclusive(tmp_path, "dropout"):  # free again once the first is done
        pass


def test_a_result_name_is_never_a_path():
    from course.experiments import load_results

    with pytest.raises(ValueError, match=r"unknown experiment '../annotations/x'"):
        load_results("../annotations/x", check=False)
