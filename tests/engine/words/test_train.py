"""train_words: event order, run record, snapshot from another thread, cancel, pause, resume."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import torch

from engine.errors import UsageError
from engine.jobs import CancelToken, Finished, Log, Metric, PauseToken, Progress
from engine.words.checkpoint import embeddings_from_checkpoint, load_checkpoint
from engine.words.events import EpochEnd, TrainingStarted, WordsConfig, defaults_for
from engine.words.train import train_words


def _config(corpus: Path, **kw) -> WordsConfig:
    settings = dict(corpus=str(corpus), dim=16, window=3, min_count=1, sample=0.0, epochs=2,
                    batch=128, threads=1)  # fmt: skip
    settings.update(kw)
    return WordsConfig(**settings)


def test_events_in_order_and_run_record_written(planted_file):
    events = []
    result = train_words(_config(planted_file), events.append, CancelToken())
    kinds = [type(e) for e in events]
    assert kinds.index(TrainingStarted) < kinds.index(Progress) < kinds.index(EpochEnd)
    assert all(k in (Log,) for k in kinds[: kinds.index(TrainingStarted)])
    assert isinstance(events[-1], Finished) and not events[-1].cancelled
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1, 2]
    assert any(isinstance(e, Metric) and e.name == "loss" for e in events)
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].done == progress[-1].total and progress[0].unit == "words"
    run = Path(result.run_dir)
    assert {"config.json", "epochs.csv", "epochs.json", "checkpoint.pt", "vectors.txt"} <= {
        p.name for p in run.iterdir()
    }
    assert json.loads((run / "config.json").read_text())["model"] == "sgns"
    assert len(json.loads((run / "epochs.json").read_text())) == 2
    header = (run / "vectors.txt").read_text().splitlines()[0].split()
    assert header == [str(len(result.embeddings)), "16"]
    again = embeddings_from_checkpoint(run / "checkpoint.pt")
    assert torch.equal(again.vectors, result.embeddings.vectors)
    assert events[-1].run_dir == result.run_dir and not result.cancelled


def test_evaluation_metrics_in_epoch_end(planted_file, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("cat\tkitten\t9\ncat\tsun\t1\ndog\tpuppy\t9\ndog\tsalt\t1\n", encoding="utf-8")
    questions = tmp_path / "q.txt"
    questions.write_text(": planted\ncat kitten dog puppy\nking queen sun moon\n", encoding="utf-8")
    events = []
    train_words(
        _config(planted_file, pairs=str(pairs), analogies=str(questions)),
        events.append,
        CancelToken(),
    )
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert {"loss", "wordsim", "analogy"} <= set(ends[-1].metrics)


def test_snapshot_from_another_thread_while_training(planted_file):
    shots = []
    started = []

    def emit(event):
        if isinstance(event, TrainingStarted):
            started.append(event)
        if isinstance(event, Metric) and not shots:
            t = threading.Thread(target=lambda: shots.append(started[0].snapshot()))
            t.start()
            t.join()

    result = train_words(_config(planted_file, epochs=3), emit, CancelToken())
    assert shots and len(shots[0]) == len(result.embeddings)
    assert not torch.equal(shots[0].vectors, result.embeddings.vectors)  # a copy, not a view


def test_cancel_keeps_checkpoint_and_partial_result(planted_file):
    cancel = CancelToken()
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, EpochEnd):
            cancel.cancel()

    result = train_words(_config(planted_file, epochs=4), emit, cancel)
    assert result.cancelled and len(result.history) == 1
    assert isinstance(events[-1], Finished) and events[-1].cancelled
    payload = load_checkpoint(result.checkpoint)
    assert payload["epoch"] == 1 and "position" in payload["trainer"]
    assert (Path(result.run_dir) / "vectors.txt").is_file()


def test_cancel_during_pause_and_pause_time_not_in_rate(planted_file):
    pause, cancel = PauseToken(), CancelToken()
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, Metric) and sum(isinstance(e, Metric) for e in events) == 1:
            pause.pause()
            threading.Timer(0.6, pause.resume).start()

    start = time.perf_counter()
    result = train_words(_config(planted_file, epochs=1), emit, cancel, pause)
    assert not result.cancelled and time.perf_counter() - start >= 0.6
    assert result.history[0].seconds < time.perf_counter() - start - 0.5  # pause excluded

    pause2, cancel2 = PauseToken(), CancelToken()

    def emit2(event):
        if isinstance(event, Metric):
            pause2.pause()
            threading.Timer(0.2, cancel2.cancel).start()

    result2 = train_words(_config(planted_file, epochs=1), emit2, cancel2, pause2)
    assert result2.cancelled


def test_resume_equals_uninterrupted_run(planted_file):
    straight = train_words(_config(planted_file), lambda e: None, CancelToken())
    cancel = CancelToken()
    seen = []

    def emit(event):
        if isinstance(event, Metric):
            seen.append(event)
            if len(seen) == 3:  # stop mid-way through epoch 1
                cancel.cancel()

    first = train_words(_config(planted_file), emit, cancel)
    assert first.cancelled
    resumed = train_words(
        _config(planted_file, resume=first.checkpoint), lambda e: None, CancelToken()
    )
    assert torch.equal(resumed.embeddings.vectors, straight.embeddings.vectors)
    assert [h.epoch for h in resumed.history] == [1, 2]


def test_resume_with_other_settings_is_refused(planted_file):
    done = train_words(_config(planted_file, epochs=1), lambda e: None, CancelToken())
    with pytest.raises(UsageError, match="dim"):
        train_words(
            _config(planted_file, dim=8, resume=done.checkpoint), lambda e: None, CancelToken()
        )
    with pytest.raises(UsageError, match="already has"):
        train_words(
            _config(planted_file, epochs=1, resume=done.checkpoint), lambda e: None, CancelToken()
        )


def test_pickled_checkpoint_is_refused(tmp_path):
    import argparse

    bad = tmp_path / "evil.pt"
    torch.save({"format": "advtui-words/1", "x": argparse.Namespace(a=1)}, bad)
    with pytest.raises(UsageError, match="not a safe"):
        load_checkpoint(bad)


def test_defaults_exist_for_every_model():
    assert defaults_for("sgns").model == "sgns"
    assert defaults_for("cbow").window >= 1
    with pytest.raises(UsageError):
        defaults_for("glove")


def test_folder_corpus_and_softmax_models_run_through_the_job(tmp_path):
    from .conftest import planted_lines

    folder = tmp_path / "books"
    folder.mkdir()
    lines = planted_lines(600)
    for i in range(3):
        (folder / f"part{i}.txt").write_text("\n".join(lines[i::3]) + "\n", encoding="utf-8")
    for model in ("sgns", "cbow", "classic"):
        events = []
        config = _config(folder, model=model, epochs=1, hidden=16, batch=64, window=2, lr=0.01)
        result = train_words(config, events.append, CancelToken())
        started = next(e for e in events if isinstance(e, TrainingStarted))
        assert started.model == model and started.vocab_size == len(result.embeddings)
        assert isinstance(events[-1], Finished) and len(result.history) == 1
        if model != "sgns":
            assert "accuracy" in result.history[0].metrics
            assert embeddings_from_checkpoint(result.checkpoint).context("cat", 3)


def test_cancel_before_training_returns_nothing_trained_and_no_run_folder(
    planted_file, isolated_dirs
):
    cancel = CancelToken()
    cancel.cancel()
    events = []
    result = train_words(_config(planted_file), events.append, cancel)
    assert result.cancelled and result.embeddings is None and result.run_dir is None
    assert isinstance(events[-1], Finished) and events[-1].cancelled
    assert not (isolated_dirs / "runs").exists()
