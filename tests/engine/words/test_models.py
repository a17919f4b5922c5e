"""The softmax models (classic SkipGram, CBOW) and their trainer: loss, metric, state, queries."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.errors import UsageError
from engine.jobs import Cancelled
from engine.words.models import CBOW, ClassicSkipGram, SoftmaxTrainer, multiset_hits, windows

# A planted corpus: a cycle of 16 words, so every centre word has one fixed context.
PLANTED = np.tile(np.arange(16, dtype=np.int32), 20)
WORDS = [f"w{i}" for i in range(16)]


def make(model: str, ids=PLANTED, seed: int = 0, **kw) -> SoftmaxTrainer:
    args = dict(dim=8, context_size=2, hidden=32, lr=0.02, batch=16, device="cpu")
    args.update(kw)
    gen = torch.Generator().manual_seed(seed)
    return SoftmaxTrainer(model, int(ids.max()) + 1, ids, generator=gen, **args)


def one_example_loss(model, centre: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """The seed's per-example loss, written out: NLL of each position's target, averaged."""
    if isinstance(model, ClassicSkipGram):
        log_probs = F.log_softmax(model.logits(centre[None])[0], dim=-1)  # [2c, V]
        return -log_probs[torch.arange(len(context)), context].mean()
    return -F.log_softmax(model.logits(context[None])[0], dim=-1)[centre]


@pytest.mark.parametrize("cls", [ClassicSkipGram, CBOW])
def test_batched_gradient_is_the_mean_of_per_example_gradients(cls) -> None:
    torch.manual_seed(0)
    model = cls(vocab_size=11, dim=5, context_size=2, hidden=7).double()
    centres = torch.tensor([3, 3, 0, 10, 7, 5])
    contexts = torch.randint(0, 11, (6, 4))
    contexts[1] = torch.tensor([3, 3, 3, 1])  # repeated words and the centre itself

    model.zero_grad()
    model.loss(centres, contexts).backward()
    batched = [p.grad.clone() for p in model.parameters()]

    model.zero_grad()
    for c, ctx in zip(centres, contexts, strict=True):
        (one_example_loss(model, c, ctx) / len(centres)).backward()
    for got, want in zip(batched, (p.grad for p in model.parameters()), strict=True):
        assert torch.allclose(got, want, rtol=0, atol=1e-10)
    assert max(g.abs().max() for g in batched) > 1e-3  # the gradients are not trivially zero


@pytest.mark.parametrize("model_name", ["classic", "cbow"])
def test_one_sgd_step_on_a_full_batch_moves_by_lr_times_the_mean_gradient(model_name) -> None:
    ids = np.array([0, 1, 2, 3, 1, 2, 0, 4, 2, 1], dtype=np.int32)
    trainer = make(model_name, ids, optimizer="sgd", lr=0.5, batch=100, dtype=torch.float64)
    model = trainer.model
    before = [p.detach().clone() for p in model.parameters()]
    centres, contexts = windows(ids, 2)
    model.zero_grad()
    for c, ctx in zip(
        torch.as_tensor(centres).long(), torch.as_tensor(contexts).long(), strict=True
    ):
        (one_example_loss(model, c, ctx) / len(centres)).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    trainer.train_epoch(lambda n, loss: None)
    for p, b, g in zip(model.parameters(), before, grads, strict=True):
        assert torch.allclose(p.detach(), b - 0.5 * g, rtol=0, atol=1e-10)


def test_windows_keep_only_positions_with_a_full_context() -> None:
    centres, contexts = windows(np.arange(7), 2)
    assert centres.tolist() == [2, 3, 4]
    assert contexts.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [2, 3, 5, 6]]


def test_multiset_hits_on_hand_made_rows() -> None:
    the, a, x, y, b = 0, 1, 2, 3, 4
    targets = torch.tensor([[the, the, a, x], [a, a, b, b], [a, b, a, b], [a, b, x, y]])
    predicted = torch.tensor([[the, a, a, y], [a, a, a, a], [b, a, b, a], [the, the, the, the]])
    # row 0: 'the' 1 (predicted once), 'a' 1 (true once), x 0 -> 2 of 4
    assert multiset_hits(predicted, targets).tolist() == [2, 2, 4, 0]
    assert multiset_hits(predicted, targets).sum().item() / targets.numel() == 8 / 16


def seed_check(predicted: list[int], targets: list[int]) -> int:
    """The seed's check_accuracy inner loop, verbatim in spirit."""
    out, hits = list(predicted), 0
    for t in targets:
        if t in out:
            hits += 1
            out.remove(t)
    return hits


def test_multiset_hits_match_the_seeds_remove_loop() -> None:
    gen = torch.Generator().manual_seed(1)
    predicted = torch.randint(0, 4, (500, 4), generator=gen)
    targets = torch.randint(0, 4, (500, 4), generator=gen)
    want = [seed_check(p, t) for p, t in zip(predicted.tolist(), targets.tolist(), strict=True)]
    assert multiset_hits(predicted, targets).tolist() == want
    assert sum(
        (Counter(p) & Counter(t)).total()
        for p, t in zip(predicted.tolist(), targets.tolist(), strict=True)
    ) == sum(want)


