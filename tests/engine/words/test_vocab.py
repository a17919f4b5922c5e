"""Vocabulary: counting order, cuts, encoding, stop words, max_words, subsampling formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import UsageError
from engine.words.vocab import build_and_encode, build_vocab, encode, keep_probabilities

LINES = [["b", "a", "c"], ["a", "b", "a"], ["d", "a", "c", "b"], ["e"]]  # a4 b3 c2 d1 e1


def test_words_sorted_by_count_ties_by_first_appearance():
    vocab = build_vocab(LINES, min_count=1)
    assert vocab.words == ["a", "b", "c", "d", "e"]
    assert vocab.counts.tolist() == [4, 3, 2, 1, 1]
    assert vocab.counts.dtype == np.int64
    assert vocab.index["c"] == 2 and len(vocab) == 5 and vocab.total == 11


def test_min_count_and_max_vocab_cut_the_tail():
    assert build_vocab(LINES, min_count=2).words == ["a", "b", "c"]
    assert build_vocab(LINES, min_count=1, max_vocab=2).words == ["a", "b"]


def test_encoding_drops_out_of_vocabulary_words_and_matches_one_pass():
    vocab, ids = build_and_encode(LINES, min_count=2)
    assert ids.dtype == np.int32
    assert ids.tolist() == [1, 0, 2, 0, 1, 0, 0, 2, 1]
    assert encode(LINES, vocab).tolist() == ids.tolist()


def test_stopwords_and_max_words():
    vocab, ids = build_and_encode(LINES, min_count=1, stopwords=frozenset({"a"}), max_words=4)
    assert "a" not in vocab.index
    assert [vocab.words[i] for i in ids] == ["b", "c", "b", "d"]


def test_no_words_or_too_high_min_count_is_a_usage_error():
    with pytest.raises(UsageError, match="no words"):
        build_vocab([[], []])
    with pytest.raises(UsageError, match="lower min_count"):
        build_vocab(LINES, min_count=50)
    with pytest.raises(UsageError):
        build_vocab(LINES, min_count=0)


def test_keep_probabilities_match_word2vec_formula_by_hand():
    counts = np.array([1000, 10, 1])
    p = keep_probabilities(counts, 1e-3)
    t = 1e-3 * 1011  # sample * total
    assert p[0] == pytest.approx((math.sqrt(1000 / t) + 1) * t / 1000)  # about 0.033
    assert p[0] == pytest.approx(0.0330, abs=1e-3)
    assert p[1] == pytest.approx((math.sqrt(10 / t) + 1) * t / 10)  # about 0.42
    assert p[2] == 1.0  # rare words are always kept (clipped at 1)
    assert keep_probabilities(counts, 0).tolist() == [1.0, 1.0, 1.0]


def test_line_starts_follow_the_kept_ids_when_words_drop_out():
    from engine.words.vocab import build_and_encode_lines

    vocab, ids, starts = build_and_encode_lines(LINES, min_count=2)  # drops d and e
    assert [vocab.words[i] for i in ids] == ["b", "a", "c", "a", "b", "a", "a", "c", "b"]
    assert starts.tolist() == [0, 3, 6, 9]  # "e" alone: an empty line at the end
    assert np.array_equal(ids, build_and_encode(LINES, min_count=2)[1])
