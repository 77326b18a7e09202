"""Every statement a notebook makes about a stored reference result holds for that result, and
fails when a stored number it rests on is changed (each experiment's ``claims``); every report
fits the notebook column, as text and as HTML."""

import copy
import html.parser

import pytest

from course.experiments import EXPERIMENTS, load_results
from course.experiments.reporting import WIDTH
from course.experiments.runner import experiment


@pytest.fixture(scope="module")
def stored():
    return {name: load_results(name) for name in EXPERIMENTS}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_statement_of_the_text_holds_for_the_stored_result(name, stored):
    claims = experiment(name).claims(stored[name])
    assert len(claims) >= 3
    assert claims.all_hold, claims.details()
    assert str(claims).startswith(f"✓ All {len(claims)} statements")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_report_fits_the_notebook_column(name, stored):
    report = experiment(name).report(stored[name])
    text = str(report)
    assert max(len(line) for line in text.splitlines()) <= WIDTH, text
    assert len(report.verdict) <= 8 and report.tables

    class Tags(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.open = []

        def handle_starttag(self, tag, attrs):
            self.open.append(tag)

        def handle_endtag(self, tag):
            assert self.open.pop() == tag

    tags = Tags()
    tags.feed(report._repr_html_())
    assert not tags.open  # well formed: every tag closed in order


def relu_vs_tanh_saturation(result):
    from course.experiments import relu_vs_tanh as m

    lr = result["summary"]["arms"][m.arm_key("tanh", "2012")]["best_lr"]
    result["runs"][m.run_key("tanh", "2012", lr, 0)]["at_init"]["saturated"][0] = 0.2
    return "most of tanh's first layer is saturated"


def dropout_accuracy_falls(result):
    from course.experiments import dropout as m

    result["runs"][m.run_key(0.0, 1)]["history"]["val_acc"][-1] = 0.80
    return "test accuracy still rises"


def tta_one_seed_worse(result):
    from course.experiments import tta as m

    result["runs"][m.run_key(1)]["test"]["ten_crop"]["acc"] = 0.89
    return "in every seed"


def trained_alexnet_not_reproduced(result):
    from course.experiments import trained_alexnet as m

    result["runs"][m.run_key(list(m.ARMS)[0], 0)]["history"]["val_acc"][3] += 0.001
    return "stored AlexNet run"


def aux_classifiers_one_seed_behind(result):
    from course.experiments import aux_classifiers as m

    lr, _ = m.chosen_runs(result, "with auxiliary heads")
    result["runs"][m.run_key("with auxiliary heads", lr, 2)]["test"]["acc"] = 0.79
    return "ahead in each of the 5 seeds"


def architectures_resnet_ahead(result):
    from course.experiments import architectures as m

    result["runs"][m.run_key("resnet18 (1/4)", 0)]["history"]["val_acc"][-1] = 0.93
    return "AlexNet and VGG rank ahead"


def stems_one_seed_better_with_the_imagenet_stem(result):
    from course.experiments import stems as m

    name = m.cifar(m.FAMILIES["GoogLeNet"])
    result["runs"][m.run_key(name, 1)]["history"]["val_acc"][-1] = 0.85
    return "the CIFAR stem makes each of the three more accurate, in every seed"


def fc_vs_gap_fc_ahead(result):
    from course.experiments import fc_vs_gap as m

    result["runs"][m.run_key("FC head", 0.1, 1)]["test"]["acc"] = 0.8990
    return "in one seed of three the FC head is ahead"


def degradation_deeper_residual_worse(result):
    from course.experiments import degradation as m

    result["runs"][m.run_key("resnet56", 1)]["history"]["train_acc"][-1] = 0.96
    return "below it in two of the three: no consistent difference"


def batch_norm_baseline_reaches_the_targets_only_at_the_end(result):
    from course.experiments import batch_norm as m

    lr = result["summary"]["baseline_lr"]
    checks = result["runs"][m.run_key("without batch norm", lr, 1)]["history"]["val_step_acc"]
    checks[:-1] = [0.5] * (len(checks) - 1)  # the targets first reached at the last measurement
    return "reaches both targets within the first 40% of its budget"


def inception_bn_one_seed_at_1x_much_sooner(result):
    from course.experiments import inception_bn as m

    lr = result["summary"]["googlenet_best_lr"]
    checks = result["runs"][m.run_key(m.INCEPTION_BN, lr, 1)]["history"]["val_step_acc"]
    checks[:] = [0.99] * len(checks)  # at every target from its first measurement
    return "at 1x, Inception-BN needs about as many steps as GoogLeNet"


def your_network_one_seed_behind_vgg(result):
    from course.experiments import your_network as m

    result["runs"][m.run_key(1)]["history"]["val_acc"][-1] = 0.915
    return "more accurate than the best of 09's networks"


# A stored number changed on purpose, and the statement that must then fail.
TAMPERED = {
    "relu_vs_tanh": relu_vs_tanh_saturation,
    "dropout": dropout_accuracy_falls,
    "tta": tta_one_seed_worse,
    "aux_classifiers": aux_classifiers_one_seed_behind,
    "architectures": architectures_resnet_ahead,
    "stems": stems_one_seed_better_with_the_imagenet_stem,
    "fc_vs_gap": fc_vs_gap_fc_ahead,
    "batch_norm": batch_norm_baseline_reaches_the_targets_only_at_the_end,
    "inception_bn": inception_bn_one_seed_at_1x_much_sooner,
    "degradation": degradation_deeper_residual_worse,
    "trained_alexnet": trained_alexnet_not_reproduced,
    "your_network": your_network_one_seed_behind_vgg,
}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_changed_stored_number_makes_its_statement_fail(name, stored):
    assert name in TAMPERED, f"no tampering test for {name}"
    result = copy.deepcopy(stored[name])
    fragment = TAMPERED[name](result)
    module = experiment(name)
    result["summary"] = module.summarize(result)
    failed = [c.statement for c in module.claims(result).failed]
    assert any(fragment in s for s in failed), (fragment, failed)
    assert not experiment(name).claims(stored[name]).failed  # the stored result is untouched


def test_the_stored_weights_give_the_stored_errors():
    """Notebook 03 recomputes the trained AlexNet's errors from its stored weights: on the full
    test set they are the stored ones (the experiment measured them in float32, as here)."""
    from course.data import load_fashion_mnist
    from course.experiments import trained_alexnet as m
    from course.measure.predictions import class_scores, top_k_error

    test = load_fashion_mnist("test", verbose=False)
    if len(test) != 10_000:
        pytest.skip("the full Fashion-MNIST test set is not installed here")
    result = load_results("trained_alexnet")
    arm = list(m.ARMS)[1]
    scores = class_scores(
        m.trained_model(arm), test.images, m.stored_run(result, arm)["preprocess"]
    )
    stored = result["summary"]["arms"][arm]
    assert abs(top_k_error(scores, test.labels, 1) - stored["top1_error"]) <= 5e-4
    assert abs(top_k_error(scores, test.labels, 5) - stored["top5_error"]) <= 5e-4
