"""The pieces a report is made of (tables, claims, the heading) and what a live rerun prints
before it starts (its expected time) and after (how its budget differs from the reference)."""

import json

import pytest

from course.experiments import live
from course.experiments.reporting import Claim, Claims, Report, Table, heading, mean_std, per_seed


def test_a_table_aligns_its_columns_and_refuses_ragged_rows():
    table = Table(("network", "accuracy"), [("vgg", "0.91"), ("resnet18", "0.9")], title="t")
    assert table.text().splitlines() == [
        "t",
        "network   accuracy",
        "--------  --------",
        "vgg           0.91",
        "resnet18       0.9",
    ]
    assert "<caption>t</caption>" in table._repr_html_()
    with pytest.raises(ValueError, match="has 1 cells, the table has 2 columns"):
        Table(("a", "b"), [("only one",)])
    with pytest.raises(ValueError, match="align must give"):
        Table(("a", "b"), [], align="lx")
    assert Table(("a", "b"), [("x", "y")], align="rl").text().splitlines()[2] == "x  y"


def test_html_escapes_what_it_shows():
    shown = Table(("<b>",), [("a & b",)])._repr_html_()
    assert "&lt;b&gt;" in shown and "a &amp; b" in shown


def test_claims_say_in_one_line_whether_they_hold_and_name_the_ones_that_do_not():
    good = Claims([Claim("a", "1", True), Claim("b", "2", 1)])
    assert (
        good.all_hold and str(good) == "✓ All 2 statements of the text hold for the stored result."
    )
    bad = Claims([Claim("a", "1", True), Claim("b is big", "0.2", False)], about="this run")
    assert not bad.all_hold and bad.failed == (bad.items[1],)
    assert str(bad).splitlines() == [
        "✗ 1 of 2 statements of the text hold for this run; not these:",
        "* b is big (0.2)",
    ]
    assert "✗ b is big (0.2)" in bad.details()


def test_numbers_per_seed_and_their_spread():
    assert per_seed([3, None, 6]) == "3 - 6"
    assert mean_std({"mean": 0.8953, "std": 0.0022, "n": 3}, ".4f") == "0.8953 ± 0.0022"
    assert mean_std({"mean": 0.5, "std": 0.0, "n": 1}) == "0.500"
    assert mean_std(None) == "-"


def test_the_heading_is_short_and_names_no_commit():
    result = {
        "name": "tta", "budget": "reference", "runs": {"seed 0": {}, "seed 1": {}},
        "provenance": {
            "machine": {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "native_bf16": True},
            "wall_seconds": 700, "date": "2026-11-29T10:00:00+00:00", "commit": "abc1234",
            "data": "Fashion-MNIST, full set from Debian's dataset-fashion-mnist: 60,000 "
            "training and 10,000 test images",
        },
    }  # fmt: skip
    text = heading(result, "Ten views")
    assert text == (
        "Ten views, reference budget: 2 training runs, 12 minutes on a 2-core Intel Xeon with "
        "bf16 (2026-11-29); Fashion-MNIST, 60,000 training and 10,000 test images"
    )
    assert "abc1234" not in str(Report(text))


def test_the_budget_table_lists_only_what_differs():
    table = live.budget_table(
        dict(train_images=5_000, epochs=2, seeds=[0], lrs=[0.01], width=0.5, networks=["a"]),
        dict(train_images=60_000, epochs=16, seeds=[0, 1, 2], lrs=[0.01], width=0.5,
             networks=["a", "b (1/4, a long name)"]),
    )  # fmt: skip
    assert [row[0] for row in table.rows] == ["training images", "epochs", "seeds", "networks"]
    assert table.rows[0][1:] == ("5,000", "60,000") and table.rows[2][1:] == (
        "1 (0)",
        "3 (0, 1, 2)",
    )
    assert table.rows[3][1:] == ("1", "2")  # how many: the report's own table names them


def test_the_expected_time_comes_from_the_measured_times(tmp_path, monkeypatch):
    record = {"machine": {"cpu": "AMD EPYC 7B13 64-Core Processor", "cores": 2},
              "seconds": {"tta": {"bf16": 62.0, "fp32": 190.0}}}  # fmt: skip
    path = tmp_path / "live_times.json"
    path.write_text(json.dumps(record))
    monkeypatch.setattr(live, "times_path", lambda: path)
    cpu = "a 2-core AMD EPYC 7B13"
    expected = {
        True: f"about 60 s on {cpu} with bf16",
        False: f"about 3 minutes on {cpu} computing",
    }
    for native in (True, False):
        monkeypatch.setattr(live, "describe_machine", lambda n=native: {"native_bf16": n})
        assert live.expected_time("tta", "live").startswith(expected[native])
    assert "not measured" in live.expected_time("dropout", "live")
    assert live.expected_time("tta", "fast") == "fast mode: seconds"
