"""SIGINT, SIGTERM and SIGKILL at seeded random moments of a sweep, a classifier training and
an SGNS training, each in its own process, as a user or a scheduler would send them.

SIGINT / SIGTERM: the job stops after its batch, every point it reported is on disk, the
status is ``cancelled`` with the signal as its reason, exit 130, no traceback.
SIGKILL: nothing can run any more, yet every point reported before the kill is on disk, every
JSON file parses, the status still says ``running`` (with the dead pid), and ``--resume``
ends with the records of an uninterrupted run.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import torch

from tests.faults.conftest import (
    POINT,
    SWEEP,
    SWEEP_POINTS,
    WORDS,
    Child,
    crashed,
    interrupt_at_random,
    only_run,
    rows,
    summary,
    tally,
    timeless,
    train_argv,
    whole_files,
)
from tui.cli import main

TRAIN_EPOCHS = 5
WORDS_EPOCHS = 6
# job -> (stem of its point table, points in all, seconds a point may take, marker)
JOBS = {
    "sweep": ("points", SWEEP_POINTS, 0.4, POINT["sweep"]),
    "train": ("metrics", TRAIN_EPOCHS, 0.8, POINT["epoch"]),
    "words": ("epochs", WORDS_EPOCHS, 0.3, POINT["epoch"]),
}
KIND = {"sweep": "sweep", "train": "train", "words": "words"}


def argv(job: str, image_folder: Path, out: Path) -> list[str]:
    base = {"sweep": SWEEP, "train": train_argv(image_folder, TRAIN_EPOCHS), "words": WORDS}
    return [*base[job], "--out", str(out)]


@pytest.fixture(scope="module")
def uninterrupted(image_folder, tmp_path_factory) -> dict[str, Path]:
    """Each job run once to the end, in this process, for the resumed runs to equal."""
    root = tmp_path_factory.mktemp("uninterrupted")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVTUI_CACHE", str(root / "cache"))
        for job in JOBS:
            assert main(["--device", "cpu", *argv(job, image_folder, root / job)]) == 0
            out[job] = only_run(root / job, KIND[job])
    return out


def interrupted_child(job: str, sig: int, image_folder: Path, out: Path, rng) -> tuple:
    """The job in a child process, ``sig`` sent at a seeded random moment (tried again when
    the job was quicker than the moment): the child, its exit code, the points it had
    reported, its run folder."""
    _, total, _, marker = JOBS[job]
    for attempt in range(3):
        where = out / str(attempt)
        child = Child(argv(job, image_folder, where), marker)
        reported = interrupt_at_random(child, rng, sig, total)
        code = child.finish()
        if reported is not None:
            return child, code, reported, only_run(where, KIND[job])
    raise AssertionError(f"{job} always ended before the signal")


@pytest.mark.parametrize("job", list(JOBS))
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_keep_every_reported_point(job, sig, image_folder, tmp_path, rng):
    stem = JOBS[job][0]
    child, code, reported, run = interrupted_child(
        job, getattr(signal, sig), image_folder, tmp_path, rng
    )
    kept = len(rows(run, stem))
    state = summary(run)
    crash = code != 130 or crashed(child.stderr) or not whole_files(run)
    crash = crash or state["status"] != "cancelled" or kept != child.points
    tally(f"{sig} mid-{job} (child process)", 1, reported - kept, int(crash))
    assert kept >= reported, (reported, kept)
    assert not crash, (code, state, kept, child.points, child.stderr[-1500:])
    assert state["reason"] == f"interrupted ({sig})"
    assert "cancelling" in child.stderr, child.stderr
    assert f"--resume {run}" in child.stderr, child.stderr


@pytest.mark.parametrize(("job", "trials"), [("sweep", 2), ("train", 1), ("words", 2)])
def test_sigkill_loses_nothing_finished_and_resume_equals_an_uninterrupted_run(
    job, trials, image_folder, uninterrupted, tmp_path, rng, capsys
):
    stem = JOBS[job][0]
    for trial in range(trials):
        child, code, reported, run = interrupted_child(
            job, signal.SIGKILL, image_folder, tmp_path / str(trial), rng
        )
        kept = len(rows(run, stem))
        state = summary(run)
        crash = code != -signal.SIGKILL or not whole_files(run) or state["status"] != "running"
        tally(f"SIGKILL mid-{job} (child process)", 1, reported - kept, int(crash))
        assert kept >= reported and not crash, (reported, kept, code, state)
        assert state["pid"] == child.proc.pid  # a reader can tell the run died

        capsys.readouterr()
        assert main(["--device", "cpu", *RESUME[job], "--resume", str(run)]) == 0
        resumed = Path(capsys.readouterr().out.strip().splitlines()[-1])
        same = records(job, resumed) == records(job, uninterrupted[job])
        tally(f"--resume after SIGKILL ({job}): records differ", 1, 0, int(not same))
        assert same
        assert summary(resumed)["status"] == "finished"


# --------------------------------------------------------------------------- in this process


def batch_call(job: str) -> tuple[object, str, int]:
    """Where each job passes once per batch (the signal is sent from there), and how many
    batches the job has in all."""
    from engine.vision import sweep, train
    from engine.words.sgns import SGNSTrainer

    return {
        "sweep": (sweep, "_accumulate", 16),  # 8 points x 2 batches
        "train": (train, "augment", 15),  # 5 epochs x 3 batches
        "words": (SGNSTrainer, "_span_numba", 18),  # 6 epochs x 3 spans of 64 batches
    }[job]


@pytest.mark.parametrize(("job", "trials"), [("sweep", 6), ("train", 2), ("words", 4)])
def test_signal_at_a_random_batch_stops_after_it_and_keeps_what_finished(
    job, trials, image_folder, tmp_path, rng, monkeypatch, capsys
):
    """The real handlers, the real signal, at a seeded random batch of the job (cheaper than
    a process each, so more of them): exit 130, every reported point on disk, no batch
    after the interrupted one."""
    import os

    stem, _, _, marker = JOBS[job]
    owner, name, batches = batch_call(job)
    original = getattr(owner, name)
    for trial in range(trials):
        sig = (signal.SIGINT, signal.SIGTERM)[trial % 2]
        at = int(rng.integers(2, batches))
        calls: list[int] = []

        def counting(*args, _calls=calls, _at=at, _sig=sig, **kwargs):
            _calls.append(1)
            if len(_calls) == _at:
                os.kill(os.getpid(), _sig)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)
        out = tmp_path / str(trial)
        capsys.readouterr()
        code = main(["--device", "cpu", *argv(job, image_folder, out)])
        err = capsys.readouterr().err
        run = only_run(out, KIND[job])
        reported = sum(1 for line in err.splitlines() if marker.search(line.strip()))
        kept = len(rows(run, stem))
        state = summary(run)
        crash = code != 130 or state["status"] != "cancelled" or len(calls) != at
        crash = crash or "Traceback" in err or not whole_files(run)
        name_ = signal.Signals(sig).name
        tally(f"{name_} at a random {job} batch (in process)", 1, reported - kept, int(crash))
        assert kept >= reported and not crash, (code, at, len(calls), state, err[-1500:])


RESUME = {"sweep": ["sweep"], "train": ["train-model"], "words": ["words", "train"]}


def records(job: str, run: Path) -> dict:
    """What a finished run folder says, less wall-clock times and its own name."""
    stem = JOBS[job][0]
    out = {
        "rows": timeless(json.loads((run / f"{stem}.json").read_text())),
        "jsonl": timeless(rows(run, stem)),
        "csv_lines": len((run / f"{stem}.csv").read_text().splitlines()),
    }
    config = json.loads((run / "config.json").read_text())
    out["config"] = {k: v for k, v in config.items() if k not in ("out", "resume")}
    if job == "sweep":
        out["files"] = sorted(p.name for p in run.iterdir())
        out["samples"] = sorted(p.name for p in (run / "samples").iterdir())
        keep = ("clean_accuracy", "plausibility_threshold", "points_done", "points_total")
        out["summary"] = {k: summary(run)[k] for k in keep}
    elif job == "train":
        state = torch.load(run / "model.pt", weights_only=True)
        out["model"] = {k: v.tolist() for k, v in state.items()}
    else:
        out["vectors"] = (run / "vectors.txt").read_text()
    return out
