"""SGNS trainer: learns planted structure, counts words right, reproducible, exact resume."""

from __future__ import annotations

import torch

from engine.words.sgns import SGNSTrainer
from engine.words.vocab import build_and_encode

from .conftest import PAIRS, planted_lines


def _trainer(epochs=4, **kw):
    vocab, ids = build_and_encode((line.split() for line in planted_lines()), min_count=1)
    settings = dict(dim=16, window=3, negative=5, sample=0.0, batch=128, epochs=epochs, seed=1)
    settings.update(kw)
    return vocab, SGNSTrainer(len(vocab), ids, vocab.counts, **settings)


def test_loss_decreases_and_planted_pairs_are_nearest_neighbours():
    vocab, trainer = _trainer()
    words = []
    losses = [trainer.train_epoch(lambda w, loss: words.append(w))["loss"] for _ in range(4)]
    assert losses[-1] < losses[0] * 0.9
    assert sum(words) == 4 * trainer.words_per_epoch  # progress counts every corpus word
    emb = trainer.embeddings(vocab.words)
    hits = sum(emb.neighbours(a, 1)[0][0] == b for a, b in PAIRS)
    assert hits >= len(PAIRS) - 1, [emb.neighbours(a, 3) for a, _ in PAIRS]


def test_same_seed_gives_identical_vectors():
    _, a = _trainer(epochs=1)
    _, b = _trainer(epochs=1)
    a.train_epoch(lambda w, loss: None)
    b.train_epoch(lambda w, loss: None)
    assert torch.equal(a.w_in, b.w_in) and torch.equal(a.w_out, b.w_out)


def test_state_saved_mid_epoch_resumes_exactly():
    _, straight = _trainer(epochs=2)
    for _ in range(2):
        straight.train_epoch(lambda w, loss: None)

    class Stop(Exception):
        pass

    _, first = _trainer(epochs=2)
    first.train_epoch(lambda w, loss: None)
    calls = []

    def stop_after_three(w, loss):
        calls.append(w)
        if len(calls) == 3:
            raise Stop

    try:
        first.train_epoch(stop_after_three)
    except Stop:
        pass
    state = first.state_dict()
    assert state["epoch"] == 1 and "position" in state
    _, resumed = _trainer(epochs=2)
    resumed.load_state_dict(state)
    resumed.train_epoch(lambda w, loss: None)
    assert torch.equal(resumed.w_in, straight.w_in)
    assert torch.equal(resumed.w_out, straight.w_out)


def test_tiny_corpus_and_batches_smaller_than_a_negative_group():
    vocab, ids = build_and_encode([["a", "b", "a", "c"]], min_count=1)
    trainer = SGNSTrainer(
        len(vocab), ids, vocab.counts, dim=4, window=1, batch=1, group=32, sample=0
    )
    seen = []
    metrics = trainer.train_epoch(lambda w, loss: seen.append(w))
    assert sum(seen) == 4 and metrics["pairs"] == 6
    assert torch.isfinite(trainer.w_in).all()


def test_pairs_respect_the_dynamic_window_and_mix_centres_within_a_negative_group():
    vocab, ids = build_and_encode([[f"w{i}" for i in range(200)]], min_count=1)
    trainer = SGNSTrainer(len(vocab), ids, vocab.counts, dim=4, window=4, sample=0)
    kept = torch.arange(200, dtype=torch.int32)  # id == position
    u, v = trainer._pairs(kept, 0, 200, torch.Generator().manual_seed(0))
    gap = (u - v).abs()
    assert gap.min() >= 1 and gap.max() <= 4
    assert 2 * 200 < len(u) < 2 * 4 * 200  # reduced windows: fewer than the full 2*window
    assert len(set(u[: trainer.group].tolist())) == trainer.group  # negatives shared by
    # a group of pairs must not all serve one centre word (that hurt analogy accuracy)
    narrow = SGNSTrainer(len(vocab), ids, vocab.counts, dim=4, window=1, sample=0)
    u1, _ = narrow._pairs(kept, 0, 200, torch.Generator().manual_seed(0))
    assert len(u1) == 2 * 200 - 2  # window 1: both neighbours of every inner word
