"""CIFAR-10 download: progress events, and the archive it fetched is used (a local server)."""

from __future__ import annotations

import io
import pickle
import tarfile

import numpy as np

from engine.jobs import Progress
from engine.vision import data as data_mod


def _fake_cifar_archive() -> bytes:
    """A tiny archive in CIFAR-10's real layout (pickled numpy batches, as published)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            entry = {"data": np.full((4, 3072), 7, np.uint8), "labels": [0, 1, 2, 3]}
            raw = pickle.dumps(entry)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


def test_download_reports_progress_and_loads(monkeypatch):
    payload = _fake_cifar_archive()

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(payload))}

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(data_mod.urllib.request, "urlopen", lambda *a, **k: Response(payload))
    events = []
    test = data_mod.load_dataset("cifar10", "test", None, data_mod.download_progress(events.append))
    assert len(test) == 4 and int(test.images[0, 0, 0, 0]) == 7
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and progress[-1].done == progress[-1].total == len(payload)
    # second call reads the cache, no download
    monkeypatch.setattr(data_mod.urllib.request, "urlopen", None)
    assert len(data_mod.load_dataset("cifar10", "train")) == 20
