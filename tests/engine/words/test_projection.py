"""Words on a plane: PCA keeps a planar layout exactly, frames line up across epochs, and the
``map`` query answers as plain data."""

from __future__ import annotations

import math

import pytest
import torch

from engine.errors import UsageError
from engine.jobs import CancelToken
from engine.words.commands import Query, parse_query, run_query
from engine.words.events import WordMap, WordsConfig
from engine.words.projection import align, pca_2d
from engine.words.query import Embeddings
from engine.words.train import train_words


def distances(xy: torch.Tensor) -> torch.Tensor:
    return torch.cdist(xy.double(), xy.double())


def test_pca_keeps_a_planar_layout_and_all_its_variance():
    gen = torch.Generator().manual_seed(0)
    flat = torch.randn(12, 2, generator=gen, dtype=torch.float64)
    basis, _ = torch.linalg.qr(torch.randn(30, 2, generator=gen, dtype=torch.float64))
    xy, explained = pca_2d(flat @ basis.T + 3.0)
    assert explained == pytest.approx(1.0)
    assert torch.allclose(distances(xy), distances(flat), atol=1e-9)


def test_align_undoes_a_rotation_and_a_mirror():
    gen = torch.Generator().manual_seed(1)
    xy = torch.randn(10, 2, generator=gen, dtype=torch.float64)
    turn = torch.tensor([[math.cos(1.0), -math.sin(1.0)], [math.sin(1.0), math.cos(1.0)]])
    moved = xy @ turn.double() @ torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    assert torch.allclose(align(moved, xy), xy, atol=1e-9)


def emb() -> Embeddings:
    words = ["king", "queen", "prince", "man", "woman", "dog", "cat", "horse"]
    gen = torch.Generator().manual_seed(0)
    return Embeddings(words, torch.randn(len(words), 6, generator=gen))


def test_map_query_places_the_word_and_its_neighbours():
    assert parse_query("map king 3") == Query("map", ("king",), 3, "map king 3")
    answer = run_query(emb(), "map king 4")
    assert answer.map is not None and answer.map.words[0] == "king"
    assert answer.map.highlight == ("king",) and len(answer.map.xy) == 5
    assert [w for w, _ in answer.tables[0].rows] == list(answer.map.words[1:])
    assert answer.tables[0].rows == tuple(emb().neighbours("king", 4))
    assert any(line.startswith("  king") for line in answer.lines())


def test_map_refuses_an_unknown_word_and_a_bad_k():
    with pytest.raises(UsageError, match="unknown word"):
        run_query(emb(), "map kingg")
    with pytest.raises(UsageError, match="usage: map WORD"):
        parse_query("map king many")


def test_training_emits_a_map_of_the_same_words_every_epoch(planted_file):
    events: list = []
    config = WordsConfig(corpus=str(planted_file), min_count=1, dim=8, epochs=2, threads=1)
    train_words(config, events.append, CancelToken())
    maps = [e for e in events if isinstance(e, WordMap)]
    assert [m.epoch for m in maps] == [0, 1, 2]
    assert len({m.words for m in maps}) == 1 and len(maps[0].words) >= 10
    assert "alpha" in maps[0].words  # filler words are the most frequent non-stop words
