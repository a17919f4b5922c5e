"""Vocabulary: word counts, ``min_count`` / ``max_vocab`` cuts, id encoding, subsampling.

One streaming pass over the corpus gives both the counts and the encoded id array (a provisional
id per distinct word, remapped once the cuts are known), so a corpus is read once per job.
Ids are ordered by count, most frequent first (ties keep first appearance), like word2vec.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from engine.errors import UsageError


@dataclass
class Vocab:
    """Words sorted by count (descending) with their counts; ``index`` maps word -> id."""

    words: list[str]
    counts: np.ndarray  # int64, same order as words
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @property
    def total(self) -> int:
        """Corpus words covered by the vocabulary (one epoch's words before subsampling)."""
        return int(self.counts.sum())


def _kept(
    corpus: Iterable[list[str]], stopwords: frozenset[str] | None, max_words: int | None
) -> Iterator[list[str]]:
    """The corpus lines without stop words, cut after ``max_words`` tokens in all."""
    left = max_words if max_words is not None else -1
    for tokens in corpus:
        if stopwords:
            tokens = [t for t in tokens if t not in stopwords]
        if left >= 0:
            tokens = tokens[:left]
            left -= len(tokens)
        yield tokens
        if left == 0:
            return


def _scan(
    corpus: Iterable[list[str]], stopwords: frozenset[str] | None, max_words: int | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Provisional ids in first-appearance order, the id of every kept token, and the offset
    where each line's tokens start (one pass)."""
    index: dict[str, int] = {}
    ids = array("i")
    starts = array("q")
    for tokens in _kept(corpus, stopwords, max_words):
        starts.append(len(ids))
        ids.extend([index.setdefault(t, len(index)) for t in tokens])
    raw = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32)
    return (
        list(index),
        raw,
        np.frombuffer(starts, dtype=np.int64) if len(starts) else np.zeros(0, np.int64),
    )


def build_and_encode(
    corpus: Iterable[list[str]],
    min_count: int = 5,
    max_vocab: int | None = None,
    stopwords: frozenset[str] | None = None,
    max_words: int | None = None,
) -> tuple[Vocab, np.ndarray]:
    """The vocabulary and the int32 ids of the kept tokens, from one pass over the corpus."""
    vocab, ids, _ = build_and_encode_lines(corpus, min_count, max_vocab, stopwords, max_words)
    return vocab, ids


def build_and_encode_lines(
    corpus: Iterable[list[str]],
    min_count: int = 5,
    max_vocab: int | None = None,
    stopwords: frozenset[str] | None = None,
    max_words: int | None = None,
) -> tuple[Vocab, np.ndarray, np.ndarray]:
    """As :func:`build_and_encode`, plus where each line starts in the ids (int64 offsets).

    A line whose words all fall out of the vocabulary starts where the next one does; the
    offsets let a trainer keep context windows inside a line, as gensim does.
    """
    if min_count < 1:
        raise UsageError(f"min_count must be at least 1, got {min_count}")
    if max_vocab is not None and max_vocab < 1:
        raise UsageError(f"max_vocab must be at least 1, got {max_vocab}")
    if max_words is not None and max_words < 1:
        raise UsageError(f"max_words must be at least 1, got {max_words}")
    words, raw, starts = _scan(corpus, stopwords, max_words)
    if not len(raw):
        raise UsageError("the corpus has no words (after tokenising and stop-word removal)")
    counts = _count(raw, len(words))
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count]
    if max_vocab is not None:
        order = order[:max_vocab]
    if not len(order):
        raise UsageError(
            f"no word occurs at least {min_count} times in the corpus; lower min_count"
        )
    vocab = Vocab([words[i] for i in order], counts[order])
    remap = np.full(len(words), -1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    before = _kept_before(raw, remap, starts)
    return vocab, _remap_in_place(raw, remap), before


def _count(raw: np.ndarray, size: int, block: int = 1 << 20) -> np.ndarray:
    """``np.bincount(raw)`` a block at a time: bincount copies int32 ids to int64 first, which
    on a whole big corpus would double its memory for a moment."""
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(raw), block):
        counts += np.bincount(raw[start : start + block], minlength=size)
    return counts


def _remap_in_place(raw: np.ndarray, remap: np.ndarray, block: int = 1 << 20) -> np.ndarray:
    """``remap[raw]`` without the words that map to -1, written over ``raw`` block by block,
    so a corpus of N words needs N ids of memory, not three times that."""
    if not raw.flags.writeable:
        raw = raw.copy()
    kept = 0
    for start in range(0, len(raw), block):
        ids = remap[raw[start : start + block]]
        ids = ids[ids >= 0]
        raw[kept : kept + len(ids)] = ids
        kept += len(ids)
    return raw[:kept]


def _kept_before(raw: np.ndarray, remap: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Kept tokens before each raw offset in ``starts`` (line starts), counted a block at a
    time like :func:`_remap_in_place`, so no whole-corpus boolean or cumsum is made."""
    out = np.zeros(len(starts), dtype=np.int64)
    kept = 0
    for start in range(0, len(raw), 1 << 20):
        known = remap[raw[start : start + (1 << 20)]] >= 0
        inside = (starts >= start) & (starts < start + len(known))
        if inside.any():
            run = np.concatenate([[0], np.cumsum(known)])
            out[inside] = kept + run[starts[inside] - start]
        kept += int(known.sum())
    out[starts >= len(raw)] = kept
    return out


def build_vocab(
    corpus: Iterable[list[str]],
    min_count: int = 5,
    max_vocab: int | None = None,
    stopwords: frozenset[str] | None = None,
    max_words: int | None = None,
) -> Vocab:
    """The vocabulary alone (see :func:`build_and_encode` to get the id array in the same pass)."""
    return build_and_encode(corpus, min_count, max_vocab, stopwords, max_words)[0]


def encode(
    corpus: Iterable[list[str]],
    vocab: Vocab,
    max_words: int | None = None,
    stopwords: frozenset[str] | None = None,
) -> np.ndarray:
    """int32 ids of the corpus tokens that are in ``vocab`` (others dropped), in order.

    ``max_words`` counts corpus tokens (after stop-word removal), as in :func:`build_vocab`.
    """
    get = vocab.index.get
    out = array("i")
    for tokens in _kept(corpus, stopwords, max_words):
        out.extend([i for i in map(get, tokens) if i is not None])
    return np.frombuffer(out, dtype=np.int32).copy() if len(out) else np.zeros(0, np.int32)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec's keep probability per word: ``(sqrt(f/t) + 1) * t/f`` with ``t = sample*total``.

    As in the C word2vec and gensim (clipped at 1); ``sample <= 0`` keeps every word.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0 or not len(counts):
        return np.ones(len(counts))
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.nan_to_num(np.minimum(p, 1.0), nan=1.0)
