"""Running out of things: memory at a batch, disk space at a write, a runs folder that cannot
be written, two jobs starting in the same second.

Out of memory (CUDA's error or the CPU allocator's) halves the batch and retries that batch,
so a sweep's points equal an unhindered run's; a full disk stops the job with one line and
leaves every point finished before it on disk, and ``--resume`` finishes the run once there
is room again.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.faults.conftest import (
    POINT,
    REPO,
    only_run,
    rows,
    summary,
    tally,
    timeless,
    train_argv,
    whole_files,
)
from tui.cli import main

# deterministic attacks: a halved batch gives the very same numbers
SWEEP = ["--device", "cpu", "sweep", "--n", "20", "--batch", "10", "--attack", "fgsm,iterated",
         "--eps", "0,0.01,0.02", "--no-steps-check"]  # fmt: skip
SMALL = ["--device", "cpu", "sweep", "--n", "20", "--batch", "20", "--attack", "fgsm",
         "--eps", "0,0.01", "--samples", "2"]  # fmt: skip


def oom(kind: str) -> BaseException:
    if kind == "cuda":
        return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
    return RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
        "memory: you tried to allocate 4294967296 bytes. Error code 12 (injected)"
    )


def same_points(a: list[dict], b: list[dict]) -> bool:
    """The same points: equal counts, perturbation sizes equal to 0.1% (a batch of 10 runs
    other float32 kernels than a batch of 20: the last bits differ, and iterations add up)."""
    exact = ("attack", "budget", "n", "accuracy", "success_rate")

    def near(u, v) -> bool:
        if isinstance(u, (int, float)) and isinstance(v, (int, float)):
            return u == pytest.approx(v, rel=1e-3, nan_ok=True)
        return u == v

    return len(a) == len(b) and all(
        all(x[k] == y[k] for k in exact) and all(near(x[k], y[k]) for k in x if k not in exact)
        for x, y in zip(a, b, strict=True)
    )


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list[dict]:
    """The sweep's points, unhindered."""
    out = tmp_path_factory.mktemp("reference")
    assert main([*SWEEP, "--out", str(out)]) == 0
    return timeless(rows(only_run(out, "sweep"), "points"))


# --------------------------------------------------------------------------- memory


def test_out_of_memory_at_a_random_sweep_batch_halves_it_and_changes_nothing(
    reference, tmp_path, rng, monkeypatch, capsys
):
    from engine.vision.attacks import REGISTRY

    for trial in range(6):
        kind = ("cuda", "cpu")[trial % 2]
        at = int(rng.integers(1, 12))  # 2 attacks x 3 budgets x 2 batches
        calls: list[int] = []
        for name in ("fgsm", "iterated"):
            spec = REGISTRY[name]

            def run(*args, _run=spec.run, _at=at, _kind=kind, _calls=calls, **kwargs):
                _calls.append(len(args[1]))
                if len(_calls) == _at:
                    raise oom(_kind)
                return _run(*args, **kwargs)

            monkeypatch.setitem(REGISTRY, name, dataclasses.replace(spec, run=run))
        out = tmp_path / str(trial)
        code, _, err = run_cli([*SWEEP, "--out", str(out)], capsys)
        got = timeless(rows(only_run(out, "sweep"), "points"))
        # per-sample attacks: the same numbers, summed in other batches (last-bit rounding)
        crash = code != 0 or "Traceback" in err or not same_points(got, reference)
        tally("out of memory at a random sweep batch", 1, len(reference) - len(got), int(crash))
        assert not crash, (code, err[-1500:])
        assert "out of memory with a batch of 10 images: retrying it with 5" in err
        assert calls[at - 1] == 10 and calls[at] == 5  # the same batch, in halves
        monkeypatch.undo()