def test_classic_accuracy_counts_context_words_as_a_multiset() -> None:
    ids = np.array([0, 0, 1, 0, 2, 3], dtype=np.int32)  # centres 1 ([0,0,0,2]) and 0 ([0,1,2,3])
    trainer = make("classic", ids)
    trainer.model.predict = lambda centres: torch.tensor([[0, 1, 1, 2], [0, 0, 3, 3]])[
        : len(centres)
    ]
    # centre 1: 0 once + 2 -> 2 hits; centre 0: 0 + 3 -> 2 hits; 4 of 8
    assert trainer.accuracy() == 4 / 8


@pytest.mark.parametrize("model_name", ["classic", "cbow"])
def test_training_lowers_the_loss_and_raises_the_accuracy(model_name) -> None:
    trainer = make(model_name)
    start = trainer.accuracy()
    history = [trainer.train_epoch(lambda n, loss: None) for _ in range(8)]
    assert history[-1]["loss"] < history[0]["loss"] / 2
    assert history[-1]["accuracy"] >= 0.95 and start < 0.4


def test_classic_context_query_recovers_the_planted_neighbours() -> None:
    trainer = make("classic")
    for _ in range(10):
        trainer.train_epoch(lambda n, loss: None)
    emb = trainer.embeddings(WORDS)
    assert emb.vectors.shape == (16, 8) and emb.vectors.device.type == "cpu"
    assert {w for w, _ in emb.context("w3", k=4)} == {"w1", "w2", "w4", "w5"}
    assert trainer.predict_context(torch.tensor([3])).tolist() == [[1, 2, 4, 5]]


def test_cbow_context_puts_most_probability_on_the_planted_neighbours() -> None:
    trainer = make("cbow")
    for _ in range(10):
        trainer.train_epoch(lambda n, loss: None)
    emb = trainer.embeddings(WORDS)
    probs = torch.softmax(emb.context_fn(torch.arange(16)), dim=1)
    i = torch.arange(16)[:, None]
    neighbours = (i + torch.tensor([-2, -1, 1, 2])) % 16
    # chance is 4/16; the single word fed as the context mean still finds its neighbours
    assert probs.gather(1, neighbours).sum(1).mean() > 0.8
    assert emb.context("w3", k=1)[0][0] in {"w1", "w2", "w4", "w5"}


def test_embeddings_are_a_copy_that_training_does_not_change() -> None:
    trainer = make("classic")
    emb = trainer.embeddings(WORDS)
    before = emb.vectors.clone()
    scores = emb.context_fn(torch.tensor([3]))
    trainer.train_epoch(lambda n, loss: None)
    assert torch.equal(emb.vectors, before)
    assert torch.equal(emb.context_fn(torch.tensor([3])), scores)


@pytest.mark.parametrize("model_name", ["classic", "cbow"])
def test_state_dict_round_trip_continues_identically(model_name) -> None:
    straight = make(model_name, seed=3)
    for _ in range(2):
        want = straight.train_epoch(lambda n, loss: None)

    first = make(model_name, seed=3)
    first.train_epoch(lambda n, loss: None)
    buf = io.BytesIO()
    torch.save(first.state_dict(), buf)
    first.train_epoch(lambda n, loss: None)  # training on must not alter the saved state
    buf.seek(0)
    resumed = make(model_name, seed=99)
    resumed.load_state_dict(torch.load(buf, weights_only=True))
    got = resumed.train_epoch(lambda n, loss: None)

    assert got == want and resumed.epoch == 2
    for a, b in zip(straight.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_load_state_dict_refuses_another_shape() -> None:
    state = make("classic").state_dict()
    with pytest.raises(UsageError, match="dim"):
        make("classic", dim=4).load_state_dict(state)


def test_on_batch_sees_every_word_and_cancellation_propagates() -> None:
    trainer = make("cbow", batch=50)
    seen: list[int] = []
    trainer.train_epoch(lambda n, loss: seen.append(n))
    assert sum(seen) == trainer.words_per_epoch == len(PLANTED) - 4
    assert len(seen) == -(-trainer.words_per_epoch // 50)

    def cancel(n: int, loss: float) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        trainer.train_epoch(cancel)


@pytest.mark.parametrize(
    ("name", "ids", "kw", "message"),
    [
        ("glove", PLANTED, {}, "unknown model"),
        ("classic", np.arange(4, dtype=np.int32), {}, "needs at least 5"),
        ("classic", PLANTED, {"optimizer": "lbfgs"}, "unknown optimizer"),
        ("cbow", PLANTED, {"batch": 0}, "batch"),
    ],
)
def test_bad_arguments_are_usage_errors(name, ids, kw, message) -> None:
    with pytest.raises(UsageError, match=message):
        make(name, ids, **kw)


def test_eval_examples_caps_the_accuracy_pass_to_evenly_spaced_examples() -> None:
    trainer = make("classic", eval_examples=10)
    assert trainer.eval_rows is not None and len(trainer.eval_rows) == 10
    assert trainer.eval_rows[0] == 0 and trainer.eval_rows[-1] == trainer.words_per_epoch - 1
    assert round(trainer.accuracy() * 40) == trainer.accuracy() * 40  # k hits of 10 x 2c
