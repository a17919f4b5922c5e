"""The shipped evaluation sets: readable offline, used by ``auto`` only with enough coverage,
the coverage always said."""

from __future__ import annotations

import gzip

import pytest

from engine.fields import FieldError, validate
from engine.jobs import CancelToken, Log
from engine.words.coverage import coverage
from engine.words.evalsets import SHIPPED, resolve
from engine.words.evaluate import read_analogies, read_pairs
from engine.words.events import EpochEnd, WordsConfig
from engine.words.train import train_words


def test_the_shipped_sets_read_as_the_published_files(shared_data):
    questions = read_analogies(SHIPPED["analogies"])
    assert sum(len(q) for _, q in questions) == 19544
    assert len(read_pairs(SHIPPED["pairs"])) == 353
    for kind, name in (("analogies", "questions-words.txt"), ("pairs", "wordsim353.tsv")):
        original = (shared_data / "eval" / name).read_bytes()
        assert gzip.decompress(SHIPPED[kind].read_bytes()) == original


def test_resolve_auto_none_and_a_path():
    assert resolve("analogies", "auto") == str(SHIPPED["analogies"])
    assert resolve("pairs", "none") is None and resolve("pairs", "") is None
    assert resolve("pairs", None) is None and resolve("pairs", "my.tsv") == "my.tsv"
    assert WordsConfig().eval_files() == {k: str(v) for k, v in SHIPPED.items()}


def test_a_missing_file_is_refused_with_the_choices():
    with pytest.raises(FieldError, match="must be auto, none or an existing file"):
        validate(WordsConfig(pairs="/nonexistent/pairs.tsv"))


def test_auto_needs_coverage_a_named_file_does_not():
    words = [w for q in read_pairs(SHIPPED["pairs"]) for w in q[:2]]
    full = coverage("pairs", str(SHIPPED["pairs"]), words, auto=True)
    assert full.covered == full.total == 353 and full.enough
    few = coverage("pairs", str(SHIPPED["pairs"]), words[:40], auto=True)
    assert 0 < few.covered < 30 and not few.enough
    assert "not scored" in few.line() and f"{few.covered} of 353 pairs" in few.line()
    named = coverage("pairs", str(SHIPPED["pairs"]), words[:40], auto=False)
    assert named.enough and "scored every epoch" in named.line()


def test_training_says_the_coverage_and_scores_only_what_is_enough(planted_file, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("cat\tkitten\t9\ncat\tsun\t1\ndog\tpuppy\t9\ndog\tsalt\t1\n", encoding="utf-8")
    events: list = []
    config = WordsConfig(corpus=str(planted_file), min_count=1, dim=8, epochs=1, threads=1,
                         pairs=str(pairs))  # fmt: skip
    train_words(config, events.append, CancelToken())
    lines = [e.message for e in events if isinstance(e, Log)]
    assert any(line.startswith("questions-words (shipped): 0 of 19,544") for line in lines)
    assert any(line.startswith("pairs.tsv: 4 of 4 pairs") for line in lines)
    end = next(e for e in events if isinstance(e, EpochEnd))
    assert "wordsim" in end.metrics and "analogy" not in end.metrics
