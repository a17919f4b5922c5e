"""SGNS trainer: learns planted structure, counts words right, reproducible, exact resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import UsageError
from engine.words.sgns import SGNSTrainer, line_numbers, pick_kernel
from engine.words.vocab import build_and_encode, build_and_encode_lines

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


# ---------------------------------------------------------------- kernels, lines, threads


def _numba_or_skip():
    pytest.importorskip("numba")


@pytest.mark.parametrize("kernel", ["torch", "numba"])
def test_same_seed_same_vectors_and_exact_resume_for_each_kernel(kernel):
    if kernel == "numba":
        _numba_or_skip()
    _, a = _trainer(epochs=1, kernel=kernel)
    _, b = _trainer(epochs=1, kernel=kernel)
    a.train_epoch(lambda w, loss: None)
    calls = []

    class Stop(Exception):
        pass

    def stop_after_two(w, loss):
        calls.append(w)
        if len(calls) == 2:
            raise Stop

    with pytest.raises(Stop):
        b.train_epoch(stop_after_two)
    _, c = _trainer(epochs=1, kernel=kernel)
    c.load_state_dict(b.state_dict())
    c.train_epoch(lambda w, loss: None)
    assert torch.equal(a.w_in, c.w_in) and torch.equal(a.w_out, c.w_out)


@pytest.mark.parametrize("negative", [5, 3])  # 5 has loops of its own
def test_numba_kernel_makes_the_torch_kernels_pairs_and_update(negative):
    """A span of one batch draws what the torch path draws, so both train on the same pairs
    and negatives; the sums run in another order, so the vectors agree up to rounding."""
    _numba_or_skip()
    from engine.words import sgns_numba

    _, t = _trainer(epochs=1, kernel="torch", negative=negative)
    _, n = _trainer(epochs=1, kernel="numba", span=128, negative=negative)
    assert n.kernel == "numba" and t.kernel == "torch"
    kept = t.ids[:500]
    line = torch.arange(500, dtype=torch.int32) // 7  # lines of 7 words
    for lines in (None, line):
        reach = t._reach(300, torch.Generator().manual_seed(3)).numpy()
        kernel = sgns_numba.SpanKernel(t.vocab_size, 16, t.negative, t.group, t.row_cap)
        arr = np.zeros(0, np.int32) if lines is None else lines.numpy()
        counts = kernel.pairs(kept.numpy(), arr, 100, 400, 100, reach, t.window)
        for b, count in enumerate(counts):  # a span of three batches: each the torch batch
            gen = torch.Generator().manual_seed(3)
            gen.set_state(_after_reaches(t, 100 * b, gen))
            u, v = t._pairs(kept, 100 + 100 * b, 200 + 100 * b, gen, lines)
            lo = kernel.bounds[b]
            assert count == len(u)
            assert kernel.u[lo : lo + count].tolist() == u.tolist()
            assert kernel.v[lo : lo + count].tolist() == v.tolist()
    lt, ln = t.train_epoch(lambda w, loss: None), n.train_epoch(lambda w, loss: None)
    assert lt["pairs"] == ln["pairs"] and abs(lt["loss"] - ln["loss"]) < 1e-4
    assert torch.allclose(t.w_in, n.w_in, atol=1e-4) and torch.allclose(t.w_out, n.w_out, atol=1e-4)
    untrained = _trainer(epochs=1, kernel="numba", negative=negative)[1]
    assert not torch.equal(n.w_in, untrained.w_in)  # it trained
    _, spans = _trainer(epochs=1, kernel="numba", negative=negative)  # many batches a span:
    spans.train_epoch(lambda w, loss: None)  # other draws, the same model up to them
    assert not torch.equal(spans.w_in, n.w_in)
    assert torch.nn.functional.cosine_similarity(spans.w_in, n.w_in).mean() > 0.5


def _after_reaches(trainer, centres: int, gen: torch.Generator) -> torch.Tensor:
    """The generator's state after drawing the reaches of ``centres`` centre words before."""
    if centres:
        trainer._reach(centres, gen)
    return gen.get_state()


def test_numba_kernel_gives_the_same_vectors_on_one_thread_or_two():
    """Rows of 40 floats are padded to 48; two threads update columns 0:32 and 32:48, three
    0:16, 16:32 and 32:48 (whole cache lines), and every sum keeps its order."""
    _numba_or_skip()
    from engine.words import sgns_numba

    if not sgns_numba.parallel_available():
        pytest.skip("numba has no OpenMP or TBB layer here, so the kernel runs one thread")
    before = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            _, trainer = _trainer(epochs=1, kernel="numba", dim=40)
            trainer.train_epoch(lambda w, loss: None)
            results.append((trainer.w_in.clone(), trainer.w_out.clone()))
    finally:
        torch.set_num_threads(before)
    for w_in, w_out in results[1:]:
        assert torch.equal(results[0][0], w_in) and torch.equal(results[0][1], w_out)
    padded = trainer._padded()[0]
    assert padded.shape[1] == 48 and not padded[:, 40:].any()  # the padding stays zero


@pytest.mark.parametrize("kernel", ["torch", "numba"])
def test_windows_stay_inside_lines_when_line_starts_are_given(kernel):
    if kernel == "numba":
        _numba_or_skip()
    lines = [[f"a{i}", f"b{i}"] for i in range(50)]  # two-word lines: a_i's only context is b_i
    vocab, ids, starts = build_and_encode_lines(lines, min_count=1)
    inside = SGNSTrainer(
        len(vocab), ids, vocab.counts, dim=8, window=3, sample=0, line_starts=starts,
        kernel=kernel, batch=16,
    )  # fmt: skip
    across = SGNSTrainer(
        len(vocab), ids, vocab.counts, dim=8, window=3, sample=0, kernel=kernel, batch=16
    )
    assert inside.train_epoch(lambda w, loss: None)["pairs"] == 2 * 50  # a->b and b->a
    assert across.train_epoch(lambda w, loss: None)["pairs"] > 3 * 50


def test_line_numbers_count_lines_and_skip_empty_ones():
    assert line_numbers(np.array([0, 2, 2, 5]), 6).tolist() == [0, 0, 2, 2, 2, 3]


def test_kernel_choice_is_checked():
    with pytest.raises(UsageError):
        pick_kernel("fast", torch.device("cpu"))
    with pytest.raises(UsageError):
        pick_kernel("numba", torch.device("cuda"))
    assert pick_kernel("auto", torch.device("cuda")) == "torch"
    assert pick_kernel("torch", torch.device("cpu")) == "torch"
