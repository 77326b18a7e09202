"""What the experiments' docstrings claim about their set-up, checked: the map the FC and GAP
heads see, held-out images apart from the training images, steps to a target, the arms of the
batch-norm and Inception-BN experiments, ties in the architectures' rankings."""

import pytest
import torch
from torch import nn

from course.experiments import fc_vs_gap
from course.experiments.common import fashion_mnist


def test_the_heads_see_a_4x4_map_of_a_32x32_image():
    config = fc_vs_gap.CONFIGS["reference"]
    for settings in fc_vs_gap.HEADS.values():
        model = fc_vs_gap.build(config, settings["head"]).eval()
        pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
        assert len(pools) == 3  # VGG's five, less the last two
        with torch.no_grad():
            assert model.features(torch.zeros(1, 1, 32, 32)).shape[1:] == (128, 4, 4)
            assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    fc = fc_vs_gap.build(config, "fc")
    assert fc.classifier[0].in_features == 128 * 4 * 4


def test_held_out_images_follow_the_training_images():
    data = fashion_mnist(dict(train_images=300, val_images=200, test_images=100))
    assert len(data["train"][0]) == 300 and len(data["val"][0]) == 200
    both = fashion_mnist(dict(train_images=500, test_images=100))["train"][0]
    assert torch.equal(torch.cat([data["train"][0], data["val"][0]]), both)
    assert "200 training images held out" in data["source"]


def test_steps_to_a_target_count_whole_epochs_of_batches():
    from course.experiments.common import steps_to

    config = dict(train_images=1000, batch_size=128)  # 8 batches per epoch, the last of 104
    run = {"history": {"val_acc": [0.5, 0.7, 0.9]}}
    assert [steps_to(run, a, config) for a in (0.4, 0.7, 0.71, 0.95)] == [8, 16, 24, None]
    assert steps_to({"diverged": True}, 0.1, config) is None


def test_steps_to_a_target_within_epochs_where_the_run_measured_them():
    from course.experiments.common import steps_to

    history = {"val_acc": [0.6, 0.9], "val_step": [3, 6, 8, 9, 12, 16],
               "val_step_acc": [0.2, 0.5, 0.6, 0.7, 0.8, 0.9]}  # fmt: skip
    config = dict(train_images=1000, batch_size=128)
    run = {"history": history}
    assert [steps_to(run, a, config) for a in (0.2, 0.55, 0.7, 0.85, 0.95)] == [3, 8, 9, 16, None]


def test_the_batch_norm_arms_differ_only_by_batch_norm():
    from course.experiments.batch_norm import ARMS, he_initialized
    from course.models.plain_cnn import plain_cnn

    torch.manual_seed(0)
    without, with_bn = (he_initialized(plain_cnn(bn)) for bn in ARMS.values())
    convs = [[m for m in net if isinstance(m, nn.Conv2d)] for net in (without, with_bn)]
    assert [c.weight.shape for c in convs[0]] == [c.weight.shape for c in convs[1]]
    assert all(c.bias is None for c in convs[1]) and all(c.bias.abs().sum() == 0 for c in convs[0])
    assert sum(isinstance(m, nn.BatchNorm2d) for m in with_bn) == 10
    assert not any(isinstance(m, nn.BatchNorm2d) for m in without)
    wide = convs[0][-1]  # 64 -> 64, 3x3: He's std is sqrt(2 / fan_out) = sqrt(2 / 576)
    assert abs(wide.weight.std().item() - (2 / 576) ** 0.5) < 0.003


def test_inception_bn_runs_at_multiples_of_googlenets_best_stable_rate(monkeypatch):
    from course.experiments import inception_bn

    config = dict(inception_bn.CONFIGS["reference"])
    first = config["seeds"][0]
    acc = {0.005: 0.78, 0.01: 0.80, 0.02: 0.83}  # 0.04 diverged: not "stable", whatever its acc
    done = {inception_bn.run_key("GoogLeNet", lr, first): {"history": {"val_acc": [a]}}
            for lr, a in acc.items()}  # fmt: skip
    done[inception_bn.run_key("GoogLeNet", 0.04, first)] = {"diverged": True}
    todo = dict(inception_bn.plan(config, done))
    inception = sorted(s["lr"] for s in todo.values() if s["network"] == "Inception-BN")
    assert inception == [0.02] * 3 + [0.1] * 3 + [0.6] * 3  # x1, x5, x30, three seeds
    recipe = [s["lr"] for s in todo.values() if s["network"] == inception_bn.RECIPE]
    assert recipe == [0.1] * 3  # at 5x
    assert [s["lr"] for s in todo.values() if s["network"] == "GoogLeNet"] == [0.02] * 2
    assert len(todo) + len(done) == inception_bn.planned_runs(config)
    googlenet = inception_bn.build("GoogLeNet", config)
    bn = inception_bn.build("Inception-BN", config)
    assert googlenet.aux1 is None and googlenet.dropout.p == bn.dropout.p == 0.4
    assert inception_bn.build(inception_bn.RECIPE, config).dropout.p == 0
    decay = {}  # the weight decay each network trains with
    monkeypatch.setattr(inception_bn, "sgd_run", lambda model, config, settings, *_, **options:
                        decay.setdefault(settings["network"], options["weight_decay"]))  # fmt: skip
    for network in ("GoogLeNet", "Inception-BN", inception_bn.RECIPE):
        inception_bn.train(config, dict(network=network, seed=0), {"preprocess": None}, None)
    assert decay == {"GoogLeNet": 2e-4, "Inception-BN": 2e-4, inception_bn.RECIPE: 2e-4 / 5}
    assert not any(isinstance(m, nn.BatchNorm2d) for m in googlenet.modules())
    assert any(isinstance(m, nn.LocalResponseNorm) for m in googlenet.modules())


