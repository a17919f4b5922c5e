"""SGNS over two processes (gloo, CPU): the quality of one process at equal epochs, one run
folder, one job's progress, a cancel that stops every rank, and the softmax models refused."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from engine.errors import UsageError
from engine.jobs import CancelToken, Progress
from engine.words.events import EpochEnd, WordsConfig
from engine.words.train import train_words
from tests.engine.dist_jobs import children


def _data() -> Path | None:
    for base in Path(__file__).resolve().parents:
        if (base / "shared" / "data" / "text" / "english-mix.txt").is_file():
            return base / "shared" / "data"
    return None


DATA = _data()
needs_data = pytest.mark.skipif(DATA is None, reason="needs ../shared/data (english-mix)")


def _mix(tmp: Path, procs: int) -> WordsConfig:
    """english-mix's first 2M words, 3 epochs, scored on analogies and WordSim353. Seeds 0-3
    (bench/words_procs.py): one process 4.2-4.8% and 0.256-0.269, two 4.7-5.0% and
    0.258-0.311; the largest analogy gap at one seed 0.7 points."""
    assert DATA is not None
    return WordsConfig(
        corpus=str(DATA / "text" / "english-mix.txt"), max_words=MAX_WORDS, epochs=EPOCHS,
        heldout=0.0, analogies=str(DATA / "eval" / "questions-words.txt"),
        pairs=str(DATA / "eval" / "wordsim353.tsv"), procs=procs, out=str(tmp / f"p{procs}"),
    )  # fmt: skip


MAX_WORDS, EPOCHS = 2_000_000, 3


def _scores(events: list) -> dict[str, float]:
    return [e for e in events if isinstance(e, EpochEnd)][-1].metrics


@needs_data
def test_two_processes_match_one_at_equal_epochs(tmp_path):
    alone: list = []
    shared: list = []
    train_words(_mix(tmp_path, 1), alone.append)
    result = train_words(_mix(tmp_path, 2), shared.append)
    a, b = _scores(alone), _scores(shared)
    assert abs(a["analogy"] - b["analogy"]) <= 0.01, (a, b)
    # two processes scored 0.03-0.05 above one on WordSim353 with 3 of 4 seeds (their shards
    # end on different genres of the mix): not worse is what is asked of them
    assert b["wordsim"] >= a["wordsim"] - 0.02, (a, b)
    assert not result.cancelled and result.embeddings is not None
    # one run folder, by rank 0, with every epoch; one job's progress over the whole corpus
    runs = list((tmp_path / "p2" / "words").iterdir())
    assert len(runs) == 1
    assert len((runs[0] / "epochs.jsonl").read_text().splitlines()) == EPOCHS
    assert (runs[0] / "vectors.txt").is_file() and (runs[0] / "checkpoint.pt").is_file()
    assert json.loads((runs[0] / "summary.json").read_text())["status"] == "finished"
    assert len([e for e in shared if isinstance(e, EpochEnd)]) == EPOCHS
    progress = [e for e in shared if isinstance(e, Progress)][-1]
    assert (
        progress.done
        == progress.total
        == sum(  # every rank's words, each counted once
            p.total for p in [e for e in alone if isinstance(e, Progress)][-1:]
        )
    )
    assert not children()


def test_a_cancel_stops_every_rank(tmp_path):
    cancel = CancelToken()
    seen = threading.Event()

    def emit(event):
        if isinstance(event, Progress) and event.done > 0 and not seen.is_set():
            seen.set()
            cancel.cancel()

    config = WordsConfig(max_words=40_000, epochs=200, procs=2, out=str(tmp_path))
    result = train_words(config, emit, cancel)
    assert result.cancelled and seen.is_set()
    assert not children()
    runs = list((tmp_path / "words").iterdir())
    assert len(runs) == 1
    assert json.loads((runs[0] / "summary.json").read_text())["status"] == "cancelled"


@pytest.mark.parametrize("model", ["classic", "cbow"])
def test_softmax_models_with_procs_are_refused_in_one_line(model, tmp_path):
    config = replace(WordsConfig(model=model, out=str(tmp_path)), procs=2)
    with pytest.raises(UsageError) as err:
        train_words(config)
    assert "\n" not in str(err.value) and "procs" in str(err.value) and "sgns" in str(err.value)
    assert not children() and not (tmp_path / "words").exists()
