"""Numbers that describe kernels, on kernels whose answer is known."""

import pytest
import torch

from course.measure.kernels import (
    HAND_MADE_KERNELS,
    colour_share,
    hand_made_kernels,
    neighbour_correlation,
)


def test_the_hand_made_kernels_are_notebook_01s_and_the_sobel_pair_is_smooth():
    assert list(HAND_MADE_KERNELS)[:2] == ["vertical edges (Sobel x)", "horizontal edges (Sobel y)"]
    sobel = hand_made_kernels()[:2]
    assert sobel.shape == (2, 1, 3, 3) and torch.equal(sobel[1, 0], sobel[0, 0].T)
    pair = neighbour_correlation(sobel)
    # the pair is each other's transpose: as smooth across as down; a ramp 1, 2, 1 along the edge
    assert pair["horizontal"] == pytest.approx(pair["vertical"]) and pair["horizontal"] > 0.5


def test_neighbour_correlation_tells_smooth_kernels_from_random_ones():
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(500, 1, 7, 7, generator=g)
    random = neighbour_correlation(noise)
    assert abs(random["horizontal"]) < 0.05 and abs(random["vertical"]) < 0.05
    ramps = torch.linspace(-1, 1, 7).expand(7, 7)  # changes along the rows only
    smooth = neighbour_correlation(torch.stack([ramps, ramps.T])[:, None])
    assert smooth["horizontal"] > 0.5 and smooth["vertical"] > 0.5
    blurred = torch.nn.functional.avg_pool2d(noise, 3, stride=1, padding=1)
    assert neighbour_correlation(blurred)["horizontal"] > 0.4


def test_colour_share_is_zero_for_grey_kernels_and_two_thirds_for_one_channel():
    grey = torch.randn(4, 1, 5, 5).expand(-1, 3, -1, -1)
    assert colour_share(grey).abs().max() < 1e-6
    red = torch.zeros(2, 3, 5, 5)
    red[:, 0] = torch.randn(2, 5, 5)
    torch.testing.assert_close(colour_share(red), torch.full((2,), 2 / 3))
    with pytest.raises(ValueError, match="needs kernels of 3 input channels, got 1"):
        colour_share(torch.randn(2, 1, 3, 3))
    with pytest.raises(ValueError, match=r"weight must be kernels \(out, in, k, k\), got \(3, 3\)"):
        neighbour_correlation(torch.randn(3, 3))
