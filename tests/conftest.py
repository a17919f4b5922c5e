"""Shared fixtures: isolated run/cache dirs, the shared data folder, tiny models and images."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """No test writes to the real user data or cache dirs."""
    monkeypatch.setenv("ADVTUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("ADVTUI_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture(autouse=True)
def same_threads():
    """A job that sets torch's thread count (``threads``) sets it for the whole process: put
    it back, so no later test computes with other threads than its child processes do."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (CI has it beside the clone)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cifar_jpg(shared_data, tmp_path_factory) -> Path:
    """The shared CIFAR-10 JPEG copy, extracted once per session (ImageFolder layout)."""
    root = tmp_path_factory.mktemp("cifar10-jpg")
    with tarfile.open(shared_data / "images" / "cifar10-jpg.tar.gz") as tar:
        tar.extractall(root, filter="data")
    return root


def write_image_folder(root: Path, train: int, test: int) -> Path:
    """An ImageFolder under ``root`` (``train/`` and ``test/``, a folder per class) of PNGs cut
    from the shipped sample: the first ``train`` images, then the next ``test``."""
    import numpy as np
    from PIL import Image

    from engine.vision.data import load_sample

    data = load_sample()
    for split, indices in (("train", range(train)), ("test", range(train, train + test))):
        for i in indices:
            folder = root / split / data.classes[int(data.labels[i])]
            folder.mkdir(parents=True, exist_ok=True)
            pixels = data.images[i].permute(1, 2, 0).numpy().astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:04d}.png")
    return root
