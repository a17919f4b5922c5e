"""Embeddings queries on hand-made vectors whose answers are known."""

from __future__ import annotations

import pytest
import torch

from engine.errors import UsageError
from engine.words.query import Embeddings, UnknownWord

WORDS = ["man", "woman", "king", "queen", "lion", "lyons", "long"]


@pytest.fixture
def emb() -> Embeddings:
    vectors = torch.tensor(
        [
            [1.0, 0.0, 0.0, 0.0],  # man
            [0.0, 1.0, 0.0, 0.0],  # woman
            [1.0, 0.0, 1.0, 0.0],  # king
            [0.0, 1.0, 1.0, 0.0],  # queen
            [0.0, 0.0, 0.0, 1.0],  # lion
            [0.1, 0.0, 0.0, 1.0],  # lyons
            [0.0, 0.1, 0.1, 1.0],  # long
        ]
    )
    return Embeddings(WORDS, vectors, name="toy")


def test_basics(emb: Embeddings) -> None:
    assert len(emb) == 7 and emb.dim == 4 and "KING" in emb and "tiger" not in emb
    assert emb.id("Queen") == 3
    assert emb.similarity("man", "king") == pytest.approx(2**-0.5)
    assert emb.similarity("man", "woman") == pytest.approx(0.0)


def test_analogy_finds_queen_and_excludes_inputs(emb: Embeddings) -> None:
    answers = emb.analogy("man", "woman", "king", k=3)
    assert answers[0][0] == "queen"
    r = (
        2**-0.5
    )  # unit(woman) - unit(man) + unit(king) = (r - 1, 1, r, 0); unit(queen) = (0, r, r, 0)
    expected = (r + r * r) / ((r - 1) ** 2 + 1 + r * r) ** 0.5
    assert answers[0][1] == pytest.approx(expected, abs=1e-6)
    assert not {"man", "woman", "king"} & {w for w, _ in answers}


def test_neighbours_sorted_and_exclude_the_word(emb: Embeddings) -> None:
    near = emb.neighbours("lion", 3)
    assert [w for w, _ in near][:2] == ["lyons", "long"]
    assert all(a[1] >= b[1] for a, b in zip(near, near[1:], strict=False))
    assert "lion" not in [w for w, _ in near]
    assert len(emb.neighbours("lion", 100)) == 6


def test_odd_one_out_matches_gensim_rule(emb: Embeddings) -> None:
    odd, scores = emb.odd_one_out(["man", "king", "queen", "lion"])
    assert odd == "lion"
    assert [w for w, _ in scores] == ["man", "king", "queen", "lion"]
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors(4)
    kv.add_vectors(WORDS, emb.vectors.numpy())
    assert kv.doesnt_match(["man", "king", "queen", "lion"]) == odd
    with pytest.raises(UsageError):
        emb.odd_one_out(["man", "king"])


def test_analogy_and_neighbours_agree_with_gensim() -> None:
    gensim = pytest.importorskip("gensim")
    g = torch.Generator().manual_seed(0)
    words = [f"w{i}" for i in range(50)]
    emb = Embeddings(words, torch.randn(50, 8, generator=g))
    kv = gensim.models.KeyedVectors(8)
    kv.add_vectors(words, emb.vectors.numpy())
    ours = emb.analogy("w1", "w2", "w3", k=5)
    theirs = kv.most_similar(positive=["w2", "w3"], negative=["w1"], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)
    assert [w for w, _ in emb.neighbours("w7", 5)] == [w for w, _ in kv.most_similar("w7", topn=5)]


def test_unknown_word_message_suggests_close_words(emb: Embeddings) -> None:
    with pytest.raises(UnknownWord) as info:
        emb.neighbours("Lyon")
    assert str(info.value).startswith("unknown word 'lyon'; closest in the vocabulary: lyons")
    assert isinstance(info.value, UsageError) and info.value.word == "lyon"
    assert set(info.value.suggestions) == {"lyons", "lion", "long"}
    assert emb.suggest("zzzz") == []


def test_context_sgns_uses_sigmoid_of_out_vectors() -> None:
    vin = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    vout = torch.tensor([[0.0, 2.0], [3.0, 0.0], [-1.0, -1.0]])
    emb = Embeddings(["a", "b", "c"], vin, out_vectors=vout)
    ctx = emb.context("a", 2)
    assert [w for w, _ in ctx] == ["b", "a"]
    assert ctx[0][1] == pytest.approx(torch.sigmoid(torch.tensor(3.0)).item())


def test_context_fn_gives_softmax_probabilities() -> None:
    logits = torch.tensor([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    emb = Embeddings(
        ["a", "b", "c"], torch.eye(3), context_fn=lambda ids: logits[ids].log_softmax(-1)
    )
    ctx = emb.context("a", 3)
    assert [w for w, _ in ctx] == ["b", "c", "a"]
    assert sum(p for _, p in ctx) == pytest.approx(1.0)
    with pytest.raises(UsageError, match="no context"):
        Embeddings(["a"], torch.ones(1, 2)).context("a")


def test_bad_shapes_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        Embeddings(["a", "b"], torch.ones(3, 2))
    with pytest.raises(UsageError):
        Embeddings(["a", "a"], torch.ones(2, 2))


def test_suggest_is_fast_on_a_large_vocabulary() -> None:
    import random
    import string
    import time

    rng = random.Random(0)
    words = list(
        {"".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 10))) for _ in range(70000)}
    )
    emb = Embeddings(words, torch.zeros(len(words), 2))
    emb.suggest("warmup")
    start = time.perf_counter()
    for w in ("lyon", "peopel", "xqzt", "beautifull"):
        emb.suggest(w)
    assert (time.perf_counter() - start) / 4 < 0.25


def test_capitalised_vocabularies_still_answer() -> None:
    emb = Embeddings(["Paris", "france", "the"], torch.eye(3))
    assert emb.id("Paris") == 0 and "Paris" in emb and emb.id("FRANCE") == 1
    with pytest.raises(UnknownWord):
        emb.id("paris")
