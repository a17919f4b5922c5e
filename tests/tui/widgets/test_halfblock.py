"""Half-block images: one cell is two pixels, colours exact, sizes fitted, previews built."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rich.console import Console

from tui.widgets.halfblock import UPPER_HALF, HalfBlocks, fit_size, preview_from_samples, resize


def test_each_cell_is_the_top_pixel_over_the_bottom_pixel():
    image = np.zeros((2, 2, 3), dtype=np.uint8)
    image[0, 0] = (255, 0, 0)
    image[1, 0] = (0, 0, 255)
    image[0, 1] = (0, 255, 0)
    (row,) = HalfBlocks(image, 2).lines()
    assert [s.text for s in row] == [UPPER_HALF, UPPER_HALF]
    assert row[0].style.color.triplet == (255, 0, 0)
    assert row[0].style.bgcolor.triplet == (0, 0, 255)
    assert row[1].style.color.triplet == (0, 255, 0)
    assert row[1].style.bgcolor.triplet == (0, 0, 0)


def test_whole_number_enlargement_repeats_pixels_and_other_sizes_resample():
    image = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(32, 32, 3)
    big = resize(image, 64)
    assert big.shape == (64, 64, 3) and (big[::2, ::2] == image).all()
    assert resize(image, 24).shape == (24, 24, 3)
    assert fit_size(200) == 64 and fit_size(100) == 32 and fit_size(76) == 24 and fit_size(48) == 14


def test_a_32px_image_is_32_cells_by_16_rows_and_renders_in_256_colours():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    console = Console(width=40, color_system="256", force_terminal=True, record=True)
    console.print(HalfBlocks(image, 32))
    text = console.export_text(styles=False)
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == 16 and all(line == UPPER_HALF * 32 for line in lines)


def test_preview_from_samples_amplifies_the_difference_around_grey():
    class Samples:
        attack, budget = "oneshot", 0.01
        original = torch.full((2, 3, 4, 4), 0.5)
        adversarial = original.clone()
        labels = torch.tensor([0, 1])
        preds = torch.tensor([0, 2])
        classes = ("cat", "dog", "ship")

    Samples.adversarial[0, 0, 0, 0] = 0.51
    p = preview_from_samples(Samples, "eps")
    assert p.original.shape == (2, 4, 4, 3) and p.original.dtype == np.uint8
    assert p.amplified[0, 0, 0, 0] == 255 and p.amplified[0, 1, 1, 1] == 128
    assert p.gain[0] == pytest.approx(50.0, rel=1e-4) and p.gain[1] == 1.0  # no change: grey
    assert (p.true_name(1), p.pred_name(1), p.correct(1)) == ("dog", "ship", False)