def test_the_compared_architectures_take_32x32_images_and_ties_share_a_rank():
    from course.experiments.architectures import NETWORKS, build, ranks

    for name in NETWORKS:
        with torch.no_grad():
            assert build(name).eval()(torch.zeros(2, 1, 32, 32)).shape == (2, 10), name
    close = lambda a, b: abs(a - b) <= 0.01  # noqa: E731
    values = {"a": 0.90, "b": 0.895, "c": 0.88, "d": 0.875}
    assert ranks(values, close, best=max) == {"a": 1, "b": 1, "c": 3, "d": 3}
    assert ranks(values, close, best=min) == {"d": 1, "c": 1, "b": 3, "a": 3}


def test_the_stems_experiment_compares_each_family_seed_by_seed():
    """Both stems of a family and VGG are built as named, and a difference is taken between
    runs of the same seed only (a seed one network has not finished is left out, not paired
    with another)."""
    from course.experiments import stems

    resnet = stems.FAMILIES["ResNet"]
    built = ("cifar", "resnet18", {"width": 0.25, "stem": "cifar"})
    assert stems.NETWORKS[stems.cifar(resnet)][1:] == built
    assert stems.design(stems.cifar(resnet))["first_map"] == 32
    assert stems.design(resnet)["first_map"] == 16
    config = dict(stems.CONFIGS["fast"], seeds=[0, 1, 2], train_images=100)
    accuracy = {(stems.VGG, 0): 0.90, (stems.VGG, 1): 0.91, (stems.VGG, 2): 0.92,
                (resnet, 0): 0.88, (resnet, 1): 0.87, (resnet, 2): 0.86,
                (stems.cifar(resnet), 0): 0.93, (stems.cifar(resnet), 2): 0.95}  # fmt: skip
    runs = {stems.run_key(name, seed): {"history": {"val_acc": [0.5, acc], "seconds": [1, 1],
                                                    "epoch": [1, 2]}}
            for (name, seed), acc in accuracy.items()}  # fmt: skip
    summary = stems.summarize({"config": config, "runs": runs})
    resnet_rows = summary["families"]["ResNet"]
    gain = resnet_rows["cifar_minus_imagenet"]
    assert gain["seeds"] == [0, 2] and gain["per_seed"] == pytest.approx([0.05, 0.09])
    assert resnet_rows["imagenet_minus_vgg"]["per_seed"] == pytest.approx([-0.02, -0.04, -0.06])
    assert resnet_rows["cifar_minus_vgg"]["mean"] == pytest.approx(0.03)
    assert summary["networks"][stems.cifar(resnet)]["test_acc"]["n"] == 2
    assert stems.verdict(summary) == ("ResNet: the CIFAR stem is better in every seed; with it, "
                                      "ahead of VGG in every seed")  # fmt: skip


def test_the_target_is_reached_by_every_run_it_comes_from():
    from course.experiments.common import reached_by_all, steps_to

    runs = [{"history": {"val_acc": acc}} for acc in ([0.5, 0.82, 0.81], [0.6, 0.7, 0.83])]
    target = reached_by_all(runs)
    assert target == 0.82
    config = dict(train_images=256, batch_size=128)
    assert [steps_to(r, target, config) for r in runs] == [4, 6]


def test_summaries_of_failed_baselines_say_so_instead_of_crashing():
    from course.experiments import batch_norm, inception_bn

    def run(acc):
        return {"history": {"val_acc": acc}, "test": {"acc": acc[-1]}}

    config = dict(train_images=256, batch_size=128, lrs=[0.02, 0.5], seeds=[0, 1], epochs=2,
                  val_every=1, targets=[0.55, 0.75])  # fmt: skip
    runs = {}
    for s in config["seeds"]:
        runs[batch_norm.run_key("without batch norm", 0.02, s)] = run([0.5, 0.6])
        runs[batch_norm.run_key("without batch norm", 0.5, s)] = {"diverged": True}
        for lr in config["lrs"]:
            runs[batch_norm.run_key("with batch norm", lr, s)] = run([0.7, 0.8])
    runs[batch_norm.run_key("without batch norm", 0.02, 1)] = {"diverged": True}
    summary = batch_norm.summarize({"config": config, "runs": runs})
    assert summary["baseline_lr"] is None  # no rate trained in every seed without BN
    assert "no rate trained in every seed: no comparison" in batch_norm.verdict(summary)
    said = batch_norm.claims({"config": config, "summary": summary, "runs": runs})
    assert not said.all_hold  # and no crash

    config = dict(inception_bn.CONFIGS["fast"], seeds=[0, 1])
    runs = {inception_bn.run_key("GoogLeNet", lr, 0): run([0.3, 0.5]) for lr in (0.01, 0.02)}
    runs[inception_bn.run_key("GoogLeNet", 0.01, 1)] = {"diverged": True, "lr": 0.01}
    for key, settings in inception_bn.plan(config, runs):
        if key not in runs:
            runs[key] = {**settings, **run([0.6, 0.7])}
    for r in runs.values():
        r.setdefault("lr", 0.01)
    summary = inception_bn.summarize({"config": config, "runs": runs})
    assert summary["arms"]["Inception-BN x5"]["fewer"]["0.20"]["mean"] is None  # GoogLeNet diverged
    assert "x5" in inception_bn.verdict(summary)  # says what it can, no TypeError
