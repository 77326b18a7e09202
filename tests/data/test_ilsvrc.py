"""The ILSVRC table: each figure with a source, in the order of the years, and torchvision's
figures read from its own metadata."""

import pytest
from torchvision.models import get_model_weights

from course.data import ilsvrc


def test_one_winner_a_year_each_with_its_source():
    years = [r.year for r in ilsvrc.WINNERS]
    assert years == list(range(2010, 2016))
    errors = [r.top5_error for r in ilsvrc.WINNERS]
    assert errors == sorted(errors, reverse=True)  # every winner beat the year before
    for r in [*ilsvrc.WINNERS, ilsvrc.RUNNER_UP_2014, ilsvrc.HUMAN]:
        assert r.source and 0 < r.top5_error < 100
    # VGG came second in 2014: behind GoogLeNet, ahead of 2013's winner.
    assert ilsvrc.WINNERS[4].top5_error < ilsvrc.RUNNER_UP_2014.top5_error < errors[3]


@pytest.mark.parametrize("arch", list(ilsvrc.COURSE_MODELS))
def test_torchvision_errors_come_from_its_metadata(arch):
    meta = get_model_weights(arch).IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]
    assert ilsvrc.torchvision_top5_error(arch) == pytest.approx(100 - meta["acc@5"], abs=1e-3)
    # Notebook 02: torchvision evaluates one 224x224 centre crop ...
    assert get_model_weights(arch).IMAGENET1K_V1.transforms().crop_size == [224]
    # ... and every course model stays above the entry of its year (one network, one crop).
    year = ilsvrc.COURSE_MODELS[arch]
    entries = [r for r in [*ilsvrc.WINNERS, ilsvrc.RUNNER_UP_2014] if r.year == year]
    assert ilsvrc.torchvision_top5_error(arch) > min(r.top5_error for r in entries)


def test_what_the_imagenet_notebook_says_about_the_years():
    error = {r.year: r.top5_error for r in ilsvrc.WINNERS}
    drops = {year: error[year - 1] - error[year] for year in range(2011, 2016)}
    assert max(drops, key=drops.get) == 2012  # the first CNN winner made the largest step
    assert round(drops[2012], 1) == 10.5 and round(drops[2011], 1) == 2.4
    assert round(error[2010] / error[2015], 1) == 7.9
    assert error[2015] < ilsvrc.HUMAN.top5_error < error[2014]  # ResNet below the human estimate


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="arch must be a torchvision model name .* got 'alexnet2'"):
        ilsvrc.torchvision_top5_error("alexnet2")
