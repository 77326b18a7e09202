"""Architectures side by side: measured records, charts and the explorer widget."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

from course.measure import compare  # noqa: E402
from course.viz.compare_explorer import ArchitectureExplorer  # noqa: E402
from course.viz.compare_plots import plot_metric, plot_tradeoffs, table_html  # noqa: E402


@pytest.mark.parametrize("name, depth", [("alexnet", 8), ("googlenet", 22), ("resnet18", 18)])
def test_records_match_torchvisions_published_numbers(name, depth):
    record = compare.measure_architecture(name, latency=False)
    meta = torchvision.models.get_model_weights(name).IMAGENET1K_V1.meta
    assert record.parameters == meta["num_params"]
    assert abs(record.macs / 1e9 - meta["_ops"]) < 5e-3  # torchvision rounds to 3 digits
    assert record.top1 == meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert record.depth == depth and record.latency_ms is None


def test_the_timed_passes_run_a_model_with_weights(monkeypatch):
    """Counting runs on a weightless "meta" copy; the latency is timed on a real model."""
    timed = []
    real_latency = compare.forward_latency

    def latency(model, **kwargs):
        timed.append(model)
        return real_latency(model, **kwargs)

    monkeypatch.setattr(compare, "forward_latency", latency)
    record = compare.measure_architecture("resnet18", repeats=1)
    meta = torchvision.models.get_model_weights("resnet18").IMAGENET1K_V1.meta
    assert record.parameters == meta["num_params"] and record.depth == 18
    assert record.latency_ms > 0 and len(timed) == 1
    assert not any(p.is_meta for p in timed[0].parameters())


def test_stand_in_weights_are_finite_at_the_default_scale_with_fresh_statistics():
    """The timed model's values: a repeated random pattern within +-1/sqrt(fan-in), so that a
    forward pass neither overflows nor underflows into slow denormal numbers."""
    model = compare._stand_in_weights(compare.skeleton("resnet18"))
    for name, p in model.named_parameters():
        bound = 1 / (p[0].numel() if p.dim() > 1 else p.numel()) ** 0.5
        assert p.isfinite().all() and p.abs().max() <= bound * (1 + 1e-6), name
        assert p.unique().numel() > min(p.numel(), 4099) // 2, name  # not a constant
    bn = model.layer1[0].bn1
    assert bn.running_mean.eq(0).all() and bn.running_var.eq(1).all()
    assert bn.num_batches_tracked == 0
    with torch.no_grad():
        out = model.eval()(torch.randn(2, 3, 224, 224))
    assert out.isfinite().all() and 1e-3 < out.std() < 1e3


def test_a_network_without_torchvision_weights_has_no_top1():
    record = compare.measure_architecture("inception_bn", latency=False)
    assert record.top1 is None and record.family == "Inception-BN"
    with pytest.raises(ValueError, match=r"unknown architecture 'resnet19'; choose from \["):
        compare.measure_architecture("resnet19")


def test_latency_is_a_median_of_real_forward_passes():
    calls = []
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.Flatten())
    model.register_forward_hook(lambda *args: calls.append(1))
    assert compare.forward_latency(model, size=16, repeats=3) > 0
    assert len(calls) == 4  # a warm-up and three timed passes
    with pytest.raises(ValueError, match="repeats must be an int >= 1, got 0"):
        compare.forward_latency(model, repeats=0)


def fake(name, family, params, top1, latency=10.0):
    return compare.ArchitectureRecord(name, family, int(params * 1e6), int(params * 1e8), 8,
                                      latency, top1)  # fmt: skip


RECORDS = [
    fake("a", "AlexNet", 61, 56.5),
    fake("v", "VGG", 138, 71.6),
    fake("i", "Inception-BN", 11, None, latency=None),
    fake("r", "ResNet", 11.7, 69.8),
]


def test_charts_and_table_show_what_they_are_given():
    fig = plot_tradeoffs(RECORDS, x="macs")
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["a", "r", "v"]
    assert "no published top-1: i" in ax.get_title()
    assert ax.get_xscale() == "log"
    bars = plot_metric(RECORDS, "latency_ms").axes[0]
    assert [t.get_text() for t in bars.get_yticklabels()] == ["a", "v", "r"]  # i: not timed
    assert table_html(RECORDS).count("<tr>") == 5 and "138,000,000" in table_html(RECORDS)
    with pytest.raises(ValueError, match=r"metric must be one of \['parameters'.*got 'flops'"):
        plot_tradeoffs(RECORDS, x="flops")
    plt.close("all")


def test_the_explorer_filters_and_redraws():
    explorer = ArchitectureExplorer(RECORDS)
    assert explorer.count.value.endswith(">4 of 4 architectures shown</div>")  # wrapped text
    before = explorer.picture.value
    explorer.x_axis.value = "macs"
    assert explorer.picture.value != before  # the chart changed with the axis
    explorer.max_parameters.value = 100
    assert explorer.count.value.endswith(">3 of 4 architectures shown</div>")
    assert "138,000,000" not in explorer.table.value
    explorer.families.value = ("ResNet",)
    assert [r.name for r in explorer.selected(explorer.families.value, 100)] == ["r"]
    fig = explorer.draw(families=("VGG", "AlexNet"), x="parameters", max_parameters=1000)
    plotted = {t.get_text() for t in fig.axes[0].texts}
    assert {"a", "v"} <= plotted and "r" not in plotted
    with pytest.raises(ValueError, match=r"families must be among \['AlexNet'.*got \['LeNet'\]"):
        explorer.selected(("LeNet",), 100)
    with pytest.raises(ValueError, match="records must hold at least one"):
        ArchitectureExplorer([])
    plt.close("all")