def test_out_of_memory_with_a_batch_of_one_fails_in_one_line_and_keeps_the_points(
    tmp_path, monkeypatch, capsys
):
    from engine.vision.attacks import REGISTRY

    spec = REGISTRY["fgsm"]
    calls: list[int] = []

    def run(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:  # the first point fits, then memory is gone for good
            raise oom("cuda")
        return spec.run(*args, **kwargs)

    monkeypatch.setitem(REGISTRY, "fgsm", dataclasses.replace(spec, run=run))
    code, _, err = run_cli([*SMALL, "--out", str(tmp_path)], capsys)
    run_dir = only_run(tmp_path, "sweep")
    state = summary(run_dir)
    crash = code != 1 or "Traceback" in err or len(err.strip().splitlines()[-1:]) != 1
    tally("out of memory even at a batch of 1", 1, 1 - len(rows(run_dir, "points")), int(crash))
    assert not crash
    assert err.strip().splitlines()[-1].startswith("advtui: failed: out of memory even with")
    assert state["status"] == "failed" and "out of memory" in state["reason"]


def test_out_of_memory_at_a_random_training_step_is_retried_in_halves(
    image_folder, tmp_path, rng, monkeypatch, capsys
):
    import torch.nn.functional as F

    original = F.cross_entropy
    for trial in range(2):
        at = int(rng.integers(1, 9))
        calls: list[int] = []

        def cross_entropy(logits, *args, _at=at, _calls=calls, **kwargs):
            _calls.append(len(logits))
            if len(_calls) == _at:
                raise oom("cuda" if _at % 2 else "cpu")
            return original(logits, *args, **kwargs)

        monkeypatch.setattr(F, "cross_entropy", cross_entropy)
        out = tmp_path / str(trial)
        code, _, err = run_cli(["--device", "cpu", *train_argv(image_folder, 3), "--out",
                                str(out)], capsys)  # fmt: skip
        run_dir = only_run(out, "train")
        epochs = len(rows(run_dir, "metrics"))
        crash = code != 0 or "Traceback" in err or summary(run_dir)["status"] != "finished"
        tally("out of memory at a random training step", 1, 3 - epochs, int(crash))
        assert not crash and epochs == 3, err[-2000:]
        assert "out of memory with a batch of 100 images: retrying it with 50" in err
        assert calls[at - 1] == 100 and calls[at : at + 2] == [50, 50]
        monkeypatch.setattr(F, "cross_entropy", original)


@pytest.mark.parametrize(("model", "kernel", "where", "most", "unit"), [
    ("sgns", "numba", "engine.words.sgns.SGNSTrainer._span_numba", 4,  # 2 spans an epoch
     "256 centre words: retrying it with 128"),
    ("sgns", "torch", "engine.words.sgns.SGNSTrainer._step", 40,  # 20+ batches an epoch
     "256 centre words: retrying it with 128"),
    ("classic", "auto", "engine.words.models.ClassicSkipGram.loss", 40,
     "256 examples: retrying it with 128"),
])  # fmt: skip
def test_out_of_memory_at_a_random_words_batch_is_retried_in_halves(
    model, kernel, where, most, unit, tmp_path, rng, monkeypatch, capsys
):
    import importlib

    module, cls, name = where.rsplit(".", 2)
    owner = getattr(importlib.import_module(module), cls)
    original = getattr(owner, name)
    for trial in range(2):
        at = int(rng.integers(1, most))  # calls over 2 epochs
        calls: list[int] = []

        def failing(*args, _at=at, _calls=calls, **kwargs):
            _calls.append(1)
            if len(_calls) == _at:
                raise oom(("cuda", "cpu")[_at % 2])
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, failing)
        out = tmp_path / str(trial)
        argv = ["--device", "cpu", "words", "train", "--model", model, "--max-words", "20000",
                "--epochs", "2", "--dim", "16", "--batch", "256", "--kernel", kernel,
                "--out", str(out)]  # fmt: skip
        code, _, err = run_cli(argv, capsys)
        run_dir = only_run(out, "words")
        epochs = len(rows(run_dir, "epochs"))
        crash = code != 0 or "Traceback" in err or summary(run_dir)["status"] != "finished"
        tally(f"out of memory at a random {model} batch", 1, 2 - epochs, int(crash))
        assert not crash and epochs == 2, err[-2000:]
        assert f"out of memory with a batch of {unit}" in err
        monkeypatch.setattr(owner, name, original)


# --------------------------------------------------------------------------- disk


