"""Training curves: the legend names the data the curves come from."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course.training import History  # noqa: E402
from course.viz.history_plots import plot_history  # noqa: E402


def history() -> History:
    return History(epoch=[1, 2], train_loss=[1.0, 0.5], train_acc=[0.6, 0.8],
                   val_loss=[1.1, 0.7], val_acc=[0.55, 0.7])  # fmt: skip


def legend_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_the_legend_says_which_data_the_dashed_lines_are():
    assert legend_texts(plot_history(history(), labels=["relu"])) == [
        "relu train",
        "relu validation",
    ]
    fig = plot_history(history(), history(), labels=["a", "b"], val_name="test")
    assert legend_texts(fig) == ["a train", "a test", "b train", "b test"]
    plt.close("all")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"val_name must be a non-empty str"):
        plot_history(history(), val_name="")
    with pytest.raises(ValueError, match=r"2 labels for 1 histories"):
        plot_history(history(), labels=["a", "b"])
    with pytest.raises(ValueError, match="at least one History"):
        plot_history()
