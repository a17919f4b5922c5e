"""Held-out context accuracy: the split, the seed's multiset count, and the metric every model
reports each epoch from words it never trained on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.jobs import CancelToken
from engine.words.events import EpochEnd, WordsConfig, defaults_for
from engine.words.heldout import HeldOut, split, train_lines
from engine.words.train import make_trainer, train_words
from engine.words.vocab import Vocab


def test_split_keeps_the_last_fraction_out():
    ids = np.arange(100, dtype=np.int32)
    train, held = split(ids, 0.1)
    assert list(held) == list(range(90, 100)) and list(train) == list(range(90))
    train, held = split(ids, 0.0)
    assert len(train) == 100 and len(held) == 0


def test_line_starts_follow_the_training_part():
    starts = np.array([0, 30, 60, 95])
    train, _ = split(np.arange(100, dtype=np.int32), 0.1)
    assert list(train_lines(starts, len(train))) == [0, 30, 60]
    assert train_lines(None, 90) is None


def test_accuracy_counts_context_words_as_multisets():
    # 0 1 2 0 1 2 ...: with c = 1 the centre 1 is always between 0 and 2, and so on
    ids = np.tile(np.array([0, 1, 2], dtype=np.int32), 20)
    held = HeldOut(ids, 1)
    truth = {0: [2, 1], 1: [0, 2], 2: [1, 0]}

    def perfect(centres: torch.Tensor, k: int) -> torch.Tensor:
        return torch.tensor([truth[int(c)] for c in centres])

    def half(centres: torch.Tensor, k: int) -> torch.Tensor:  # one true word, predicted twice
        return torch.tensor([[truth[int(c)][0]] * 2 for c in centres])

    assert held.accuracy(perfect) == 1.0
    assert held.accuracy(half) == pytest.approx(0.5)
    assert HeldOut(ids[:2], 1).accuracy(perfect) != HeldOut(ids[:2], 1).accuracy(perfect)  # NaN


def test_windows_are_capped_evenly():
    held = HeldOut(np.arange(1000, dtype=np.int32) % 7, 2, limit=50)
    assert len(held) == 50


@pytest.mark.parametrize("model", ["classic", "cbow", "sgns"])
def test_every_model_reports_context_accuracy_on_held_out_words(planted_file, model):
    config = defaults_for(model)
    config = WordsConfig(**{**config.__dict__, "corpus": str(planted_file), "min_count": 1,
                            "dim": 16, "epochs": 3, "threads": 1, "max_vocab": None,
                            "analogies": "none", "pairs": "none"})  # fmt: skip
    events: list = []
    result = train_words(config, events.append, CancelToken())
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in ends] == [1, 2, 3]
    accs = [e.metrics["context_acc"] for e in ends]
    assert all(0 <= a <= 1 for a in accs)
    # the planted corpus is predictable: far above a guess among its ~30 words
    assert accs[-1] > 0.15, accs
    assert result.history[-1].metrics["context_acc"] == accs[-1]


def test_held_out_words_are_not_trained_on(planted_file):
    from engine.words.corpus import open_corpus
    from engine.words.vocab import build_and_encode

    vocab, ids = build_and_encode(open_corpus(str(planted_file)).lines(), 1)
    train, held = split(ids, 0.25)
    config = WordsConfig(corpus=str(planted_file), min_count=1, device="cpu")
    trainer = make_trainer(config, Vocab(vocab.words, vocab.counts), train, "cpu")
    assert trainer.words_per_epoch == len(ids) - len(held)


def test_heldout_zero_turns_the_measure_off(planted_file):
    events: list = []
    config = WordsConfig(corpus=str(planted_file), min_count=1, dim=8, epochs=1, heldout=0.0,
                         analogies="none", pairs="none", threads=1)  # fmt: skip
    train_words(config, events.append, CancelToken())
    end = next(e for e in events if isinstance(e, EpochEnd))
    assert "context_acc" not in end.metrics
