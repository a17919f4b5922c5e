"""Analogy accuracy and word-pair Spearman: hand-computed values, gensim agreement, bad files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import UsageError
from engine.words.evaluate import (
    evaluate_analogies,
    evaluate_pairs,
    rankdata,
    read_pairs,
    spearman,
)
from engine.words.query import Embeddings

EVAL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "eval"

# unit vectors: man x, woman y, king (x+z), queen (y+z), boy (x-z), girl (y-z)
TOY_WORDS = ["man", "woman", "king", "queen", "boy", "girl"]
TOY = torch.tensor(
    [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [1, 0, -1], [0, 1, -1]], dtype=torch.float32
)


@pytest.fixture
def toy() -> Embeddings:
    return Embeddings(TOY_WORDS, TOY)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


QUESTIONS = """: family
Man Woman King Queen
boy girl king woman
: gram1-gender
king queen man woman
man woman tiger tigress
"""


def test_analogies_hand_computed(toy: Embeddings, tmp_path: Path) -> None:
    # man:woman::king:? -> queen (right); boy:girl::king:? -> exactly queen, not woman (wrong);
    # king:queen::man:? -> woman (right); the tiger line is out of the vocabulary (skipped)
    score = evaluate_analogies(toy, write(tmp_path, "q.txt", QUESTIONS))
    assert (score.correct, score.total, score.skipped) == (2, 3, 1)
    assert score.overall == pytest.approx(2 / 3)
    assert score.semantic == pytest.approx(0.5) and score.syntactic == pytest.approx(1.0)
    assert score.sections["family"].correct == 1 and score.sections["family"].total == 2
    assert score.sections["gram1-gender"].accuracy == 1.0
    assert "66.7%" in score.summary()
    assert (score.semantic_total, score.syntactic_total) == (2, 1)
    # only man, woman, king, queen: the boy/girl question is skipped too
    small = evaluate_analogies(toy, tmp_path / "q.txt", restrict_vocab=4)
    assert (small.correct, small.total, small.skipped) == (2, 2, 2)


def _structured(n_pairs: int, dim: int, seed: int) -> tuple[list[str], np.ndarray, str]:
    """Pairs x_i -> y_i = x_i + offset(section) + noise: analogies hold only partly."""
    rng = np.random.default_rng(seed)
    words, vecs, lines = [], [], []
    for s, section in enumerate(["capital-x", "gram2-y", "gram3-z"]):
        offset = rng.normal(size=dim) * 1.5
        sec_words = []
        for i in range(n_pairs):
            x = rng.normal(size=dim)
            y = x + offset + rng.normal(size=dim) * 0.6
            sec_words.append((f"a{s}_{i}", f"b{s}_{i}"))
            words += [f"a{s}_{i}", f"b{s}_{i}"]
            vecs += [x, y]
        lines.append(f": {section}")
        for i in range(n_pairs):
            for j in range(n_pairs):
                if i != j:
                    a, b = sec_words[i]
                    c, d = sec_words[j]
                    lines.append(f"{a.upper()} {b} {c} {d}")
        lines.append(f"{sec_words[0][0]} {sec_words[0][1]} unknownword {sec_words[1][1]}")
    # a case variant late in the vocabulary: the first entry wins (gensim's rule)
    words.append("A0_1")
    vecs.append(rng.normal(size=dim))
    return words, np.asarray(vecs, dtype=np.float32), "\n".join(lines) + "\n"


def test_analogies_agree_with_gensim(tmp_path: Path) -> None:
    gensim = pytest.importorskip("gensim")
    words, vecs, text = _structured(9, 12, seed=1)
    path = write(tmp_path, "q.txt", text)
    emb = Embeddings(words, torch.from_numpy(vecs))
    kv = gensim.models.KeyedVectors(vecs.shape[1])
    kv.add_vectors(words, vecs)
    for restrict in (len(words), 40):
        ours = evaluate_analogies(emb, path, restrict_vocab=restrict)
        overall, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict)
        total = sections[-1]
        assert ours.correct == len(total["correct"])
        assert ours.total == len(total["correct"]) + len(total["incorrect"])
        assert ours.overall == pytest.approx(overall)
        assert ours.semantic_total + ours.syntactic_total == ours.total
        assert 0.05 < ours.overall < 0.95  # the comparison is not trivial
        for sec in sections[:-1]:
            mine = ours.sections[sec["section"]]
            assert (mine.correct, mine.total) == (
                len(sec["correct"]),
                len(sec["correct"]) + len(sec["incorrect"]),
            )
    assert ours.skipped > 3


PAIRS = """# comment line
Word 1\tWord 2\tHuman (mean)
man\twoman\t1.0
King\tqueen\t5.0
man\tking\t7.0
woman\tqueen\t7.0
boy\tgirl\t9.0
tiger\tcat\t3.0
"""


def test_pairs_hand_computed(toy: Embeddings, tmp_path: Path) -> None:
    # cosines 0, .5, .707, .707, .5 -> ranks 1, 2.5, 4.5, 4.5, 2.5; gold ranks 1, 2, 3.5, 3.5, 5
    # deviations (-2,-.5,1.5,1.5,-.5) and (-2,-1,.5,.5,2): rho = 5 / sqrt(9 * 9.5)
    score = evaluate_pairs(toy, write(tmp_path, "p.tsv", PAIRS))
    assert (score.used, score.skipped) == (5, 1)
    assert score.spearman == pytest.approx(5 / math.sqrt(9 * 9.5), abs=1e-9)
    assert "0.541" in score.summary()
    none = evaluate_pairs(toy, write(tmp_path, "n.tsv", "tiger\tcat\t3\n"))
    assert none.used == 0 and math.isnan(none.spearman) and "n/a" in none.summary()


def test_rankdata_and_spearman_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, size=40).astype(float)
    y = rng.normal(size=40)
    np.testing.assert_allclose(rankdata(x), stats.rankdata(x))
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


@pytest.mark.skipif(not EVAL.is_dir(), reason="../shared/data/eval is not here")
@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_pairs_agree_with_gensim_on_the_shared_files(name: str) -> None:
    gensim = pytest.importorskip("gensim")
    pairs = read_pairs(EVAL / name)
    assert len(pairs) > 300
    words = sorted({w for a, b, _ in pairs for w in (a, b)})
    words = words[: int(len(words) * 0.9)]  # some pairs out of the vocabulary
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(len(words), 10)).astype(np.float32)
    emb = Embeddings(words, torch.from_numpy(vecs))
    kv = gensim.models.KeyedVectors(10)
    kv.add_vectors(words, vecs)
    pearson_g, spearman_g, oov = kv.evaluate_word_pairs(str(EVAL / name))
    ours = evaluate_pairs(emb, EVAL / name)
    assert ours.spearman == pytest.approx(spearman_g.statistic, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson_g.statistic, abs=1e-5)
    assert ours.skipped / (ours.used + ours.skipped) * 100 == pytest.approx(oov)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("  \n\n", "is empty"),
        (": family\nman woman king\n", "q.txt:2: an analogy line needs 4 words"),
        (": only a header\n", "holds no questions"),
    ],
)
def test_bad_analogy_files(toy: Embeddings, tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        evaluate_analogies(toy, write(tmp_path, "q.txt", text))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("# only comments\n", "holds no pairs"),
        ("man\twoman\t1\nking\tqueen\n", "p.tsv:2: a word-pairs line needs"),
        ("man\twoman\t1\nking\tqueen\tnot-a-number\n", "p.tsv:2"),
    ],
)
def test_bad_pairs_files(toy: Embeddings, tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        evaluate_pairs(toy, write(tmp_path, "p.tsv", text))
    assert "\n" not in str(info.value)


def test_missing_and_binary_files(toy: Embeddings, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="analogy file not found"):
        evaluate_analogies(toy, tmp_path / "nope.txt")
    with pytest.raises(UsageError, match="word-pairs file not found"):
        evaluate_pairs(toy, tmp_path)
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(UsageError, match="binary"):
        evaluate_pairs(toy, binary)
    latin = tmp_path / "l.txt"
    latin.write_bytes(b"caf\xe9\tbar\t1\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        evaluate_pairs(toy, latin)
