"""The query language: parsing, one-line usage hints, and answers on known vectors."""

from __future__ import annotations

import pytest
import torch

from engine.errors import UsageError
from engine.words.commands import USAGE, Query, parse_query, run_query
from engine.words.query import Embeddings, UnknownWord

WORDS = ["man", "woman", "king", "queen", "lion", "near"]


@pytest.fixture
def emb() -> Embeddings:
    vectors = torch.tensor(
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [1.0, 0.0, 1.0, 0.0],
            [0.0, 1.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.1, 0.1, 0.1, 1.0],
        ]
    )
    return Embeddings(WORDS, vectors, out_vectors=vectors.flip(0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lion", Query("word", ("lion",), 10, "Lion")),
        ("  near lion 5 ", Query("near", ("lion",), 5, "near lion 5")),
        ("nn lion", Query("near", ("lion",), 10, "nn lion")),
        ("sim His her", Query("sim", ("his", "her"), 10, "sim His her")),
        (
            "analogy man woman king",
            Query("analogy", ("man", "woman", "king"), 5, "analogy man woman king"),
        ),
        (
            "analogy man woman king 3",
            Query("analogy", ("man", "woman", "king"), 3, "analogy man woman king 3"),
        ),
        ("man:woman::king:?", Query("analogy", ("man", "woman", "king"), 5, "man:woman::king:?")),
        ("odd a b c d", Query("odd", ("a", "b", "c", "d"), 10, "odd a b c d")),
        ("context lion 3", Query("context", ("lion",), 3, "context lion 3")),
        ("word near", Query("word", ("near",), 10, "word near")),
        ("help", Query("help", (), 10, "help")),
        ("?", Query("help", (), 10, "?")),
    ],
)
def test_parse(text: str, expected: Query) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("analogy man woman", USAGE["analogy"]),
        ("analogy a b c d e", USAGE["analogy"]),
        ("analogy a b c x", USAGE["analogy"]),
        ("sim his", USAGE["sim"]),
        ("near", USAGE["near"]),
        ("near lion many", USAGE["near"]),
        ("odd a b", USAGE["odd"]),
        ("context", USAGE["context"]),
        ("a:b::", USAGE["analogy"]),
    ],
)
def test_malformed_commands_give_their_usage_line(text: str, usage: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_query(text)
    assert usage in str(info.value) and "\n" not in str(info.value)


def test_other_bad_input() -> None:
    with pytest.raises(UsageError, match="empty query"):
        parse_query("   ")
    with pytest.raises(UsageError, match="unknown command 'lion'"):
        parse_query("lion tiger")
    with pytest.raises(UsageError, match="K must be between"):
        parse_query("near lion 0")
    assert USAGE["analogy"] == "usage: analogy A B C [K]  (A is to B as C is to ?)"


def test_answers(emb: Embeddings) -> None:
    ans = run_query(emb, "analogy man woman king")
    assert ans.summary == "man : woman :: king : queen"
    assert ans.tables[0].rows[0][0] == "queen"
    ans = run_query(emb, "sim man king")
    assert ans.summary == "cosine(man, king) = 0.7071"
    ans = run_query(emb, "near lion 2")
    assert ans.tables[0].rows[0][0] == "near"
    assert len(ans.tables[0].rows) == 2
    ans = run_query(emb, "odd man king queen lion")
    assert ans.summary == "odd one out: lion"
    assert ans.tables[0].rows[0][0] == "lion"  # least similar first
    ans = run_query(emb, "help")
    assert "analogy A B C [K]" in ans.summary


def test_bare_word_gives_context_and_neighbours(emb: Embeddings) -> None:
    ans = run_query(emb, "lion")
    assert [t.title for t in ans.tables] == ["predicted context words", "nearest words"]
    assert len(ans.tables[1].rows) == 5
    assert "nearest words:" in ans.lines()
    plain = Embeddings(WORDS, emb.vectors)
    ans = run_query(plain, "lion")
    assert [t.title for t in ans.tables] == ["nearest words"]
    assert "no context predictor" in ans.summary


def test_unknown_word_is_a_usage_error(emb: Embeddings) -> None:
    with pytest.raises(UnknownWord, match="unknown word 'lyon'; closest in the vocabulary: lion"):
        run_query(emb, "lyon")
    with pytest.raises(UnknownWord):
        run_query(emb, "analogy man woman kong")
