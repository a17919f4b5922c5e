"""A sweep over several processes (gloo, CPU): the same counts as one process, one run
folder, one job's progress, and a rank that dies ends the job with the finished points kept."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from engine.errors import EngineError
from engine.jobs import Progress
from engine.vision.events import SweepConfig, SweepPoint
from engine.vision.sweep import run_sweep
from tests.engine.dist_jobs import children

# pgd draws a random start: equal counts show each block meets the same noise in any rank
BASE = SweepConfig(
    dataset="sample", model=("smallcnn",), attacks=("fgsm", "pgd"), eps="0,0.004,0.01,0.03",
    n=70, batch=16, steps=3, samples=4, steps_check=False, device="cpu",
)  # fmt: skip
COUNTS = ("accuracy", "success_rate", "mean_iterations")  # ratios of integer counts
MEANS = ("linf", "l2", "l0", "psnr", "ssim")


def sweep(procs: int, tmp_path: Path, **changes):
    events: list = []
    config = replace(BASE, procs=procs, out=str(tmp_path / f"p{procs}"), **changes)
    return run_sweep(config, events.append), events


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    return sweep(1, tmp_path_factory.mktemp("one"))


@pytest.mark.parametrize("procs", [2, 3])
def test_ranks_give_the_counts_of_one_process(procs, one_process, tmp_path):
    (alone, _), (shared, events) = one_process, sweep(procs, tmp_path)
    assert not shared.cancelled and len(shared.points) == len(alone.points) == 8
    for a, b in zip(alone.points, shared.points, strict=True):
        assert (a.attack, a.budget, a.n) == (b.attack, b.budget, b.n)
        for key in COUNTS:  # n * ratio: the integer counts are equal
            assert round(getattr(a, key) * a.n) == round(getattr(b, key) * b.n), (a, b)
        for key in MEANS:
            assert getattr(b, key) == pytest.approx(getattr(a, key), abs=1e-6), (key, a, b)
    assert shared.clean_accuracy == alone.clean_accuracy
    # one run folder, written by rank 0, with every point; previews from rank 0's images
    runs = list((tmp_path / f"p{procs}" / "sweep").iterdir())
    assert len(runs) == 1
    rows = (runs[0] / "points.jsonl").read_text().splitlines()
    assert len(rows) == 8 and json.loads((runs[0] / "summary.json").read_text())["status"] == (
        "finished"
    )
    assert all(len(s.labels) == 4 for s in shared.samples)
    # one job's progress: every rank's images, and each point once
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].done == progress[-1].total == 70 * 8
    assert len([e for e in events if isinstance(e, SweepPoint)]) == 8
    assert not children()


def test_a_killed_rank_ends_the_sweep_in_one_line_and_keeps_finished_points(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVTUI_DIST_TIMEOUT", "10")
    killed: list[int] = []

    def emit(event):
        if isinstance(event, SweepPoint) and not killed:
            ranks = children()
            killed.append(ranks[-1])
            os.kill(ranks[-1], signal.SIGKILL)

    start = time.monotonic()
    config = replace(BASE, procs=2, out=str(tmp_path), eps="0,0.004,0.01,0.02,0.03,0.05", steps=8)
    with pytest.raises(EngineError) as err:
        run_sweep(config, emit)
    assert "\n" not in str(err.value) and "rank" in str(err.value)
    assert time.monotonic() - start < 120
    assert not children()
    run = next((tmp_path / "sweep").iterdir())
    assert len((run / "points.jsonl").read_text().splitlines()) >= 1
