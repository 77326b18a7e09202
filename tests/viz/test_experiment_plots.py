"""The pictures of the stored experiment results draw what the results say: each curve is the
mean over seeds of the runs the summary chose, each bar the summarized number."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course.experiments import load_results
from course.experiments.common import sweep_key
from course.viz.experiment_plots import (
    plot_aux_classifiers,
    plot_dropout,
    plot_fc_vs_gap,
    plot_relu_vs_tanh,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def curve(ax, label_start: str) -> np.ndarray:
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith(label_start)]
    return line.get_ydata()


def mean_of(runs: list[dict], key: str) -> np.ndarray:
    return np.mean([r["history"][key] for r in runs], axis=0)


def test_fc_vs_gap_plots_the_chosen_runs_and_the_parameters():
    result = load_results("fc_vs_gap")
    fig = plot_fc_vs_gap(result)
    accuracy, parameters = fig.axes
    for name, head in result["summary"]["heads"].items():
        runs = [
            result["runs"][sweep_key(name, head["best_lr"], s)] for s in result["config"]["seeds"]
        ]
        np.testing.assert_allclose(curve(accuracy, name), mean_of(runs, "val_acc"))
    tops = sorted(round(b.get_y() + b.get_height(), 6) for b in parameters.patches)
    totals = [h["parameters"]["total"] / 1e6 for h in result["summary"]["heads"].values()]
    assert set(np.round(totals, 6)) <= set(tops)


def test_aux_classifiers_plots_the_main_loss_and_the_gradient_gain():
    from course.experiments.aux_classifiers import BLOCKS, run_key

    result = load_results("aux_classifiers")
    summary = result["summary"]
    loss, accuracy, gradient = plot_aux_classifiers(result).axes
    for arm, s in summary["arms"].items():
        runs = [
            result["runs"][run_key(arm, s["best_lr"], seed)] for seed in result["config"]["seeds"]
        ]
        np.testing.assert_allclose(curve(loss, arm), mean_of(runs, "train_loss"))
        np.testing.assert_allclose(curve(accuracy, arm), mean_of(runs, "val_acc"))
    heights = [b.get_height() for b in gradient.patches]
    expected = [summary["gradient_gain"][w][b]["mean"] for w in ("start", "end") for b in BLOCKS]
    np.testing.assert_allclose(heights, expected)


def test_dropout_and_relu_vs_tanh_plot_the_mean_over_seeds():
    from course.experiments.dropout import run_key as dropout_key
    from course.experiments.relu_vs_tanh import run_key as relu_key

    result = load_results("dropout")
    test_loss, _ = plot_dropout(result).axes
    runs = [result["runs"][dropout_key(0.5, s)] for s in result["config"]["seeds"]]
    np.testing.assert_allclose(curve(test_loss, "dropout 0.5"), mean_of(runs, "val_loss"))

    result = load_results("relu_vs_tanh")
    first, _ = plot_relu_vs_tanh(result).axes
    lr = result["summary"]["arms"]["relu, 2012 init"]["best_lr"]
    runs = [result["runs"][relu_key("relu", "2012", lr, s)] for s in result["config"]["seeds"]]
    np.testing.assert_allclose(curve(first, "relu"), 1 - mean_of(runs, "train_acc"))


def test_degradation_plots_training_and_test_error_of_both_depths():
    from course.experiments.degradation import network, run_key
    from course.viz.experiment_plots import plot_degradation

    result = load_results("degradation")
    seeds = result["config"]["seeds"]
    for ax, kind in zip(plot_degradation(result).axes, ("plain", "resnet"), strict=True):
        for depth in (20, 56):
            runs = [result["runs"][run_key(network(kind, depth), s)] for s in seeds]
            drawn = curve(ax, f"{kind}{depth} training")
            np.testing.assert_allclose(drawn, 1 - mean_of(runs, "train_acc"))
            np.testing.assert_allclose(
                curve(ax, f"{kind}{depth} test"), 1 - mean_of(runs, "val_acc")
            )


def xy(ax, label_start: str) -> tuple[np.ndarray, np.ndarray]:
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith(label_start)]
    return line.get_xdata(), line.get_ydata()


def test_batch_norm_plots_accuracy_per_step_of_every_learning_rate_that_ran():
    from course.experiments.batch_norm import ARMS, run_key
    from course.viz.experiment_plots import plot_batch_norm

    result = load_results("batch_norm")
    config, summary = result["config"], result["summary"]
    for ax, arm in zip(plot_batch_norm(result).axes, ARMS, strict=True):
        for lr in config["lrs"]:
            runs = [result["runs"][run_key(arm, lr, s)] for s in config["seeds"]]
            ran = [r for r in runs if not r.get("diverged")]
            if not ran:
                assert xy(ax, f"lr {lr:g}: every run diverged")[0].size == 0
                continue
            steps, acc = xy(ax, f"lr {lr:g}")
            np.testing.assert_allclose(acc, mean_of(ran, "val_step_acc"))
            assert list(steps) == ran[0]["history"]["val_step"]
            assert steps[0] == config["val_every"] and steps[-1] == summary["total_steps"]
        dotted = [line.get_ydata() for line in ax.get_lines() if line.get_linestyle() == ":"]
        assert sorted(y[0] for y in dotted if len(y)) == sorted(config["targets"])


def test_inception_bn_plots_googlenet_and_the_three_multiples():
    from course.experiments.inception_bn import arms, run_key
    from course.viz.experiment_plots import plot_inception_bn

    result = load_results("inception_bn")
    config, summary = result["config"], result["summary"]
    _, right = plot_inception_bn(result).axes
    compared = arms(summary["googlenet_best_lr"])
    for arm, stats in summary["arms"].items():
        network = compared[arm][0]
        label = f"{arm}, lr {stats['lr']:g}"
        runs = [result["runs"][run_key(network, stats["lr"], s)] for s in config["seeds"]]
        ran = [r for r in runs if not r.get("diverged")]
        if ran:
            steps, acc = xy(right, label)
            np.testing.assert_allclose(acc, mean_of(ran, "val_step_acc"))
            assert list(steps) == ran[0]["history"]["val_step"]


def test_architectures_plot_mean_accuracy_against_parameters_and_time():
    from course.viz.experiment_plots import plot_architectures

    result = load_results("architectures")
    left, right = plot_architectures(result).axes
    for ax, key in ((left, "parameters"), (right, "ms_per_image")):
        points = {c.get_label(): c.lines[0].get_xydata()[0] for c in ax.containers}
        for name, net in result["summary"]["networks"].items():
            x = net[key] / 1e6 if key == "parameters" else net[key]["mean"]
            np.testing.assert_allclose(points[name], [x, net["test_acc"]["mean"] * 100])
