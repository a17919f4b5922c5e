"""Tiny victim models and image folders for fast, real tests of the vision engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from tests.conftest import write_image_folder


class TinyCNN(nn.Module):
    """A small random-init CNN with BatchNorm (eval mode), like the real victims."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(64, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * 4.0


@pytest.fixture(scope="session")
def _trained_tiny_state() -> dict[str, torch.Tensor]:
    """TinyCNN fitted for a few seconds to the shipped sample, so its gradients mean something."""
    from engine.vision.data import load_sample

    torch.manual_seed(0)
    model = TinyCNN()
    data = load_sample()
    x, y = data.floats(slice(0, 1000)), data.labels
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(15):
        for i in range(0, 1000, 100):
            loss = nn.functional.cross_entropy(model(x[i : i + 100]), y[i : i + 100])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture
def tiny_model(_trained_tiny_state) -> nn.Module:
    model = TinyCNN()
    model.load_state_dict(_trained_tiny_state)
    return model.eval()


@pytest.fixture
def sample_batch():
    """48 real CIFAR-10 test images from the shipped sample, as floats in [0, 1]."""
    from engine.vision.data import load_sample

    data = load_sample()
    return data.floats(slice(0, 48)), data.labels[:48]


@pytest.fixture
def small_folder(tmp_path) -> Path:
    """An ImageFolder (train/ and test/ of the 10 classes) of PNGs cut from the shipped sample."""
    return write_image_folder(tmp_path / "folder", 400, 100)