class FullDisk:
    """``os.fsync`` that fails with ENOSPC from its ``at``-th call on (every durable write of
    a run record ends in one), as a disk that filled up and stays full."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0
        self.real = os.fsync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        if self.at and self.calls >= self.at and not _is_dir(fd):
            raise OSError(errno.ENOSPC, "No space left on device")
        self.real(fd)


def _is_dir(fd: int) -> bool:
    import stat

    return stat.S_ISDIR(os.fstat(fd).st_mode)


def test_disk_full_at_every_write_of_a_sweep_loses_no_finished_point(
    tmp_path, rng, monkeypatch, capsys
):
    counting = FullDisk(0)
    monkeypatch.setattr(os, "fsync", counting)
    assert main([*SMALL, "--out", str(tmp_path / "count")]) == 0
    straight = timeless(rows(only_run(tmp_path / "count", "sweep"), "points"))
    writes = counting.calls
    assert writes > 12  # config, summary, 2 x (previews, 2 rows, table, summary), the end
    resumed = set(rng.choice(np.arange(2, writes + 1), 5, replace=False).tolist())
    for at in range(1, writes + 1):
        disk = FullDisk(at)
        monkeypatch.setattr(os, "fsync", disk)
        out = tmp_path / f"full-{at}"
        code, _, err = run_cli([*SMALL, "--out", str(out)], capsys)
        monkeypatch.setattr(os, "fsync", counting.real)
        reported = sum(1 for line in err.splitlines() if POINT["sweep"].search(line))
        if not (out / "sweep").is_dir() or not any((out / "sweep").iterdir()):
            # full before config.json: no folder is left, nothing had started
            assert code == 1 and reported == 0 and "config.json" in err, err[-1500:]
            tally("disk full (ENOSPC) from a write of a sweep on", 1, 0, 0)
            continue
        run_dir = only_run(out, "sweep")
        kept = len(rows(run_dir, "points"))
        lines = err.strip().splitlines()
        crash = code not in (0, 1) or "Traceback" in err or not whole_files(run_dir)
        crash = crash or (code == 1 and "No space left on device" not in lines[-1])
        tally("disk full (ENOSPC) from a write of a sweep on", 1, reported - kept, int(crash))
        assert kept >= reported and not crash, (at, code, err[-1500:])
        if at in resumed:  # room again: --resume finishes it, as a run that never failed
            code, _, err = run_cli(["--device", "cpu", "sweep", "--resume", str(run_dir)], capsys)
            assert code == 0, err[-1500:]
            assert timeless(rows(run_dir, "points")) == straight
            assert summary(run_dir)["status"] == "finished"


@pytest.mark.parametrize("job", ["train", "words"])
def test_disk_full_mid_training_fails_in_one_line_and_keeps_the_epochs(
    job, image_folder, tmp_path, rng, monkeypatch, capsys
):
    words = ["words", "train", "--max-words", "20000", "--epochs", "3", "--dim", "16"]
    argv = ["--device", "cpu", *(train_argv(image_folder, 3) if job == "train" else words)]
    stem = {"train": "metrics", "words": "epochs"}[job]
    counting = FullDisk(0)
    monkeypatch.setattr(os, "fsync", counting)
    assert main([*argv, "--out", str(tmp_path / "count")]) == 0
    for trial in range(2):
        at = int(rng.integers(3, counting.calls))
        monkeypatch.setattr(os, "fsync", FullDisk(at))
        out = tmp_path / str(trial)
        code, _, err = run_cli([*argv, "--out", str(out)], capsys)
        monkeypatch.setattr(os, "fsync", counting.real)
        reported = sum(1 for line in err.splitlines() if POINT["epoch"].search(line))
        kept = len(rows(only_run(out, job), stem))
        crash = code not in (0, 1) or "Traceback" in err
        crash = crash or (code == 1 and "No space left" not in err.strip().splitlines()[-1])
        tally(f"disk full (ENOSPC) from a write of a {job} run on", 1, reported - kept,
              int(crash))  # fmt: skip
        assert kept >= reported and not crash, (at, code, err[-1500:])


@pytest.mark.parametrize("job", ["sweep", "train-model", "words"])
def test_a_runs_folder_that_cannot_be_written_is_one_line_before_any_work(
    job, image_folder, tmp_path, capsys
):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    argv = {"sweep": SMALL[2:], "train-model": train_argv(image_folder, 1),
            "words": ["words", "train", "--max-words", "1000"]}[job]  # fmt: skip
    for out in (a_file, a_file / "below", Path("/proc/advtui-runs")):
        started = time.monotonic()
        code, _, err = run_cli(["--device", "cpu", *argv, "--out", str(out)], capsys)
        lines = err.strip().splitlines()
        crash = code != 2 or len(lines) != 1 or "Traceback" in err
        tally("runs folder that cannot be written", 1, 0, int(crash))
        assert not crash, err
        assert lines[0].startswith("advtui: error: cannot write run folders in")
        assert "--out" in lines[0] and time.monotonic() - started < 30


# --------------------------------------------------------------------------- same second


def test_records_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    from engine import runs

    monkeypatch.setattr(runs.time, "strftime", lambda *_: "20260101-000000")
    made: list[Path] = []
    start = threading.Barrier(16)

    def make() -> None:
        start.wait()
        made.append(runs.RunRecord("sweep", "same name", tmp_path).path)

    threads = [threading.Thread(target=make) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 16 and all(p.is_dir() for p in made)
    tally("16 records started in the same second (threads)", 16, 0, 16 - len(set(made)))


def test_two_sweeps_started_together_write_two_folders(tmp_path):
    argv = [sys.executable, "-m", "tui.cli", *SMALL, "--eps", "0", "--out", str(tmp_path)]
    procs = [subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(3)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    folders = {out.decode().strip().splitlines()[-1] for out, _ in outs}
    assert len(folders) == 3
    for folder in folders:
        assert json.loads((Path(folder) / "summary.json").read_text())["status"] == "finished"
    tally("3 sweeps started together (processes)", 3, 0, 3 - len(folders))
