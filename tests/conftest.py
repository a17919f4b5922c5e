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
